package activity

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"encoding/hex"
	"testing"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"
	voied "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
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

// torsionedSignature signs msg with priv as Ed25519 does, but with a point
// of order 8 added to the nonce point R: only the key's owner can make
// one. The cofactored equation ([8]SB = [8]R + [8]kA) holds and the
// cofactorless one of RFC 8032 and crypto/ed25519 (SB = R + kA) does not.
func torsionedSignature(tb testing.TB, priv ed25519.PrivateKey, msg []byte) []byte {
	tb.Helper()
	h := sha512.Sum512(priv.Seed())
	h[0] &= 248
	h[31] &= 127
	h[31] |= 64
	a, err := scalar.NewFromBytesModOrder(h[:32])
	if err != nil {
		tb.Fatal(err)
	}
	var t8 curve.CompressedEdwardsY // a point of order 8
	enc, _ := hex.DecodeString("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
	copy(t8[:], enc)
	var T curve.EdwardsPoint
	if _, err := T.SetCompressedY(&t8); err != nil || !T.IsSmallOrder() || T.IsIdentity() {
		tb.Fatalf("not a small-order point: %v", err)
	}
	var seed [64]byte
	rand.Read(seed[:])
	r, err := scalar.NewFromBytesModOrderWide(seed[:])
	if err != nil {
		tb.Fatal(err)
	}
	var R curve.EdwardsPoint
	R.MulBasepoint(curve.ED25519_BASEPOINT_TABLE, r)
	R.Add(&R, &T)
	var rc curve.CompressedEdwardsY
	rc.SetEdwardsPoint(&R)
	kh := sha512.New()
	kh.Write(rc[:])
	kh.Write(priv.Public().(ed25519.PublicKey))
	kh.Write(msg)
	k, err := scalar.NewFromBytesModOrderWide(kh.Sum(nil))
	if err != nil {
		tb.Fatal(err)
	}
	var s scalar.Scalar
	s.Add(s.Mul(k, a), r)
	sig := append(make([]byte, 0, 64), rc[:]...)
	sig = sig[:64]
	if err := s.ToBytes(sig[32:]); err != nil {
		tb.Fatal(err)
	}
	return sig
}

// TestBatchVerificationIsNotStdlib records why activities are verified one
// by one: curve25519-voi's batch verifier checks the cofactored equation,
// so it accepts signatures that crypto/ed25519, and so every other node,
// rejects; with the stdlib rules it does not batch at all (it falls back
// to one check per signature). Batch verification would let an actor make
// activities that an HQ accepts and other nodes refuse. signedBy refuses
// them, as crypto/ed25519 does.
func TestBatchVerificationIsNotStdlib(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("the signing input of an activity")
	sig := torsionedSignature(t, priv, msg)
	if ed25519.Verify(pub, msg, sig) {
		t.Fatal("crypto/ed25519 accepts a signature with a torsioned R")
	}
	k, err := (*Verifier)(nil).actorKey(DIDKey(pub))
	if err != nil {
		t.Fatal(err)
	}
	if signedBy(k, msg, sig) {
		t.Fatal("signedBy accepts a signature that crypto/ed25519 rejects")
	}
	bv := voied.NewBatchVerifier()
	for range 3 {
		p, s, _ := ed25519.GenerateKey(rand.Reader)
		bv.Add(voied.PublicKey(p), msg, ed25519.Sign(s, msg))
	}
	bv.Add(voied.PublicKey(pub), msg, sig)
	if ok, valid := bv.Verify(rand.Reader); !ok || !valid[3] {
		t.Fatalf("the batch verifier rejects it (%v %v): batching may agree with crypto/ed25519 now; see sigcheck.go", ok, valid)
	}
	std := voied.NewBatchVerifier()
	std.AddWithOptions(voied.PublicKey(pub), msg, ed25519.Sign(priv, msg), stdlibRules)
	if std.VerifyBatchOnly(rand.Reader) {
		t.Fatal("the batch verifier batches with the stdlib rules: batching may agree with crypto/ed25519 now; see sigcheck.go")
	}
}

// BenchmarkBatchVerify measures what batch verification would save per
// signature (64 signatures of 64 bytes, distinct keys) beside signedBy,
// although it cannot be used (TestBatchVerificationIsNotStdlib).
func BenchmarkBatchVerify(b *testing.B) {
	const n = 64
	pubs := make([]ed25519.PublicKey, n)
	sigs := make([][]byte, n)
	msg := make([]byte, 64)
	rand.Read(msg)
	keys := make([]*voied.ExpandedPublicKey, n)
	for i := range n {
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		pubs[i], sigs[i] = pub, ed25519.Sign(priv, msg)
		keys[i], _ = voied.NewExpandedPublicKey(voied.PublicKey(pub))
	}
	b.Run("signedBy", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if !signedBy(keys[i%n], msg, sigs[i%n]) {
				b.Fatal("rejected")
			}
		}
	})
	b.Run("batch64-cofactored", func(b *testing.B) {
		bv := voied.NewBatchVerifierWithCapacity(n)
		for i := 0; b.Loop(); i++ {
			bv.AddExpanded(keys[i%n], msg, sigs[i%n])
			if i%n == n-1 {
				if !bv.VerifyBatchOnly(rand.Reader) {
					b.Fatal("rejected")
				}
				bv.Reset()
			}
		}
	})
}
