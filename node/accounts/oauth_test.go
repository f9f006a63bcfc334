package accounts

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

// moodleClient is the registration Moodle 4.2–5.1 sends.
func moodleClient(site string) api.OAuthClientRequest {
	return api.OAuthClientRequest{
		ClientName: "Lycée Victor Hugo", ClientURI: site, LogoURI: site + "/pix/f/moodle-256.png", TOSURI: site, PolicyURI: site,
		SoftwareID: "moodle", SoftwareVersion: "2024100700", RedirectURIs: []string{site + "/admin/oauth2callback.php"},
		TokenEndpointAuthMethod: "client_secret_basic", GrantTypes: []string{"authorization_code", "refresh_token"},
		ResponseTypes: []string{"code"}, Scope: api.ScopeMoodleNetWrite,
	}
}

func wantOAuth(tb testing.TB, err error, code string) {
	tb.Helper()
	var oe *api.OAuthError
	if !errors.As(err, &oe) || oe.Code != code {
		tb.Fatalf("error %v, want OAuth %s", err, code)
	}
}

// mustGrant registers a client, has username consent and exchanges the
// code.
func (f *fixture) mustGrant(tb testing.TB, username string) (api.NewOAuthClient, api.OAuthTokens) {
	tb.Helper()
	ctx := context.Background()
	c, err := f.RegisterOAuthClient(ctx, moodleClient("https://moodle.example.edu"))
	if err != nil {
		tb.Fatal(err)
	}
	code, err := f.Authorize(ctx, username, api.AuthorizeRequest{ClientID: c.ClientID, RedirectURI: c.RedirectURIs[0], Scope: " " + api.ScopeMoodleNetWrite})
	if err != nil {
		tb.Fatal(err)
	}
	toks, err := f.ExchangeOAuthCode(ctx, api.OAuthCodeExchange{ClientID: c.ClientID, ClientSecret: c.Secret, Code: code, RedirectURI: c.RedirectURIs[0]})
	if err != nil {
		tb.Fatal(err)
	}
	return c, toks
}

func TestTheAuthorizationCodeGrantAsMoodleUsesIt(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", "")
	c, toks := f.mustGrant(t, "ada")
	if !strings.HasPrefix(c.ClientID, "lyk_") || !strings.HasPrefix(c.Secret, "lys_") || c.Name != "Lycée Victor Hugo" {
		t.Fatalf("client %+v", c)
	}
	if toks.TokenType != "Bearer" || toks.ExpiresIn != 3600 || toks.Scope != api.ScopeMoodleNetWrite ||
		!strings.HasPrefix(toks.AccessToken, "lyo_") || !strings.HasPrefix(toks.RefreshToken, "lyr_") {
		t.Fatalf("tokens %+v", toks)
	}
	a, err := f.AuthenticateOAuth(ctx, toks.AccessToken, api.ScopeMoodleNetWrite)
	if err != nil || a.Username != "ada" {
		t.Fatalf("authenticated %+v (%v)", a, err)
	}
	_, err = f.AuthenticateOAuth(ctx, toks.AccessToken, "@moodlenet/ed-resource:read")
	wantKind(t, err, api.KindUnauthorized)

	// The refresh rotates both tokens.
	f.reopen(t)
	next, err := f.RefreshOAuthToken(ctx, api.OAuthRefresh{ClientID: c.ClientID, ClientSecret: c.Secret, RefreshToken: toks.RefreshToken})
	if err != nil || next.AccessToken == toks.AccessToken || next.RefreshToken == toks.RefreshToken {
		t.Fatalf("refreshed %+v (%v)", next, err)
	}
	_, err = f.AuthenticateOAuth(ctx, toks.AccessToken, api.ScopeMoodleNetWrite)
	wantKind(t, err, api.KindUnauthorized)
	_, err = f.RefreshOAuthToken(ctx, api.OAuthRefresh{ClientID: c.ClientID, ClientSecret: c.Secret, RefreshToken: toks.RefreshToken})
	wantOAuth(t, err, api.OAuthInvalidGrant)
	if _, err := f.AuthenticateOAuth(ctx, next.AccessToken, api.ScopeMoodleNetWrite); err != nil {
		t.Fatal(err)
	}

	// The access token expires; the refresh token still works.
	f.clock.Advance(time.Hour)
	_, err = f.AuthenticateOAuth(ctx, next.AccessToken, api.ScopeMoodleNetWrite)
	wantKind(t, err, api.KindUnauthorized)
	if _, err := f.RefreshOAuthToken(ctx, api.OAuthRefresh{ClientID: c.ClientID, ClientSecret: c.Secret, RefreshToken: next.RefreshToken}); err != nil {
		t.Fatal(err)
	}
}

