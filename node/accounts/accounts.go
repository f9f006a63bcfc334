package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/ratelimit"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// ActorMaker makes the Person actor an account owns; node/social's
// Service is one.
type ActorMaker interface {
	// CreateActor makes a local actor named req.Username, durably, and
	// returns it. A username that a local actor has already is an error
	// of KindConflict; a request it refuses, of KindInvalid.
	CreateActor(ctx context.Context, req api.CreateActorRequest) (api.Actor, error)
}

// LocalActorFinder is an ability an ActorMaker may have (node/social's
// Service has it): registration then refuses at once a username that a
// local actor (a community) holds, rather than at approval.
type LocalActorFinder interface {
	// LocalActorByName finds a local actor by username: KindNotFound if
	// there is none.
	LocalActorByName(ctx context.Context, username string) (api.Actor, error)
}

// Config is the accounts room's plain-data configuration; zero fields
// take the defaults given.
type Config struct {
	// Path is the database file: accounts.db in the repo. Required.
	Path string
	// Password are the argon2id parameters of new hashes: DefaultParams.
	Password Params
	// Hashers bounds the passwords hashed at once (each holds
	// Password.Memory): 2.
	Hashers int

	// SessionIdle ends a session unused this long: 30 days; each use
	// moves the end on. SessionMax ends it this long after login
	// whatever its use: 90 days.
	SessionIdle time.Duration
	SessionMax  time.Duration
	// SetupValidity is how long a setup token works: 24 hours.
	SetupValidity time.Duration

	// OAuth 2 (oauth.go): an authorization code works
	// OAuthCodeValidity, 1 minute, once; an access token
	// OAuthAccessValidity, 1 hour; a refresh token OAuthRefreshValidity,
	// 90 days, each refresh rotating it. MaxOAuthClients bounds the
	// registered clients (Moodle sites): 10,000.
	OAuthCodeValidity    time.Duration
	OAuthAccessValidity  time.Duration
	OAuthRefreshValidity time.Duration
	MaxOAuthClients      int

	// Bounds on what outside input can make.
	MaxAccounts    int // every status: 100,000
	MaxPending     int // waiting for approval: 1,000
	MaxSessions    int // per account; a new login ends the least recently used beyond it: 50
	MaxTokens      int // personal API tokens per account: 50
	MaxInvitations int // unused and unexpired: 1,000

	// Login limits, token buckets: per account (by username given,
	// whether it exists or not), LoginBurst attempts then
	// LoginsPerMinute; per client (the gateway's clientip.Key),
	// ClientLoginBurst then ClientLoginsPerMinute. Defaults 10 and 1,
	// 30 and 10.
	LoginBurst            int
	LoginsPerMinute       float64
	ClientLoginBurst      int
	ClientLoginsPerMinute float64
	// Registrations per client: RegisterBurst then RegistrationsPerHour;
	// 5 and 6.
	RegisterBurst        int
	RegistrationsPerHour float64
	// RateLimitedKeys bounds the accounts and clients each limit
	// remembers: 10,000.
	RateLimitedKeys int

	// Now is the clock (tests): time.Now.
	Now func() time.Time
}

