package accounts

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/lyceum-oer/lyceum/node/api"
)

// Params are argon2id's cost parameters. A hash records those it was made
// with, so they can change: a login with a hash made otherwise rehashes
// the password with the current ones.
type Params struct {
	Time    uint32 // passes over the memory
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultParams suit a small node (2 cores, a few GiB): RFC 9106's second
// recommended option (t=3, 64 MiB) with two lanes instead of four, one per
// core. One hash then takes 0.1–0.2 s on a shared 2-core server
// (BenchmarkHash: 180 ms with the cores busy elsewhere), slow for a
// guesser, unnoticed by a person logging in; Config.Hashers bounds the
// memory to 64 MiB a hash. That is well above OWASP's minimum for
// argon2id (19 MiB, t=2, p=1).
var DefaultParams = Params{Time: 3, Memory: 64 * 1024, Threads: 2}

const (
	saltLen = 16
	keyLen  = 32
)

// Bounds of the hashes a node accepts from its own database, so that a
// damaged row cannot make a login allocate gigabytes or spin for minutes.
const (
	maxHashMemory  = 1 << 20 // KiB: 1 GiB
	maxHashTime    = 64
	minSaltLen     = 8
	maxSaltLen     = 64
	minKeyLen      = 16
	maxKeyLen      = 64
	maxEncodedHash = 512
)

var b64 = base64.RawStdEncoding // the PHC string format's B64

func (p Params) valid() bool {
	return p.Time >= 1 && p.Time <= maxHashTime && p.Threads >= 1 &&
		p.Memory >= 8*uint32(p.Threads) && p.Memory <= maxHashMemory
}

// hashPassword hashes password with argon2id and a fresh random salt, in
// the PHC string format:
// $argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>.
func hashPassword(password string, p Params) (string, error) {
	if !p.valid() {
		return "", fmt.Errorf("bad argon2id parameters %+v", p)
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// phcHash is a decoded PHC string.
type phcHash struct {
	p         Params
	salt, key []byte
}

var errBadHash = errors.New("not an argon2id hash this node can read")

func parseHash(encoded string) (phcHash, error) {
	var h phcHash
	if len(encoded) > maxEncodedHash {
		return h, errBadHash
	}
	f := strings.Split(encoded, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" || f[2] != "v="+strconv.Itoa(argon2.Version) {
		return h, errBadHash
	}
	ps := strings.Split(f[3], ",")
	if len(ps) != 3 {
		return h, errBadHash
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(ps[i], name)
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil || v != strconv.FormatUint(n, 10) {
			return h, errBadHash
		}
		vals[i] = n
	}
	if vals[2] > 255 {
		return h, errBadHash
	}
	h.p = Params{Memory: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2])}
	if !h.p.valid() {
		return h, errBadHash
	}
	var err error
	if h.salt, err = b64.Strict().DecodeString(f[4]); err != nil || len(h.salt) < minSaltLen || len(h.salt) > maxSaltLen {
		return h, errBadHash
	}
	if h.key, err = b64.Strict().DecodeString(f[5]); err != nil || len(h.key) < minKeyLen || len(h.key) > maxKeyLen {
		return h, errBadHash
	}
	return h, nil
}

// verifyPassword reports whether password matches encoded, comparing in
// constant time, and whether encoded was made with parameters other than
// p (it should be made again).
func verifyPassword(password, encoded string, p Params) (ok, stale bool, err error) {
	h, err := parseHash(encoded)
	if err != nil {
		return false, false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.p.Time, h.p.Memory, h.p.Threads, uint32(len(h.key)))
	ok = subtle.ConstantTimeCompare(key, h.key) == 1
	return ok, h.p != p || len(h.salt) != saltLen || len(h.key) != keyLen, nil
}

// hash and verify run hashPassword and verifyPassword in one of the
// service's hashing slots: each hash holds Params.Memory, so a flood of
// logins waits rather than exhausting the node's memory.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquireHasher(ctx); err != nil {
		return "", err
	}
	defer func() { <-s.hashers }()
	return hashPassword(password, s.cfg.Password)
}

