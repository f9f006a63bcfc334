package accounts

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/lyceum-oer/lyceum/node/api"
)

func TestAPITokens(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", "")
	f.MustAccount(t, "bob", "")
	tok, err := f.CreateToken(ctx, "ada", api.CreateTokenRequest{Name: " backup script "})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.Secret, "lyc_") || len(tok.Secret) != 47 || tok.Name != "backup script" ||
		tok.Hint != tok.Secret[:8]+"…" || !tok.LastUsed.IsZero() {
		t.Fatalf("token %+v", tok)
	}
	_, err = f.CreateToken(ctx, "ada", api.CreateTokenRequest{Name: "backup script"})
	wantKind(t, err, api.KindConflict)
	for _, name := range []string{"", "   ", strings.Repeat("n", MaxTokenName+1), "tab\there"} {
		_, err = f.CreateToken(ctx, "ada", api.CreateTokenRequest{Name: name})
		wantKind(t, err, api.KindInvalid)
	}
	_, err = f.CreateToken(ctx, "nobody", api.CreateTokenRequest{Name: "x"})
	wantKind(t, err, api.KindUnauthorized)

	a, err := f.Authenticate(ctx, tok.Secret)
	if err != nil || a.Username != "ada" {
		t.Fatalf("authenticated %+v (%v)", a, err)
	}
	f.reopen(t) // the token and its use are durable
	list, err := f.Tokens(ctx, "ada")
	if err != nil || len(list) != 1 || list[0].ID != tok.ID || !list[0].LastUsed.Equal(f.clock.Now()) {
		t.Fatalf("tokens %+v (%v)", list, err)
	}
	js, _ := json.Marshal(list)
	if strings.Contains(string(js), tok.Secret) || strings.Contains(string(js), tok.Secret[8:]) {
		t.Fatal("the list shows the secret")
	}
	if other, _ := f.Tokens(ctx, "bob"); len(other) != 0 {
		t.Fatalf("bob sees %+v", other)
	}

	// Another account cannot revoke it.
	wantKind(t, f.RevokeToken(ctx, "bob", tok.ID), api.KindNotFound)
	if err := f.RevokeToken(ctx, "ada", tok.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.Authenticate(ctx, tok.Secret)
	wantKind(t, err, api.KindUnauthorized)
	wantKind(t, f.RevokeToken(ctx, "ada", tok.ID), api.KindNotFound)
}

func TestATokenRecordsItsUseOnceAMinute(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", "")
	tok, _ := f.CreateToken(ctx, "ada", api.CreateTokenRequest{Name: "cli"})
	first := f.clock.Now()
	f.Authenticate(ctx, tok.Secret)
	f.clock.Advance(lastUsedStep / 2)
	f.Authenticate(ctx, tok.Secret)
	if list, _ := f.Tokens(ctx, "ada"); !list[0].LastUsed.Equal(first) {
		t.Fatalf("last used %v, want %v", list[0].LastUsed, first)
	}
	f.clock.Advance(lastUsedStep / 2)
	f.Authenticate(ctx, tok.Secret)
	if list, _ := f.Tokens(ctx, "ada"); !list[0].LastUsed.Equal(first.Add(lastUsedStep)) {
		t.Fatalf("last used %v", list[0].LastUsed)
	}
}

func TestBadTokensAreRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", "")
	tok, _ := f.CreateToken(ctx, "ada", api.CreateTokenRequest{Name: "cli"})
	s := f.MustLogin(t, "ada")
	for _, bad := range []string{"", "lyc_", "Bearer " + tok.Secret, tok.Secret[4:], tok.Secret + "A", tokenSecret.new(), s.Token, " " + tok.Secret} {
		_, err := f.Authenticate(ctx, bad)
		wantKind(t, err, api.KindUnauthorized)
	}
}

