package social

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/actorlog"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// Views are the social state derived from the logs: actors' profiles,
// resources and their versions, follows, likes, deletions, community
// announcements and collections. They are kept in step with the log by
// Apply, inside the transaction that stores each entry, and can be
// dropped and rebuilt from the log at any time (actorlog.Log.Rebuild):
// they hold nothing that is not in some actor's log.
type Views struct {
	db *sqlitedb.DB
}

var _ actorlog.Applier = (*Views)(nil)

// viewTables are the derived tables, cleared by a rebuild.
var viewTables = []string{"actors", "resources", "versions", "follows", "likes", "deletions", "announces", "collections", "collection_items"}

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

const viewsSchema = `
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
` + collectionSchema

// OpenViews creates the view tables in db (lyceum.db, beside the log) and
// upgrades those of older repos.
func OpenViews(db *sqlitedb.DB) (*Views, error) {
	if _, err := db.SQL().Exec(viewsSchema); err != nil {
		return nil, fmt.Errorf("create the views: %w", err)
	}
	if err := dropUniqueVersionCIDs(db.SQL()); err != nil {
		return nil, fmt.Errorf("upgrade the views: %w", err)
	}
	return &Views{db: db}, nil
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

// Clear empties every view, for a rebuild.
func (v *Views) Clear(ctx context.Context, tx *sqlitedb.Tx) error {
	for _, t := range viewTables {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return fmt.Errorf("clear %s: %w", t, err)
		}
	}
	return nil
}

// Apply updates the views for entries just stored, then moves each
// actor's known seq forward once (an HQ's batch holds a few entries of
// each of many actors).
func (v *Views) Apply(ctx context.Context, tx *sqlitedb.Tx, es []actorlog.Entry) error {
	top := map[string]uint64{}
	for _, e := range es {
		if err := applyEntry(ctx, tx, e); err != nil {
			return err
		}
		top[e.Act.Actor] = max(top[e.Act.Actor], e.Act.Seq)
	}
	for did, seq := range top {
		if _, err := tx.Exec(ctx, `UPDATE actors SET seq = max(seq, ?) WHERE did = ?`, seq, did); err != nil {
			return fmt.Errorf("advance the seq of %s: %w", did, err)
		}
	}
	return nil
}

// applyEntry updates the views for one activity. It depends only on the
// activity itself, never on what arrived before it, except that an Undo
// follows the activity it undoes in the same actor's log; that is what
// makes a rebuild from the logs give the same state.
func applyEntry(ctx context.Context, tx *sqlitedb.Tx, e actorlog.Entry) error {
	a := e.Act
	exec := func(q string, args ...any) error {
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("apply %s %s: %w", a.Type, e.CID, err)
		}
		return nil
	}
	if ok, err := applyCollection(ctx, tx, e); ok || err != nil {
		return err
	}
	switch a.Type {
	case activity.TypeCreate, activity.TypeUpdate:
		switch {
		case a.Object.Actor != nil:
			p := a.Object.Actor
			if p.ID != a.Actor {
				return nil // only an actor describes itself
			}
			return exec(`INSERT INTO actors (did, type, username, name, summary, node, seq) VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (did) DO UPDATE SET type = excluded.type, username = excluded.username, name = excluded.name,
				summary = excluded.summary, node = excluded.node, seq = max(actors.seq, excluded.seq)`,
				p.ID, string(p.Type), p.PreferredUsername, p.Name, p.Summary, p.Node, a.Seq)
		case a.Object.Resource != nil:
			r := a.Object.Resource
			id := r.ID
			if a.Type == activity.TypeCreate {
				id = e.CID.String()
			}
			if err := exec(`INSERT OR IGNORE INTO resources (id, actor, community, created) VALUES (?, ?, ?, ?)`,
				id, a.Actor, a.Community(), a.Published.UTC().Format(time.RFC3339Nano)); err != nil {
				return err
			}
			return exec(`INSERT OR IGNORE INTO versions (resource_id, version, activity_cid, actor, title, media_cid, url, license, language, derived_from, published, body)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, x'')`,
				id, r.Version, e.CID.String(), a.Actor, r.Title, r.Media.CID, r.Media.URL, r.License, r.Language,
				strings.Join(r.DerivedFrom, " "), a.Published.UTC().Format(time.RFC3339Nano))
		}
	case activity.TypeDelete:
		target := a.Object.Ref
		if a.Object.Tombstone != nil {
			target = a.Object.Tombstone.ID
		}
		return exec(`INSERT OR IGNORE INTO deletions (object, actor) VALUES (?, ?)`, target, a.Actor)
	case activity.TypeFollow:
		return exec(`INSERT OR REPLACE INTO follows (follower, followee, activity_cid) VALUES (?, ?, ?)`, a.Actor, a.Object.Ref, e.CID.String())
	case activity.TypeLike:
		return exec(`INSERT OR REPLACE INTO likes (actor, object, activity_cid) VALUES (?, ?, ?)`, a.Actor, a.Object.Ref, e.CID.String())
	case activity.TypeAnnounce:
		return exec(`INSERT OR IGNORE INTO announces (community, activity_cid) VALUES (?, ?)`, a.Actor, a.Object.Ref)
	case activity.TypeUndo:
		// An Undo names the Follow or Like it takes back by CID; both are
		// earlier in the same actor's log.
		if err := exec(`DELETE FROM follows WHERE follower = ? AND activity_cid = ?`, a.Actor, a.Object.Ref); err != nil {
			return err
		}
		return exec(`DELETE FROM likes WHERE actor = ? AND activity_cid = ?`, a.Actor, a.Object.Ref)
	}
	return nil
}
