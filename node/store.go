package node

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite", pure Go
)

// socialStore is the node's SQLite database (lyceum.db, WAL, synchronous
// commits). It holds three kinds of tables:
//   - node state that is not derived from logs: local actors' keys, the
//     index of stored log entries, blocked actors;
//   - views derived from the logs (actors, resources, versions, follows,
//     likes, deletions), which `repair --rebuild-views` drops and replays.
type socialStore struct {
	db *sql.DB
	// read is a small pool of query-only connections for the gossip
	// validators: they check messages while the ingest loop's
	// transaction holds db's only connection. WAL gives each read the
	// last commit.
	read *sql.DB

	mu        sync.Mutex
	stmts     map[string]*sql.Stmt // the hot statements, prepared once
	readStmts map[string]*sql.Stmt // the same, on read
	want      []string             // statements execIn met, to prepare after the commit
}

// viewTables are dropped and refilled by RebuildViews.
var viewTables = append([]string{"actors", "resources", "versions", "follows", "likes", "deletions", "announces"}, collectionViewTables...)

// versionsColumns defines the versions table. activity_cid is not UNIQUE:
// log_entries already keeps an activity once, and the index of a random
// key cost 6 % of an HQ's CPU per activity (BenchmarkHQIngest).
const versionsColumns = `(
	resource_id  TEXT NOT NULL,
	version      INTEGER NOT NULL,
	activity_cid TEXT NOT NULL,
	actor        TEXT NOT NULL,
	title        TEXT NOT NULL,
	media_cid    TEXT NOT NULL DEFAULT '',
	url          TEXT NOT NULL DEFAULT '',
	license      TEXT NOT NULL,
	language     TEXT NOT NULL,
	derived_from TEXT NOT NULL DEFAULT '',
	published    TEXT NOT NULL,
	-- body is empty: the activity is log_entries.body. Repos made before
	-- log entries moved into lyceum.db have it here too.
	body         BLOB NOT NULL,
	PRIMARY KEY (resource_id, version)
)`

const schema = `
CREATE TABLE IF NOT EXISTS local_actors (
	did      TEXT PRIMARY KEY,
	username TEXT NOT NULL UNIQUE,
	type     TEXT NOT NULL,
	key      BLOB NOT NULL,
	created  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS log_entries (
	actor     TEXT NOT NULL,
	seq       INTEGER NOT NULL,
	cid       TEXT NOT NULL UNIQUE,
	type      TEXT NOT NULL,
	published TEXT NOT NULL,
	body      BLOB,
	PRIMARY KEY (actor, seq)
);
CREATE TABLE IF NOT EXISTS node_state (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS delisted (
	id     TEXT PRIMARY KEY,
	reason TEXT NOT NULL,
	at     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
	activity_cid TEXT PRIMARY KEY,
	community    TEXT NOT NULL,
	at           TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS blocked (
	did    TEXT PRIMARY KEY,
	reason TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS actors (
	did      TEXT PRIMARY KEY,
	type     TEXT NOT NULL,
	username TEXT NOT NULL,
	name     TEXT NOT NULL DEFAULT '',
	summary  TEXT NOT NULL DEFAULT '',
	node     TEXT NOT NULL DEFAULT '',
	seq      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS actors_handle ON actors (username, node);
CREATE TABLE IF NOT EXISTS resources (
	id        TEXT PRIMARY KEY,
	actor     TEXT NOT NULL,
	community TEXT NOT NULL DEFAULT '',
	created   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS resources_actor ON resources (actor);
CREATE INDEX IF NOT EXISTS resources_community ON resources (community);
CREATE TABLE IF NOT EXISTS versions ` + versionsColumns + `;
CREATE INDEX IF NOT EXISTS versions_published ON versions (published);
CREATE TABLE IF NOT EXISTS follows (
	follower     TEXT NOT NULL,
	followee     TEXT NOT NULL,
	activity_cid TEXT NOT NULL,
	PRIMARY KEY (follower, followee)
);
CREATE TABLE IF NOT EXISTS likes (
	actor        TEXT NOT NULL,
	object       TEXT NOT NULL,
	activity_cid TEXT NOT NULL,
	PRIMARY KEY (actor, object)
);
CREATE TABLE IF NOT EXISTS deletions (
	object TEXT PRIMARY KEY,
	actor  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS announces (
	community    TEXT NOT NULL,
	activity_cid TEXT NOT NULL,
	PRIMARY KEY (community, activity_cid)
);
`

func openSocialStore(path string) (*socialStore, error) {
	// The database holds local actors' private keys: owner only. SQLite
	// gives its -wal and -shm files the database file's mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	f.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("protect %s: %w", path, err)
	}
	// The WAL is checkpointed every 8,000 pages (32 MiB) instead of
	// SQLite's 1,000: a checkpoint copies each page once however often
	// commits rewrote it, and the log's hot index pages are rewritten by
	// every commit. HQ ingest spent 21 µs an activity in checkpoints and
	// 11–20 µs less with this (BenchmarkHQIngest, docs/BENCHMARKS.md).
	// journal_size_limit truncates the WAL back after a checkpoint.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)" +
		"&_pragma=wal_autocheckpoint(8000)&_pragma=journal_size_limit(67108864)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// One writer at a time is what SQLite allows anyway; one connection
	// also keeps every read consistent with the last write.
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schema + collectionSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create schema in %s: %w", path, err)
	}
	if err := addLogBodies(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("upgrade %s: %w", path, err)
	}
	if err := dropUniqueVersionCIDs(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("upgrade %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(true)&_pragma=busy_timeout(10000)")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s for reading: %w", path, err)
	}
	// pubsub runs validators on as many goroutines as there are cores;
	// connections open on demand and at most two stay idle (the
	// simulator runs hundreds of nodes in one process).
	read.SetMaxOpenConns(runtime.GOMAXPROCS(0))
	read.SetMaxIdleConns(2)
	return &socialStore{db: db, read: read, stmts: map[string]*sql.Stmt{}, readStmts: map[string]*sql.Stmt{}}, nil
}