func (c *Config) defaults() {
	setDefault := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	setDuration := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	setRate := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.Password == (Params{}) {
		c.Password = DefaultParams
	}
	setDefault(&c.Hashers, 2)
	setDuration(&c.SessionIdle, 30*24*time.Hour)
	setDuration(&c.SessionMax, 90*24*time.Hour)
	setDuration(&c.SetupValidity, 24*time.Hour)
	setDuration(&c.OAuthCodeValidity, time.Minute)
	setDuration(&c.OAuthAccessValidity, time.Hour)
	setDuration(&c.OAuthRefreshValidity, 90*24*time.Hour)
	setDefault(&c.MaxOAuthClients, 10_000)
	setDefault(&c.MaxAccounts, 100_000)
	setDefault(&c.MaxPending, 1000)
	setDefault(&c.MaxSessions, 50)
	setDefault(&c.MaxTokens, 50)
	setDefault(&c.MaxInvitations, 1000)
	setDefault(&c.LoginBurst, 10)
	setRate(&c.LoginsPerMinute, 1)
	setDefault(&c.ClientLoginBurst, 30)
	setRate(&c.ClientLoginsPerMinute, 10)
	setDefault(&c.RegisterBurst, 5)
	setRate(&c.RegistrationsPerHour, 6)
	setDefault(&c.RateLimitedKeys, 10_000)
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Service is the accounts room.
type Service struct {
	cfg    Config
	db     *sqlitedb.DB
	actors ActorMaker

	hashers chan struct{} // slots of hashing (password.go)
	// dummy is a hash of a random password, with the current parameters,
	// made at the first login of an unknown username, which verifies
	// against it so that it costs what a login of a known one does
	// (made then, not at start: a node starts in a twentieth of a second,
	// a hash takes a fifth).
	dummy func() (string, error)
	// verified counts password verifications (tests: an unknown username
	// costs one too).
	verified atomic.Int64

	loginAccount *ratelimit.Keyed
	loginClient  *ratelimit.Keyed
	register     *ratelimit.Keyed
}

// Times are stored as Unix milliseconds, so that SQLite compares them.
const schema = `
CREATE TABLE IF NOT EXISTS accounts (
	id           INTEGER PRIMARY KEY,
	username     TEXT NOT NULL UNIQUE,
	display_name TEXT NOT NULL,
	role         TEXT NOT NULL CHECK (role IN ('admin', 'moderator', 'member')),
	status       TEXT NOT NULL CHECK (status IN ('active', 'pending', 'disabled')),
	language     TEXT NOT NULL CHECK (language IN ('en', 'fr')),
	password     TEXT NOT NULL,          -- argon2id, PHC string format
	actor        TEXT UNIQUE,            -- DID of its Person actor; NULL while pending
	created      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS accounts_by_status ON accounts (status, username);
CREATE TABLE IF NOT EXISTS sessions (
	hash    BLOB PRIMARY KEY,            -- SHA-256 of the token
	account INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	csrf    TEXT NOT NULL,
	created INTEGER NOT NULL,
	seen    INTEGER NOT NULL,            -- last use, to the touch step
	expires INTEGER NOT NULL             -- min(seen + idle, created + max)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_by_account ON sessions (account, seen);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires);
CREATE TABLE IF NOT EXISTS tokens (
	id        INTEGER PRIMARY KEY,
	account   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name      TEXT NOT NULL,
	hash      BLOB NOT NULL UNIQUE,      -- SHA-256 of the token
	hint      TEXT NOT NULL,             -- its first characters
	created   INTEGER NOT NULL,
	last_used INTEGER NOT NULL DEFAULT 0, -- 0: never
	UNIQUE (account, name)
);
CREATE TABLE IF NOT EXISTS invitations (
	id         INTEGER PRIMARY KEY,
	hash       BLOB NOT NULL UNIQUE,     -- SHA-256 of the code
	role       TEXT NOT NULL CHECK (role IN ('admin', 'moderator', 'member')),
	note       TEXT NOT NULL,
	created_by INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
	created    INTEGER NOT NULL,
	expires    INTEGER NOT NULL,
	used_by    INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
	used       INTEGER NOT NULL DEFAULT 0 -- 0: unused
);
CREATE TABLE IF NOT EXISTS setup_tokens (
	hash    BLOB PRIMARY KEY,            -- SHA-256 of the token
	created INTEGER NOT NULL,
	expires INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS drafts (
	id      INTEGER PRIMARY KEY,
	account INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	title   TEXT NOT NULL,
	fields  TEXT NOT NULL,              -- JSON: the form's fields, name → values
	saved   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS drafts_by_account ON drafts (account, saved);
CREATE TABLE IF NOT EXISTS settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;
`

// schemaVersion is accounts.db's PRAGMA user_version: the Migrate step of
// a later version upgrades from it.
const schemaVersion = 1

// New opens (creating if need be) the accounts database at cfg.Path;
// actors makes the Person actor of each account that becomes active.
func New(ctx context.Context, cfg Config, actors ActorMaker) (*Service, error) {
	cfg.defaults()
	if cfg.Path == "" || actors == nil {
		return nil, errors.New("accounts: no database path or no actor maker")
	}
	if !cfg.Password.valid() {
		return nil, fmt.Errorf("accounts: bad argon2id parameters %+v", cfg.Password)
	}
	db, err := sqlitedb.Open(cfg.Path, sqlitedb.Options{Schema: schema + oauthSchema, Migrate: migrate, ReadConns: 2})
	if err != nil {
		return nil, fmt.Errorf("open accounts: %w", err)
	}
	perMinute := func(n float64) float64 { return n / 60 }
	s := &Service{
		cfg: cfg, db: db, actors: actors,
		hashers:      make(chan struct{}, cfg.Hashers),
		loginAccount: ratelimit.New(perMinute(cfg.LoginsPerMinute), cfg.LoginBurst, cfg.RateLimitedKeys),
		loginClient:  ratelimit.New(perMinute(cfg.ClientLoginsPerMinute), cfg.ClientLoginBurst, cfg.RateLimitedKeys),
		register:     ratelimit.New(cfg.RegistrationsPerHour/3600, cfg.RegisterBurst, cfg.RateLimitedKeys),
	}
	s.dummy = sync.OnceValues(func() (string, error) { return hashPassword(sessionSecret.new(), cfg.Password) }) // any random password
	if err := s.Purge(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func migrate(db *sql.DB) error {
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return err
	}
	switch {
	case v > schemaVersion:
		return fmt.Errorf("accounts.db is of version %d, newer than this program (%d)", v, schemaVersion)
	case v < schemaVersion:
		_, err := db.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion))
		return err
	}
	return nil
}