func TestTokensPerAccountAreBounded(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", "")
	for i := range 50 {
		if _, err := f.CreateToken(ctx, "ada", api.CreateTokenRequest{Name: fmt.Sprint("t", i)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.CreateToken(ctx, "ada", api.CreateTokenRequest{Name: "one more"})
	wantKind(t, err, api.KindConflict)
}

// A disabled account's tokens and sessions stop working; enabled again,
// its tokens work again, its sessions are gone.
func TestDisablingStopsSessionsAndTokens(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "admin", api.RoleAdmin)
	f.MustAccount(t, "ada", "")
	s := f.MustLogin(t, "ada")
	tok, _ := f.CreateToken(ctx, "ada", api.CreateTokenRequest{Name: "cli"})
	if _, err := f.Disable(ctx, "admin", "ada"); err != nil {
		t.Fatal(err)
	}
	_, err := f.Session(ctx, s.Token)
	wantKind(t, err, api.KindUnauthorized)
	_, err = f.Authenticate(ctx, tok.Secret)
	wantKind(t, err, api.KindForbidden)
	_, err = f.CreateToken(ctx, "ada", api.CreateTokenRequest{Name: "another"})
	wantKind(t, err, api.KindUnauthorized)
	if _, err := f.Enable(ctx, "admin", "ada"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Authenticate(ctx, tok.Secret); err != nil {
		t.Fatal(err)
	}
	_, err = f.Session(ctx, s.Token)
	wantKind(t, err, api.KindUnauthorized)
}

func TestUpdateProfile(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", "")
	a, err := f.UpdateProfile(ctx, "ada", api.ProfileRequest{DisplayName: "Ada L.", Language: "fr"})
	if err != nil || a.DisplayName != "Ada L." || a.Language != "fr" {
		t.Fatalf("%+v (%v)", a, err)
	}
	a, err = f.UpdateProfile(ctx, "ada", api.ProfileRequest{Language: "en"})
	if err != nil || a.DisplayName != "Ada L." || a.Language != "en" {
		t.Fatalf("%+v (%v)", a, err)
	}
	_, err = f.UpdateProfile(ctx, "ada", api.ProfileRequest{Language: "xx"})
	wantKind(t, err, api.KindInvalid)
	_, err = f.UpdateProfile(ctx, "ada", api.ProfileRequest{DisplayName: strings.Repeat("é", MaxDisplayName+1)})
	wantKind(t, err, api.KindInvalid)
	_, err = f.UpdateProfile(ctx, "nobody", api.ProfileRequest{Language: "fr"})
	wantKind(t, err, api.KindNotFound)
	if got, _ := f.Account(ctx, "ada"); got != a {
		t.Fatalf("stored %+v, want %+v", got, a)
	}
}

// A pinning token opens the Pinning Service API only, and a token of the
// whole API is not a pinning token; lists say which is which.
func TestPinningTokensAreScoped(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", "")
	pin, err := f.CreateToken(ctx, "ada", api.CreateTokenRequest{Name: "school Kubo", Scope: api.ScopePinning})
	if err != nil {
		t.Fatal(err)
	}
	full, err := f.CreateToken(ctx, "ada", api.CreateTokenRequest{Name: "script"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pin.Secret, "lyp_") || len(pin.Secret) != 47 || pin.Scope != api.ScopePinning {
		t.Fatalf("pinning token %+v", pin)
	}
	if a, err := f.AuthenticatePinning(ctx, pin.Secret); err != nil || a.Username != "ada" {
		t.Fatalf("AuthenticatePinning: %+v %v", a, err)
	}
	_, err = f.Authenticate(ctx, pin.Secret)
	wantKind(t, err, api.KindUnauthorized)
	_, err = f.AuthenticatePinning(ctx, full.Secret)
	wantKind(t, err, api.KindUnauthorized)
	// The same random part under the other prefix is another secret.
	_, err = f.AuthenticatePinning(ctx, "lyp_"+strings.TrimPrefix(full.Secret, "lyc_"))
	wantKind(t, err, api.KindUnauthorized)
	_, err = f.CreateToken(ctx, "ada", api.CreateTokenRequest{Name: "x", Scope: "admin"})
	wantKind(t, err, api.KindInvalid)
	list, err := f.Tokens(ctx, "ada")
	if err != nil || len(list) != 2 || list[0].Scope != api.ScopeAll || list[1].Scope != api.ScopePinning {
		t.Fatalf("tokens %+v %v", list, err)
	}
}
