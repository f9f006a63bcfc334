// Package sqlitedb is the one way the node and its surfaces open and use
// SQLite: every store (the log and views in lyceum.db, the fediverse
// bridge, the delivery queue, and the owned state to come) opens its file
// with the same pragmas and file mode, runs its transactions the same way
// and reuses prepared statements.
//
// A database is opened owner-only (0600, fixed on an existing file too:
// some hold private keys), in WAL mode with synchronous=FULL commits (what
// a commit acknowledges survives a power cut), foreign keys on, and one
// writing connection: SQLite allows one writer anyway, and one connection
// keeps every write-then-read consistent. An optional pool of query-only
// connections serves reads that must not wait for a transaction in
// progress.
package sqlitedb
