package node

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
)

// oldDatabase makes a lyceum.db holding what statements create, as an
// older version left it, and returns its path.
func oldDatabase(t *testing.T, statements string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lyceum.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if _, err := old.Exec(statements); err != nil {
		t.Fatal(err)
	}
	return path
}

// A database made before log entries moved into SQLite gets the body
// column on open, and its old rows (bytes in the block store) still read
// as absent from the source, not as errors.
func TestOldLogTableGetsTheBodyColumn(t *testing.T) {
	path := oldDatabase(t, `CREATE TABLE log_entries (actor TEXT NOT NULL, seq INTEGER NOT NULL, cid TEXT NOT NULL UNIQUE,
		type TEXT NOT NULL, published TEXT NOT NULL, PRIMARY KEY (actor, seq));
		INSERT INTO log_entries VALUES ('did:key:z6Mkold', 1, 'bagaaierasords4njcts6vs7qvdjfcvgnume4hqohf65zsfguprqphs3icwea', 'Create', '2026-01-01T00:00:00Z')`)
	s, err := openSocialStore(path)
	if err != nil {
		t.Fatalf("open an old database: %v", err)
	}
	defer s.Close()
	c, err := cid.Decode("bagaaierasords4njcts6vs7qvdjfcvgnume4hqohf65zsfguprqphs3icwea")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.LookupBlock(context.Background(), c); ok || err != nil {
		t.Fatalf("LookupBlock of an old row = %v, %v; want absent, no error", ok, err)
	}
}

// A versions table made while activity_cid was UNIQUE is rebuilt without
// the constraint on open, keeping its rows and its index by date.
func TestOldVersionsTableLosesTheUniqueCID(t *testing.T) {
	path := oldDatabase(t, `CREATE TABLE versions (resource_id TEXT NOT NULL, version INTEGER NOT NULL, activity_cid TEXT NOT NULL UNIQUE,
		actor TEXT NOT NULL, title TEXT NOT NULL, media_cid TEXT NOT NULL DEFAULT '', url TEXT NOT NULL DEFAULT '', license TEXT NOT NULL,
		language TEXT NOT NULL, derived_from TEXT NOT NULL DEFAULT '', published TEXT NOT NULL, body BLOB NOT NULL,
		PRIMARY KEY (resource_id, version));
		CREATE INDEX versions_published ON versions (published);
		INSERT INTO versions VALUES ('r1', 1, 'c1', 'did:key:z6Mkold', 'Fractions', '', 'https://example.org/f', 'CC0-1.0', 'en', '', '2026-01-01T00:00:00Z', x'')`)
	for range 2 { // the second open finds nothing to do
		s, err := openSocialStore(path)
		if err != nil {
			t.Fatalf("open an old database: %v", err)
		}
		var unique, byDate int
		var title string
		if err := s.db.QueryRow(`SELECT count(*) FROM pragma_index_list('versions') WHERE origin = 'u'`).Scan(&unique); err != nil {
			t.Fatal(err)
		}
		if err := s.db.QueryRow(`SELECT count(*) FROM pragma_index_list('versions') WHERE name = 'versions_published'`).Scan(&byDate); err != nil {
			t.Fatal(err)
		}
		if err := s.db.QueryRow(`SELECT title FROM versions WHERE resource_id = 'r1' AND version = 1`).Scan(&title); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if unique != 0 || byDate != 1 || title != "Fractions" {
			t.Fatalf("after open: %d unique indexes, %d by date, title %q", unique, byDate, title)
		}
	}
}

// A published entry is served from SQLite, to the node itself and to a
// follower over bitswap, and survives a restart.
func TestLogEntriesAreServedFromTheSocialStore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a := mustSocialNode(t)
	p := mustPerson(t, a, "ada")
	pub := mustPublish(t, a, p.DID, "Fractions worksheet")
	c, err := cid.Decode(pub.ActivityCID)
	if err != nil {
		t.Fatal(err)
	}
	body, ok, err := a.db.LookupBlock(ctx, c)
	if err != nil || !ok {
		t.Fatalf("the entry is not in the social store: %v, %v", ok, err)
	}
	got, err := a.content.GetBlock(ctx, c)
	if err != nil || string(got) != string(body) {
		t.Fatalf("GetBlock = %d bytes, %v; want the stored entry", len(got), err)
	}
	b := mustSocialNode(t, a.ID().Addrs[0])
	got, err = b.content.GetBlock(ctx, c)
	if err != nil || string(got) != string(body) {
		t.Fatalf("GetBlock over bitswap = %d bytes, %v; want the entry", len(got), err)
	}
}

// The gossip validator reads on the read pool: it answers while the
// ingest loop's transaction holds the writing connection, and it sees
// what that transaction committed once it has.
func TestValidatorDoesNotWaitForTheIngestTransaction(t *testing.T) {
	hq := mustHQ(t)
	ctx := context.Background()
	msgs := signedActivities(t, 1, 2)
	first, err := verifyBlock(msgs[0])
	if err != nil {
		t.Fatal(err)
	}
	inTx := make(chan struct{})
	release := make(chan struct{})
	txDone := make(chan error, 1)
	go func() {
		txDone <- hq.db.tx(ctx, func(tx *sql.Tx) error {
			close(inTx)
			<-release
			return nil
		})
	}()
	<-inTx
	verdicts := make(chan int, 1)
	go func() {
		v, _ := hq.validate(ctx, "peer", TopicIndex, msgs[0])
		verdicts <- int(v)
	}()
	select {
	case v := <-verdicts:
		if v != 0 {
			t.Errorf("verdict %d for a new activity, want accept", v)
		}
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("the validator waited for the open transaction")
	}
	close(release)
	if err := <-txDone; err != nil {
		t.Fatal(err)
	}
	if err := hq.storeEntries(ctx, []entry{first}); err != nil {
		t.Fatal(err)
	}
	if v, _ := hq.validate(ctx, "peer", TopicIndex, msgs[0]); v == 0 {
		t.Error("a stored activity was accepted again: the read pool did not see the commit")
	}
}

// The writing connection runs with the settings that make commits durable
// and checkpoints rare (see openSocialStore), also after the pool opens a
// new connection.
func TestSocialStoreConnectionSettings(t *testing.T) {
	s, err := openSocialStore(filepath.Join(t.TempDir(), "lyceum.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 2 {
		for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "wal_autocheckpoint": "8000", "journal_size_limit": "67108864"} {
			var got string
			if err := s.db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
			}
		}
		// Drop the pool's connection, so that the next query opens one.
		s.db.SetMaxIdleConns(0)
		s.db.SetMaxIdleConns(1)
	}
}
