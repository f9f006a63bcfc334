package social_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/lyceum-oer/lyceum/node/actorlog"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/social"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// room is the social room over its own log, offline: links only.
type room struct {
	db    *sqlitedb.DB
	views *social.Views
	log   *actorlog.Log
	svc   *social.Service
}

func mustRoom(tb testing.TB) room {
	tb.Helper()
	db, err := sqlitedb.Open(filepath.Join(tb.TempDir(), "lyceum.db"), sqlitedb.Options{ReadConns: 2})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	views, err := social.OpenViews(db)
	if err != nil {
		tb.Fatal(err)
	}
	log, err := actorlog.New(db, actorlog.WithApplier(views))
	if err != nil {
		tb.Fatal(err)
	}
	return room{db: db, views: views, log: log, svc: social.New(log, views, nil, nil, "12D3KooWEdQDJR6QSHPaLJjubQmT2wLSCdG7koruHTveU23kc3wK")}
}

func (r room) link(tb testing.TB, title string) api.Published {
	tb.Helper()
	p, err := r.svc.Publish(context.Background(), api.PublishRequest{URL: "https://example.org/" + title, Title: title, License: "CC0-1.0", Language: "en"})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func itemIDs(v api.CollectionView) []string {
	var out []string
	for _, it := range v.Entries {
		out = append(out, it.ResourceID)
	}
	return out
}

// The views do not depend on the order activities arrive in: applying an
// owner's log backwards gives what applying it forwards gives.
func TestCollectionViewsIgnoreArrivalOrder(t *testing.T) {
	ctx := context.Background()
	r := mustRoom(t)
	alice, err := r.svc.CreateActor(ctx, api.CreateActorRequest{Username: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	a, b := r.link(t, "Fractions"), r.link(t, "Decimals")
	col, err := r.svc.CreateCollection(ctx, api.CollectionRequest{Title: "List"})
	if err != nil {
		t.Fatal(err)
	}
	item := func(id string) api.CollectionItemRequest { return api.CollectionItemRequest{Resource: id} }
	r.svc.AddToCollection(ctx, col.ID, item(a.ID))
	r.svc.AddToCollection(ctx, col.ID, item(b.ID))
	r.svc.RemoveFromCollection(ctx, col.ID, item(a.ID))
	r.svc.UpdateCollection(ctx, col.ID, api.CollectionRequest{Title: "List 2"})
	r.svc.AddToCollection(ctx, col.ID, item(a.ID))
	want, _ := r.svc.ShowCollection(ctx, col.ID)
	es, err := r.log.After(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var backwards []actorlog.Entry
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].Act.Actor == alice.DID {
			backwards = append(backwards, es[i])
		}
	}
	if err := r.db.Tx(ctx, func(tx *sqlitedb.Tx) error {
		if err := r.views.Clear(ctx, tx); err != nil {
			return err
		}
		for _, e := range backwards {
			if err := r.views.Apply(ctx, tx, []actorlog.Entry{e}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got, _ := r.svc.ShowCollection(ctx, col.ID)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("backwards %+v\nforwards %+v", got, want)
	}
	if got.Title != "List 2" || !reflect.DeepEqual(itemIDs(got), []string{b.ID, a.ID}) {
		t.Fatalf("view %+v", got)
	}
}

// A versions table made while activity_cid was UNIQUE is rebuilt without
// the constraint on open, keeping its rows and its index by date.
func TestOldVersionsTableLosesTheUniqueCID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lyceum.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`CREATE TABLE versions (resource_id TEXT NOT NULL, version INTEGER NOT NULL, activity_cid TEXT NOT NULL UNIQUE,
		actor TEXT NOT NULL, title TEXT NOT NULL, media_cid TEXT NOT NULL DEFAULT '', url TEXT NOT NULL DEFAULT '', license TEXT NOT NULL,
		language TEXT NOT NULL, derived_from TEXT NOT NULL DEFAULT '', published TEXT NOT NULL, body BLOB NOT NULL,
		PRIMARY KEY (resource_id, version));
		CREATE INDEX versions_published ON versions (published);
		INSERT INTO versions VALUES ('r1', 1, 'c1', 'did:key:z6Mkold', 'Fractions', '', 'https://example.org/f', 'CC0-1.0', 'en', '', '2026-01-01T00:00:00Z', x'')`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	for range 2 { // the second open finds nothing to do
		db, err := sqlitedb.Open(path, sqlitedb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := social.OpenViews(db); err != nil {
			t.Fatalf("open an old database: %v", err)
		}
		ctx := context.Background()
		unique, _ := db.Count(ctx, `SELECT count(*) FROM pragma_index_list('versions') WHERE origin = 'u'`)
		byDate, _ := db.Count(ctx, `SELECT count(*) FROM pragma_index_list('versions') WHERE name = 'versions_published'`)
		var title string
		if err := db.QueryRow(ctx, `SELECT title FROM versions WHERE resource_id = 'r1' AND version = 1`).Scan(&title); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if unique != 0 || byDate != 1 || title != "Fractions" {
			t.Fatalf("after open: %d unique indexes, %d by date, title %q", unique, byDate, title)
		}
	}
}
