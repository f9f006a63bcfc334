package accounts

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// touchStep is how stale a session's last use may be before a use writes
// it again: a session's end moves on at most once an interval, not on
// every request.
const touchStep = 10 * time.Minute

var (
	errWrongLogin    = api.Errorf(api.KindUnauthorized, "wrong username or password")
	errLoginLimited  = api.Errorf(api.KindRateLimited, "too many login attempts; wait a few minutes and try again")
	errSessionEnded  = api.Errorf(api.KindUnauthorized, "your session has ended; log in again")
	errWrongPassword = api.Errorf(api.KindUnauthorized, "the current password is wrong")
)

// Login checks a username and password and opens a session. client is who
// sent the request (the gateway's clientip.Key). Attempts are limited per
// username and per client; a failure says only "wrong username or
// password", and takes as long for an unknown username as for a known
// one (the password is verified against a dummy hash).
func (s *Service) Login(ctx context.Context, req api.LoginRequest, client string) (api.Session, error) {
	username := strings.ToLower(strings.TrimSpace(req.Username))
	if !s.loginClient.Allow(limitKey(client)) || !s.loginAccount.Allow(limitKey(username)) {
		return api.Session{}, errLoginLimited
	}
	// No account can have such a username, nor such a password: refusing
	// at once tells nothing about who has an account.
	if checkUsername(username) != nil || len(req.Password) > MaxPasswordBytes {
		return api.Session{}, errWrongLogin
	}
	a, err := s.byName(ctx, username)
	if api.KindOf(err) == api.KindNotFound {
		dummy, err := s.dummy()
		if err == nil {
			_, _, err = s.verify(ctx, req.Password, dummy)
		}
		if err != nil {
			return api.Session{}, wrapInternal("log in", err)
		}
		return api.Session{}, errWrongLogin
	}
	if err != nil {
		return api.Session{}, err
	}
	ok, stale, err := s.verify(ctx, req.Password, a.password)
	if err != nil {
		return api.Session{}, wrapInternal("log in "+username, err)
	}
	if !ok {
		return api.Session{}, errWrongLogin
	}
	// Only whoever knows the password learns this.
	switch a.Status {
	case api.StatusPending:
		return api.Session{}, api.Errorf(api.KindForbidden, "your account waits for an administrator's approval")
	case api.StatusDisabled:
		return api.Session{}, api.Errorf(api.KindForbidden, "this account is disabled; ask the node's administrator")
	}
	if stale {
		// Hashed with older parameters: hash again with the current ones,
		// unless the password changed meanwhile. A failure keeps the old
		// hash, which still works.
		if h, err := s.hash(ctx, req.Password); err == nil {
			_, _ = s.db.Exec(ctx, `UPDATE accounts SET password = ? WHERE id = ? AND password = ?`, h, a.id, a.password)
		}
	}
	return s.newSession(ctx, a)
}

// newSession opens a session of a, ending the least recently used ones
// beyond Config.MaxSessions and the expired ones.
func (s *Service) newSession(ctx context.Context, a account) (api.Session, error) {
	token, csrf := sessionSecret.new(), csrfSecret.new()
	now := s.now()
	sess := api.Session{Token: token, CSRF: csrf, Account: a.Account, Created: fromMS(now.UnixMilli()),
		Expires: fromMS(s.sessionEnd(now.UnixMilli(), now.UnixMilli()))}
	err := s.db.Tx(ctx, func(tx *sqlitedb.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE account = ? AND expires <= ?`, a.id, now.UnixMilli()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE hash IN (SELECT hash FROM sessions WHERE account = ? ORDER BY seen DESC LIMIT -1 OFFSET ?)`,
			a.id, s.cfg.MaxSessions-1); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO sessions (hash, account, csrf, created, seen, expires) VALUES (?, ?, ?, ?, ?, ?)`,
			hashSecret(token), a.id, csrf, sess.Created.UnixMilli(), sess.Created.UnixMilli(), sess.Expires.UnixMilli())
		return err
	})
	if err != nil {
		return api.Session{}, fmt.Errorf("open a session of %s: %w", a.Username, err)
	}
	return sess, nil
}

// sessionEnd is when a session made at created and last used at seen
// ends (Unix ms).
func (s *Service) sessionEnd(created, seen int64) int64 {
	return min(seen+s.cfg.SessionIdle.Milliseconds(), created+s.cfg.SessionMax.Milliseconds())
}

// Session finds the session of token and its account, and moves its end
// on (Config.SessionIdle from now, up to Config.SessionMax from login).
// An unknown, expired or malformed token, or an account no longer active,
// is KindUnauthorized. The answer carries no Token.
func (s *Service) Session(ctx context.Context, token string) (api.Session, error) {
	if !sessionSecret.valid(token) {
		return api.Session{}, errSessionEnded
	}
	hash := hashSecret(token)
	var sess api.Session
	var created, seen, expires int64
	a, err := scanAccount(s.db.ReadRow(ctx, `SELECT `+accountCols+`, s.csrf, s.created, s.seen, s.expires
		FROM sessions s JOIN accounts a ON a.id = s.account WHERE s.hash = ?`, hash), &sess.CSRF, &created, &seen, &expires)
	if err != nil {
		return api.Session{}, notFoundAs(err, errSessionEnded, "read a session")
	}
	now := s.nowMS()
	if expires <= now || a.Status != api.StatusActive {
		if _, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE hash = ?`, hash); err != nil {
			return api.Session{}, fmt.Errorf("end a session: %w", err)
		}
		return api.Session{}, errSessionEnded
	}
	if now-seen >= touchStep.Milliseconds() {
		expires = s.sessionEnd(created, now)
		if _, err := s.db.Exec(ctx, `UPDATE sessions SET seen = ?, expires = ? WHERE hash = ?`, now, expires, hash); err != nil {
			return api.Session{}, fmt.Errorf("renew a session: %w", err)
		}
	}
	sess.Account, sess.Created, sess.Expires = a.Account, fromMS(created), fromMS(expires)
	return sess, nil
}

// Logout ends the session of token; ending an unknown one is no error.
func (s *Service) Logout(ctx context.Context, token string) error {
	if !sessionSecret.valid(token) {
		return nil
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE hash = ?`, hashSecret(token)); err != nil {
		return fmt.Errorf("log out: %w", err)
	}
	return nil
}

// LogoutEverywhere ends every session of the account (its API tokens
// stay: they are revoked one by one).
func (s *Service) LogoutEverywhere(ctx context.Context, username string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE account = (SELECT id FROM accounts WHERE username = ?)`, username); err != nil {
		return fmt.Errorf("log %s out: %w", username, err)
	}
	return nil
}
