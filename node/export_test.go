package node

import (
	"database/sql"
	"testing"
)

// OpenDBForTest opens a SQLite file read-only beside the node's own
// connections, for tests that compare whole tables.
func OpenDBForTest(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(true)&_pragma=busy_timeout(10000)")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
