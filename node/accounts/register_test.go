package accounts

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

func TestRegistrationFollowsTheMode(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		mode       api.RegistrationMode
		wantErr    api.Kind // "" for none
		wantStatus api.AccountStatus
	}{
		{api.RegistrationOpen, "", api.StatusActive},
		{api.RegistrationApproval, "", api.StatusPending},
		{api.RegistrationInvitation, api.KindForbidden, ""},
		{api.RegistrationClosed, api.KindForbidden, ""},
	} {
		t.Run("a node "+string(c.mode)+" to strangers", func(t *testing.T) {
			f := newFixture(t)
			f.MustAccount(t, "admin", api.RoleAdmin)
			f.MustMode(t, "admin", c.mode)
			reg, err := f.Register(ctx, api.RegisterRequest{Username: "bob", DisplayName: "Bob", Password: goodPassword, Language: "fr"}, "198.51.100.7")
			if c.wantErr != "" {
				wantKind(t, err, c.wantErr)
				if _, err := f.Account(ctx, "bob"); api.KindOf(err) != api.KindNotFound {
					t.Fatalf("a refused registration made an account (%v)", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a := reg.Account
			if a.Status != c.wantStatus || a.Role != api.RoleMember || a.DisplayName != "Bob" || a.Language != "fr" {
				t.Fatalf("account %+v", a)
			}
			switch c.wantStatus {
			case api.StatusActive:
				if reg.Session == nil || a.Actor == "" || !f.actors.has("bob") {
					t.Fatalf("an open registration is not logged in or has no actor: %+v", reg)
				}
			case api.StatusPending:
				if reg.Session != nil || a.Actor != "" || f.actors.has("bob") {
					t.Fatalf("a registration waiting for approval is logged in or has an actor: %+v", reg)
				}
			}
		})
	}
}

func TestANewNodeRegistersByInvitation(t *testing.T) {
	f := newFixture(t)
	if m, err := f.RegistrationMode(context.Background()); err != nil || m != api.RegistrationInvitation {
		t.Fatalf("mode %s (%v)", m, err)
	}
}

func TestOnlyAnAdminSetsTheMode(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "admin", api.RoleAdmin)
	f.MustAccount(t, "mod", api.RoleModerator)
	wantKind(t, f.SetRegistrationMode(ctx, "mod", api.RegistrationOpen), api.KindForbidden)
	wantKind(t, f.SetRegistrationMode(ctx, "nobody", api.RegistrationOpen), api.KindUnauthorized)
	wantKind(t, f.SetRegistrationMode(ctx, "admin", "everyone"), api.KindInvalid)
	f.MustMode(t, "admin", api.RegistrationApproval)
	f.reopen(t)
	if m, _ := f.RegistrationMode(ctx); m != api.RegistrationApproval {
		t.Fatalf("mode %s after a restart", m)
	}
}

func TestApprovalMakesTheActorAndRejectionLeavesNoTrace(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "admin", api.RoleAdmin)
	f.MustAccount(t, "mod", api.RoleModerator)
	f.MustAccount(t, "member", api.RoleMember)
	f.MustMode(t, "admin", api.RegistrationApproval)
	for _, u := range []string{"bob", "carol"} {
		if _, err := f.Register(ctx, api.RegisterRequest{Username: u, Password: goodPassword}, "c"); err != nil {
			t.Fatal(err)
		}
	}
	// Waiting, bob cannot log in; with a wrong password he learns nothing.
	_, err := f.Login(ctx, api.LoginRequest{Username: "bob", Password: goodPassword}, "c")
	wantKind(t, err, api.KindForbidden)
	_, err = f.Login(ctx, api.LoginRequest{Username: "bob", Password: "wrong password!"}, "c")
	if err != errWrongLogin {
		t.Fatalf("a wrong password for a waiting account: %v", err)
	}
	pending, err := f.Accounts(ctx, "mod", api.AccountFilter{Status: api.StatusPending})
	if err != nil || len(pending) != 2 || pending[0].Username != "bob" || pending[1].Username != "carol" {
		t.Fatalf("pending %+v (%v)", pending, err)
	}
	_, err = f.Approve(ctx, "member", "bob")
	wantKind(t, err, api.KindForbidden)
	a, err := f.Approve(ctx, "mod", "bob")
	if err != nil || a.Status != api.StatusActive || a.Actor == "" || !f.actors.has("bob") {
		t.Fatalf("approved %+v (%v)", a, err)
	}
	f.MustLogin(t, "bob")
	_, err = f.Approve(ctx, "mod", "bob")
	wantKind(t, err, api.KindConflict)
	wantKind(t, f.Reject(ctx, "admin", "bob"), api.KindConflict)

	if err := f.Reject(ctx, "admin", "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Account(ctx, "carol"); api.KindOf(err) != api.KindNotFound || f.actors.has("carol") {
		t.Fatalf("a rejected registration left a trace (%v)", err)
	}
	wantKind(t, f.Reject(ctx, "admin", "carol"), api.KindNotFound)
	// The username is free again.
	if _, err := f.Register(ctx, api.RegisterRequest{Username: "carol", Password: goodPassword}, "c"); err != nil {
		t.Fatal(err)
	}
}

