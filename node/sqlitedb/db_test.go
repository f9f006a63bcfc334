package sqlitedb

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestOpenMakesTheFileOwnerOnlyEvenIfItExisted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, Options{Schema: `CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY)`})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	for _, pragma := range []struct {
		name, want string
	}{{"journal_mode", "wal"}, {"synchronous", "2"}, {"foreign_keys", "1"}} {
		var got string
		if err := db.QueryRow(context.Background(), "PRAGMA "+pragma.name).Scan(&got); err != nil || got != pragma.want {
			t.Errorf("%s = %q (%v), want %q", pragma.name, got, err, pragma.want)
		}
	}
}

func TestTxRollsBackOnErrorAndPanic(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "x.db"), Options{Schema: `CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY)`, ReadConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	boom := errors.New("boom")
	if err := db.Tx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO t VALUES ('a')`); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	func() {
		defer func() { _ = recover() }()
		_ = db.Tx(ctx, func(tx *Tx) error {
			_, _ = tx.Exec(ctx, `INSERT INTO t VALUES ('b')`)
			panic("boom")
		})
	}()
	// The connection is free again, and nothing was written.
	if err := db.Tx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO t VALUES ('c')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	keys, err := db.Strings(ctx, `SELECT k FROM t ORDER BY k`)
	if err != nil || len(keys) != 1 || keys[0] != "c" {
		t.Fatalf("keys %v (%v), want [c]", keys, err)
	}
	var n int
	if err := db.ReadRow(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the read pool sees %d rows (%v)", n, err)
	}
}

func TestStringsIsEmptyNotNil(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "x.db"), Options{Schema: `CREATE TABLE IF NOT EXISTS t (k TEXT)`})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Strings(context.Background(), `SELECT k FROM t`)
	if err != nil || got == nil {
		t.Fatalf("%#v, %v", got, err)
	}
}

// The writing connection keeps the settings Options asked for, also after
// the pool opens a new connection.
func TestConnectionSettingsHoldOnEveryConnection(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "x.db"), Options{CheckpointPages: 8000, JournalSizeLimit: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for range 2 {
		for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "wal_autocheckpoint": "8000", "journal_size_limit": "67108864", "foreign_keys": "1"} {
			var got string
			if err := db.SQL().QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
			}
		}
		// Drop the pool's connection, so that the next query opens one.
		db.SQL().SetMaxIdleConns(0)
		db.SQL().SetMaxIdleConns(1)
	}
}
