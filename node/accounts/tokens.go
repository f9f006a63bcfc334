package accounts

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// lastUsedStep is the precision of a token's last use: a use writes it
// only when the one recorded is older, so a script's requests cost at
// most one write a minute.
const lastUsedStep = time.Minute

// hintLen is how much of a token lists show: its prefix and 4 of its 43
// random characters (24 of 256 bits).
const hintLen = len("lyc_") + 4

var errBadToken = api.Errorf(api.KindUnauthorized, "this API token is not valid or was revoked; make a new one in your settings")

// CreateToken makes a personal API token of the account username, for
// scripts and the CLI; its secret is in the answer only (the node keeps
// its hash). Names are unique per account; an account has at most
// Config.MaxTokens.
func (s *Service) CreateToken(ctx context.Context, username string, req api.CreateTokenRequest) (api.NewToken, error) {
	name, err := checkText("token name", req.Name, MaxTokenName)
	if err != nil {
		return api.NewToken{}, err
	}
	if name == "" {
		return api.NewToken{}, api.Invalidf("give the token a name that says what it is for")
	}
	kind := tokenSecret
	switch req.Scope {
	case api.ScopeAll:
	case api.ScopePinning:
		kind = pinningSecret
	default:
		return api.NewToken{}, api.Invalidf("token scope %s: want pinning, or none for the whole API", api.Quote(string(req.Scope)))
	}
	secret := kind.new()
	t := api.NewToken{Secret: secret, Token: api.Token{Name: name, Hint: secret[:hintLen] + "…", Created: fromMS(s.nowMS()), Scope: req.Scope}}
	err = s.db.Tx(ctx, func(tx *sqlitedb.Tx) error {
		a, err := txByName(ctx, tx, username)
		if err := allowed(a, err, api.ActionPublish); err != nil {
			return err
		}
		var n, same int
		if err := tx.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE name = ?) FROM tokens WHERE account = ?`, name, a.id).Scan(&n, &same); err != nil {
			return err
		}
		switch {
		case same > 0:
			return api.Errorf(api.KindConflict, "you have a token named %s already; choose another name", api.Quote(name))
		case n >= s.cfg.MaxTokens:
			return api.Errorf(api.KindConflict, "you have %d tokens, the most an account may have; revoke one first", n)
		}
		res, err := tx.Exec(ctx, `INSERT INTO tokens (account, name, hash, hint, created) VALUES (?, ?, ?, ?, ?)`,
			a.id, name, hashSecret(secret), t.Hint, t.Created.UnixMilli())
		if err != nil {
			return err
		}
		t.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return api.NewToken{}, wrapInternal("create a token", err)
	}
	return t, nil
}

// Tokens lists the API tokens of the account username, newest first,
// without their secrets.
func (s *Service) Tokens(ctx context.Context, username string) ([]api.Token, error) {
	rows, err := s.db.Query(ctx, `SELECT t.id, t.name, t.hint, t.created, t.last_used FROM tokens t JOIN accounts a ON a.id = t.account
		WHERE a.username = ? ORDER BY t.id DESC`, username)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return sqlitedb.Scan(rows, func(rows *sql.Rows) (api.Token, error) {
		var t api.Token
		var created, used int64
		err := rows.Scan(&t.ID, &t.Name, &t.Hint, &created, &used)
		t.Created = fromMS(created)
		if strings.HasPrefix(t.Hint, pinningSecret.prefix) {
			t.Scope = api.ScopePinning
		}
		if used != 0 {
			t.LastUsed = fromMS(used)
		}
		return t, err
	})
}

// RevokeToken deletes the token id of the account username: it stops
// working at once. A token of another account is not found.
func (s *Service) RevokeToken(ctx context.Context, username string, id int64) error {
	res, err := s.db.Exec(ctx, `DELETE FROM tokens WHERE id = ? AND account = (SELECT id FROM accounts WHERE username = ?)`, id, username)
	if err != nil {
		return fmt.Errorf("revoke a token: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return orErr(wrapInternal("revoke a token", err), api.NotFoundf("you have no token %d", id))
	}
	return nil
}

// Authenticate finds the account of a personal API token (the bearer
// token of a request, without "Bearer "), and records its use. An
// unknown, revoked or malformed token is KindUnauthorized; a token of an
// account that is not active, KindForbidden.
func (s *Service) Authenticate(ctx context.Context, token string) (api.Account, error) {
	return s.authenticate(ctx, token, tokenSecret)
}

// AuthenticatePinning finds the account of a token of the Pinning
// Service API (lyp_…), as Authenticate does; a token of the whole API is
// not one (KindUnauthorized), so that a device that pins holds no more
// than it needs.
func (s *Service) AuthenticatePinning(ctx context.Context, token string) (api.Account, error) {
	return s.authenticate(ctx, token, pinningSecret)
}

func (s *Service) authenticate(ctx context.Context, token string, kind secretKind) (api.Account, error) {
	if !kind.valid(token) {
		return api.Account{}, errBadToken
	}
	var id, used int64
	a, err := scanAccount(s.db.ReadRow(ctx, `SELECT `+accountCols+`, t.id, t.last_used FROM tokens t JOIN accounts a ON a.id = t.account WHERE t.hash = ?`,
		hashSecret(token)), &id, &used)
	if err != nil {
		return api.Account{}, notFoundAs(err, errBadToken, "read a token")
	}
	if a.Status != api.StatusActive {
		return api.Account{}, api.Errorf(api.KindForbidden, "the account of this token is %s", a.Status)
	}
	if now := s.nowMS(); now-used >= lastUsedStep.Milliseconds() {
		if _, err := s.db.Exec(ctx, `UPDATE tokens SET last_used = ? WHERE id = ?`, now, id); err != nil {
			return api.Account{}, fmt.Errorf("record a token's use: %w", err)
		}
	}
	return a.Account, nil
}
