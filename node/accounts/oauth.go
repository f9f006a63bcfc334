package accounts

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// This file is the node's OAuth 2 authorization server's storage, for
// Moodle's "Share to MoodleNet": clients that registered themselves
// (RFC 7591), the codes of the authorization code grant, and the grants
// an account consented to, each with one access token and one refresh
// token. Secrets and tokens are stored only hashed, as API tokens are.
// The HTTP side is gateway/moodle's (and the consent page the web app's).

// The bounds of OAuth storage that outside input fills.
const (
	maxRedirectURIs  = 10
	maxClientName    = 200
	maxSoftware      = 100
	maxCodesAccount  = 20 // unexpired codes of one account
	clientUnusedDays = 30 // a client nobody consented to is purged after this
)

var (
	clientIDSecret     = secretKind{"lyk_", 16}
	clientSecretSecret = secretKind{"lys_", 32}
	accessSecret       = secretKind{"lyo_", 32}
	refreshSecret      = secretKind{"lyr_", 32}
	codeSecret         = secretKind{"", 32}
)

var errBadAccess = api.Errorf(api.KindUnauthorized, "this access token is not valid, has expired or was revoked")

const oauthSchema = `
CREATE TABLE IF NOT EXISTS oauth_clients (
	id            INTEGER PRIMARY KEY,
	client_id     TEXT NOT NULL UNIQUE,
	secret        BLOB NOT NULL,          -- SHA-256 of the client secret
	name          TEXT NOT NULL,
	uri           TEXT NOT NULL,
	redirect_uris TEXT NOT NULL,          -- JSON array
	software      TEXT NOT NULL,
	version       TEXT NOT NULL,
	created       INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS oauth_codes (
	hash         BLOB PRIMARY KEY,        -- SHA-256 of the code
	client       INTEGER NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
	account      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	redirect_uri TEXT NOT NULL,
	scope        TEXT NOT NULL,
	expires      INTEGER NOT NULL,
	grant_id     INTEGER                  -- set once exchanged: the code is spent
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS oauth_codes_by_account ON oauth_codes (account, expires);
CREATE TABLE IF NOT EXISTS oauth_grants (
	id              INTEGER PRIMARY KEY,
	account         INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	client          INTEGER NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
	scope           TEXT NOT NULL,
	access          BLOB NOT NULL UNIQUE, -- SHA-256 of the access token
	access_expires  INTEGER NOT NULL,
	refresh         BLOB NOT NULL UNIQUE, -- SHA-256 of the refresh token
	refresh_expires INTEGER NOT NULL,
	created         INTEGER NOT NULL,
	last_used       INTEGER NOT NULL DEFAULT 0,
	UNIQUE (account, client)
);
`

// RegisterOAuthClient registers a client (RFC 7591): a Moodle site that
// will ask teachers for their consent. Its secret is in the answer only.
// The surface rate-limits registrations and may restrict them to listed
// sites before calling it; errors are *api.OAuthError.
func (s *Service) RegisterOAuthClient(ctx context.Context, req api.OAuthClientRequest) (api.NewOAuthClient, error) {
	c, err := checkClient(req)
	if err != nil {
		return api.NewOAuthClient{}, err
	}
	secret := clientSecretSecret.new()
	c.ClientID = clientIDSecret.new()
	c.Created = fromMS(s.nowMS())
	uris, err := json.Marshal(c.RedirectURIs)
	if err != nil {
		return api.NewOAuthClient{}, fmt.Errorf("encode redirect URIs: %w", err)
	}
	err = s.db.Tx(ctx, func(tx *sqlitedb.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM oauth_clients`).Scan(&n); err != nil {
			return err
		}
		if n >= s.cfg.MaxOAuthClients {
			return api.OAuthErrorf(api.OAuthUnavailable, "this node has as many Moodle sites registered as it keeps (%d)", n)
		}
		_, err := tx.Exec(ctx, `INSERT INTO oauth_clients (client_id, secret, name, uri, redirect_uris, software, version, created)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.ClientID, hashSecret(secret), c.Name, c.URI, string(uris), c.Software, c.Version, c.Created.UnixMilli())
		return err
	})
	if err != nil {
		return api.NewOAuthClient{}, wrapOAuth("register a client", err)
	}
	return api.NewOAuthClient{OAuthClient: c, Secret: secret}, nil
}

