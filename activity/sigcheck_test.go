package activity

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"testing"
)

// TestSignedByAgreesWithStdlib checks that the cached curve25519-voi check
// accepts exactly what crypto/ed25519 accepts: good signatures, every
// single-bit tamper of the signature, a non-canonical S, and small-order
// and non-canonical public keys.
func TestSignedByAgreesWithStdlib(t *testing.T) {
	check := func(t *testing.T, pub ed25519.PublicKey, msg, sig []byte) {
		t.Helper()
		want := ed25519.Verify(pub, msg, sig)
		got := false // an undecodable key signs nothing
		k, err := (*Verifier)(nil).actorKey(DIDKey(pub))
		if err == nil {
			got = signedBy(k, msg, sig)
		}
		if got != want {
			t.Fatalf("key %x sig %x: signedBy %v, crypto/ed25519 %v (err %v)", pub, sig, got, want, err)
		}
	}
	for range 4 {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		msg := make([]byte, 64)
		rand.Read(msg)
		sig := ed25519.Sign(priv, msg)
		check(t, pub, msg, sig)
		for i := range len(sig) * 8 {
			bad := append([]byte(nil), sig...)
			bad[i/8] ^= 1 << (i % 8)
			check(t, pub, msg, bad)
		}
		// S + L: the same point equation, rejected as non-canonical.
		sPlusL := append([]byte(nil), sig...)
		addL(sPlusL[32:])
		check(t, pub, msg, sPlusL)
		check(t, pub, append(msg, 0), sig)
	}
	// The identity point (small order), a non-canonical y, and a y that
	// is not on the curve, each with a signature made up of zeros and
	// of a real signature's bytes.
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	real := ed25519.Sign(priv, []byte("m"))
	for _, k := range []string{
		"0100000000000000000000000000000000000000000000000000000000000000",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"0200000000000000000000000000000000000000000000000000000000000000",
	} {
		pub, _ := hex.DecodeString(k)
		check(t, pub, []byte("m"), make([]byte, 64))
		check(t, pub, []byte("m"), real)
	}
}

// addL adds the group order L to the little-endian scalar s in place.
func addL(s []byte) {
	l, _ := hex.DecodeString("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
	carry := 0
	for i := range s {
		v := int(s[i]) + int(l[i]) + carry
		s[i] = byte(v)
		carry = v >> 8
	}
}

// BenchmarkSignedBy compares one signature check of a 64-byte message (the
// size eddsa-jcs-2022 signs) by crypto/ed25519 with signedBy.
func BenchmarkSignedBy(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, 64)
	rand.Read(msg)
	sig := ed25519.Sign(priv, msg)
	k, err := (*Verifier)(nil).actorKey(DIDKey(pub))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("crypto-ed25519", func(b *testing.B) {
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("bad signature")
			}
		}
	})
	b.Run("signedBy", func(b *testing.B) {
		for b.Loop() {
			if !signedBy(k, msg, sig) {
				b.Fatal("bad signature")
			}
		}
	})
}
