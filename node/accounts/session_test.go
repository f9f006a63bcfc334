package accounts

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

func TestLoginOpensASessionThatSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", api.RoleAdmin)
	sess, err := f.Login(ctx, api.LoginRequest{Username: " Ada ", Password: goodPassword}, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if len(sess.Token) != 43 || len(sess.CSRF) != 43 || sess.Account.Username != "ada" ||
		!sess.Expires.Equal(f.clock.Now().Add(30*24*time.Hour)) {
		t.Fatalf("session %+v", sess)
	}
	f.reopen(t)
	got, err := f.Session(ctx, sess.Token)
	if err != nil {
		t.Fatal(err)
	}
	if got.Token != "" || got.CSRF != sess.CSRF || got.Account != sess.Account || !got.Expires.Equal(sess.Expires) {
		t.Fatalf("session after restart %+v, want %+v", got, sess)
	}
	if !got.CheckCSRF(sess.CSRF) || got.CheckCSRF("") || got.CheckCSRF(sess.CSRF[:42]+"A") || (api.Session{}).CheckCSRF("") {
		t.Fatal("CheckCSRF")
	}
	// Only the token's hash is stored.
	var stored []byte
	if err := f.db.QueryRow(ctx, `SELECT hash FROM sessions`).Scan(&stored); err != nil || strings.Contains(string(stored), sess.Token) {
		t.Fatalf("stored %q (%v)", stored, err)
	}
}

// A failed login says the same whether the username exists or not, and
// costs the same: an unknown username is verified against a dummy hash.
func TestLoginFailuresTellNoOneWhoHasAnAccount(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", "")
	f.MustAccount(t, "dis", "")
	f.MustAccount(t, "admin", api.RoleAdmin)
	if _, err := f.Disable(ctx, "admin", "dis"); err != nil {
		t.Fatal(err)
	}
	var errs []error
	for _, req := range []api.LoginRequest{
		{Username: "ada", Password: "not the password"},
		{Username: "nobody", Password: "not the password"},
		{Username: "dis", Password: "not the password"},
		{Username: "ada", Password: ""},
		{Username: "", Password: goodPassword},
		{Username: "Not A Username!", Password: goodPassword},
		{Username: "ada", Password: strings.Repeat("x", MaxPasswordBytes+1)},
	} {
		before := f.verified.Load()
		_, err := f.Login(ctx, req, "192.0.2.1")
		errs = append(errs, err)
		if checkUsername(strings.ToLower(req.Username)) == nil && len(req.Password) <= MaxPasswordBytes && f.verified.Load() != before+1 {
			t.Errorf("login of %q verified %d passwords, want 1", req.Username, f.verified.Load()-before)
		}
	}
	for i, err := range errs {
		if err != errWrongLogin {
			t.Errorf("failure %d: %v, want %v", i, err, errWrongLogin)
		}
	}
	if api.PublicMessage(errWrongLogin) != "wrong username or password" {
		t.Fatal(api.PublicMessage(errWrongLogin))
	}
	// A disabled account's own password tells it is disabled.
	_, err := f.Login(ctx, api.LoginRequest{Username: "dis", Password: goodPassword}, "192.0.2.1")
	wantKind(t, err, api.KindForbidden)
}

func TestLoginIsLimitedPerAccount(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *Config) { c.LoginBurst = 3; c.LoginsPerMinute = 1 })
	f.MustAccount(t, "ada", "")
	f.MustAccount(t, "bob", "")
	for i := range 3 {
		// From many clients: a distributed guess counts against the account.
		_, err := f.Login(ctx, api.LoginRequest{Username: "ada", Password: "guess number " + string(rune('a'+i))}, "client"+string(rune('a'+i)))
		wantKind(t, err, api.KindUnauthorized)
	}
	_, err := f.Login(ctx, api.LoginRequest{Username: "ada", Password: goodPassword}, "another")
	wantKind(t, err, api.KindRateLimited)
	f.MustLogin(t, "bob")
	// Unknown usernames are limited alike.
	for range 3 {
		f.Login(ctx, api.LoginRequest{Username: "ghost", Password: "guess guess guess"}, "c")
	}
	_, err = f.Login(ctx, api.LoginRequest{Username: "ghost", Password: "guess guess guess"}, "c")
	wantKind(t, err, api.KindRateLimited)
	// Password changes count too: they check the current password.
	f.MustLogin(t, "bob")
	for range 2 {
		f.ChangePassword(ctx, "bob", api.PasswordChange{Current: "guess guess guess", New: "a brand new passphrase"})
	}
	_, err = f.ChangePassword(ctx, "bob", api.PasswordChange{Current: goodPassword, New: "a brand new passphrase"})
	wantKind(t, err, api.KindRateLimited)
}