// Close closes the database.
func (s *Service) Close() error { return s.db.Close() }

// Purge deletes what has expired: sessions, setup tokens, invitations
// a month past their end, and OAuth codes, grants and unused clients
// (oauth.go). New runs it; the daemon may run it daily.
func (s *Service) Purge(ctx context.Context) error {
	now := s.nowMS()
	return s.db.Tx(ctx, func(tx *sqlitedb.Tx) error {
		for _, q := range []string{
			`DELETE FROM sessions WHERE expires <= ?`,
			`DELETE FROM setup_tokens WHERE expires <= ?`,
			`DELETE FROM invitations WHERE expires <= ? - 30 * 86400000`,
		} {
			if _, err := tx.Exec(ctx, q, now); err != nil {
				return fmt.Errorf("purge accounts: %w", err)
			}
		}
		return purgeOAuth(ctx, tx, now)
	})
}

func (s *Service) now() time.Time { return s.cfg.Now() }
func (s *Service) nowMS() int64   { return s.now().UnixMilli() }

func fromMS(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// account is a row of accounts, with what the API never shows.
type account struct {
	api.Account
	id       int64
	password string
}

const accountCols = `a.id, a.username, a.display_name, a.role, a.status, a.language, coalesce(a.actor, ''), a.created, a.password`

func scanAccount(row sqlitedb.Row, extra ...any) (account, error) {
	var a account
	var created int64
	err := row.Scan(append([]any{&a.id, &a.Username, &a.DisplayName, &a.Role, &a.Status, &a.Language, &a.Actor, &created, &a.password}, extra...)...)
	a.Created = fromMS(created)
	return a, err
}

// errNoAccount is the answer about a username with no account.
func errNoAccount(username string) error {
	return api.NotFoundf("there is no account %s", api.Quote(username))
}

// Account finds an account by username (KindNotFound if none).
func (s *Service) Account(ctx context.Context, username string) (api.Account, error) {
	a, err := s.byName(ctx, username)
	return a.Account, err
}

func (s *Service) byName(ctx context.Context, username string) (account, error) {
	a, err := scanAccount(s.db.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts a WHERE a.username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return a, errNoAccount(username)
	}
	if err != nil {
		return a, fmt.Errorf("read account %s: %w", username, err)
	}
	return a, nil
}

func txByName(ctx context.Context, tx *sqlitedb.Tx, username string) (account, error) {
	a, err := scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts a WHERE a.username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return a, errNoAccount(username)
	}
	if err != nil {
		return a, fmt.Errorf("read account %s: %w", username, err)
	}
	return a, nil
}

// newAccount is an account about to be inserted, its fields checked.
type newAccount struct {
	username, displayName, language string
	role                            api.Role
	status                          api.AccountStatus
	password                        string // hashed
}

// CreateAccount makes an active account of any role, without
// registration rules or setup token, and its Person actor: for the node's
// operator (`lyceum user add [--admin]`). A surface that lets people call
// it must check that the caller may (api.ActionManageAccounts).
func (s *Service) CreateAccount(ctx context.Context, req api.CreateAccountRequest) (api.Account, error) {
	n, err := s.checkNew(ctx, req.Username, req.DisplayName, req.Password, req.Language)
	if err != nil {
		return api.Account{}, err
	}
	if n.role, err = checkRole(req.Role); err != nil {
		return api.Account{}, err
	}
	n.status = api.StatusActive
	if n.password, err = s.hash(ctx, req.Password); err != nil {
		return api.Account{}, err
	}
	var a account
	err = s.createTx(ctx, "create account "+n.username, func(tx *sqlitedb.Tx) (err error) {
		a, err = s.insert(ctx, tx, n)
		return err
	})
	return a.Account, err
}

// checkNew checks the fields of a new account, and that its username is
// free, before its password is hashed: a refusal costs no hashing.
func (s *Service) checkNew(ctx context.Context, username, displayName, password, language string) (newAccount, error) {
	n := newAccount{username: username, role: api.RoleMember}
	var err error
	if err = checkUsername(username); err != nil {
		return n, err
	}
	if n.displayName, err = checkDisplayName(displayName, username); err != nil {
		return n, err
	}
	if n.language, err = checkLanguage(language); err != nil {
		return n, err
	}
	if err = CheckPassword(password, username); err != nil {
		return n, err
	}
	return n, s.usernameFree(ctx, username)
}

