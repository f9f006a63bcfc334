package accounts

import (
	"context"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

func mustSetupToken(tb testing.TB, f *fixture) api.SetupToken {
	tb.Helper()
	tok, ok, err := f.SetupToken(context.Background())
	if err != nil || !ok || tok.Token == "" {
		tb.Fatalf("setup token %+v, %v, %v", tok, ok, err)
	}
	return tok
}

func TestTheSetupLinkMakesTheFirstAdminOnce(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if needs, err := f.NeedsSetup(ctx); err != nil || !needs {
		t.Fatalf("a fresh node needs no setup (%v)", err)
	}
	tok := mustSetupToken(t, f)
	if !tok.Expires.Equal(f.clock.Now().Add(24 * time.Hour)) {
		t.Fatalf("expires %v", tok.Expires)
	}
	reg, err := f.CompleteSetup(ctx, api.SetupRequest{Token: tok.Token, Username: "ada", DisplayName: "Ada", Password: goodPassword, Language: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	if a := reg.Account; a.Role != api.RoleAdmin || a.Status != api.StatusActive || a.Actor == "" || a.Language != "fr" {
		t.Fatalf("first admin %+v", a)
	}
	if reg.Session == nil || reg.Session.Token == "" {
		t.Fatal("the first admin is not logged in")
	}
	if _, err := f.Session(ctx, reg.Session.Token); err != nil {
		t.Fatal(err)
	}
	// The token is spent, and no other can be made.
	_, err = f.CompleteSetup(ctx, api.SetupRequest{Token: tok.Token, Username: "eve", Password: goodPassword})
	wantKind(t, err, api.KindForbidden)
	if _, ok, err := f.SetupToken(ctx); ok || err != nil {
		t.Fatalf("a setup token was made on a node with an admin (%v)", err)
	}
	if needs, _ := f.NeedsSetup(ctx); needs {
		t.Fatal("still needs setup")
	}
	if n := f.count(t, "setup_tokens"); n != 0 {
		t.Fatalf("%d setup tokens kept", n)
	}
}

func TestASetupTokenExpires(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	tok := mustSetupToken(t, f)
	f.clock.Advance(24*time.Hour + time.Second)
	_, err := f.CompleteSetup(ctx, api.SetupRequest{Token: tok.Token, Username: "ada", Password: goodPassword})
	wantKind(t, err, api.KindUnauthorized)
	// The next start makes a new one, which works.
	tok = mustSetupToken(t, f)
	if _, err := f.CompleteSetup(ctx, api.SetupRequest{Token: tok.Token, Username: "ada", Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
}

func TestANewSetupTokenEndsTheOldOne(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	old := mustSetupToken(t, f)
	f.reopen(t) // a restart: the token is durable, and replaced at start
	tok := mustSetupToken(t, f)
	_, err := f.CompleteSetup(ctx, api.SetupRequest{Token: old.Token, Username: "ada", Password: goodPassword})
	wantKind(t, err, api.KindUnauthorized)
	if _, err := f.CompleteSetup(ctx, api.SetupRequest{Token: tok.Token, Username: "ada", Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
}

// A setup refused for its fields keeps the token for the next try.
func TestARefusedSetupKeepsItsToken(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	tok := mustSetupToken(t, f)
	for _, bad := range []api.SetupRequest{
		{Token: "", Username: "ada", Password: goodPassword},
		{Token: "not-a-token", Username: "ada", Password: goodPassword},
		{Token: setupSecret.new(), Username: "ada", Password: goodPassword},
	} {
		_, err := f.CompleteSetup(ctx, bad)
		wantKind(t, err, api.KindUnauthorized)
	}
	_, err := f.CompleteSetup(ctx, api.SetupRequest{Token: tok.Token, Username: "ada", Password: "ada"})
	wantKind(t, err, api.KindInvalid)
	f.actors.dids["ada"] = "did:key:z6Mktaken"
	_, err = f.CompleteSetup(ctx, api.SetupRequest{Token: tok.Token, Username: "ada", Password: goodPassword})
	wantKind(t, err, api.KindConflict)
	if _, err := f.CompleteSetup(ctx, api.SetupRequest{Token: tok.Token, Username: "grace", Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
}

// `lyceum user add --admin` makes the first admin without a token; the
// link then stops working.
func TestAnAdminFromTheCLIEndsTheSetup(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	tok := mustSetupToken(t, f)
	f.MustAccount(t, "ada", api.RoleAdmin)
	_, err := f.CompleteSetup(ctx, api.SetupRequest{Token: tok.Token, Username: "eve", Password: goodPassword})
	wantKind(t, err, api.KindForbidden)
	// A member made first does not end it.
	g := newFixture(t)
	tok = mustSetupToken(t, g)
	g.MustAccount(t, "bob", api.RoleMember)
	if _, err := g.CompleteSetup(ctx, api.SetupRequest{Token: tok.Token, Username: "ada", Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
}