// addLogBodies adds the body column to a log_entries table made before
// log entries were kept in SQLite; their bytes stay in the block store,
// where loading them still finds them.
func addLogBodies(db *sql.DB) error {
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pragma_table_info('log_entries') WHERE name = 'body'`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	_, err := db.Exec(`ALTER TABLE log_entries ADD COLUMN body BLOB`)
	return err
}

// dropUniqueVersionCIDs rebuilds a versions table made while activity_cid
// was UNIQUE (SQLite cannot drop a constraint's index), in one
// transaction.
func dropUniqueVersionCIDs(db *sql.DB) error {
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pragma_index_list('versions') WHERE origin = 'u'`).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{
		`CREATE TABLE versions_new ` + versionsColumns,
		`INSERT INTO versions_new (resource_id, version, activity_cid, actor, title, media_cid, url, license, language, derived_from, published, body)
			SELECT resource_id, version, activity_cid, actor, title, media_cid, url, license, language, derived_from, published, body FROM versions`,
		`DROP TABLE versions`,
		`ALTER TABLE versions_new RENAME TO versions`,
		`CREATE INDEX versions_published ON versions (published)`,
	} {
		if _, err := tx.Exec(q); err != nil {
			return fmt.Errorf("rebuild versions without the unique CID: %w", err)
		}
	}
	return tx.Commit()
}

// Close closes the prepared statements and the database.
func (s *socialStore) Close() error {
	s.mu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	for _, st := range s.readStmts {
		st.Close()
	}
	s.stmts, s.readStmts = nil, nil
	s.mu.Unlock()
	return errors.Join(s.read.Close(), s.db.Close())
}

// stmt returns q prepared, preparing it the first time: parsing SQL was a
// tenth of the CPU of ingesting an activity. It waits for the connection,
// so it must not be called inside a transaction (see execIn).
func (s *socialStore) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	return s.prepared(ctx, q, false)
}

// prepared returns q prepared on db, or on the read pool if read.
func (s *socialStore) prepared(ctx context.Context, q string, read bool) (*sql.Stmt, error) {
	db, cache := s.db, func() map[string]*sql.Stmt { return s.stmts }
	if read {
		db, cache = s.read, func() map[string]*sql.Stmt { return s.readStmts }
	}
	s.mu.Lock()
	st, ok := cache()[q]
	closed := cache() == nil
	s.mu.Unlock()
	if ok {
		return st, nil
	}
	if closed {
		return nil, errors.New("the social store is closed")
	}
	st, err := db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := cache()
	if prev, ok := m[q]; ok || m == nil {
		st.Close() // prepared twice at once, or closed meanwhile
		if ok {
			return prev, nil
		}
		return nil, errors.New("the social store is closed")
	}
	m[q] = st
	return st, nil
}

// readRow runs a one-row query on the read pool: it sees the last commit
// and never waits for a transaction in progress. Only for reads that a
// commit racing with them cannot make wrong (the validators').
func (s *socialStore) readRow(ctx context.Context, q string, args ...any) row {
	st, err := s.prepared(ctx, q, true)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// readQuery runs a query on the read pool: it sees the last commit and
// never waits for a transaction in progress.
func (s *socialStore) readQuery(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := s.prepared(ctx, q, true)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// prepareWanted prepares the statements execIn ran unprepared.
func (s *socialStore) prepareWanted(ctx context.Context) {
	s.mu.Lock()
	want := s.want
	s.want = nil
	s.mu.Unlock()
	for _, q := range want {
		_, _ = s.stmt(ctx, q)
	}
}

// row is what QueryRow returns, or the error preparing the query.
type row interface{ Scan(dest ...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// queryRow runs a prepared query expected to return one row.
func (s *socialStore) queryRow(ctx context.Context, q string, args ...any) row {
	st, err := s.stmt(ctx, q)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// query runs a prepared query.
func (s *socialStore) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := s.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// execIn runs q in tx, prepared if it was prepared before. The
// transaction holds the only connection, so a statement seen for the first
// time runs unprepared and is prepared after the commit.
func (s *socialStore) execIn(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	s.mu.Lock()
	st, ok := s.stmts[q]
	if !ok && s.stmts != nil && !slices.Contains(s.want, q) {
		s.want = append(s.want, q)
	}
	s.mu.Unlock()
	if !ok {
		return tx.ExecContext(ctx, q, args...)
	}
	return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}

// LookupBlock serves the log entries kept in log_entries.body to the block
// store, and through it to bitswap, the gateway and CAR export.
func (s *socialStore) LookupBlock(ctx context.Context, c cid.Cid) ([]byte, bool, error) {
	if c.Prefix().Codec != activity.CodecJSON {
		return nil, false, nil // file blocks are never log entries
	}
	var body []byte
	err := s.queryRow(ctx, `SELECT body FROM log_entries WHERE cid = ?`, c.String()).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && body == nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return body, true, nil
}

// strings runs a query whose rows are one text column and returns them.
func (s *socialStore) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// tx runs f in a transaction, committed when f returns nil.
func (s *socialStore) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// Rolled back on an error and on a panic alike: the transaction
	// holds the only writing connection.
	committed := false
	defer func() {
		if !committed {
			tx.Rollback()
		}
	}()
	if err := f(tx); err != nil {
		return err
	}
	committed = true
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.prepareWanted(ctx)
	return nil
}
