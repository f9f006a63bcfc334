package actorlog_test

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/actorlog"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/nodetest"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// recorder is an Applier that records what it is given.
type recorder struct {
	mu      sync.Mutex
	applied []string // actor/seq
	cleared int
}

func (r *recorder) Apply(_ context.Context, _ *sqlitedb.Tx, es []actorlog.Entry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range es {
		r.applied = append(r.applied, e.CID.String())
	}
	return nil
}

func (r *recorder) Clear(context.Context, *sqlitedb.Tx) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleared++
	r.applied = nil
	return nil
}

// mustLog opens a log in a new database.
func mustLog(tb testing.TB, opts ...actorlog.Option) (*actorlog.Log, *sqlitedb.DB) {
	tb.Helper()
	db, err := sqlitedb.Open(filepath.Join(tb.TempDir(), "lyceum.db"), sqlitedb.Options{ReadConns: 2})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	l, err := actorlog.New(db, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return l, db
}

func mustLocal(tb testing.TB, l *actorlog.Log, name string) string {
	tb.Helper()
	key, _ := activity.GenerateKey()
	did := activity.DIDKey(key.Public().(ed25519.PublicKey))
	if _, err := l.CreateLocal(context.Background(), key, &activity.Actor{ID: did, Type: activity.Person, PreferredUsername: name, Node: nodetest.RemoteNode}); err != nil {
		tb.Fatal(err)
	}
	return did
}

func TestStoreIsIdempotentAndGivesGrowingCursors(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	l, _ := mustLog(t, actorlog.WithApplier(rec))
	log := nodetest.SignedLog(t, 5)
	stored, err := l.Store(ctx, log[:3])
	if err != nil || len(stored) != 3 {
		t.Fatalf("stored %d (%v)", len(stored), err)
	}
	again, err := l.Store(ctx, log)
	if err != nil || len(again) != 2 || again[0].CID != log[3].CID {
		t.Fatalf("storing again gave %d new entries (%v), want the last 2", len(again), err)
	}
	all := append(stored, again...)
	for i := 1; i < len(all); i++ {
		if all[i].Cursor <= all[i-1].Cursor {
			t.Fatalf("cursors %d then %d", all[i-1].Cursor, all[i].Cursor)
		}
	}
	if len(rec.applied) != 5 {
		t.Fatalf("the applier saw %d entries, want each once", len(rec.applied))
	}
	if k, err := l.Contiguous(ctx, log[0].Act.Actor); err != nil || k != 5 {
		t.Fatalf("contiguous %d (%v)", k, err)
	}
	e, err := l.Get(ctx, log[2].CID)
	if err != nil || e.Act.Seq != 3 || e.Local {
		t.Fatalf("get: %+v %v", e, err)
	}
	if _, err := l.Get(ctx, cid.MustParse("bafkqaaa")); api.KindOf(err) != api.KindNotFound {
		t.Fatalf("get of an unknown CID: %v", err)
	}
}

func TestAppendNumbersSignsAndChainsEntries(t *testing.T) {
	ctx := context.Background()
	l, _ := mustLog(t)
	did := mustLocal(t, l, "ada")
	var prev string
	for i := range 3 {
		e, err := l.Append(ctx, did, &activity.Activity{Type: activity.TypeLike, Object: activity.Object{Ref: "bafkreihodxmdpyba3sno7hecojcxqyiwmn546pmz3uz55txpwgbgrvnhr4"}})
		if err != nil {
			t.Fatal(err)
		}
		_, prevCID, _ := l.Head(ctx, did)
		if e.Act.Seq != uint64(i+2) || !e.Local || prevCID != e.CID.String() {
			t.Fatalf("append %d: seq %d local %v", i, e.Act.Seq, e.Local)
		}
		if i > 0 && e.Act.Prev != prev {
			t.Fatalf("prev %s, want %s", e.Act.Prev, prev)
		}
		if err := activity.Verify(e.Act); err != nil {
			t.Fatal(err)
		}
		prev = e.CID.String()
	}
	if _, err := l.Append(ctx, "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", &activity.Activity{Type: activity.TypeLike}); api.KindOf(err) != api.KindInvalid {
		t.Fatalf("append as someone else: %v", err)
	}
}

// A local actor is created with its first entry, or not at all.
func TestCreateLocalIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	l, _ := mustLog(t)
	mustLocal(t, l, "ada")
	key, _ := activity.GenerateKey()
	did := activity.DIDKey(key.Public().(ed25519.PublicKey))
	if _, err := l.CreateLocal(ctx, key, &activity.Actor{ID: did, Type: activity.Person, PreferredUsername: "ada", Node: nodetest.RemoteNode}); api.KindOf(err) != api.KindConflict {
		t.Fatalf("a taken username: %v", err)
	}
	if head, _, _ := l.Head(ctx, did); head != 0 || l.IsLocal(ctx, did) {
		t.Fatalf("the refused actor left a log of %d or a key", head)
	}
	bad := &activity.Actor{ID: did, Type: activity.Person, PreferredUsername: "bea", Node: "not a peer", Name: string(make([]byte, 100_000))}
	if _, err := l.CreateLocal(ctx, key, bad); err == nil {
		t.Fatal("an invalid profile was signed")
	}
	if l.IsLocal(ctx, did) {
		t.Fatal("a key was kept for a profile that failed")
	}
}

