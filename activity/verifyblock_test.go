package activity

import (
	"bytes"
	"errors"
	"testing"

	"github.com/ipfs/go-cid"
)

// oldVerifyBlock is what VerifyBlock replaces: Decode, Verify, Block and a
// comparison of the bytes, each with its own validation and encoding.
func oldVerifyBlock(data []byte) (*Activity, cid.Cid, error) {
	a, err := Decode(data)
	if err != nil {
		return nil, cid.Undef, err
	}
	if err := Verify(a); err != nil {
		return nil, cid.Undef, err
	}
	c, canonical, err := Block(a)
	if err != nil {
		return nil, cid.Undef, err
	}
	if !bytes.Equal(canonical, data) {
		return nil, cid.Undef, ErrMalformed
	}
	return a, c, nil
}

// sameVerdict fails t unless VerifyBlock and the old path agree on b: both
// accept it with the same CID, or both refuse it with the same kind of
// error.
func sameVerdict(t *testing.T, b []byte) bool {
	t.Helper()
	a, c, err := VerifyBlock(b)
	_, oc, oerr := oldVerifyBlock(b)
	if (err == nil) != (oerr == nil) {
		t.Fatalf("VerifyBlock: %v; Decode+Verify+Block: %v\n%s", err, oerr, b)
	}
	if err != nil {
		for _, kind := range []error{ErrMalformed, ErrInvalid, ErrTooDeep, ErrTooLarge, ErrBadSignature, ErrUnsigned, ErrBadKey} {
			if errors.Is(err, kind) != errors.Is(oerr, kind) {
				t.Fatalf("error kinds differ: %v against %v\n%s", err, oerr, b)
			}
		}
		return false
	}
	if !c.Equals(oc) || a == nil {
		t.Fatalf("CID %s against %s", c, oc)
	}
	return true
}

// VerifyBlock accepts exactly what Decode, Verify and Block accepted, with
// the same CIDs, over a whole log and over every single-byte tamper of a
// signed activity, and refuses a non-canonical copy.
func TestVerifyBlockAgreesWithDecodeVerifyAndBlock(t *testing.T) {
	for _, a := range chain(t, "ana") {
		if !sameVerdict(t, mustEncode(t, a)) {
			t.Fatalf("a signed %s was refused", a.Type)
		}
	}
	b := mustEncode(t, chain(t, "ana")[1])
	accepted := 0
	for i := range b {
		for _, x := range []byte{0x20, b[i] ^ 0x01, 'a', '0', '"'} {
			if x == b[i] {
				continue
			}
			c := append([]byte(nil), b...)
			c[i] = x
			if sameVerdict(t, c) {
				accepted++
			}
		}
	}
	if accepted != 0 {
		t.Fatalf("%d tampered copies accepted", accepted)
	}
	spaced := append(append([]byte(nil), b...), ' ')
	if _, _, err := VerifyBlock(spaced); !errors.Is(err, ErrMalformed) {
		t.Fatalf("a copy with a trailing space: %v, want ErrMalformed", err)
	}
}

// writeCanonicalCut's cut leaves the canonical form of the object without
// the member, wherever the member sorts.
func TestWriteCanonicalCut(t *testing.T) {
	num := func(s string) value { return value{kind: kNumber, s: s} }
	obj := func(keys ...string) value {
		var o obj
		for i, k := range keys {
			o.add(k, num(string(rune('1'+i))))
		}
		return o.value()
	}
	for _, tc := range []struct {
		v          value
		whole, cut string
	}{
		{obj("b", "c", "d"), `{"b":1,"c":2,"d":3}`, `{"b":1,"c":2,"d":3}`},
		{obj("proof", "z"), `{"proof":1,"z":2}`, `{"z":2}`},
		{obj("a", "proof", "z"), `{"a":1,"proof":2,"z":3}`, `{"a":1,"z":3}`},
		{obj("a", "proof"), `{"a":1,"proof":2}`, `{"a":1}`},
		{obj("proof"), `{"proof":1}`, `{}`},
	} {
		got, from, to, err := writeCanonicalCut(nil, tc.v, "proof")
		if err != nil {
			t.Fatal(err)
		}
		cut := string(got[:from]) + string(got[to:])
		if string(got) != tc.whole || cut != tc.cut {
			t.Errorf("got %s, cut %s; want %s, %s", got, cut, tc.whole, tc.cut)
		}
	}
}

// FuzzVerifyBlock checks that VerifyBlock never panics and agrees with
// Decode, Verify and Block on any input.
func FuzzVerifyBlock(f *testing.F) {
	for _, a := range chain(f, "fuzz") {
		f.Add(mustEncode(f, a))
	}
	f.Add([]byte(`{"proof":{}}`))
	f.Add([]byte(`{"@context":[],"type":"Create"`))
	f.Fuzz(func(t *testing.T, b []byte) {
		sameVerdict(t, b)
	})
}

// BenchmarkVerifyBlock compares VerifyBlock with the Decode, Verify and
// Block it replaces, on one signed resource.
func BenchmarkVerifyBlock(b *testing.B) {
	data := mustEncode(b, chain(b, "ana")[1])
	for _, bc := range []struct {
		name string
		f    func([]byte) (*Activity, cid.Cid, error)
	}{{"VerifyBlock", func(d []byte) (*Activity, cid.Cid, error) { return VerifyBlock(d) }}, {"Decode+Verify+Block", oldVerifyBlock}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := bc.f(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
