package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lyceum-oer/lyceum/node/api"
)

const testPassword = "a long enough passphrase"

// mustAccount makes an account of role on the node and a personal token
// of it, and returns a client that calls with that token.
func (tn *testNode) mustAccount(tb testing.TB, username string, role api.Role) (*Client, api.Account) {
	tb.Helper()
	ctx := context.Background()
	a, err := tn.node.Accounts().CreateAccount(ctx, api.CreateAccountRequest{Username: username, Password: testPassword, Role: role})
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := tn.node.Accounts().CreateToken(ctx, username, api.CreateTokenRequest{Name: "tests"})
	if err != nil {
		tb.Fatal(err)
	}
	return NewClient(tn.server.URL, tok.Secret), a
}

func wantKind(tb testing.TB, err error, k api.Kind) {
	tb.Helper()
	if got := api.KindOf(err); err == nil || got != k {
		tb.Fatalf("error %v (%s), want %s", err, got, k)
	}
}

func link(as, title string) api.PublishRequest {
	return api.PublishRequest{As: as, URL: "https://example.org/" + title, Title: title, License: "CC0-1.0", Language: "en"}
}

// A member's token publishes, follows, likes and curates as the member's
// own person, and only as it: another actor in "as", or a resource or
// collection of another, is refused.
func TestAMemberTokenActsAsItsOwnPerson(t *testing.T) {
	tn := mustStartNode(t)
	ctx := context.Background()
	alice, aliceAcct := tn.mustAccount(t, "alice", api.RoleMember)
	_, bobAcct := tn.mustAccount(t, "bob", api.RoleMember)

	for _, as := range []string{"", "alice", aliceAcct.Actor, "alice@" + tn.node.Swarm().ID().PeerID} {
		p, err := alice.Publish(ctx, link(as, "mine"+as[:min(len(as), 3)]))
		if err != nil {
			t.Fatalf("publish as %q: %v", as, err)
		}
		v, err := tn.client.ShowResource(ctx, p.ID)
		if err != nil || v.Author != aliceAcct.Actor {
			t.Fatalf("published by %s, want alice (%v)", v.Author, err)
		}
	}
	for _, as := range []string{"bob", bobAcct.Actor, "nobody"} {
		_, err := alice.Publish(ctx, link(as, "theirs"))
		wantKind(t, err, api.KindForbidden)
		_, err = alice.Follow(ctx, api.FollowRequest{As: as, Actor: "alice"})
		wantKind(t, err, api.KindForbidden)
	}

	// Bob's things, made with the node's token acting as bob.
	bobs, err := tn.client.Publish(ctx, link("bob", "bobs"))
	if err != nil {
		t.Fatal(err)
	}
	bobsList, err := tn.client.CreateCollection(ctx, api.CollectionRequest{As: "bob", Title: "Bob's list"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = alice.UpdateResource(ctx, bobs.ID, api.PublishRequest{Title: "taken over"})
	wantKind(t, err, api.KindForbidden)
	_, err = alice.DeleteResource(ctx, bobs.ID)
	wantKind(t, err, api.KindForbidden)
	_, err = alice.UpdateCollection(ctx, bobsList.ID, api.CollectionRequest{Title: "taken over"})
	wantKind(t, err, api.KindForbidden)
	_, err = alice.DeleteCollection(ctx, "", bobsList.ID)
	wantKind(t, err, api.KindForbidden)
	_, err = alice.AddToCollection(ctx, bobsList.ID, api.CollectionItemRequest{Resource: bobs.ID})
	wantKind(t, err, api.KindForbidden)

	// Her own.
	mine, err := alice.Publish(ctx, link("", "worksheet"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.UpdateResource(ctx, mine.ID, api.PublishRequest{As: "bob", Title: "worksheet v2"}); api.KindOf(err) != api.KindForbidden {
		t.Fatalf("an update naming bob: %v", err)
	}
	if _, err := alice.UpdateResource(ctx, mine.ID, api.PublishRequest{Title: "worksheet v2"}); err != nil {
		t.Fatal(err)
	}
	list, err := alice.CreateCollection(ctx, api.CollectionRequest{Title: "Alice's list"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.AddToCollection(ctx, list.ID, api.CollectionItemRequest{Resource: bobs.ID}); err != nil {
		t.Fatal(err)
	}
	if v, err := tn.client.ShowCollection(ctx, list.ID); err != nil || v.Owner != aliceAcct.Actor || len(v.Entries) != 1 {
		t.Fatalf("alice's collection %+v (%v)", v, err)
	}
	if _, err := alice.Like(ctx, api.LikeRequest{ID: bobs.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.DeleteCollection(ctx, "", list.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.DeleteResource(ctx, mine.ID); err != nil {
		t.Fatal(err)
	}
	// A member makes communities, not people.
	if _, err := alice.CreateActor(ctx, api.CreateActorRequest{Username: "maths", Type: "Group"}); err != nil {
		t.Fatal(err)
	}
	_, err = alice.CreateActor(ctx, api.CreateActorRequest{Username: "carol"})
	wantKind(t, err, api.KindForbidden)
}

// A member's token reads, and uploads what it publishes, but manages
// nothing of the node.
func TestAMemberTokenCannotManageTheNode(t *testing.T) {
	tn := mustStartNode(t)
	ctx := context.Background()
	alice, _ := tn.mustAccount(t, "alice", api.RoleMember)
	c, err := alice.Add(ctx, writeTemp(t, "sheet.txt", "1/2 + 1/4 = ?\n"), api.AddOptions{}, nil)
	if err != nil {
		t.Fatalf("a member's upload: %v", err)
	}
	if _, err := alice.Size(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.ID(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Feed(ctx, 0); err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"pin":                func() error { return alice.Pin(ctx, c) },
		"unpin":              func() error { return alice.Unpin(ctx, c) },
		"gc":                 func() error { _, err := alice.GC(ctx); return err },
		"pins":               func() error { _, err := alice.Pins(ctx); return err },
		"stat":               func() error { _, err := alice.Stat(ctx); return err },
		"peers":              func() error { _, err := alice.Peers(ctx); return err },
		"block":              func() error { return alice.Block(ctx, api.BlockRequest{Actor: "bob"}) },
		"delist":             func() error { return alice.Delist(ctx, api.DelistRequest{ID: c.String()}) },
		"rebuild the views":  func() error { _, err := alice.RebuildViews(ctx); return err },
		"rebuild the index":  func() error { _, err := alice.RebuildIndex(ctx); return err },
		"import a CAR":       func() error { _, err := alice.ImportCAR(ctx, strings.NewReader("")); return err },
		"list accounts":      func() error { _, err := alice.Accounts(ctx, api.AccountFilter{}); return err },
		"set the mode":       func() error { return alice.SetRegistrationMode(ctx, api.RegistrationOpen) },
		"invite":             func() error { _, err := alice.CreateInvitation(ctx, api.InvitationRequest{}); return err },
		"make an account":    func() error { _, err := alice.CreateAccount(ctx, api.CreateAccountRequest{Username: "x"}); return err },
		"make herself admin": func() error { _, err := alice.SetRole(ctx, "alice", api.RoleAdmin); return err },
	} {
		t.Run(name, func(t *testing.T) { wantKind(t, call(), api.KindForbidden) })
	}
}

// An admin's token manages the node; it still publishes as its own
// person only.
func TestAnAdminTokenManagesTheNode(t *testing.T) {
	tn := mustStartNode(t)
	ctx := context.Background()
	ada, _ := tn.mustAccount(t, "ada", api.RoleAdmin)
	tn.mustAccount(t, "bob", api.RoleMember)
	c, err := ada.Add(ctx, writeTemp(t, "a.txt", "a\n"), api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ada.Pin(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := ada.GC(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ada.Stat(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ada.SetRegistrationMode(ctx, api.RegistrationApproval); err != nil {
		t.Fatal(err)
	}
	if list, err := ada.Accounts(ctx, api.AccountFilter{}); err != nil || len(list) != 2 {
		t.Fatalf("accounts %+v (%v)", list, err)
	}
	if a, err := ada.SetRole(ctx, "bob", api.RoleModerator); err != nil || a.Role != api.RoleModerator {
		t.Fatalf("set role %+v (%v)", a, err)
	}
	inv, err := ada.CreateInvitation(ctx, api.InvitationRequest{Note: "for Dan"})
	if err != nil || inv.CreatedBy != "ada" {
		t.Fatalf("invitation %+v (%v)", inv, err)
	}
	_, err = ada.Publish(ctx, link("bob", "as bob"))
	wantKind(t, err, api.KindForbidden)
	// Demoted, the same token loses the rights at once.
	if _, err := tn.client.CreateAccount(ctx, api.CreateAccountRequest{Username: "grace", Password: testPassword, Role: api.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.client.SetRole(ctx, "ada", api.RoleMember); err != nil {
		t.Fatal(err)
	}
	_, err = ada.GC(ctx)
	wantKind(t, err, api.KindForbidden)
}

// A revoked, unknown or malformed token is 401 with a challenge; a
// disabled account's token, 403; the node's token keeps every right.
func TestBadTokensAreRefused(t *testing.T) {
	tn := mustStartNode(t)
	ctx := context.Background()
	alice, _ := tn.mustAccount(t, "alice", api.RoleMember)
	if _, err := tn.client.CreateAccount(ctx, api.CreateAccountRequest{Username: "ada", Password: testPassword, Role: api.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	toks, err := tn.client.Tokens(ctx, "alice")
	if err != nil || len(toks) != 1 {
		t.Fatalf("tokens %+v (%v)", toks, err)
	}
	if _, err := alice.Me(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tn.client.RevokeToken(ctx, "alice", toks[0].ID); err != nil {
		t.Fatal(err)
	}
	_, err = alice.Me(ctx)
	wantKind(t, err, api.KindUnauthorized)

	for _, h := range []string{
		"Bearer lyc_" + strings.Repeat("A", 43), "Bearer " + strings.Repeat("0", 64), "Bearer", "Bearer ", "Basic YWxpY2U6cHc=",
		"Bearer a b", "Bearer " + strings.Repeat("x", MaxAuthorization), "Bearer tok\x00en",
	} {
		req, _ := http.NewRequest(http.MethodGet, tn.server.URL+"/api/v1/id", nil)
		req.Header.Set("Authorization", h)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			if strings.Contains(h, "\x00") {
				continue // the client refuses to send it
			}
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("Authorization %.20q: %d %q", h, res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
	}

	bob, _ := tn.mustAccount(t, "bob", api.RoleMember)
	if _, err := tn.client.Disable(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	_, err = bob.Me(ctx)
	wantKind(t, err, api.KindForbidden)

	// The node's token acts as anyone and manages everything.
	if _, err := tn.client.Publish(ctx, link("alice", "for alice")); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.client.GC(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = tn.client.Me(ctx)
	wantKind(t, err, api.KindInvalid)
}

// Failed tokens are limited per client, before any look-up: past the
// burst a client is refused even with a good token; others are not.
func TestBadTokensAreLimitedPerClient(t *testing.T) {
	tn := mustStartNode(t)
	h := tn.server.Config.Handler
	call := func(from, token string) int {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/id", nil)
		req.RemoteAddr = from + ":1234"
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	bad := "lyc_" + strings.Repeat("B", 43)
	for i := range badTokenBurst {
		if code := call("192.0.2.1", bad); code != http.StatusUnauthorized {
			t.Fatalf("bad token %d: %d", i, code)
		}
	}
	if code := call("192.0.2.1", bad); code != http.StatusTooManyRequests {
		t.Fatalf("over the limit: %d", code)
	}
	if code := call("192.0.2.1", tn.client.token); code != http.StatusTooManyRequests {
		t.Fatalf("a good token from a limited client: %d", code)
	}
	if code := call("192.0.2.2", tn.client.token); code != http.StatusOK {
		t.Fatalf("another client: %d", code)
	}
}

// Tokens are listed and revoked by their account or an admin, made by
// their account or the operator only.
func TestWhoMayHandleWhoseTokens(t *testing.T) {
	tn := mustStartNode(t)
	ctx := context.Background()
	alice, _ := tn.mustAccount(t, "alice", api.RoleMember)
	ada, _ := tn.mustAccount(t, "ada", api.RoleAdmin)
	tn.mustAccount(t, "bob", api.RoleMember)

	mine, err := alice.CreateToken(ctx, "", api.CreateTokenRequest{Name: "backup"})
	if err != nil || !strings.HasPrefix(mine.Secret, "lyc_") {
		t.Fatalf("%+v (%v)", mine, err)
	}
	if me, err := NewClient(tn.server.URL, mine.Secret).Me(ctx); err != nil || me.Username != "alice" {
		t.Fatalf("the new token is %+v (%v)", me, err)
	}
	if ts, err := alice.Tokens(ctx, "alice"); err != nil || len(ts) != 2 {
		t.Fatalf("tokens %+v (%v)", ts, err)
	}
	for name, call := range map[string]func() error{
		"alice lists bob's":         func() error { _, err := alice.Tokens(ctx, "bob"); return err },
		"alice makes one of bob":    func() error { _, err := alice.CreateToken(ctx, "bob", api.CreateTokenRequest{Name: "x"}); return err },
		"alice revokes bob's":       func() error { return alice.RevokeToken(ctx, "bob", 1) },
		"an admin makes one of bob": func() error { _, err := ada.CreateToken(ctx, "bob", api.CreateTokenRequest{Name: "x"}); return err },
	} {
		t.Run(name, func(t *testing.T) { wantKind(t, call(), api.KindForbidden) })
	}
	ts, err := ada.Tokens(ctx, "alice")
	if err != nil || len(ts) != 2 {
		t.Fatalf("an admin lists %+v (%v)", ts, err)
	}
	if err := ada.RevokeToken(ctx, "alice", mine.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := tn.client.CreateToken(ctx, "bob", api.CreateTokenRequest{Name: "made by the operator"}); err != nil {
		t.Fatal(err)
	}
	_, err = tn.client.Tokens(ctx, "nobody")
	wantKind(t, err, api.KindNotFound)
	err = alice.RevokeToken(ctx, "", 12345)
	wantKind(t, err, api.KindNotFound)
}

// An account's feed is its own: what it follows and published.
func TestAnAccountReadsItsOwnFeed(t *testing.T) {
	tn := mustStartNode(t)
	if _, ok := any(tn.node.Social()).(PersonalFeeds); !ok {
		t.Skip("the social room has no FeedOf yet")
	}
	ctx := context.Background()
	alice, _ := tn.mustAccount(t, "alice", api.RoleMember)
	tn.mustAccount(t, "bob", api.RoleMember)
	if _, err := tn.client.Publish(ctx, link("bob", "bobs")); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Publish(ctx, link("", "alices")); err != nil {
		t.Fatal(err)
	}
	items, err := alice.Feed(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Title == "bobs" {
			t.Fatalf("alice's feed has what she does not follow: %+v", items)
		}
	}
}

func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer lyc_abc", "bearer abc==", "Bearer  x ", "Basic x", "Bearer", "Bearer a=b", "Bearer \x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tok, ok := bearerToken(h)
		if !ok {
			return
		}
		if tok == "" || len(tok) > MaxAuthorization || strings.ContainsAny(tok, " \t\r\n\x00") || !strings.Contains(h, tok) {
			t.Fatalf("%q gave token %q", h, tok)
		}
	})
}
