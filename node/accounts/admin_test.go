package accounts

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/lyceum-oer/lyceum/node/api"
)

func TestTheLastActiveAdminStays(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", api.RoleAdmin)
	_, err := f.SetRole(ctx, "ada", "ada", api.RoleModerator)
	wantKind(t, err, api.KindConflict)
	_, err = f.Disable(ctx, "ada", "ada")
	wantKind(t, err, api.KindConflict)

	f.MustAccount(t, "grace", api.RoleAdmin)
	if _, err := f.Disable(ctx, "ada", "grace"); err != nil {
		t.Fatal(err)
	}
	// A disabled admin does not count.
	_, err = f.SetRole(ctx, "ada", "ada", api.RoleMember)
	wantKind(t, err, api.KindConflict)
	if _, err := f.Enable(ctx, "ada", "grace"); err != nil {
		t.Fatal(err)
	}
	a, err := f.SetRole(ctx, "ada", "ada", api.RoleMember)
	if err != nil || a.Role != api.RoleMember {
		t.Fatalf("%+v (%v)", a, err)
	}
	// Ada is no admin now.
	_, err = f.SetRole(ctx, "ada", "ada", api.RoleAdmin)
	wantKind(t, err, api.KindForbidden)
	_, err = f.Disable(ctx, "grace", "grace")
	wantKind(t, err, api.KindConflict)
	if needs, _ := f.NeedsSetup(ctx); needs {
		t.Fatal("the node lost its admin")
	}
}

func TestOnlyAdminsManageAccounts(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "admin", api.RoleAdmin)
	f.MustAccount(t, "mod", api.RoleModerator)
	f.MustAccount(t, "member", api.RoleMember)
	for _, by := range []string{"mod", "member"} {
		_, err := f.SetRole(ctx, by, "member", api.RoleAdmin)
		wantKind(t, err, api.KindForbidden)
		_, err = f.Disable(ctx, by, "admin")
		wantKind(t, err, api.KindForbidden)
		_, err = f.Enable(ctx, by, "member")
		wantKind(t, err, api.KindForbidden)
	}
	_, err := f.Accounts(ctx, "member", api.AccountFilter{})
	wantKind(t, err, api.KindForbidden)
	_, err = f.SetRole(ctx, "ghost", "member", api.RoleAdmin)
	wantKind(t, err, api.KindUnauthorized)
	_, err = f.SetRole(ctx, "admin", "member", "")
	wantKind(t, err, api.KindInvalid)
	_, err = f.SetRole(ctx, "admin", "member", "owner")
	wantKind(t, err, api.KindInvalid)
	_, err = f.SetRole(ctx, "admin", "ghost", api.RoleAdmin)
	wantKind(t, err, api.KindNotFound)
	a, err := f.SetRole(ctx, "admin", "member", api.RoleModerator)
	if err != nil || a.Role != api.RoleModerator {
		t.Fatalf("%+v (%v)", a, err)
	}
	// A role taken away acts at once, whatever sessions the account has.
	if _, err := f.SetRole(ctx, "admin", "mod", api.RoleMember); err != nil {
		t.Fatal(err)
	}
	_, err = f.Accounts(ctx, "mod", api.AccountFilter{})
	wantKind(t, err, api.KindForbidden)
	// A disabled admin can do nothing.
	f.MustAccount(t, "admin2", api.RoleAdmin)
	if _, err := f.Disable(ctx, "admin", "admin2"); err != nil {
		t.Fatal(err)
	}
	_, err = f.Enable(ctx, "admin2", "admin2")
	wantKind(t, err, api.KindUnauthorized)
}