func TestLoginIsLimitedPerClient(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *Config) { c.ClientLoginBurst = 3; c.ClientLoginsPerMinute = 1 })
	for _, u := range []string{"a1", "a2", "a3", "a4"} {
		f.MustAccount(t, u, "")
	}
	for _, u := range []string{"a1", "a2", "a3"} {
		_, err := f.Login(ctx, api.LoginRequest{Username: u, Password: "guess guess guess"}, "198.51.100.7")
		wantKind(t, err, api.KindUnauthorized)
	}
	_, err := f.Login(ctx, api.LoginRequest{Username: "a4", Password: goodPassword}, "198.51.100.7")
	wantKind(t, err, api.KindRateLimited)
	if _, err := f.Login(ctx, api.LoginRequest{Username: "a4", Password: goodPassword}, "203.0.113.9"); err != nil {
		t.Fatal(err)
	}
}

func TestASessionEndsWhenUnusedAndAtItsHardLimit(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", "")
	idle := f.MustLogin(t, "ada")
	busy := f.MustLogin(t, "ada")
	login := f.clock.Now()
	// Used every 20 days, busy lives on; idle ends after 30 days.
	for day := 20; day <= 80; day += 20 {
		f.clock.Advance(20 * 24 * time.Hour)
		s, err := f.Session(ctx, busy.Token)
		if err != nil {
			t.Fatalf("day %d: %v", day, err)
		}
		want := f.clock.Now().Add(30 * 24 * time.Hour)
		if hard := login.Add(90 * 24 * time.Hour); hard.Before(want) {
			want = hard
		}
		if !s.Expires.Equal(want) {
			t.Fatalf("day %d: expires %v, want %v", day, s.Expires, want)
		}
		if day == 40 {
			_, err := f.Session(ctx, idle.Token)
			wantKind(t, err, api.KindUnauthorized)
		}
	}
	f.clock.Advance(10*24*time.Hour + time.Millisecond) // day 90
	_, err := f.Session(ctx, busy.Token)
	wantKind(t, err, api.KindUnauthorized)
	if n := f.count(t, "sessions"); n != 0 {
		t.Fatalf("%d ended sessions kept", n)
	}
}

// Uses close together write nothing: the end moves on at most once a
// touch step.
func TestUsesCloseTogetherDoNotWrite(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", "")
	s := f.MustLogin(t, "ada")
	f.clock.Advance(touchStep / 2)
	got, err := f.Session(ctx, s.Token)
	if err != nil || !got.Expires.Equal(s.Expires) {
		t.Fatalf("expires %v (%v), want %v", got.Expires, err, s.Expires)
	}
	f.clock.Advance(touchStep / 2)
	if got, _ = f.Session(ctx, s.Token); !got.Expires.After(s.Expires) {
		t.Fatalf("not renewed after a touch step: %v", got.Expires)
	}
}

func TestBadSessionTokensAreRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", "")
	s := f.MustLogin(t, "ada")
	for _, tok := range []string{"", "x", s.Token + "A", s.Token[:42], strings.ToUpper(s.Token), sessionSecret.new(), s.CSRF, "lyc_" + s.Token, s.Token[:42] + "="} {
		if tok == s.Token {
			continue
		}
		_, err := f.Session(ctx, tok)
		wantKind(t, err, api.KindUnauthorized)
	}
}