// checkClient checks a registration's metadata.
func checkClient(req api.OAuthClientRequest) (api.OAuthClient, error) {
	bad := func(code, format string, args ...any) (api.OAuthClient, error) {
		return api.OAuthClient{}, api.OAuthErrorf(code, format, args...)
	}
	if len(req.RedirectURIs) == 0 || len(req.RedirectURIs) > maxRedirectURIs {
		return bad(api.OAuthInvalidRedirect, "give 1 to %d redirect_uris", maxRedirectURIs)
	}
	for _, u := range req.RedirectURIs {
		if !api.RedirectURIOK(u) {
			return bad(api.OAuthInvalidRedirect, "redirect_uris: %s is not an https URL without fragment (http only on loopback)", api.Quote(u))
		}
	}
	if req.ClientURI != "" && !webURL(req.ClientURI) {
		return bad(api.OAuthInvalidMetadata, "client_uri: %s is not an http or https URL", api.Quote(req.ClientURI))
	}
	for _, g := range req.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" {
			return bad(api.OAuthInvalidMetadata, "grant_types: this node grants authorization_code and refresh_token, not %s", api.Quote(g))
		}
	}
	for _, r := range req.ResponseTypes {
		if r != "code" {
			return bad(api.OAuthInvalidMetadata, "response_types: this node answers code, not %s", api.Quote(r))
		}
	}
	switch req.TokenEndpointAuthMethod {
	case "", "client_secret_basic", "client_secret_post":
	default:
		return bad(api.OAuthInvalidMetadata, "token_endpoint_auth_method: use client_secret_basic or client_secret_post")
	}
	if _, err := api.ParseOAuthScope(req.Scope); err != nil {
		return bad(api.OAuthInvalidMetadata, "scope: %s", api.PublicMessage(err))
	}
	name := plainText(req.ClientName, maxClientName)
	if name == "" {
		if u, err := url.Parse(req.RedirectURIs[0]); err == nil {
			name = u.Host
		}
	}
	return api.OAuthClient{Name: name, URI: req.ClientURI, RedirectURIs: slices.Clone(req.RedirectURIs),
		Software: plainText(req.SoftwareID, maxSoftware), Version: plainText(string(req.SoftwareVersion), maxSoftware)}, nil
}

// webURL reports whether u is an http or https URL with a host.
func webURL(u string) bool {
	if len(u) > api.MaxURI {
		return false
	}
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "https" || p.Scheme == "http") && p.Host != "" && p.User == nil
}

// plainText is s on one line without control characters, at most max
// characters: a name a client gives, shown (escaped) on the consent page.
func plainText(s string, max int) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	return s
}

// OAuthClient finds a registered client by its client_id (KindNotFound
// if none), for the consent page.
func (s *Service) OAuthClient(ctx context.Context, clientID string) (api.OAuthClient, error) {
	if !clientIDSecret.valid(clientID) {
		return api.OAuthClient{}, api.NotFoundf("no Moodle site is registered with this client_id")
	}
	c, _, _, err := s.clientRow(ctx, s.db.ReadRow(ctx, `SELECT id, secret, client_id, name, uri, redirect_uris, software, version, created
		FROM oauth_clients WHERE client_id = ?`, clientID))
	if errors.Is(err, sql.ErrNoRows) {
		return api.OAuthClient{}, api.NotFoundf("no Moodle site is registered with this client_id")
	}
	return c, err
}

func (s *Service) clientRow(_ context.Context, row sqlitedb.Row) (api.OAuthClient, int64, []byte, error) {
	var c api.OAuthClient
	var id, created int64
	var secret []byte
	var uris string
	if err := row.Scan(&id, &secret, &c.ClientID, &c.Name, &c.URI, &uris, &c.Software, &c.Version, &created); err != nil {
		return c, 0, nil, err
	}
	c.Created = fromMS(created)
	if err := json.Unmarshal([]byte(uris), &c.RedirectURIs); err != nil {
		return c, 0, nil, fmt.Errorf("client %s: %w", c.ClientID, err)
	}
	return c, id, secret, nil
}

