package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// DefaultRegistrationMode is the mode of a new node: nobody registers
// unless an admin or moderator invites them, so that a node reachable
// from the internet takes no strangers before its admin says so.
const DefaultRegistrationMode = api.RegistrationInvitation

// Invitation bounds: how long one is valid for, in days.
const (
	DefaultInvitationDays = 7
	MaxInvitationDays     = 90
)

// rowQuerier is QueryRow of the database or of a transaction.
type rowQuerier func(ctx context.Context, q string, args ...any) sqlitedb.Row

func txQuerier(tx *sqlitedb.Tx) rowQuerier {
	return func(ctx context.Context, q string, args ...any) sqlitedb.Row {
		return tx.QueryRowContext(ctx, q, args...)
	}
}

// RegistrationMode is how people get an account on the node.
func (s *Service) RegistrationMode(ctx context.Context) (api.RegistrationMode, error) {
	return readMode(ctx, s.db.QueryRow)
}

func readMode(ctx context.Context, query rowQuerier) (api.RegistrationMode, error) {
	var m string
	err := query(ctx, `SELECT value FROM settings WHERE key = 'registration_mode'`).Scan(&m)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultRegistrationMode, nil
	}
	if err != nil {
		return "", fmt.Errorf("read the registration mode: %w", err)
	}
	if checkMode(api.RegistrationMode(m)) != nil {
		return api.RegistrationClosed, nil // a damaged setting closes, never opens
	}
	return api.RegistrationMode(m), nil
}

// SetRegistrationMode sets how people get an account; by must be an
// admin.
func (s *Service) SetRegistrationMode(ctx context.Context, by string, m api.RegistrationMode) error {
	if err := checkMode(m); err != nil {
		return err
	}
	return wrapInternal("set the registration mode", s.db.Tx(ctx, func(tx *sqlitedb.Tx) error {
		if _, err := s.authorizeTx(ctx, tx, by, api.ActionConfigure); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ('registration_mode', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, string(m))
		return err
	}))
}

// Register makes an account for a person registering on the node, by the
// rules of its registration mode, and logs them in when the account is
// active at once; client is who sent the request (the gateway's
// clientip.Key), whose registrations are rate-limited.
func (s *Service) Register(ctx context.Context, req api.RegisterRequest, client string) (api.Registration, error) {
	if !s.register.Allow(limitKey(client)) {
		return api.Registration{}, api.Errorf(api.KindRateLimited, "too many registrations from your network; try again in an hour")
	}
	// Everything that can refuse is checked before the password is
	// hashed, and again in the transaction (an admin may change the mode,
	// another person spend the invitation meanwhile).
	if _, err := s.plan(ctx, s.db.QueryRow, req.Invitation); err != nil {
		return api.Registration{}, err
	}
	n, err := s.checkNew(ctx, req.Username, req.DisplayName, req.Password, req.Language)
	if err != nil {
		return api.Registration{}, err
	}
	if n.password, err = s.hash(ctx, req.Password); err != nil {
		return api.Registration{}, err
	}
	var a account
	err = s.createTx(ctx, "register "+n.username, func(tx *sqlitedb.Tx) error {
		p, err := s.plan(ctx, txQuerier(tx), req.Invitation)
		if err != nil {
			return err
		}
		n.role, n.status = p.role, p.status
		if a, err = s.insert(ctx, tx, n); err != nil {
			return err
		}
		if p.invitation != 0 {
			_, err = tx.Exec(ctx, `UPDATE invitations SET used = ?, used_by = ? WHERE id = ?`, s.nowMS(), a.id, p.invitation)
		}
		return err
	})
	if err != nil {
		return api.Registration{}, err
	}
	return s.registered(ctx, a)
}

// registration is what a registration makes, by the mode and invitation.
type registration struct {
	role       api.Role
	status     api.AccountStatus
	invitation int64 // the invitation spent; 0 for none
}

var errInvitationCode = api.Errorf(api.KindForbidden, "this invitation code is not valid: check that you copied all of it")

func (s *Service) plan(ctx context.Context, query rowQuerier, code string) (registration, error) {
	mode, err := readMode(ctx, query)
	if err != nil {
		return registration{}, err
	}
	switch {
	case mode == api.RegistrationClosed:
		return registration{}, api.Errorf(api.KindForbidden, "registration is closed on this node; ask its administrator for an account")
	case mode == api.RegistrationInvitation && code == "":
		return registration{}, api.Errorf(api.KindForbidden, "this node registers people by invitation: enter the invitation code you received")
	}
	r := registration{role: api.RoleMember, status: api.StatusActive}
	if mode == api.RegistrationApproval {
		r.status = api.StatusPending
	}
	if code == "" {
		return r, nil
	}
	if !invitationSecret.valid(code) {
		return registration{}, errInvitationCode
	}
	var expires, used int64
	if err := query(ctx, `SELECT id, role, expires, used FROM invitations WHERE hash = ?`, hashSecret(code)).
		Scan(&r.invitation, &r.role, &expires, &used); err != nil {
		return registration{}, notFoundAs(err, errInvitationCode, "read the invitation")
	}
	switch {
	case used != 0:
		return registration{}, api.Errorf(api.KindForbidden, "this invitation was used already; ask for a new one")
	case expires <= s.nowMS():
		return registration{}, api.Errorf(api.KindForbidden, "this invitation has expired; ask for a new one")
	}
	r.status = api.StatusActive // invited: no approval needed
	return r, nil
}

