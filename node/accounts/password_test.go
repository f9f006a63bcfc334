package accounts

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

func TestThePasswordPolicy(t *testing.T) {
	for _, c := range []struct {
		name, password, username string
		ok                       bool
		says                     string // part of the message
	}{
		{"a passphrase is fine", "correct horse battery staple", "ada", true, ""},
		{"twelve characters are enough", "k9#Lm2!pQ7zX", "ada", true, ""},
		{"accents count as one character each", "éàùçôîïëüÿæœ", "ada", true, ""},
		{"spaces are allowed", "a b c d e f g h", "ada", true, ""},
		{"eleven characters are too few", "k9#Lm2!pQ7z", "ada", false, "at least 12 characters (it has 11)"},
		{"eleven accented characters are too few, whatever their bytes", "éàùçôîïëüÿæ", "ada", false, "at least 12"},
		{"an empty password is too short", "", "ada", false, "too short"},
		{"129 characters are too many", strings.Repeat("ab", 64) + "c", "ada", false, "at most 128 characters"},
		{"128 characters are fine", strings.Repeat("qz", 64), "ada", true, ""},
		{"more than 512 bytes are too many", strings.Repeat("€", 171), "ada", false, "at most 512 bytes"},
		{"invalid UTF-8 is refused", "abcdefghijk\xff", "ada", false, "UTF-8"},
		{"a line break is refused", "correct horse\nbattery", "ada", false, "control character"},
		{"a NUL is refused", "correct horse\x00battery", "ada", false, "control character"},
		{"the username is refused", "ada.lovelace.1815", "ada.lovelace.1815", false, "username"},
		{"the username in capitals is refused", "ADA.LOVELACE.1815", "ada.lovelace.1815", false, "username"},
		{"the username with a few digits is refused", "lovelace1234", "lovelace", false, "username"},
		{"a long passphrase holding the username is fine", "lovelace wrote the first program", "lovelace", true, ""},
		{"a short username inside a password is fine", "mad hatter tea party", "ad", true, ""},
		{"a common password with digits is refused", "Password2024!", "ada", false, "too easy"},
		{"azerty is refused", "azerty123456", "ada", false, "too easy"},
		{"one character repeated is refused", "aaaaaaaaaaaaaaa", "ada", false, "too easy"},
		{"a run of digits is refused", "123456789012", "ada", false, "too easy"},
		{"a run of letters is refused", "abcdefghijklm", "ada", false, "too easy"},
		{"a random number is fine", "839201746523", "ada", true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckPassword(c.password, c.username)
			if c.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantKind(t, err, api.KindInvalid)
			if !strings.Contains(api.PublicMessage(err), c.says) {
				t.Fatalf("message %q does not say %q", api.PublicMessage(err), c.says)
			}
		})
	}
}

func TestHashesAreSaltedPHCStrings(t *testing.T) {
	p := Params{Time: 2, Memory: 256, Threads: 2}
	h1, err := hashPassword(goodPassword, p)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := hashPassword(goodPassword, p)
	if h1 == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=256,t=2,p=2$") || strings.Count(h1, "$") != 5 {
		t.Fatalf("hash %q", h1)
	}
	for _, c := range []struct {
		password string
		params   Params
		ok       bool
		stale    bool
	}{
		{goodPassword, p, true, false},
		{goodPassword + " ", p, false, false},
		{"", p, false, false},
		{goodPassword, DefaultParams, true, true},
	} {
		ok, stale, err := verifyPassword(c.password, h1, c.params)
		if err != nil || ok != c.ok || stale != c.stale {
			t.Errorf("verify %q: ok %v stale %v (%v), want %v %v", c.password, ok, stale, err, c.ok, c.stale)
		}
	}
	if _, err := hashPassword("x", Params{}); err == nil {
		t.Error("hashed with no parameters")
	}
}

// A damaged hash in the database is an error, never a huge allocation or
// a panic.
func TestDamagedHashesAreRefused(t *testing.T) {
	good, _ := hashPassword(goodPassword, fastParams)
	f := strings.Split(good, "$")
	join := func(parts ...string) string { return strings.Join(parts, "$") }
	for _, bad := range []string{
		"",
		"plain",
		good + "$",
		join("", "argon2i", f[2], f[3], f[4], f[5]),
		join("", "argon2id", "v=16", f[3], f[4], f[5]),
		join("", "argon2id", f[2], "m=4194304,t=1,p=1", f[4], f[5]),
		join("", "argon2id", f[2], "m=64,t=100000,p=1", f[4], f[5]),
		join("", "argon2id", f[2], "m=64,t=1,p=0", f[4], f[5]),
		join("", "argon2id", f[2], "m=64,t=1,p=300", f[4], f[5]),
		join("", "argon2id", f[2], "m=64,t=1", f[4], f[5]),
		join("", "argon2id", f[2], "t=1,m=64,p=1", f[4], f[5]),
		join("", "argon2id", f[2], "m=064,t=1,p=1", f[4], f[5]),
		join("", "argon2id", f[2], "m=+64,t=1,p=1", f[4], f[5]),
		join("", "argon2id", f[2], f[3], "", f[5]),
		join("", "argon2id", f[2], f[3], "c2FsdA", f[5]),
		join("", "argon2id", f[2], f[3], f[4], "!!"),
		join("", "argon2id", f[2], f[3], f[4], f[5]+"=="),
		join("", "argon2id", f[2], f[3], f[4], strings.Repeat("A", 600)),
	} {
		if ok, _, err := verifyPassword(goodPassword, bad, fastParams); err == nil || ok {
			t.Errorf("%q verified (%v, %v)", bad, ok, err)
		}
	}
}

// Hashing waits for a free slot, and gives up with its context.
func TestHashingWaitsForASlot(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Hashers = 1 })
	f.hashers <- struct{}{} // the only slot, taken
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := f.Login(ctx, api.LoginRequest{Username: "ada", Password: goodPassword}, "c")
	wantKind(t, err, api.KindUnavailable)
	<-f.hashers
}

// The cost of a login with DefaultParams: go test -bench Hash -benchtime 20x
func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		if _, err := hashPassword(goodPassword, DefaultParams); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h, _ := hashPassword(goodPassword, DefaultParams)
	for b.Loop() {
		if ok, _, err := verifyPassword(goodPassword, h, DefaultParams); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