func (s *Service) verify(ctx context.Context, password, encoded string) (ok, stale bool, err error) {
	if err := s.acquireHasher(ctx); err != nil {
		return false, false, err
	}
	defer func() { <-s.hashers }()
	s.verified.Add(1)
	return verifyPassword(password, encoded, s.cfg.Password)
}

func (s *Service) acquireHasher(ctx context.Context) error {
	select {
	case s.hashers <- struct{}{}:
		return nil
	case <-ctx.Done():
		return api.Wrap(api.KindUnavailable, "the node is busy; try again", ctx.Err())
	}
}

// The password policy, after NIST SP 800-63B: long enough, any
// characters, no composition rules, refused when it is the username or a
// well-known password. Lengths count characters (runes); the byte bound
// keeps hashing input and requests small.
const (
	MinPasswordChars = 12
	MaxPasswordChars = 128
	MaxPasswordBytes = 512
)

// commonWords are the letters of the passwords tried first by anyone
// guessing (English and French lists), and words of this software: a
// password whose letters are one of them ("Password2024!") is refused.
var commonWords = map[string]bool{
	"password": true, "passw": true, "pass": true, "motdepasse": true, "mdp": true, "azerty": true,
	"azertyuiop": true, "qwerty": true, "qwertyuiop": true, "qwertz": true, "abc": true, "abcdef": true,
	"letmein": true, "welcome": true, "bienvenue": true, "iloveyou": true, "jetaime": true, "admin": true,
	"administrator": true, "administrateur": true, "root": true, "user": true, "lyceum": true, "moodle": true,
	"moodlenet": true, "teacher": true, "enseignant": true, "professeur": true, "school": true, "ecole": true,
	"soleil": true, "dragon": true, "monkey": true, "football": true, "sunshine": true, "princess": true,
	"changeme": true, "secret": true, "default": true, "test": true,
}

// CheckPassword says what is wrong with password as the password of
// username (KindInvalid, a message for the person), or nil.
func CheckPassword(password, username string) error {
	if len(password) > MaxPasswordBytes {
		return api.Invalidf("the password is too long: at most %d bytes", MaxPasswordBytes)
	}
	if !utf8.ValidString(password) {
		return api.Invalidf("the password is not valid text (UTF-8)")
	}
	n := utf8.RuneCountInString(password)
	if n < MinPasswordChars {
		return api.Invalidf("the password is too short: use at least %d characters (it has %d); a few words make a good one", MinPasswordChars, n)
	}
	if n > MaxPasswordChars {
		return api.Invalidf("the password is too long: at most %d characters (it has %d)", MaxPasswordChars, n)
	}
	for _, r := range password {
		if unicode.IsControl(r) {
			return api.Invalidf("the password contains a control character (such as a line break or tab)")
		}
	}
	lower := strings.ToLower(password)
	if u := strings.ToLower(username); u != "" && (lower == u || len(u) >= 4 && strings.Contains(lower, u) &&
		utf8.RuneCountInString(strings.ReplaceAll(lower, u, "")) < MinPasswordChars) {
		// What is left without the username must be a password itself.
		return api.Invalidf("the password must not be your username, nor built on it")
	}
	if trivial(lower) {
		return api.Invalidf("this password is too easy to guess; choose another (a few unrelated words make a good one)")
	}
	return nil
}

// trivial reports a password of one character repeated, a run of
// consecutive characters ("123456789012", "abcdefghijkl"), or one whose
// letters are a common word.
func trivial(lower string) bool {
	var letters strings.Builder
	same, run := true, true
	prev, first := rune(0), true
	for _, r := range lower {
		if !first {
			same = same && r == prev
			step := r - prev
			wrap := prev == '9' && r == '0' || prev == '0' && r == '9'
			run = run && (step == 1 || step == -1 || wrap)
		}
		prev, first = r, false
		if r >= 'a' && r <= 'z' || unicode.IsLetter(r) {
			letters.WriteRune(r)
		}
	}
	return same || run || commonWords[letters.String()]
}
