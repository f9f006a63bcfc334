package accounts

import (
	"context"
	"testing"

	"github.com/lyceum-oer/lyceum/node/api"
)

// FuzzOutsideInput feeds what people and clients send — registration
// fields, login fields, session, token, setup and invitation strings — to
// every call that takes them: none panics or fails inside, and only valid
// fields make an account. The seed corpus is in testdata/fuzz.
func FuzzOutsideInput(f *testing.F) {
	f.Add("ada", "Ada", goodPassword, "en", "", "")
	f.Add("bob", "", "k9#Lm2!pQ7zX", "fr", "", "lyc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("Ada", "<b>x</b>", "short", "de", "AAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	fx := newFixture(f, func(c *Config) { c.RateLimitedKeys = 100 })
	fx.MustAccount(f, "admin", api.RoleAdmin)
	fx.MustMode(f, "admin", api.RegistrationOpen)
	ctx := context.Background()

	f.Fuzz(func(t *testing.T, username, displayName, password, language, invitation, token string) {
		before := fx.count(t, "accounts")
		reg, err := fx.Register(ctx, api.RegisterRequest{Username: username, DisplayName: displayName, Password: password,
			Language: language, Invitation: invitation}, token)
		noInternal(t, "Register", err)
		after := fx.count(t, "accounts")
		if err != nil && after != before {
			t.Fatalf("a refused registration (%v) made an account", err)
		}
		if err == nil {
			_, nameErr := checkDisplayName(displayName, username)
			_, langErr := checkLanguage(language)
			if after != before+1 || checkUsername(username) != nil || CheckPassword(password, username) != nil ||
				nameErr != nil || langErr != nil || invitation != "" || reg.Account.Username != username {
				t.Fatalf("registered %+v from bad input", reg.Account)
			}
		}

		_, err = fx.CompleteSetup(ctx, api.SetupRequest{Token: token, Username: username, DisplayName: displayName, Password: password, Language: language})
		if api.KindOf(err) != api.KindUnauthorized && api.KindOf(err) != api.KindForbidden {
			t.Fatalf("setup with %q: %v", token, err)
		}
		_, err = fx.Login(ctx, api.LoginRequest{Username: username, Password: password}, token)
		noInternal(t, "Login", err)
		if _, err := fx.Session(ctx, token); api.KindOf(err) != api.KindUnauthorized {
			t.Fatalf("session %q: %v", token, err)
		}
		if _, err := fx.Authenticate(ctx, token); api.KindOf(err) != api.KindUnauthorized {
			t.Fatalf("token %q: %v", token, err)
		}
		if err := fx.Logout(ctx, token); err != nil {
			t.Fatal(err)
		}
		_, err = fx.UpdateProfile(ctx, username, api.ProfileRequest{DisplayName: displayName, Language: language})
		noInternal(t, "UpdateProfile", err)
		_, err = fx.CreateToken(ctx, username, api.CreateTokenRequest{Name: displayName})
		noInternal(t, "CreateToken", err)
		_, err = fx.CreateInvitation(ctx, "admin", api.InvitationRequest{Role: api.Role(language), Note: displayName})
		noInternal(t, "CreateInvitation", err)
		_, _, _ = verifyPassword(password, token, fastParams)
		if fx.count(t, "accounts") != after {
			t.Fatal("an account was made by a call other than Register")
		}
	})
}

func noInternal(tb testing.TB, call string, err error) {
	tb.Helper()
	if err != nil && api.KindOf(err) == api.KindInternal {
		tb.Fatalf("%s failed inside: %v", call, err)
	}
}
