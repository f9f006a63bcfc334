package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite", pure Go
)

// Options tune Open. The zero value is right for a small store.
type Options struct {
	// Schema is run at every open: CREATE … IF NOT EXISTS statements.
	Schema string
	// Migrate, if set, runs after Schema, to upgrade files made by older
	// versions.
	Migrate func(*sql.DB) error
	// ReadConns is the size of the pool of query-only connections (0:
	// reads go to the writing connection). At most two stay idle.
	ReadConns int
	// CheckpointPages is SQLite's wal_autocheckpoint; 0 = SQLite's 1000.
	CheckpointPages int
	// JournalSizeLimit truncates the WAL back to this many bytes after a
	// checkpoint; 0 = no limit.
	JournalSizeLimit int64
}

// DB is an open SQLite database.
type DB struct {
	path string
	w    *sql.DB // the one writing connection
	r    *sql.DB // query-only pool; w when there is none

	mu    sync.Mutex
	stmts map[string]*sql.Stmt // on w, prepared once
	reads map[string]*sql.Stmt // on r
	want  []string             // statements Tx.Exec met, to prepare after the commit
}

// ErrClosed reports a use of a closed database.
var ErrClosed = errors.New("sqlitedb: closed")

// Open opens (creating if need be) the database at path, owner-only, with
// the package's pragmas, and runs o.Schema and o.Migrate.
func Open(path string, o Options) (*DB, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	f.Close()
	// A file made by an older version may be readable by others. SQLite
	// gives its -wal and -shm files the database file's mode.
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("protect %s: %w", path, err)
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)"
	if o.CheckpointPages > 0 {
		dsn += "&_pragma=wal_autocheckpoint(" + strconv.Itoa(o.CheckpointPages) + ")"
	}
	if o.JournalSizeLimit > 0 {
		dsn += "&_pragma=journal_size_limit(" + strconv.FormatInt(o.JournalSizeLimit, 10) + ")"
	}
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	db := &DB{path: path, w: w, r: w, stmts: map[string]*sql.Stmt{}, reads: map[string]*sql.Stmt{}}
	if o.Schema != "" {
		if _, err := w.Exec(o.Schema); err != nil {
			w.Close()
			return nil, fmt.Errorf("create the schema of %s: %w", path, err)
		}
	}
	if o.Migrate != nil {
		if err := o.Migrate(w); err != nil {
			w.Close()
			return nil, fmt.Errorf("upgrade %s: %w", path, err)
		}
	}
	if o.ReadConns > 0 {
		r, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(true)&_pragma=busy_timeout(10000)")
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("open %s for reading: %w", path, err)
		}
		r.SetMaxOpenConns(o.ReadConns)
		r.SetMaxIdleConns(min(o.ReadConns, 2))
		db.r = r
	}
	return db, nil
}

// Path is the database's file.
func (db *DB) Path() string { return db.path }

// SQL is the writing connection, for what the helpers do not cover
// (migrations, bulk reads in tests).
func (db *DB) SQL() *sql.DB { return db.w }

// Close closes the prepared statements and the connections.
func (db *DB) Close() error {
	db.mu.Lock()
	for _, st := range db.stmts {
		st.Close()
	}
	for _, st := range db.reads {
		st.Close()
	}
	db.stmts, db.reads = nil, nil
	db.mu.Unlock()
	var errs []error
	if db.r != db.w {
		errs = append(errs, db.r.Close())
	}
	return errors.Join(append(errs, db.w.Close())...)
}

// prepared returns q prepared on the writer, or on the read pool if read,
// preparing it the first time: parsing SQL was a tenth of the CPU of an
// HQ's ingest. It waits for the connection, so it must not be called on
// the writer inside a transaction (see Tx.Exec).
func (db *DB) prepared(ctx context.Context, q string, read bool) (*sql.Stmt, error) {
	conn, cache := db.w, func() map[string]*sql.Stmt { return db.stmts }
	if read {
		conn, cache = db.r, func() map[string]*sql.Stmt { return db.reads }
	}
	db.mu.Lock()
	st, ok := cache()[q]
	closed := cache() == nil
	db.mu.Unlock()
	if ok {
		return st, nil
	}
	if closed {
		return nil, ErrClosed
	}
	st, err := conn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	m := cache()
	if prev, ok := m[q]; ok || m == nil {
		st.Close() // prepared twice at once, or closed meanwhile
		if ok {
			return prev, nil
		}
		return nil, ErrClosed
	}
	m[q] = st
	return st, nil
}

// Row is what QueryRow returns, or the error preparing the query.
type Row interface{ Scan(dest ...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// QueryRow runs a prepared query expected to return one row, on the
// writing connection: it sees every commit, and waits for a transaction in
// progress.
func (db *DB) QueryRow(ctx context.Context, q string, args ...any) Row {
	st, err := db.prepared(ctx, q, false)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// Query runs a prepared query on the writing connection.
func (db *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := db.prepared(ctx, q, false)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// Exec runs a prepared statement on the writing connection, in a
// transaction of its own.
func (db *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := db.prepared(ctx, q, false)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// ReadRow runs a one-row query on the read pool: it sees the last commit
// and never waits for a transaction in progress. Only for reads that a
// commit racing with them cannot make wrong.
func (db *DB) ReadRow(ctx context.Context, q string, args ...any) Row {
	st, err := db.prepared(ctx, q, true)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// ReadQuery runs a query on the read pool.
func (db *DB) ReadQuery(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := db.prepared(ctx, q, true)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// Strings runs a query whose rows are one text column and returns them ([]
// for none).
func (db *DB) Strings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return Scan(rows, func(rows *sql.Rows) (string, error) {
		var s string
		return s, rows.Scan(&s)
	})
}

// Scan reads every row with scan and closes rows; it returns [] rather
// than nil for no rows.
func Scan[T any](rows *sql.Rows, scan func(*sql.Rows) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Tx is a transaction on the writing connection.
type Tx struct {
	*sql.Tx
	db *DB
}

// Exec runs q in the transaction, prepared if it was prepared before. The
// transaction holds the only writing connection, so a statement seen for
// the first time runs unprepared and is prepared after the commit.
func (tx *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	db := tx.db
	db.mu.Lock()
	st, ok := db.stmts[q]
	if !ok && db.stmts != nil && !slices.Contains(db.want, q) {
		db.want = append(db.want, q)
	}
	db.mu.Unlock()
	if !ok {
		return tx.Tx.ExecContext(ctx, q, args...)
	}
	return tx.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}

// Tx runs f in a transaction, committed when f returns nil and rolled back
// when it returns an error or panics (the transaction holds the only
// writing connection).
func (db *DB) Tx(ctx context.Context, f func(*Tx) error) error {
	t, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			t.Rollback()
		}
	}()
	if err := f(&Tx{Tx: t, db: db}); err != nil {
		return err
	}
	committed = true
	if err := t.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	db.prepareWanted(ctx)
	return nil
}

// prepareWanted prepares the statements Tx.Exec ran unprepared.
func (db *DB) prepareWanted(ctx context.Context) {
	db.mu.Lock()
	want := db.want
	db.want = nil
	db.mu.Unlock()
	for _, q := range want {
		_, _ = db.prepared(ctx, q, false)
	}
}

// Count runs a query whose one row is one integer.
func (db *DB) Count(ctx context.Context, q string, args ...any) (int, error) {
	var n int
	err := db.QueryRow(ctx, q, args...).Scan(&n)
	return n, err
}
