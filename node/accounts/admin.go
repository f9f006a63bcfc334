package accounts

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// forbidden says, for each action, who may do it.
var forbidden = map[api.Action]string{
	api.ActionPublish:             "your account may not publish",
	api.ActionInvite:              "only administrators and moderators can invite people",
	api.ActionReviewRegistrations: "only administrators and moderators can review accounts and registrations",
	api.ActionModerate:            "only administrators and moderators can moderate",
	api.ActionManageAccounts:      "only administrators can change roles or disable accounts",
	api.ActionConfigure:           "only administrators can change the node's settings",
}

var errNotLoggedIn = api.Errorf(api.KindUnauthorized, "log in again: your account is not active")

// operator is who api.Operator is: an active admin with no account row
// (id 0: what it makes records no creator).
var operator = account{Account: api.Account{Role: api.RoleAdmin, Status: api.StatusActive}}

// authorizeTx reads the account by in tx and checks that it may do act
// now: its role and status of this moment, not of when it logged in.
// api.Operator may do everything.
func (s *Service) authorizeTx(ctx context.Context, tx *sqlitedb.Tx, by string, act api.Action) (account, error) {
	if by == api.Operator {
		return operator, nil
	}
	a, err := txByName(ctx, tx, by)
	return a, allowed(a, err, act)
}

// authorized is authorizeTx outside a transaction, for reads.
func (s *Service) authorized(ctx context.Context, by string, act api.Action) (account, error) {
	if by == api.Operator {
		return operator, nil
	}
	a, err := s.byName(ctx, by)
	return a, allowed(a, err, act)
}

// nullID is an account's id for a column that may be NULL: NULL for the
// operator.
func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

func allowed(a account, err error, act api.Action) error {
	switch {
	case api.KindOf(err) == api.KindNotFound || err == nil && a.Status != api.StatusActive:
		return errNotLoggedIn
	case err != nil:
		return err
	case !a.Can(act):
		return api.Errorf(api.KindForbidden, "%s", forbidden[act])
	}
	return nil
}

// Accounts lists accounts by username, filtered and paged; by must be a
// moderator or an admin.
func (s *Service) Accounts(ctx context.Context, by string, f api.AccountFilter) ([]api.Account, error) {
	if f.Status != "" && f.Status != api.StatusActive && f.Status != api.StatusPending && f.Status != api.StatusDisabled {
		return nil, api.Invalidf("status %s: choose active, pending or disabled", api.Quote(string(f.Status)))
	}
	if f.Role != "" {
		if _, err := checkRole(f.Role); err != nil {
			return nil, err
		}
	}
	switch {
	case f.Limit == 0:
		f.Limit = 50
	case f.Limit < 0 || f.Limit > MaxListed:
		return nil, api.Invalidf("limit %d: list 1 to %d accounts at a time", f.Limit, MaxListed)
	}
	if _, err := s.authorized(ctx, by, api.ActionReviewRegistrations); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+accountCols+` FROM accounts a
		WHERE (? = '' OR a.status = ?) AND (? = '' OR a.role = ?) AND a.username > ?
		ORDER BY a.username LIMIT ?`, string(f.Status), string(f.Status), string(f.Role), string(f.Role), f.After, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return sqlitedb.Scan(rows, func(rows *sql.Rows) (api.Account, error) {
		a, err := scanAccount(rows)
		return a.Account, err
	})
}

// change runs f on the account username in a transaction, after checking
// that by may do act, and returns the account as f left it.
func (s *Service) change(ctx context.Context, by, username string, act api.Action, f func(tx *sqlitedb.Tx, a *account) error) (api.Account, error) {
	var a account
	err := s.createTx(ctx, "change account "+username, func(tx *sqlitedb.Tx) error {
		if _, err := s.authorizeTx(ctx, tx, by, act); err != nil {
			return err
		}
		var err error
		if a, err = txByName(ctx, tx, username); err != nil {
			return err
		}
		return f(tx, &a)
	})
	return a.Account, err
}