// usernameFree checks that no account has username and, when the actor
// maker can tell, no local actor either.
func (s *Service) usernameFree(ctx context.Context, username string) error {
	n, err := s.db.Count(ctx, `SELECT count(*) FROM accounts WHERE username = ?`, username)
	if err != nil {
		return fmt.Errorf("check username %s: %w", username, err)
	}
	if n > 0 {
		return errTaken(username, nil)
	}
	if f, ok := s.actors.(LocalActorFinder); ok {
		_, err := f.LocalActorByName(ctx, username)
		switch api.KindOf(err) {
		case api.KindNotFound:
		case api.KindInternal:
			if err != nil {
				return fmt.Errorf("check username %s: %w", username, err)
			}
			return errTaken(username, nil) // found
		default:
			return err
		}
	}
	return nil
}

func errTaken(username string, cause error) error {
	return api.Wrap(api.KindConflict, fmt.Sprintf("the username %s is taken; choose another", api.Quote(username)), cause)
}

// createTx runs f, which makes an account and its actor, in a transaction
// that a cancelled ctx cannot roll back once the actor is made: the
// account is committed whenever its actor exists. (A crash between the
// actor's commit, in lyceum.db, and the account's leaves an actor with no
// account: its username is then taken.)
func (s *Service) createTx(ctx context.Context, what string, f func(*sqlitedb.Tx) error) error {
	return wrapInternal(what, s.db.Tx(context.WithoutCancel(ctx), f))
}

// insert adds the account n in tx, after checking the bounds, and makes
// its actor if it is active.
func (s *Service) insert(ctx context.Context, tx *sqlitedb.Tx, n newAccount) (account, error) {
	var taken, total, pending int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE username = ?), count(*), count(*) FILTER (WHERE status = 'pending') FROM accounts`,
		n.username).Scan(&taken, &total, &pending); err != nil {
		return account{}, err
	}
	switch {
	case taken > 0:
		return account{}, errTaken(n.username, nil)
	case total >= s.cfg.MaxAccounts:
		return account{}, api.Errorf(api.KindUnavailable, "this node has as many accounts as it can hold (%d)", s.cfg.MaxAccounts)
	case n.status == api.StatusPending && pending >= s.cfg.MaxPending:
		return account{}, api.Errorf(api.KindUnavailable, "too many registrations are waiting for approval; try again later")
	}
	now := s.nowMS()
	res, err := tx.Exec(ctx, `INSERT INTO accounts (username, display_name, role, status, language, password, created) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		n.username, n.displayName, string(n.role), string(n.status), n.language, n.password, now)
	if err != nil {
		return account{}, err
	}
	a := account{id: 0, password: n.password, Account: api.Account{Username: n.username, DisplayName: n.displayName,
		Role: n.role, Status: n.status, Language: n.language, Created: fromMS(now)}}
	if a.id, err = res.LastInsertId(); err != nil {
		return account{}, err
	}
	if n.status == api.StatusActive {
		if err := s.makeActor(ctx, tx, &a); err != nil {
			return account{}, err
		}
	}
	return a, nil
}

// makeActor makes the Person actor of a in tx's time: the last step of
// the transaction that makes a active, so that a failure rolls the account
// back.
func (s *Service) makeActor(ctx context.Context, tx *sqlitedb.Tx, a *account) error {
	actor, err := s.actors.CreateActor(ctx, api.CreateActorRequest{Username: a.Username, Name: a.DisplayName, Type: "Person"})
	switch api.KindOf(err) {
	case api.KindInternal:
		if err != nil {
			return fmt.Errorf("make the person of %s: %w", a.Username, err)
		}
	case api.KindConflict:
		return api.Wrap(api.KindConflict, fmt.Sprintf("the username %s is taken by another actor of this node; choose another", api.Quote(a.Username)), err)
	default:
		return err
	}
	if actor.DID == "" {
		return fmt.Errorf("make the person of %s: the actor maker gave no DID", a.Username)
	}
	if _, err := tx.Exec(ctx, `UPDATE accounts SET actor = ? WHERE id = ?`, actor.DID, a.id); err != nil {
		return err
	}
	a.Actor = actor.DID
	return nil
}

// wrapInternal gives an error that is not an *api.Error some context;
// nil stays nil.
func wrapInternal(what string, err error) error {
	var e *api.Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// orErr is err, or alt when err is nil.
func orErr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

// notFoundAs is notFound for a query that found no row, err in context
// otherwise.
func notFoundAs(err, notFound error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return notFound
	}
	return wrapInternal(what, err)
}
