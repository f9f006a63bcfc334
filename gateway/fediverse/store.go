package fediverse

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// store is the bridge's SQLite file, fediverse.db: state the bridge owns,
// none of it derived from the Lyceum logs.
type store struct {
	db *sqlitedb.DB
}

const schema = `
CREATE TABLE IF NOT EXISTS keys (
	owner   TEXT PRIMARY KEY,
	pem     BLOB NOT NULL,
	created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS state (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS remote_actors (
	id           TEXT PRIMARY KEY,
	type         TEXT NOT NULL DEFAULT '',
	username     TEXT NOT NULL DEFAULT '',
	name         TEXT NOT NULL DEFAULT '',
	inbox        TEXT NOT NULL,
	shared_inbox TEXT NOT NULL DEFAULT '',
	key_id       TEXT NOT NULL DEFAULT '',
	key_pem      TEXT NOT NULL DEFAULT '',
	software     TEXT NOT NULL DEFAULT '',
	fetched      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS remote_actors_key ON remote_actors (key_id);
CREATE TABLE IF NOT EXISTS followers (
	local     TEXT NOT NULL,
	remote    TEXT NOT NULL,
	follow_id TEXT NOT NULL,
	state     TEXT NOT NULL,
	since     TEXT NOT NULL,
	PRIMARY KEY (local, remote)
);
CREATE TABLE IF NOT EXISTS following (
	local     TEXT NOT NULL,
	remote    TEXT NOT NULL,
	follow_id TEXT NOT NULL,
	state     TEXT NOT NULL,
	since     TEXT NOT NULL,
	PRIMARY KEY (local, remote)
);
CREATE TABLE IF NOT EXISTS seen (
	id TEXT PRIMARY KEY,
	at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS interactions (
	id        TEXT PRIMARY KEY,
	kind      TEXT NOT NULL,
	actor     TEXT NOT NULL,
	object    TEXT NOT NULL,
	content   TEXT NOT NULL DEFAULT '',
	url       TEXT NOT NULL DEFAULT '',
	published TEXT NOT NULL,
	updated   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS interactions_object ON interactions (object, kind);
CREATE INDEX IF NOT EXISTS interactions_actor ON interactions (actor, kind, object);
CREATE TABLE IF NOT EXISTS outgoing (
	id      TEXT PRIMARY KEY,
	actor   TEXT NOT NULL,
	type    TEXT NOT NULL,
	object  TEXT NOT NULL DEFAULT '',
	body    BLOB NOT NULL,
	created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outgoing_actor ON outgoing (actor, type, object);
CREATE TABLE IF NOT EXISTS locked (
	actor TEXT PRIMARY KEY,
	since TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS collection_names (
	name       TEXT PRIMARY KEY,
	collection TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS collection_boosts (
	collection TEXT NOT NULL,
	resource   TEXT NOT NULL,
	activity   TEXT NOT NULL,
	at         TEXT NOT NULL,
	PRIMARY KEY (collection, resource)
);
CREATE TABLE IF NOT EXISTS flags (
	id      TEXT PRIMARY KEY,
	actor   TEXT NOT NULL,
	objects TEXT NOT NULL,
	content TEXT NOT NULL,
	at      TEXT NOT NULL
);
`

// openStore opens the bridge's SQLite file through the node's one SQLite
// helper: owner-only (it holds the bridged actors' private RSA keys), WAL,
// synchronous commits.
func openStore(path string) (*store, error) {
	db, err := sqlitedb.Open(path, sqlitedb.Options{Schema: schema})
	if err != nil {
		return nil, err
	}
	return &store{db: db}, nil
}

func (s *store) Close() error { return s.db.Close() }

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