// CreateInvitation makes a single-use invitation code, valid for
// req.Days; by must be a moderator (who invites members only) or an
// admin. The code is in the answer only: the node keeps its hash.
func (s *Service) CreateInvitation(ctx context.Context, by string, req api.InvitationRequest) (api.NewInvitation, error) {
	role, err := checkRole(req.Role)
	if err != nil {
		return api.NewInvitation{}, err
	}
	days := req.Days
	if days == 0 {
		days = DefaultInvitationDays
	}
	if days < 1 || days > MaxInvitationDays {
		return api.NewInvitation{}, api.Invalidf("an invitation is valid for 1 to %d days, not %d", MaxInvitationDays, req.Days)
	}
	note, err := checkText("note", req.Note, MaxNote)
	if err != nil {
		return api.NewInvitation{}, err
	}
	code := invitationSecret.new()
	now := s.now()
	createdBy := by
	if by == api.Operator {
		createdBy = "" // as lists show it: no account made it
	}
	inv := api.NewInvitation{Code: code, Invitation: api.Invitation{Role: role, Note: note, CreatedBy: createdBy,
		Created: fromMS(now.UnixMilli()), Expires: fromMS(now.AddDate(0, 0, days).UnixMilli())}}
	err = s.db.Tx(ctx, func(tx *sqlitedb.Tx) error {
		a, err := s.authorizeTx(ctx, tx, by, api.ActionInvite)
		if err != nil {
			return err
		}
		if role != api.RoleMember && !a.Can(api.ActionManageAccounts) {
			return api.Errorf(api.KindForbidden, "moderators can invite members only")
		}
		var open int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM invitations WHERE used = 0 AND expires > ?`, now.UnixMilli()).Scan(&open); err != nil {
			return err
		}
		if open >= s.cfg.MaxInvitations {
			return api.Errorf(api.KindConflict, "there are %d unused invitations already; revoke some first", open)
		}
		res, err := tx.Exec(ctx, `INSERT INTO invitations (hash, role, note, created_by, created, expires) VALUES (?, ?, ?, ?, ?, ?)`,
			hashSecret(code), string(role), note, nullID(a.id), inv.Created.UnixMilli(), inv.Expires.UnixMilli())
		if err != nil {
			return err
		}
		inv.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return api.NewInvitation{}, wrapInternal("create an invitation", err)
	}
	return inv, nil
}

// MaxListed bounds the lists of invitations and of accounts a call
// returns.
const MaxListed = 500

// Invitations lists the invitations, newest first (at most MaxListed;
// expired ones are forgotten a month after their end); by must be a
// moderator or an admin.
func (s *Service) Invitations(ctx context.Context, by string) ([]api.Invitation, error) {
	if _, err := s.authorized(ctx, by, api.ActionInvite); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT i.id, i.role, i.note, coalesce(c.username, ''), i.created, i.expires, coalesce(u.username, ''), i.used
		FROM invitations i LEFT JOIN accounts c ON c.id = i.created_by LEFT JOIN accounts u ON u.id = i.used_by
		ORDER BY i.id DESC LIMIT ?`, MaxListed)
	if err != nil {
		return nil, fmt.Errorf("list invitations: %w", err)
	}
	return sqlitedb.Scan(rows, func(rows *sql.Rows) (api.Invitation, error) {
		var i api.Invitation
		var created, expires, used int64
		err := rows.Scan(&i.ID, &i.Role, &i.Note, &i.CreatedBy, &created, &expires, &i.UsedBy, &used)
		i.Created, i.Expires = fromMS(created), fromMS(expires)
		if used != 0 {
			i.Used = fromMS(used)
		}
		return i, err
	})
}

// RevokeInvitation deletes an unused invitation; a moderator may revoke
// only those they made.
func (s *Service) RevokeInvitation(ctx context.Context, by string, id int64) error {
	return wrapInternal("revoke an invitation", s.db.Tx(ctx, func(tx *sqlitedb.Tx) error {
		a, err := s.authorizeTx(ctx, tx, by, api.ActionInvite)
		if err != nil {
			return err
		}
		var creator sql.NullInt64
		var used int64
		if err := tx.QueryRowContext(ctx, `SELECT created_by, used FROM invitations WHERE id = ?`, id).Scan(&creator, &used); err != nil {
			return notFoundAs(err, api.NotFoundf("there is no invitation %d", id), "read the invitation")
		}
		switch {
		case used != 0:
			return api.Errorf(api.KindConflict, "this invitation was used already")
		case !a.Can(api.ActionManageAccounts) && creator.Int64 != a.id:
			return api.Errorf(api.KindForbidden, "moderators can revoke only the invitations they made")
		}
		_, err = tx.Exec(ctx, `DELETE FROM invitations WHERE id = ?`, id)
		return err
	}))
}
