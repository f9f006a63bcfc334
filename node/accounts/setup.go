package accounts

import (
	"context"
	"fmt"

	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// NeedsSetup reports whether the node has no active admin yet: the web
// app then points to the setup link the daemon printed.
func (s *Service) NeedsSetup(ctx context.Context) (bool, error) {
	n, err := s.db.Count(ctx, `SELECT count(*) FROM accounts WHERE role = 'admin' AND status = 'active'`)
	if err != nil {
		return false, fmt.Errorf("count admins: %w", err)
	}
	return n == 0, nil
}

// SetupToken makes the one-time token that creates the first admin, when
// the node has no active admin, for the daemon to print as a link at
// start; ok is false, and there is no token, when the node has one.
//
// Only the token's hash is stored, so a token once printed cannot be
// printed again: each call makes a new one and ends the earlier ones
// (the link printed last is the one that works). It works for
// Config.SetupValidity.
func (s *Service) SetupToken(ctx context.Context) (tok api.SetupToken, ok bool, err error) {
	token := setupSecret.new()
	now := s.now()
	expires := now.Add(s.cfg.SetupValidity)
	err = s.db.Tx(ctx, func(tx *sqlitedb.Tx) error {
		var admins int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE role = 'admin' AND status = 'active'`).Scan(&admins); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM setup_tokens`); err != nil {
			return err
		}
		if admins > 0 {
			return nil
		}
		ok = true
		_, err := tx.Exec(ctx, `INSERT INTO setup_tokens (hash, created, expires) VALUES (?, ?, ?)`,
			hashSecret(token), now.UnixMilli(), expires.UnixMilli())
		return err
	})
	if err != nil || !ok {
		return api.SetupToken{}, false, wrapInternal("make a setup token", err)
	}
	return api.SetupToken{Token: token, Expires: expires.UTC()}, true, nil
}

var errSetupToken = api.Errorf(api.KindUnauthorized, "this setup link is not valid, or a newer one replaced it: use the link the node printed last")

// CompleteSetup makes the node's first admin with the setup token, and
// logs them in; the token is spent. Refused once the node has an active
// admin.
func (s *Service) CompleteSetup(ctx context.Context, req api.SetupRequest) (api.Registration, error) {
	if !setupSecret.valid(req.Token) {
		return api.Registration{}, errSetupToken
	}
	if err := s.checkSetupToken(ctx, hashSecret(req.Token)); err != nil {
		return api.Registration{}, err
	}
	n, err := s.checkNew(ctx, req.Username, req.DisplayName, req.Password, req.Language)
	if err != nil {
		return api.Registration{}, err
	}
	n.role, n.status = api.RoleAdmin, api.StatusActive
	if n.password, err = s.hash(ctx, req.Password); err != nil {
		return api.Registration{}, err
	}
	var a account
	err = s.createTx(ctx, "set up the first admin", func(tx *sqlitedb.Tx) error {
		// Checked again: another setup may have won meanwhile.
		var admins int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE role = 'admin' AND status = 'active'`).Scan(&admins); err != nil {
			return err
		}
		if admins > 0 {
			return errSetUp
		}
		res, err := tx.Exec(ctx, `DELETE FROM setup_tokens WHERE hash = ? AND expires > ?`, hashSecret(req.Token), s.nowMS())
		if err != nil {
			return err
		}
		if spent, err := res.RowsAffected(); err != nil || spent != 1 {
			return orErr(err, errSetupToken)
		}
		a, err = s.insert(ctx, tx, n)
		return err
	})
	if err != nil {
		return api.Registration{}, err
	}
	return s.registered(ctx, a)
}

var errSetUp = api.Errorf(api.KindForbidden, "this node has an administrator already: log in instead")

// checkSetupToken tells, before any hashing, why a setup would fail.
func (s *Service) checkSetupToken(ctx context.Context, hash []byte) error {
	if needs, err := s.NeedsSetup(ctx); err != nil || !needs {
		return orErr(err, errSetUp)
	}
	var expires int64
	if err := s.db.QueryRow(ctx, `SELECT expires FROM setup_tokens WHERE hash = ?`, hash).Scan(&expires); err != nil {
		return notFoundAs(err, errSetupToken, "read the setup token")
	}
	if expires <= s.nowMS() {
		return api.Errorf(api.KindUnauthorized, "this setup link has expired: restart the node for a new one")
	}
	return nil
}

// registered opens the first session of a, when a is active. If that
// fails the account is made all the same: the error comes with it.
func (s *Service) registered(ctx context.Context, a account) (api.Registration, error) {
	r := api.Registration{Account: a.Account}
	if a.Status != api.StatusActive {
		return r, nil
	}
	sess, err := s.newSession(ctx, a)
	if err != nil {
		return r, err
	}
	r.Session = &sess
	return r, nil
}
