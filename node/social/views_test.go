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
	return mustRoomWith(tb, nil)
}

// mustRoomWith is mustRoom over a content store.
func mustRoomWith(tb testing.TB, files social.Files) room {
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
	return room{db: db, views: views, log: log, svc: social.New(log, views, files, nil, "12D3KooWEdQDJR6QSHPaLJjubQmT2wLSCdG7koruHTveU23kc3wK")}
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

// Views made before resources knew their latest version, versions their
// community, and actors their icon gain the columns on open, filled from
// what the other views hold; the second open finds nothing to do.
func TestOlderViewsGainTheirNewColumns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lyceum.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`CREATE TABLE actors (did TEXT PRIMARY KEY, type TEXT NOT NULL, username TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
		summary TEXT NOT NULL DEFAULT '', node TEXT NOT NULL DEFAULT '', seq INTEGER NOT NULL DEFAULT 0);
		CREATE TABLE resources (id TEXT PRIMARY KEY, actor TEXT NOT NULL, community TEXT NOT NULL DEFAULT '', created TEXT NOT NULL);
		CREATE INDEX resources_actor ON resources (actor);
		CREATE TABLE versions (resource_id TEXT NOT NULL, version INTEGER NOT NULL, activity_cid TEXT NOT NULL,
		actor TEXT NOT NULL, title TEXT NOT NULL, media_cid TEXT NOT NULL DEFAULT '', url TEXT NOT NULL DEFAULT '', license TEXT NOT NULL,
		language TEXT NOT NULL, derived_from TEXT NOT NULL DEFAULT '', published TEXT NOT NULL, body BLOB NOT NULL,
		PRIMARY KEY (resource_id, version));
		INSERT INTO actors VALUES ('did:key:z6Mkold', 'Person', 'old', '', '', 'node', 3);
		INSERT INTO resources VALUES ('r1', 'did:key:z6Mkold', 'did:key:z6Mkgroup', '2026-01-01T00:00:00Z');
		INSERT INTO versions VALUES ('r1', 1, 'c1', 'did:key:z6Mkold', 'Fractions', '', 'https://example.org/f', 'CC0-1.0', 'en', '', '2026-01-01T00:00:00Z', x''),
			('r1', 2, 'c2', 'did:key:z6Mkold', 'Fractions 2', '', 'https://example.org/f', 'CC0-1.0', 'en', 'src1 src2', '2026-02-01T00:00:00Z', x'')`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	for range 2 {
		db, err := sqlitedb.Open(path, sqlitedb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := social.OpenViews(db); err != nil {
			t.Fatalf("open older views: %v", err)
		}
		ctx := context.Background()
		var latest int
		var updated, community, icon string
		if err := db.QueryRow(ctx, `SELECT r.latest, r.updated, v.community, a.icon_cid FROM resources r
			JOIN versions v ON v.resource_id = r.id AND v.version = r.latest, actors a`).Scan(&latest, &updated, &community, &icon); err != nil {
			t.Fatal(err)
		}
		sources, _ := db.Strings(ctx, `SELECT source FROM derivations WHERE resource_id = 'r1' AND version = 2 ORDER BY source`)
		oldIndex, _ := db.Count(ctx, `SELECT count(*) FROM pragma_index_list('resources') WHERE name = 'resources_actor'`)
		db.Close()
		if latest != 2 || updated != "2026-02-01T00:00:00Z" || community != "did:key:z6Mkgroup" || icon != "" ||
			!reflect.DeepEqual(sources, []string{"src1", "src2"}) || oldIndex != 0 {
			t.Fatalf("after open: latest %d updated %s community %q icon %q sources %v, old index %d", latest, updated, community, icon, sources, oldIndex)
		}
	}
}
