package accounts

import (
	"context"
	"testing"

	"github.com/lyceum-oer/lyceum/node/api"
)

// The node's operator (api.Operator: the node's API token) does what an
// admin does without being an account, and the rules that keep the node
// whole hold for it too.
func TestTheOperatorActsAsAnAdmin(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	op := api.Operator
	f.MustAccount(t, "ada", api.RoleAdmin)
	f.MustAccount(t, "bob", api.RoleMember)

	if _, err := f.CreateAccount(ctx, api.CreateAccountRequest{Username: op, Password: goodPassword}); api.KindOf(err) != api.KindInvalid {
		t.Fatalf("an account named %s: %v", op, err)
	}
	if list, err := f.Accounts(ctx, op, api.AccountFilter{}); err != nil || len(list) != 2 {
		t.Fatalf("the operator lists %+v (%v)", list, err)
	}
	if a, err := f.SetRole(ctx, op, "bob", api.RoleModerator); err != nil || a.Role != api.RoleModerator {
		t.Fatalf("set role: %+v (%v)", a, err)
	}
	if a, err := f.Disable(ctx, op, "bob"); err != nil || a.Status != api.StatusDisabled {
		t.Fatalf("disable: %+v (%v)", a, err)
	}
	if a, err := f.Enable(ctx, op, "bob"); err != nil || a.Status != api.StatusActive {
		t.Fatalf("enable: %+v (%v)", a, err)
	}
	// The node keeps an active admin, whoever asks.
	_, err := f.Disable(ctx, op, "ada")
	wantKind(t, err, api.KindConflict)

	f.MustMode(t, op, api.RegistrationApproval)
	if m, _ := f.RegistrationMode(ctx); m != api.RegistrationApproval {
		t.Fatalf("mode %s", m)
	}
	reg, err := f.Register(ctx, api.RegisterRequest{Username: "carol", Password: goodPassword}, "c")
	if err != nil {
		t.Fatal(err)
	}
	if a, err := f.Approve(ctx, op, reg.Account.Username); err != nil || a.Actor == "" {
		t.Fatalf("approve: %+v (%v)", a, err)
	}

	inv := mustInvite(t, f, op, api.InvitationRequest{Role: api.RoleAdmin, Note: "for Dan"})
	if inv.CreatedBy != "" || inv.Role != api.RoleAdmin {
		t.Fatalf("invitation %+v", inv.Invitation)
	}
	list, err := f.Invitations(ctx, op)
	if err != nil || len(list) != 1 || list[0].CreatedBy != "" {
		t.Fatalf("invitations %+v (%v)", list, err)
	}
	if err := f.RevokeInvitation(ctx, op, inv.ID); err != nil {
		t.Fatal(err)
	}
}

// An admin resets a forgotten password: the new one works, the old one
// and every session end; nobody else may.
func TestAnAdminResetsAPassword(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", api.RoleAdmin)
	f.MustAccount(t, "bob", api.RoleMember)
	f.MustAccount(t, "mod", api.RoleModerator)
	sess := f.MustLogin(t, "bob")
	tok, err := f.CreateToken(ctx, "bob", api.CreateTokenRequest{Name: "script"})
	if err != nil {
		t.Fatal(err)
	}
	const fresh = "a brand new passphrase"

	for _, by := range []string{"bob", "mod"} {
		wantKind(t, f.ResetPassword(ctx, by, "bob", fresh), api.KindForbidden)
	}
	wantKind(t, f.ResetPassword(ctx, "ada", "bob", "short"), api.KindInvalid)
	wantKind(t, f.ResetPassword(ctx, "ada", "nobody", fresh), api.KindNotFound)
	for _, by := range []string{"ada", api.Operator} {
		if err := f.ResetPassword(ctx, by, "bob", fresh); err != nil {
			t.Fatalf("reset by %s: %v", by, err)
		}
	}
	_, err = f.Session(ctx, sess.Token)
	wantKind(t, err, api.KindUnauthorized)
	_, err = f.Login(ctx, api.LoginRequest{Username: "bob", Password: goodPassword}, "c")
	wantKind(t, err, api.KindUnauthorized)
	if _, err := f.Login(ctx, api.LoginRequest{Username: "bob", Password: fresh}, "c"); err != nil {
		t.Fatalf("the new password: %v", err)
	}
	if _, err := f.Authenticate(ctx, tok.Secret); err != nil {
		t.Fatalf("a reset revoked the API token: %v", err)
	}
}

func TestCountByStatus(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	got, err := f.CountByStatus(ctx)
	if err != nil || len(got) != 3 || got[api.StatusActive] != 0 {
		t.Fatalf("empty node: %v (%v)", got, err)
	}
	f.MustAccount(t, "ada", api.RoleAdmin)
	f.MustAccount(t, "bob", api.RoleMember)
	f.MustMode(t, "ada", api.RegistrationApproval)
	if _, err := f.Register(ctx, api.RegisterRequest{Username: "carol", Password: goodPassword}, "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Disable(ctx, "ada", "bob"); err != nil {
		t.Fatal(err)
	}
	got, err = f.CountByStatus(ctx)
	if err != nil || got[api.StatusActive] != 1 || got[api.StatusPending] != 1 || got[api.StatusDisabled] != 1 {
		t.Fatalf("counts %v (%v)", got, err)
	}
}