func TestACodeIsSingleUseShortLivedAndBoundToItsClientAndRedirect(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", "")
	c, err := f.RegisterOAuthClient(ctx, moodleClient("https://moodle.example.edu"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := f.RegisterOAuthClient(ctx, moodleClient("https://other.example.edu"))
	redirect := c.RedirectURIs[0]
	authorize := func() string {
		code, err := f.Authorize(ctx, "ada", api.AuthorizeRequest{ClientID: c.ClientID, RedirectURI: redirect})
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	exchange := func(id, secret, code, redirect string) (api.OAuthTokens, error) {
		return f.ExchangeOAuthCode(ctx, api.OAuthCodeExchange{ClientID: id, ClientSecret: secret, Code: code, RedirectURI: redirect})
	}

	t.Run("a wrong redirect_uri is refused at consent and at exchange", func(t *testing.T) {
		_, err := f.Authorize(ctx, "ada", api.AuthorizeRequest{ClientID: c.ClientID, RedirectURI: "https://evil.example/cb"})
		wantKind(t, err, api.KindInvalid)
		_, err = exchange(c.ClientID, c.Secret, authorize(), "https://moodle.example.edu/other.php")
		wantOAuth(t, err, api.OAuthInvalidGrant)
	})
	t.Run("a wrong secret or another client's credentials are invalid_client or invalid_grant", func(t *testing.T) {
		code := authorize()
		_, err := exchange(c.ClientID, other.Secret, code, redirect)
		wantOAuth(t, err, api.OAuthInvalidClient)
		_, err = exchange(other.ClientID, other.Secret, code, other.RedirectURIs[0])
		wantOAuth(t, err, api.OAuthInvalidGrant)
	})
	t.Run("an expired code is refused", func(t *testing.T) {
		code := authorize()
		f.clock.Advance(time.Minute)
		_, err := exchange(c.ClientID, c.Secret, code, redirect)
		wantOAuth(t, err, api.OAuthInvalidGrant)
	})
	t.Run("a replayed code is refused and revokes what it gave", func(t *testing.T) {
		code := authorize()
		toks, err := exchange(c.ClientID, c.Secret, code, redirect)
		if err != nil {
			t.Fatal(err)
		}
		_, err = exchange(c.ClientID, c.Secret, code, redirect)
		wantOAuth(t, err, api.OAuthInvalidGrant)
		_, err = f.AuthenticateOAuth(ctx, toks.AccessToken, api.ScopeMoodleNetWrite)
		wantKind(t, err, api.KindUnauthorized)
	})
	t.Run("an unknown scope is refused", func(t *testing.T) {
		_, err := f.Authorize(ctx, "ada", api.AuthorizeRequest{ClientID: c.ClientID, RedirectURI: redirect, Scope: "admin"})
		wantKind(t, err, api.KindInvalid)
	})
	t.Run("nobody signed in cannot consent", func(t *testing.T) {
		_, err := f.Authorize(ctx, "nobody", api.AuthorizeRequest{ClientID: c.ClientID, RedirectURI: redirect})
		wantKind(t, err, api.KindUnauthorized)
	})
}

func TestGrantsAreTheAccountsAloneAndRevocable(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", "")
	f.MustAccount(t, "bob", "")
	_, toks := f.mustGrant(t, "ada")
	_, bobToks := f.mustGrant(t, "bob")
	if a, err := f.AuthenticateOAuth(ctx, bobToks.AccessToken, api.ScopeMoodleNetWrite); err != nil || a.Username != "bob" {
		t.Fatalf("bob's token is %+v (%v)", a, err)
	}
	list, err := f.OAuthGrants(ctx, "ada")
	if err != nil || len(list) != 1 || list[0].Client != "Lycée Victor Hugo" {
		t.Fatalf("grants %+v (%v)", list, err)
	}
	wantKind(t, f.RevokeOAuthGrant(ctx, "bob", list[0].ID), api.KindNotFound)
	if _, err := f.AuthenticateOAuth(ctx, toks.AccessToken, api.ScopeMoodleNetWrite); err != nil {
		t.Fatal(err)
	}
	if err := f.RevokeOAuthGrant(ctx, "ada", list[0].ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.AuthenticateOAuth(ctx, toks.AccessToken, api.ScopeMoodleNetWrite)
	wantKind(t, err, api.KindUnauthorized)
	if f.count(t, "oauth_grants") != 1 {
		t.Fatal("bob's grant went too")
	}
}

func TestRegistrationIsCheckedAndBounded(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *Config) { c.MaxOAuthClients = 2 })
	for name, tc := range map[string]struct {
		edit func(*api.OAuthClientRequest)
		code string
	}{
		"no redirect URI":          {func(r *api.OAuthClientRequest) { r.RedirectURIs = nil }, api.OAuthInvalidRedirect},
		"an http redirect URI":     {func(r *api.OAuthClientRequest) { r.RedirectURIs = []string{"http://moodle.example.edu/cb"} }, api.OAuthInvalidRedirect},
		"a fragment":               {func(r *api.OAuthClientRequest) { r.RedirectURIs = []string{"https://m.example/cb#x"} }, api.OAuthInvalidRedirect},
		"a javascript: URI":        {func(r *api.OAuthClientRequest) { r.RedirectURIs = []string{"javascript:alert(1)"} }, api.OAuthInvalidRedirect},
		"an implicit grant":        {func(r *api.OAuthClientRequest) { r.GrantTypes = []string{"implicit"} }, api.OAuthInvalidMetadata},
		"a token response":         {func(r *api.OAuthClientRequest) { r.ResponseTypes = []string{"token"} }, api.OAuthInvalidMetadata},
		"an unknown scope":         {func(r *api.OAuthClientRequest) { r.Scope = "openid" }, api.OAuthInvalidMetadata},
		"private_key_jwt":          {func(r *api.OAuthClientRequest) { r.TokenEndpointAuthMethod = "private_key_jwt" }, api.OAuthInvalidMetadata},
		"a client_uri not on http": {func(r *api.OAuthClientRequest) { r.ClientURI = "ftp://x" }, api.OAuthInvalidMetadata},
	} {
		t.Run(name+" is refused", func(t *testing.T) {
			req := moodleClient("https://moodle.example.edu")
			tc.edit(&req)
			_, err := f.RegisterOAuthClient(ctx, req)
			wantOAuth(t, err, tc.code)
		})
	}
	loop := moodleClient("http://127.0.0.1:8080")
	loop.ClientName = "  tab\there\x00 <b> "
	c, err := f.RegisterOAuthClient(ctx, loop)
	if err != nil || c.Name != "tab here <b>" {
		t.Fatalf("a loopback Moodle: %+v (%v)", c, err)
	}
	f.RegisterOAuthClient(ctx, moodleClient("https://moodle.example.edu"))
	_, err = f.RegisterOAuthClient(ctx, moodleClient("https://moodle.example.edu"))
	wantOAuth(t, err, api.OAuthUnavailable)

	// Clients nobody consented to are purged after a month.
	f.clock.Advance(31 * 24 * time.Hour)
	if err := f.Purge(ctx); err != nil || f.count(t, "oauth_clients") != 0 {
		t.Fatalf("purge left %d clients (%v)", f.count(t, "oauth_clients"), err)
	}
}