// An approval whose username a community took meanwhile fails, and
// leaves the registration waiting.
func TestAnApprovalThatCannotMakeTheActorChangesNothing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "admin", api.RoleAdmin)
	f.MustMode(t, "admin", api.RegistrationApproval)
	if _, err := f.Register(ctx, api.RegisterRequest{Username: "physics", Password: goodPassword}, "c"); err != nil {
		t.Fatal(err)
	}
	f.actors.dids["physics"] = "did:key:z6Mkcommunity"
	_, err := f.Approve(ctx, "admin", "physics")
	wantKind(t, err, api.KindConflict)
	if a, _ := f.Account(ctx, "physics"); a.Status != api.StatusPending || a.Actor != "" {
		t.Fatalf("after a failed approval: %+v", a)
	}
}

func TestRegistrationsWaitingAreBounded(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *Config) { c.MaxPending = 2 })
	f.MustAccount(t, "admin", api.RoleAdmin)
	f.MustMode(t, "admin", api.RegistrationApproval)
	for _, u := range []string{"a1", "a2"} {
		if _, err := f.Register(ctx, api.RegisterRequest{Username: u, Password: goodPassword}, "c"); err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.Register(ctx, api.RegisterRequest{Username: "a3", Password: goodPassword}, "c")
	wantKind(t, err, api.KindUnavailable)
}

func TestRegistrationsAreLimitedPerClient(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *Config) { c.RegisterBurst = 2 })
	f.MustAccount(t, "admin", api.RoleAdmin)
	f.MustMode(t, "admin", api.RegistrationOpen)
	for _, u := range []string{"a1", "a2"} {
		if _, err := f.Register(ctx, api.RegisterRequest{Username: u, Password: goodPassword}, "198.51.100.7"); err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.Register(ctx, api.RegisterRequest{Username: "a3", Password: goodPassword}, "198.51.100.7")
	wantKind(t, err, api.KindRateLimited)
	if _, err := f.Register(ctx, api.RegisterRequest{Username: "a3", Password: goodPassword}, "203.0.113.9"); err != nil {
		t.Fatal(err)
	}
}

func mustInvite(tb testing.TB, f *fixture, by string, req api.InvitationRequest) api.NewInvitation {
	tb.Helper()
	inv, err := f.CreateInvitation(context.Background(), by, req)
	if err != nil {
		tb.Fatal(err)
	}
	return inv
}