// key returns the RSA key of a bridged actor, creating it on first use. A
// key is written once and never replaced: INSERT OR IGNORE and a read back
// mean two racing first uses agree on one key.
func (s *store) key(ctx context.Context, owner string, bits int) (*rsa.PrivateKey, error) {
	if k, err := s.readKey(ctx, owner); err == nil || !errors.Is(err, sql.ErrNoRows) {
		return k, err
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("generate RSA key for %s: %w", owner, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	p := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if _, err := s.db.Exec(ctx, `INSERT OR IGNORE INTO keys (owner, pem, created) VALUES (?, ?, ?)`, owner, p, now()); err != nil {
		return nil, fmt.Errorf("store RSA key of %s: %w", owner, err)
	}
	return s.readKey(ctx, owner)
}

func (s *store) readKey(ctx context.Context, owner string) (*rsa.PrivateKey, error) {
	var p []byte
	if err := s.db.QueryRow(ctx, `SELECT pem FROM keys WHERE owner = ?`, owner).Scan(&p); err != nil {
		return nil, err
	}
	b, _ := pem.Decode(p)
	if b == nil {
		return nil, fmt.Errorf("RSA key of %s: not PEM", owner)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("RSA key of %s: %w", owner, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key of %s is not RSA", owner)
	}
	return rk, nil
}

func (s *store) getState(ctx context.Context, key string) (int64, bool, error) {
	var v int64
	err := s.db.QueryRow(ctx, `SELECT value FROM state WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return v, err == nil, err
}

func (s *store) setState(ctx context.Context, key string, v int64) error {
	_, err := s.db.Exec(ctx, `INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, v)
	return err
}

// markSeen records an inbox activity ID and reports whether it was new.
func (s *store) markSeen(ctx context.Context, id string) (bool, error) {
	res, err := s.db.Exec(ctx, `INSERT OR IGNORE INTO seen (id, at) VALUES (?, ?)`, id, now())
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// seenWindow is how long inbox activity IDs are remembered: a replay
// later than that fails the signature's time window anyway.
const seenWindow = 48 * time.Hour

// pruneSeen forgets inbox activity IDs seen before t.
func (s *store) pruneSeen(ctx context.Context, t time.Time) error {
	_, err := s.db.Exec(ctx, `DELETE FROM seen WHERE at < ?`, t.UTC().Format(time.RFC3339Nano))
	return err
}

// strings runs a query whose rows are one text column ([] for none).
func (s *store) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	return s.db.Strings(ctx, q, args...)
}

// count runs a query whose one row is one integer; 0 when it fails.
func (s *store) count(ctx context.Context, q string, args ...any) int {
	n, _ := s.db.Count(ctx, q, args...)
	return n
}

// RemoteActor is what the bridge keeps of a fediverse actor.
type RemoteActor struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Username    string `json:"username"`
	Name        string `json:"name,omitempty"`
	Inbox       string `json:"inbox"`
	SharedInbox string `json:"shared_inbox,omitempty"`
	KeyID       string `json:"key_id"`
	KeyPEM      string `json:"-"`
	// Software is the server's NodeInfo software name (mastodon, lemmy…),
	// "" when unknown.
	Software string    `json:"software,omitempty"`
	Fetched  time.Time `json:"fetched"`
}

func (s *store) putRemote(ctx context.Context, a RemoteActor) error {
	_, err := s.db.Exec(ctx, `INSERT INTO remote_actors (id, type, username, name, inbox, shared_inbox, key_id, key_pem, software, fetched)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET type = excluded.type, username = excluded.username,
		name = excluded.name, inbox = excluded.inbox, shared_inbox = excluded.shared_inbox, key_id = excluded.key_id,
		key_pem = excluded.key_pem, software = CASE WHEN excluded.software = '' THEN remote_actors.software ELSE excluded.software END,
		fetched = excluded.fetched`,
		a.ID, a.Type, a.Username, a.Name, a.Inbox, a.SharedInbox, a.KeyID, a.KeyPEM, a.Software, a.Fetched.UTC().Format(time.RFC3339Nano))
	return err
}

const remoteCols = `id, type, username, name, inbox, shared_inbox, key_id, key_pem, software, fetched`

func scanRemote(sc interface{ Scan(...any) error }) (RemoteActor, error) {
	var a RemoteActor
	var fetched string
	err := sc.Scan(&a.ID, &a.Type, &a.Username, &a.Name, &a.Inbox, &a.SharedInbox, &a.KeyID, &a.KeyPEM, &a.Software, &fetched)
	a.Fetched, _ = time.Parse(time.RFC3339Nano, fetched)
	return a, err
}

func (s *store) remote(ctx context.Context, id string) (RemoteActor, error) {
	return scanRemote(s.db.QueryRow(ctx, `SELECT `+remoteCols+` FROM remote_actors WHERE id = ?`, id))
}

func (s *store) remoteByKey(ctx context.Context, keyID string) (RemoteActor, error) {
	return scanRemote(s.db.QueryRow(ctx, `SELECT `+remoteCols+` FROM remote_actors WHERE key_id = ? OR id = ? LIMIT 1`, keyID, keyID))
}

func (s *store) deleteRemote(ctx context.Context, id string) error {
	for _, q := range []string{
		`DELETE FROM followers WHERE remote = ?`,
		`DELETE FROM following WHERE remote = ?`,
		`DELETE FROM interactions WHERE actor = ?`,
		`DELETE FROM remote_actors WHERE id = ?`,
	} {
		if _, err := s.db.Exec(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

// followerInboxes lists where to deliver to an actor's accepted followers:
// one row per follower with its inbox, shared inbox and software.
func (s *store) followerInboxes(ctx context.Context, local string) ([]RemoteActor, error) {
	rows, err := s.db.Query(ctx, `SELECT `+remoteCols+` FROM remote_actors WHERE id IN
		(SELECT remote FROM followers WHERE local = ? AND state = 'accepted') ORDER BY id`, local)
	if err != nil {
		return nil, err
	}
	return sqlitedb.Scan(rows, func(rows *sql.Rows) (RemoteActor, error) { return scanRemote(rows) })
}