func TestListingAccounts(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "admin", api.RoleAdmin)
	for i := range 7 {
		f.MustAccount(t, fmt.Sprint("user", i), "")
	}
	if _, err := f.Disable(ctx, "admin", "user3"); err != nil {
		t.Fatal(err)
	}
	var names []string
	after := ""
	for {
		page, err := f.Accounts(ctx, "admin", api.AccountFilter{Limit: 3, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, a := range page {
			names = append(names, a.Username)
		}
		after = page[len(page)-1].Username
	}
	if fmt.Sprint(names) != "[admin user0 user1 user2 user3 user4 user5 user6]" {
		t.Fatalf("pages %v", names)
	}
	dis, err := f.Accounts(ctx, "admin", api.AccountFilter{Status: api.StatusDisabled})
	if err != nil || len(dis) != 1 || dis[0].Username != "user3" {
		t.Fatalf("disabled %+v (%v)", dis, err)
	}
	admins, err := f.Accounts(ctx, "admin", api.AccountFilter{Role: api.RoleAdmin})
	if err != nil || len(admins) != 1 {
		t.Fatalf("admins %+v (%v)", admins, err)
	}
	for _, bad := range []api.AccountFilter{{Status: "gone"}, {Role: "root"}, {Limit: -1}, {Limit: MaxListed + 1}} {
		_, err := f.Accounts(ctx, "admin", bad)
		wantKind(t, err, api.KindInvalid)
	}
}

func TestWhatEachRoleCanDo(t *testing.T) {
	all := []api.Action{api.ActionPublish, api.ActionInvite, api.ActionReviewRegistrations, api.ActionModerate, api.ActionManageAccounts, api.ActionConfigure}
	for _, c := range []struct {
		role   api.Role
		status api.AccountStatus
		can    int // how many of all, in order
	}{
		{api.RoleMember, api.StatusActive, 1},
		{api.RoleModerator, api.StatusActive, 4},
		{api.RoleAdmin, api.StatusActive, 6},
		{api.RoleAdmin, api.StatusDisabled, 0},
		{api.RoleAdmin, api.StatusPending, 0},
		{"root", api.StatusActive, 0},
	} {
		t.Run(fmt.Sprintf("a %s %s account can do %d things", c.status, c.role, c.can), func(t *testing.T) {
			a := api.Account{Role: c.role, Status: c.status}
			for i, act := range all {
				if got := a.Can(act); got != (i < c.can) {
					t.Errorf("Can(%s) = %v", act, got)
				}
			}
			if a.Can("fly") {
				t.Error("Can an unknown action")
			}
		})
	}
	for act := range forbidden {
		found := false
		for _, a := range all {
			found = found || a == act
		}
		if !found {
			t.Errorf("no test of %s", act)
		}
	}
}

// Changes at once are ordered by the one writing connection: the rules
// hold whichever wins.
func TestConcurrentChangesKeepTheRules(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.MustAccount(t, "ada", api.RoleAdmin)
	f.MustAccount(t, "grace", api.RoleAdmin)
	f.MustMode(t, "ada", api.RegistrationInvitation)
	inv := mustInvite(t, f, "ada", api.InvitationRequest{})

	race := func(n int, do func(i int) error) (ok int, errs []error) {
		var wg sync.WaitGroup
		res := make(chan error, n)
		for i := range n {
			wg.Go(func() { res <- do(i) })
		}
		wg.Wait()
		close(res)
		for err := range res {
			if err == nil {
				ok++
			} else {
				errs = append(errs, err)
			}
		}
		return ok, errs
	}
	// One invitation, four people: one account.
	ok, errs := race(4, func(i int) error {
		_, err := f.Register(ctx, api.RegisterRequest{Username: fmt.Sprint("bob", i), Password: goodPassword, Invitation: inv.Code}, "c")
		return err
	})
	if ok != 1 {
		t.Fatalf("%d registrations with one invitation (%v)", ok, errs)
	}
	// One username, four people: one account.
	f.MustMode(t, "ada", api.RegistrationOpen)
	ok, errs = race(4, func(int) error {
		_, err := f.Register(ctx, api.RegisterRequest{Username: "same", Password: goodPassword}, "c")
		return err
	})
	if ok != 1 || api.KindOf(errs[0]) != api.KindConflict {
		t.Fatalf("%d accounts of one username (%v)", ok, errs)
	}
	// Two admins disabling each other: one stays.
	race(2, func(i int) error {
		by, other := "ada", "grace"
		if i == 1 {
			by, other = other, by
		}
		_, err := f.Disable(ctx, by, other)
		return err
	})
	if needs, _ := f.NeedsSetup(ctx); needs {
		t.Fatal("the node lost its last admin")
	}
}