func TestAnInvitationWorksOnceAndBeforeItEnds(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "admin", api.RoleAdmin)
	f.MustAccount(t, "mod", api.RoleModerator)
	f.MustAccount(t, "member", api.RoleMember)

	_, err := f.CreateInvitation(ctx, "member", api.InvitationRequest{})
	wantKind(t, err, api.KindForbidden)
	_, err = f.CreateInvitation(ctx, "mod", api.InvitationRequest{Role: api.RoleModerator})
	wantKind(t, err, api.KindForbidden)
	_, err = f.CreateInvitation(ctx, "admin", api.InvitationRequest{Days: 91})
	wantKind(t, err, api.KindInvalid)
	_, err = f.CreateInvitation(ctx, "admin", api.InvitationRequest{Role: "owner"})
	wantKind(t, err, api.KindInvalid)

	inv := mustInvite(t, f, "mod", api.InvitationRequest{Note: "for Bob"})
	if inv.Role != api.RoleMember || inv.CreatedBy != "mod" || !inv.Expires.Equal(f.clock.Now().AddDate(0, 0, 7)) {
		t.Fatalf("invitation %+v", inv.Invitation)
	}
	reg, err := f.Register(ctx, api.RegisterRequest{Username: "bob", Password: goodPassword, Invitation: inv.Code}, "c")
	if err != nil || reg.Account.Status != api.StatusActive || reg.Session == nil {
		t.Fatalf("invited registration %+v (%v)", reg, err)
	}
	_, err = f.Register(ctx, api.RegisterRequest{Username: "bob2", Password: goodPassword, Invitation: inv.Code}, "c")
	wantKind(t, err, api.KindForbidden)
	if !strings.Contains(api.PublicMessage(err), "used already") {
		t.Errorf("message %q", api.PublicMessage(err))
	}

	staff := mustInvite(t, f, "admin", api.InvitationRequest{Role: api.RoleModerator, Days: 1})
	f.clock.Advance(24*time.Hour + time.Second)
	_, err = f.Register(ctx, api.RegisterRequest{Username: "carol", Password: goodPassword, Invitation: staff.Code}, "c")
	wantKind(t, err, api.KindForbidden)
	if !strings.Contains(api.PublicMessage(err), "expired") {
		t.Errorf("message %q", api.PublicMessage(err))
	}
	for _, code := range []string{"nope", invitationSecret.new(), inv.Code + "x"} {
		_, err = f.Register(ctx, api.RegisterRequest{Username: "carol", Password: goodPassword, Invitation: code}, "c")
		wantKind(t, err, api.KindForbidden)
	}

	staff = mustInvite(t, f, "admin", api.InvitationRequest{Role: api.RoleModerator})
	reg, err = f.Register(ctx, api.RegisterRequest{Username: "carol", Password: goodPassword, Invitation: staff.Code}, "c")
	if err != nil || reg.Account.Role != api.RoleModerator {
		t.Fatalf("an invitation as moderator made %+v (%v)", reg.Account, err)
	}

	list, err := f.Invitations(ctx, "admin")
	if err != nil || len(list) != 3 || list[0].UsedBy != "carol" || list[2].UsedBy != "bob" || list[1].UsedBy != "" || list[2].Used.IsZero() {
		t.Fatalf("invitations %+v (%v)", list, err)
	}
	js, _ := json.Marshal(list)
	for _, code := range []string{inv.Code, staff.Code} {
		if strings.Contains(string(js), code) {
			t.Fatal("a list shows an invitation's code")
		}
	}
}

// An invited person skips approval; a closed node takes nobody.
func TestInvitationsInTheOtherModes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "admin", api.RoleAdmin)
	f.MustMode(t, "admin", api.RegistrationApproval)
	inv := mustInvite(t, f, "admin", api.InvitationRequest{})
	reg, err := f.Register(ctx, api.RegisterRequest{Username: "bob", Password: goodPassword, Invitation: inv.Code}, "c")
	if err != nil || reg.Account.Status != api.StatusActive {
		t.Fatalf("%+v (%v)", reg.Account, err)
	}
	f.MustMode(t, "admin", api.RegistrationClosed)
	inv = mustInvite(t, f, "admin", api.InvitationRequest{})
	_, err = f.Register(ctx, api.RegisterRequest{Username: "carol", Password: goodPassword, Invitation: inv.Code}, "c")
	wantKind(t, err, api.KindForbidden)
	// The refused registration did not spend the invitation.
	f.MustMode(t, "admin", api.RegistrationInvitation)
	if _, err := f.Register(ctx, api.RegisterRequest{Username: "carol", Password: goodPassword, Invitation: inv.Code}, "c"); err != nil {
		t.Fatal(err)
	}
}

func TestRevokingInvitations(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "admin", api.RoleAdmin)
	f.MustAccount(t, "mod", api.RoleModerator)
	f.MustAccount(t, "mod2", api.RoleModerator)
	byAdmin := mustInvite(t, f, "admin", api.InvitationRequest{})
	byMod := mustInvite(t, f, "mod", api.InvitationRequest{})
	wantKind(t, f.RevokeInvitation(ctx, "mod", byAdmin.ID), api.KindForbidden)
	wantKind(t, f.RevokeInvitation(ctx, "mod2", byMod.ID), api.KindForbidden)
	if err := f.RevokeInvitation(ctx, "mod", byMod.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.RevokeInvitation(ctx, "admin", byAdmin.ID); err != nil {
		t.Fatal(err)
	}
	wantKind(t, f.RevokeInvitation(ctx, "admin", byAdmin.ID), api.KindNotFound)
	_, err := f.Register(ctx, api.RegisterRequest{Username: "bob", Password: goodPassword, Invitation: byMod.Code}, "c")
	wantKind(t, err, api.KindForbidden)
}

func TestUnusedInvitationsAreBounded(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, func(c *Config) { c.MaxInvitations = 2 })
	f.MustAccount(t, "admin", api.RoleAdmin)
	mustInvite(t, f, "admin", api.InvitationRequest{Days: 1})
	mustInvite(t, f, "admin", api.InvitationRequest{})
	_, err := f.CreateInvitation(ctx, "admin", api.InvitationRequest{})
	wantKind(t, err, api.KindConflict)
	// An expired one no longer counts.
	f.clock.Advance(25 * time.Hour)
	mustInvite(t, f, "admin", api.InvitationRequest{})
}
