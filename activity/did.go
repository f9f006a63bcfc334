package activity

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/multiformats/go-multibase"
)

// Multicodec prefixes (unsigned varints) for Ed25519 keys.
var (
	ed25519PubPrefix  = [2]byte{0xed, 0x01} // ed25519-pub
	ed25519PrivPrefix = [2]byte{0x80, 0x26} // ed25519-priv (0x1300)
)

// didKeyPrefix starts every did:key.
const didKeyPrefix = "did:key:"

// GenerateKey returns a new Ed25519 private key from crypto/rand.
func GenerateKey() (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ed25519 key: %w", err)
	}
	return priv, nil
}

// PublicKeyMultibase encodes an Ed25519 public key as a Multikey value:
// base58btc multibase ("z…") of the multicodec ed25519-pub prefix and the
// 32 key bytes. It is what follows "did:key:" and "#".
func PublicKeyMultibase(pub ed25519.PublicKey) string {
	b := make([]byte, 0, 34)
	b = append(b, ed25519PubPrefix[:]...)
	b = append(b, pub...)
	s, _ := multibase.Encode(multibase.Base58BTC, b) // cannot fail for a known base
	return s
}

// DIDKey returns the did:key of an Ed25519 public key ("did:key:z6Mk…").
func DIDKey(pub ed25519.PublicKey) string { return didKeyPrefix + PublicKeyMultibase(pub) }

// VerificationMethod returns the verification method id for a did:key
// ("did:key:z6Mk…#z6Mk…"), as proofs carry it.
func VerificationMethod(did string) string {
	return did + "#" + strings.TrimPrefix(did, didKeyPrefix)
}

// PublicKeyFromMultibase decodes a Multikey Ed25519 public key. It accepts
// only base58btc, the ed25519-pub prefix and exactly 32 key bytes.
func PublicKeyFromMultibase(s string) (ed25519.PublicKey, error) {
	if !strings.HasPrefix(s, "z") {
		return nil, fmt.Errorf("%w: %q is not base58btc multibase", ErrBadKey, s)
	}
	_, b, err := multibase.Decode(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrBadKey, s, err)
	}
	if len(b) != 2+ed25519.PublicKeySize || b[0] != ed25519PubPrefix[0] || b[1] != ed25519PubPrefix[1] {
		return nil, fmt.Errorf("%w: %q is not an ed25519-pub multikey", ErrBadKey, s)
	}
	// Re-encoding must give the same string: base58 has no padding
	// ambiguity but leading-zero forms must not create aliases.
	pub := ed25519.PublicKey(b[2:])
	if PublicKeyMultibase(pub) != s {
		return nil, fmt.Errorf("%w: %q is not in canonical form", ErrBadKey, s)
	}
	return pub, nil
}

// PublicKeyFromDID returns the Ed25519 public key of a did:key. It is
// strict: no fragment, no other key types, canonical encoding only.
func PublicKeyFromDID(did string) (ed25519.PublicKey, error) {
	if !strings.HasPrefix(did, didKeyPrefix) {
		return nil, fmt.Errorf("%w: %q is not a did:key", ErrBadKey, did)
	}
	return PublicKeyFromMultibase(did[len(didKeyPrefix):])
}

// PrivateKeyFromMultibase decodes a Multikey Ed25519 secret key (multicodec
// ed25519-priv, 32-byte seed, base58btc), the form the Data Integrity test
// vectors use.
func PrivateKeyFromMultibase(s string) (ed25519.PrivateKey, error) {
	if !strings.HasPrefix(s, "z") {
		return nil, fmt.Errorf("%w: secret key is not base58btc multibase", ErrBadKey)
	}
	_, b, err := multibase.Decode(s)
	if err != nil {
		return nil, fmt.Errorf("%w: secret key: %v", ErrBadKey, err)
	}
	if len(b) != 2+ed25519.SeedSize || b[0] != ed25519PrivPrefix[0] || b[1] != ed25519PrivPrefix[1] {
		return nil, fmt.Errorf("%w: not an ed25519-priv multikey", ErrBadKey)
	}
	return ed25519.NewKeyFromSeed(b[2:]), nil
}
