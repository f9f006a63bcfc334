package accounts

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// The random secrets the room hands out: prefix + base64url of n random
// bytes. Only their SHA-256 is stored: a random secret of 128 bits or more
// needs no slow hash, and a stolen accounts.db gives no usable secret.
type secretKind struct {
	prefix string
	n      int // random bytes
}

var (
	sessionSecret    = secretKind{"", 32}
	csrfSecret       = secretKind{"", 32}
	tokenSecret      = secretKind{"lyc_", 32} // recognizable by secret scanners
	pinningSecret    = secretKind{"lyp_", 32} // a token of the Pinning Service API only
	setupSecret      = secretKind{"", 32}
	invitationSecret = secretKind{"", 16} // short enough to type from a letter
)

var b64url = base64.RawURLEncoding

// new returns a fresh secret of the kind.
func (k secretKind) new() string {
	b := make([]byte, k.n)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return k.prefix + b64url.EncodeToString(b)
}

// valid reports whether s has the shape of a secret of the kind, before
// any lookup: anything else is refused without touching the database.
func (k secretKind) valid(s string) bool {
	rest, ok := strings.CutPrefix(s, k.prefix)
	if !ok || len(rest) != b64url.EncodedLen(k.n) {
		return false
	}
	_, err := b64url.Strict().DecodeString(rest)
	return err == nil
}

// hashSecret is what the database keeps of a secret.
func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}
