package activity

import (
	"errors"
	"testing"
)

// TestEveryByteTamperFailsVerification flips each byte of a small signed
// activity to several other values: the result must fail Decode or Verify.
func TestEveryByteTamperFailsVerification(t *testing.T) {
	key := testKey("ana")
	a := &Activity{Context: DefaultContext(), Type: TypeLike, Actor: testDID("ana"),
		Object: Object{Ref: fileCID}, Seq: 7, Prev: "bagaaierasords4njcts6vs7qvdjfcvgnume4hqohf65zsfguprqphs3icwea",
		Published: t0, To: []string{PublicAudience}}
	if err := Sign(a, key, t0); err != nil {
		t.Fatal(err)
	}
	b := mustEncode(t, a)
	if _, err := Decode(b); err != nil {
		t.Fatal(err)
	}
	var decodeFails, verifyFails int
	for i := range b {
		for _, x := range []byte{0x01, 0x20, 0x80, b[i] ^ 0x01, 'a', '0', '"', '\\', ' '} {
			if x == b[i] {
				continue
			}
			c := append([]byte(nil), b...)
			c[i] = x
			got, err := Decode(c)
			if err != nil {
				if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrTooDeep) {
					t.Fatalf("byte %d -> %q: unexpected error kind %v", i, x, err)
				}
				decodeFails++
				continue
			}
			if err := Verify(got); err == nil {
				t.Fatalf("byte %d (%q) -> %q still verifies:\n%s", i, b[i], x, c)
			} else if !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrBadKey) && !errors.Is(err, ErrUnsigned) {
				t.Fatalf("byte %d: unexpected error kind %v", i, err)
			}
			verifyFails++
		}
	}
	t.Logf("%d bytes: %d tampers fail decode, %d fail verify", len(b), decodeFails, verifyFails)
}
