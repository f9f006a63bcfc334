package activity

import (
	"bytes"
	"testing"
)

// FuzzDecode checks that Decode never panics, and that whatever it accepts
// re-encodes to exactly the RFC 8785 form of the input (as the jcs library
// computes it): the typed model loses nothing that the signature covers.
func FuzzDecode(f *testing.F) {
	for _, a := range chain(f, "fuzz") {
		f.Add(mustEncode(f, a))
	}
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Add([]byte(`{"@context":[],"type":"Create"`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Decode(b)
		if err != nil {
			return
		}
		enc, err := Encode(a)
		if err != nil {
			t.Fatalf("decoded but cannot encode: %v", err)
		}
		canon, err := Canonicalize(b)
		if err != nil {
			t.Fatalf("decoded but jcs rejects it: %v", err)
		}
		if !bytes.Equal(enc, canon) {
			t.Fatalf("Encode differs from JCS of the input:\n%s\n%s", enc, canon)
		}
		again, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if enc2, _ := Encode(again); !bytes.Equal(enc, enc2) {
			t.Fatal("not stable")
		}
		_ = Verify(a)
	})
}