// Approve makes a registration that waits for approval active, with its
// Person actor; by must be a moderator or an admin.
func (s *Service) Approve(ctx context.Context, by, username string) (api.Account, error) {
	return s.change(ctx, by, username, api.ActionReviewRegistrations, func(tx *sqlitedb.Tx, a *account) error {
		if a.Status != api.StatusPending {
			return api.Errorf(api.KindConflict, "%s is not waiting for approval", a.Username)
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET status = 'active' WHERE id = ?`, a.id); err != nil {
			return err
		}
		a.Status = api.StatusActive
		return s.makeActor(ctx, tx, a)
	})
}

// Reject deletes a registration that waits for approval (it has no actor
// yet: it leaves no trace); by must be a moderator or an admin.
func (s *Service) Reject(ctx context.Context, by, username string) error {
	_, err := s.change(ctx, by, username, api.ActionReviewRegistrations, func(tx *sqlitedb.Tx, a *account) error {
		if a.Status != api.StatusPending {
			return api.Errorf(api.KindConflict, "%s is not waiting for approval: disable the account instead", a.Username)
		}
		_, err := tx.Exec(ctx, `DELETE FROM accounts WHERE id = ?`, a.id)
		return err
	})
	return err
}

// SetRole gives an account a role; by must be an admin. The last active
// admin keeps theirs.
func (s *Service) SetRole(ctx context.Context, by, username string, role api.Role) (api.Account, error) {
	if role == "" {
		return api.Account{}, api.Invalidf("choose a role: admin, moderator or member")
	}
	if _, err := checkRole(role); err != nil {
		return api.Account{}, err
	}
	return s.change(ctx, by, username, api.ActionManageAccounts, func(tx *sqlitedb.Tx, a *account) error {
		if a.Role == api.RoleAdmin && role != api.RoleAdmin {
			if err := lastAdmin(ctx, tx, a, "take the administrator role from"); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `UPDATE accounts SET role = ? WHERE id = ?`, string(role), a.id)
		a.Role = role
		return err
	})
}

// Disable stops an account: its sessions end, its tokens stop working,
// it cannot log in; by must be an admin. The last active admin stays.
func (s *Service) Disable(ctx context.Context, by, username string) (api.Account, error) {
	return s.change(ctx, by, username, api.ActionManageAccounts, func(tx *sqlitedb.Tx, a *account) error {
		switch a.Status {
		case api.StatusDisabled:
			return nil
		case api.StatusPending:
			return api.Errorf(api.KindConflict, "%s is waiting for approval: reject the registration instead", a.Username)
		}
		if a.Role == api.RoleAdmin {
			if err := lastAdmin(ctx, tx, a, "disable"); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET status = 'disabled' WHERE id = ?`, a.id); err != nil {
			return err
		}
		a.Status = api.StatusDisabled
		_, err := tx.Exec(ctx, `DELETE FROM sessions WHERE account = ?`, a.id)
		return err
	})
}

// Enable makes a disabled account active again (its API tokens work
// again); by must be an admin.
func (s *Service) Enable(ctx context.Context, by, username string) (api.Account, error) {
	return s.change(ctx, by, username, api.ActionManageAccounts, func(tx *sqlitedb.Tx, a *account) error {
		switch a.Status {
		case api.StatusActive:
			return nil
		case api.StatusPending:
			return api.Errorf(api.KindConflict, "%s is waiting for approval: approve the registration instead", a.Username)
		}
		_, err := tx.Exec(ctx, `UPDATE accounts SET status = 'active' WHERE id = ?`, a.id)
		a.Status = api.StatusActive
		return err
	})
}

// lastAdmin refuses a change that would leave the node without an active
// admin.
func lastAdmin(ctx context.Context, tx *sqlitedb.Tx, a *account, doing string) error {
	if a.Status != api.StatusActive {
		return nil
	}
	var others int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE role = 'admin' AND status = 'active' AND id != ?`, a.id).Scan(&others); err != nil {
		return err
	}
	if others == 0 {
		return api.Errorf(api.KindConflict, "cannot %s %s: the node must keep an active administrator; make another one first", doing, a.Username)
	}
	return nil
}

// ResetPassword sets a new password for the account username, without
// its current one: for an admin helping a person who forgot theirs
// (`lyceum user passwd`). Every session of the account ends; its API
// tokens keep working (revoke them apart if the account was taken
// over). by must be an admin.
func (s *Service) ResetPassword(ctx context.Context, by, username, password string) error {
	if err := CheckPassword(password, username); err != nil {
		return err
	}
	if _, err := s.authorized(ctx, by, api.ActionManageAccounts); err != nil {
		return err
	}
	if _, err := s.byName(ctx, username); err != nil {
		return err // before the hashing: an unknown account costs none
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	_, err = s.change(ctx, by, username, api.ActionManageAccounts, func(tx *sqlitedb.Tx, a *account) error {
		if _, err := tx.Exec(ctx, `UPDATE accounts SET password = ? WHERE id = ?`, hash, a.id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM sessions WHERE account = ?`, a.id)
		return err
	})
	return err
}

// CountByStatus counts the node's accounts by status, for the operator
// dashboard; every status is in the answer, 0 if none.
func (s *Service) CountByStatus(ctx context.Context) (map[api.AccountStatus]int, error) {
	rows, err := s.db.Query(ctx, `SELECT status, count(*) FROM accounts GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count accounts: %w", err)
	}
	type count struct {
		status api.AccountStatus
		n      int
	}
	counts, err := sqlitedb.Scan(rows, func(rows *sql.Rows) (count, error) {
		var c count
		return c, rows.Scan(&c.status, &c.n)
	})
	if err != nil {
		return nil, fmt.Errorf("count accounts: %w", err)
	}
	out := map[api.AccountStatus]int{api.StatusActive: 0, api.StatusPending: 0, api.StatusDisabled: 0}
	for _, c := range counts {
		out[c.status] = c.n
	}
	return out, nil
}