func TestLogoutAndLogoutEverywhere(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", "")
	f.MustAccount(t, "bob", "")
	a1, a2, b := f.MustLogin(t, "ada"), f.MustLogin(t, "ada"), f.MustLogin(t, "bob")
	if err := f.Logout(ctx, a1.Token); err != nil {
		t.Fatal(err)
	}
	if err := f.Logout(ctx, a1.Token); err != nil {
		t.Fatal("logging out twice:", err)
	}
	if err := f.Logout(ctx, "junk"); err != nil {
		t.Fatal(err)
	}
	_, err := f.Session(ctx, a1.Token)
	wantKind(t, err, api.KindUnauthorized)
	if _, err := f.Session(ctx, a2.Token); err != nil {
		t.Fatal(err)
	}
	if err := f.LogoutEverywhere(ctx, "ada"); err != nil {
		t.Fatal(err)
	}
	_, err = f.Session(ctx, a2.Token)
	wantKind(t, err, api.KindUnauthorized)
	if _, err := f.Session(ctx, b.Token); err != nil {
		t.Fatal("another account's session ended:", err)
	}
}

func TestChangingThePasswordEndsEverySession(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", "")
	phone, laptop := f.MustLogin(t, "ada"), f.MustLogin(t, "ada")
	const newPassword = "a brand new passphrase"

	_, err := f.ChangePassword(ctx, "ada", api.PasswordChange{Current: "not the password", New: newPassword})
	wantKind(t, err, api.KindUnauthorized)
	_, err = f.ChangePassword(ctx, "ada", api.PasswordChange{Current: goodPassword, New: "short"})
	wantKind(t, err, api.KindInvalid)
	_, err = f.ChangePassword(ctx, "ada", api.PasswordChange{Current: goodPassword, New: goodPassword})
	wantKind(t, err, api.KindInvalid)
	_, err = f.ChangePassword(ctx, "nobody", api.PasswordChange{Current: goodPassword, New: newPassword})
	wantKind(t, err, api.KindNotFound)
	if _, err := f.Session(ctx, phone.Token); err != nil {
		t.Fatal("a refused change ended a session:", err)
	}

	s, err := f.ChangePassword(ctx, "ada", api.PasswordChange{Current: goodPassword, New: newPassword})
	if err != nil {
		t.Fatal(err)
	}
	for _, old := range []api.Session{phone, laptop} {
		_, err := f.Session(ctx, old.Token)
		wantKind(t, err, api.KindUnauthorized)
	}
	if _, err := f.Session(ctx, s.Token); err != nil {
		t.Fatal("the new session:", err)
	}
	_, err = f.Login(ctx, api.LoginRequest{Username: "ada", Password: goodPassword}, "c")
	wantKind(t, err, api.KindUnauthorized)
	if _, err := f.Login(ctx, api.LoginRequest{Username: "ada", Password: newPassword}, "c"); err != nil {
		t.Fatal(err)
	}
}

func TestSessionsPerAccountAreBounded(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *Config) { c.MaxSessions = 3 })
	f.MustAccount(t, "ada", "")
	var ss []api.Session
	for range 3 {
		ss = append(ss, f.MustLogin(t, "ada"))
		f.clock.Advance(touchStep)
	}
	// The first is the most recently used: the second goes.
	if _, err := f.Session(ctx, ss[0].Token); err != nil {
		t.Fatal(err)
	}
	f.MustLogin(t, "ada")
	if n := f.count(t, "sessions"); n != 3 {
		t.Fatalf("%d sessions", n)
	}
	_, err := f.Session(ctx, ss[1].Token)
	wantKind(t, err, api.KindUnauthorized)
	for _, s := range []api.Session{ss[0], ss[2]} {
		if _, err := f.Session(ctx, s.Token); err != nil {
			t.Fatal(err)
		}
	}
}

// A login with a hash of older parameters stores one of the current.
func TestLoginRehashesWithNewParameters(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", "")
	f.cfg.Password = Params{Time: 2, Memory: 128, Threads: 1}
	f.reopen(t)
	f.MustLogin(t, "ada")
	a, err := f.byName(ctx, "ada")
	if err != nil || !strings.HasPrefix(a.password, "$argon2id$v=19$m=128,t=2,p=1$") {
		t.Fatalf("hash %q (%v)", a.password, err)
	}
	f.MustLogin(t, "ada")
}

func TestPurgeForgetsWhatEnded(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", api.RoleAdmin)
	f.MustLogin(t, "ada")
	mustInvite(t, f, "ada", api.InvitationRequest{Days: 1})
	f.clock.Advance(31 * 24 * time.Hour)
	if err := f.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if s, i := f.count(t, "sessions"), f.count(t, "invitations"); s != 0 || i != 0 {
		t.Fatalf("%d sessions and %d invitations kept", s, i)
	}
}