// Authorize records username's consent to a client and returns the
// authorization code to send to req.RedirectURI: single-use, valid
// Config.OAuthCodeValidity. The client, its redirect URI and the scope
// are checked again here (the consent page checked them first).
func (s *Service) Authorize(ctx context.Context, username string, req api.AuthorizeRequest) (string, error) {
	scope, err := api.ParseOAuthScope(req.Scope)
	if err != nil {
		return "", err
	}
	c, err := s.OAuthClient(ctx, req.ClientID)
	if err != nil {
		return "", err
	}
	if !slices.Contains(c.RedirectURIs, req.RedirectURI) {
		return "", api.Invalidf("the redirect_uri is not one this Moodle site registered")
	}
	code := codeSecret.new()
	now := s.nowMS()
	err = s.db.Tx(ctx, func(tx *sqlitedb.Tx) error {
		a, err := txByName(ctx, tx, username)
		if err := allowed(a, err, api.ActionPublish); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM oauth_codes WHERE account = ? AND expires > ? AND grant_id IS NULL`, a.id, now).Scan(&n); err != nil {
			return err
		}
		if n >= maxCodesAccount {
			return api.Errorf(api.KindRateLimited, "too many authorizations are waiting to be used; try again in a minute")
		}
		_, err = tx.Exec(ctx, `INSERT INTO oauth_codes (hash, client, account, redirect_uri, scope, expires)
			VALUES (?, (SELECT id FROM oauth_clients WHERE client_id = ?), ?, ?, ?, ?)`,
			hashSecret(code), c.ClientID, a.id, req.RedirectURI, scope, now+s.cfg.OAuthCodeValidity.Milliseconds())
		return err
	})
	if err != nil {
		return "", wrapInternal("authorize a client", err)
	}
	return code, nil
}

// client authenticates a client by its ID and secret in tx.
func (s *Service) authClient(ctx context.Context, tx *sqlitedb.Tx, id, secret string) (int64, error) {
	bad := api.OAuthErrorf(api.OAuthInvalidClient, "unknown client or wrong client secret")
	if !clientIDSecret.valid(id) || !clientSecretSecret.valid(secret) {
		return 0, bad
	}
	_, row, hash, err := s.clientRow(ctx, tx.QueryRowContext(ctx, `SELECT id, secret, client_id, name, uri, redirect_uris, software, version, created
		FROM oauth_clients WHERE client_id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, bad
	}
	if err != nil {
		return 0, err
	}
	if subtle.ConstantTimeCompare(hash, hashSecret(secret)) != 1 {
		return 0, bad
	}
	return row, nil
}

// ExchangeOAuthCode is the authorization_code grant: a code made by
// Authorize, used once, before it expires, by the client it was made for
// and with the same redirect URI, gives an access token and a refresh
// token. A code used a second time revokes what its first use gave (RFC
// 6749 §4.1.2). Errors are *api.OAuthError.
func (s *Service) ExchangeOAuthCode(ctx context.Context, req api.OAuthCodeExchange) (api.OAuthTokens, error) {
	var toks api.OAuthTokens
	var refusal error // committed with the transaction: a replay's revocation
	err := s.db.Tx(ctx, func(tx *sqlitedb.Tx) error {
		client, err := s.authClient(ctx, tx, req.ClientID, req.ClientSecret)
		if err != nil {
			return err
		}
		badCode := api.OAuthErrorf(api.OAuthInvalidGrant, "the authorization code is not valid")
		if !codeSecret.valid(req.Code) {
			return badCode
		}
		var codeClient, acc, expires int64
		var redirect, scope string
		var grant sql.NullInt64
		err = tx.QueryRowContext(ctx, `SELECT client, account, redirect_uri, scope, expires, grant_id FROM oauth_codes WHERE hash = ?`,
			hashSecret(req.Code)).Scan(&codeClient, &acc, &redirect, &scope, &expires, &grant)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return badCode
		case err != nil:
			return err
		case codeClient != client:
			return badCode
		case grant.Valid:
			if _, err := tx.Exec(ctx, `DELETE FROM oauth_grants WHERE id = ?`, grant.Int64); err != nil {
				return err
			}
			refusal = api.OAuthErrorf(api.OAuthInvalidGrant, "the authorization code was used already; the tokens it gave are revoked")
			return nil
		case expires <= s.nowMS():
			return api.OAuthErrorf(api.OAuthInvalidGrant, "the authorization code has expired; authorize again")
		case redirect != req.RedirectURI:
			return api.OAuthErrorf(api.OAuthInvalidGrant, "the redirect_uri is not the one the code was made for")
		}
		if err := activeAccount(ctx, tx, acc); err != nil {
			return err
		}
		var id int64
		if toks, id, err = s.newGrant(ctx, tx, acc, client, scope); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE oauth_codes SET grant_id = ? WHERE hash = ?`, id, hashSecret(req.Code))
		return err
	})
	if err == nil {
		err = refusal
	}
	if err != nil {
		return api.OAuthTokens{}, wrapOAuth("exchange a code", err)
	}
	return toks, nil
}

// activeAccount refuses the grant of an account that is no longer active.
func activeAccount(ctx context.Context, tx *sqlitedb.Tx, acc int64) error {
	var status string
	err := tx.QueryRowContext(ctx, `SELECT status FROM accounts WHERE id = ?`, acc).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) || err == nil && status != string(api.StatusActive) {
		return api.OAuthErrorf(api.OAuthInvalidGrant, "the account that consented is not active")
	}
	return err
}

// newGrant replaces the grant of acc to client with a new one.
func (s *Service) newGrant(ctx context.Context, tx *sqlitedb.Tx, acc, client int64, scope string) (api.OAuthTokens, int64, error) {
	if _, err := tx.Exec(ctx, `DELETE FROM oauth_grants WHERE account = ? AND client = ?`, acc, client); err != nil {
		return api.OAuthTokens{}, 0, err
	}
	t, now := s.newTokens(scope), s.nowMS()
	res, err := tx.Exec(ctx, `INSERT INTO oauth_grants (account, client, scope, access, access_expires, refresh, refresh_expires, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, acc, client, scope, hashSecret(t.AccessToken), now+s.cfg.OAuthAccessValidity.Milliseconds(),
		hashSecret(t.RefreshToken), now+s.cfg.OAuthRefreshValidity.Milliseconds(), now)
	if err != nil {
		return api.OAuthTokens{}, 0, err
	}
	id, err := res.LastInsertId()
	return t, id, err
}

func (s *Service) newTokens(scope string) api.OAuthTokens {
	return api.OAuthTokens{AccessToken: accessSecret.new(), TokenType: "Bearer", ExpiresIn: int64(s.cfg.OAuthAccessValidity.Seconds()),
		RefreshToken: refreshSecret.new(), Scope: scope}
}

// RefreshOAuthToken is the refresh_token grant: it rotates both tokens of
// the grant (the old refresh token stops working). Errors are
// *api.OAuthError.
func (s *Service) RefreshOAuthToken(ctx context.Context, req api.OAuthRefresh) (api.OAuthTokens, error) {
	var toks api.OAuthTokens
	err := s.db.Tx(ctx, func(tx *sqlitedb.Tx) error {
		client, err := s.authClient(ctx, tx, req.ClientID, req.ClientSecret)
		if err != nil {
			return err
		}
		bad := api.OAuthErrorf(api.OAuthInvalidGrant, "the refresh token is not valid, has expired or was revoked")
		if !refreshSecret.valid(req.RefreshToken) {
			return bad
		}
		var id, acc, grantClient, expires int64
		var scope string
		err = tx.QueryRowContext(ctx, `SELECT id, account, client, scope, refresh_expires FROM oauth_grants WHERE refresh = ?`,
			hashSecret(req.RefreshToken)).Scan(&id, &acc, &grantClient, &scope, &expires)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return bad
		case err != nil:
			return err
		case grantClient != client || expires <= s.nowMS():
			return bad
		}
		if err := activeAccount(ctx, tx, acc); err != nil {
			return err
		}
		toks = s.newTokens(scope)
		now := s.nowMS()
		_, err = tx.Exec(ctx, `UPDATE oauth_grants SET access = ?, access_expires = ?, refresh = ?, refresh_expires = ?, last_used = ? WHERE id = ?`,
			hashSecret(toks.AccessToken), now+s.cfg.OAuthAccessValidity.Milliseconds(), hashSecret(toks.RefreshToken),
			now+s.cfg.OAuthRefreshValidity.Milliseconds(), now, id)
		return err
	})
	if err != nil {
		return api.OAuthTokens{}, wrapOAuth("refresh a token", err)
	}
	return toks, nil
}

// AuthenticateOAuth finds the account of an OAuth access token (without
// "Bearer ") that grants scope. An unknown, expired or revoked token, or
// one without the scope, is KindUnauthorized; one of an account that is
// not active, KindForbidden.
func (s *Service) AuthenticateOAuth(ctx context.Context, token, scope string) (api.Account, error) {
	if !accessSecret.valid(token) {
		return api.Account{}, errBadAccess
	}
	var id, expires, used int64
	var granted string
	a, err := scanAccount(s.db.ReadRow(ctx, `SELECT `+accountCols+`, g.id, g.access_expires, g.last_used, g.scope
		FROM oauth_grants g JOIN accounts a ON a.id = g.account WHERE g.access = ?`, hashSecret(token)), &id, &expires, &used, &granted)
	if err != nil {
		return api.Account{}, notFoundAs(err, errBadAccess, "read an access token")
	}
	now := s.nowMS()
	switch {
	case expires <= now:
		return api.Account{}, api.Errorf(api.KindUnauthorized, "this access token has expired; refresh it")
	case !slices.Contains(strings.Fields(granted), scope):
		return api.Account{}, api.Errorf(api.KindUnauthorized, "this access token does not grant %s", scope)
	case a.Status != api.StatusActive:
		return api.Account{}, api.Errorf(api.KindForbidden, "the account of this token is %s", a.Status)
	}
	if now-used >= lastUsedStep.Milliseconds() {
		if _, err := s.db.Exec(ctx, `UPDATE oauth_grants SET last_used = ? WHERE id = ?`, now, id); err != nil {
			return api.Account{}, fmt.Errorf("record a token's use: %w", err)
		}
	}
	return a.Account, nil
}

// OAuthGrants lists the Moodle sites username consented to, newest
// first, for the settings page.
func (s *Service) OAuthGrants(ctx context.Context, username string) ([]api.OAuthGrant, error) {
	rows, err := s.db.ReadQuery(ctx, `SELECT g.id, c.name, c.uri, g.scope, g.created, g.last_used
		FROM oauth_grants g JOIN oauth_clients c ON c.id = g.client JOIN accounts a ON a.id = g.account
		WHERE a.username = ? ORDER BY g.id DESC`, username)
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	return sqlitedb.Scan(rows, func(rows *sql.Rows) (api.OAuthGrant, error) {
		var g api.OAuthGrant
		var created, used int64
		err := rows.Scan(&g.ID, &g.Client, &g.ClientURI, &g.Scope, &created, &used)
		g.Created = fromMS(created)
		if used != 0 {
			g.LastUsed = fromMS(used)
		}
		return g, err
	})
}

// RevokeOAuthGrant ends username's grant id: its tokens stop working at
// once. Another account's grant is not found.
func (s *Service) RevokeOAuthGrant(ctx context.Context, username string, id int64) error {
	res, err := s.db.Exec(ctx, `DELETE FROM oauth_grants WHERE id = ? AND account = (SELECT id FROM accounts WHERE username = ?)`, id, username)
	if err != nil {
		return fmt.Errorf("revoke a grant: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return orErr(wrapInternal("revoke a grant", err), api.NotFoundf("you have no connected Moodle site %d", id))
	}
	return nil
}

// purgeOAuth deletes spent and expired codes, expired grants, and clients
// nobody consented to within clientUnusedDays.
func purgeOAuth(ctx context.Context, tx *sqlitedb.Tx, now int64) error {
	for _, q := range []string{
		`DELETE FROM oauth_codes WHERE expires <= ? - 86400000`,
		`DELETE FROM oauth_grants WHERE refresh_expires <= ?`,
		fmt.Sprintf(`DELETE FROM oauth_clients WHERE created <= ? - %d * 86400000
			AND id NOT IN (SELECT client FROM oauth_grants) AND id NOT IN (SELECT client FROM oauth_codes)`, clientUnusedDays),
	} {
		if _, err := tx.Exec(ctx, q, now); err != nil {
			return fmt.Errorf("purge OAuth: %w", err)
		}
	}
	return nil
}

// wrapOAuth gives an internal error context, and leaves refusals as they
// are.
func wrapOAuth(what string, err error) error {
	var oe *api.OAuthError
	if errors.As(err, &oe) {
		return err
	}
	return wrapInternal(what, err)
}