// Tail hands over what was stored after a cursor, then each new entry as
// it is stored, in order, with local entries marked.
func TestTailFollowsTheLogFromACursor(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l, _ := mustLog(t)
	start, _ := l.LastCursor(ctx)
	ada := mustLocal(t, l, "ada")
	remote := nodetest.SignedLog(t, 3)
	if _, err := l.Store(ctx, remote[:2]); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []actorlog.Entry
	done := make(chan error, 1)
	go func() {
		done <- l.Tail(ctx, start, actorlog.TailOptions{Batch: 2}, func(es []actorlog.Entry) error {
			if len(es) > 2 {
				t.Errorf("a batch of %d", len(es))
			}
			mu.Lock()
			got = append(got, es...)
			mu.Unlock()
			return nil
		})
	}()
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(got)
	}
	nodetest.WaitFor(t, "the stored entries", 5*time.Second, func() bool { return count() == 3 })
	if _, err := l.Store(ctx, remote[2:]); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitFor(t, "the new entry", 5*time.Second, func() bool { return count() == 4 })
	mu.Lock()
	if got[0].Act.Actor != ada || !got[0].Local || got[1].Local || got[3].CID != remote[2].CID {
		t.Errorf("entries: %v local %v, %v", got[0].Act.Actor, got[0].Local, got[3].CID)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Cursor != got[i-1].Cursor+1 {
			t.Errorf("cursor %d after %d", got[i].Cursor, got[i-1].Cursor)
		}
	}
	mu.Unlock()
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("tail ended with %v", err)
	}
	// A tail further behind than the entries kept in memory reads the
	// database, with the same result.
	es, err := l.After(context.Background(), start, 10)
	if err != nil || len(es) != 4 || es[3].CID != remote[2].CID || !es[0].Local {
		t.Fatalf("after: %d entries (%v)", len(es), err)
	}
}

// A rebuild clears the derived state and applies every entry again,
// each actor's in seq order, whatever the order they were stored in: an
// Undo must come after what it undoes.
func TestRebuildAppliesEachLogInSeqOrder(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	l, _ := mustLog(t, actorlog.WithApplier(rec))
	a, b := nodetest.SignedLog(t, 4), nodetest.SignedLog(t, 3)
	for _, e := range []actorlog.Entry{a[3], b[0], a[1], b[2], a[0], a[2], b[1]} {
		if _, err := l.Store(ctx, []actorlog.Entry{e}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := l.Rebuild(ctx)
	if err != nil || n != 7 || rec.cleared != 1 {
		t.Fatalf("rebuilt %d (%v), cleared %d", n, err, rec.cleared)
	}
	pos := func(e actorlog.Entry) int { return slices.Index(rec.applied, e.CID.String()) }
	for _, log := range [][]actorlog.Entry{a, b} {
		for i := 1; i < len(log); i++ {
			if pos(log[i]) < pos(log[i-1]) {
				t.Fatalf("seq %d applied before seq %d", log[i].Act.Seq, log[i-1].Act.Seq)
			}
		}
	}
}

// Reads on the read pool answer while a store holds the writing
// connection, and see the store once it committed: the gossip validators
// never wait for the ingest loop.
func TestReadPoolDoesNotWaitForAStore(t *testing.T) {
	ctx := context.Background()
	l, db := mustLog(t)
	log := nodetest.SignedLog(t, 1)
	inTx, release, txDone := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		txDone <- db.Tx(ctx, func(*sqlitedb.Tx) error {
			close(inTx)
			<-release
			return nil
		})
	}()
	<-inTx
	answered := make(chan bool, 1)
	go func() {
		have, _, _ := l.Has(ctx, log[0].Act, log[0].CID, true)
		answered <- have
	}()
	select {
	case have := <-answered:
		if have {
			t.Error("an entry never stored is had")
		}
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("a read on the pool waited for the open transaction")
	}
	close(release)
	if err := <-txDone; err != nil {
		t.Fatal(err)
	}
	if _, err := l.Store(ctx, log); err != nil {
		t.Fatal(err)
	}
	if have, _, _ := l.Has(ctx, log[0].Act, log[0].CID, true); !have {
		t.Error("the read pool did not see the commit")
	}
}

// A database made before log entries moved into SQLite gets the body
// column on open, and its old rows (bytes in the block store) still read
// as absent from the source, not as errors.
func TestOldLogTableGetsTheBodyColumn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lyceum.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`CREATE TABLE log_entries (actor TEXT NOT NULL, seq INTEGER NOT NULL, cid TEXT NOT NULL UNIQUE,
		type TEXT NOT NULL, published TEXT NOT NULL, PRIMARY KEY (actor, seq));
		INSERT INTO log_entries VALUES ('did:key:z6Mkold', 1, 'bagaaierasords4njcts6vs7qvdjfcvgnume4hqohf65zsfguprqphs3icwea', 'Create', '2026-01-01T00:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	db, err := sqlitedb.Open(path, sqlitedb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l, err := actorlog.New(db)
	if err != nil {
		t.Fatalf("open an old database: %v", err)
	}
	c := cid.MustParse("bagaaierasords4njcts6vs7qvdjfcvgnume4hqohf65zsfguprqphs3icwea")
	if _, ok, err := l.LookupBlock(context.Background(), c); ok || err != nil {
		t.Fatalf("LookupBlock of an old row = %v, %v; want absent, no error", ok, err)
	}
}
