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
// resources and their versions, what they were derived from, follows,
// likes, comments, deletions, community announcements and collections.
// They are kept in step with the log by Apply, inside the transaction
// that stores each entry, and can be dropped and rebuilt from the log at
// any time (actorlog.Log.Rebuild): they hold nothing that is not in some
// actor's log.
type Views struct {
	db *sqlitedb.DB
}

var _ actorlog.Applier = (*Views)(nil)

// viewTables are the derived tables, cleared by a rebuild.
var viewTables = []string{"actors", "resources", "versions", "follows", "likes", "deletions", "announces", "derivations", "comments", "collections", "collection_items"}

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
	-- published is a sortableTime (an RFC3339Nano in older repos).
	published    TEXT NOT NULL,
	-- community is the one the version is posted in ('' for none).
	community    TEXT NOT NULL DEFAULT '',
	-- body is empty: the activity is log_entries.body. Repos made before
	-- log entries moved into lyceum.db have it here too.
	body         BLOB NOT NULL,
	PRIMARY KEY (resource_id, version)
)`

const viewsSchema = `
CREATE TABLE IF NOT EXISTS actors (
	did         TEXT PRIMARY KEY,
	type        TEXT NOT NULL,
	username    TEXT NOT NULL,
	name        TEXT NOT NULL DEFAULT '',
	summary     TEXT NOT NULL DEFAULT '',
	node        TEXT NOT NULL DEFAULT '',
	seq         INTEGER NOT NULL DEFAULT 0,
	icon_cid    TEXT NOT NULL DEFAULT '',
	icon_type   TEXT NOT NULL DEFAULT '',
	-- profile_seq is the seq of the profile shown: a profile replaces
	-- only those of lower seqs, in whatever order they arrive.
	profile_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS actors_handle ON actors (username, node);
CREATE TABLE IF NOT EXISTS resources (
	id        TEXT PRIMARY KEY,
	actor     TEXT NOT NULL,
	community TEXT NOT NULL DEFAULT '',
	created   TEXT NOT NULL,
	-- latest is the highest version its author published, updated when
	-- that version was published (sortableTime): the lists read them
	-- without looking at every version.
	latest    INTEGER NOT NULL DEFAULT 0,
	updated   TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS versions ` + versionsColumns + `;
CREATE INDEX IF NOT EXISTS versions_published ON versions (published);
CREATE TABLE IF NOT EXISTS follows (
	follower     TEXT NOT NULL,
	followee     TEXT NOT NULL,
	activity_cid TEXT NOT NULL,
	PRIMARY KEY (follower, followee)
);
CREATE INDEX IF NOT EXISTS follows_followee ON follows (followee);
CREATE TABLE IF NOT EXISTS likes (
	actor        TEXT NOT NULL,
	object       TEXT NOT NULL,
	activity_cid TEXT NOT NULL,
	PRIMARY KEY (actor, object)
);
CREATE INDEX IF NOT EXISTS likes_object ON likes (object);
CREATE TABLE IF NOT EXISTS deletions (
	object TEXT PRIMARY KEY,
	actor  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS announces (
	community    TEXT NOT NULL,
	activity_cid TEXT NOT NULL,
	PRIMARY KEY (community, activity_cid)
);
-- derivations lists, for every version, the sources its derivedFrom
-- names: what "adapted by" reads.
CREATE TABLE IF NOT EXISTS derivations (
	source      TEXT NOT NULL,
	resource_id TEXT NOT NULL,
	version     INTEGER NOT NULL,
	PRIMARY KEY (source, resource_id, version)
) WITHOUT ROWID;
` + commentSchema + collectionSchema

// viewsIndexes are the indexes on columns that migrateViews adds to the
// tables of older repos: they are made after it.
const viewsIndexes = `
DROP INDEX IF EXISTS resources_actor;
DROP INDEX IF EXISTS resources_community;
CREATE INDEX IF NOT EXISTS resources_updated ON resources (updated);
CREATE INDEX IF NOT EXISTS resources_actor_updated ON resources (actor, updated);
CREATE INDEX IF NOT EXISTS resources_community_updated ON resources (community, updated);
CREATE INDEX IF NOT EXISTS versions_actor ON versions (actor, published);
CREATE INDEX IF NOT EXISTS versions_community ON versions (community, published) WHERE community != '';
`

// OpenViews creates the view tables in db (lyceum.db, beside the log) and
// upgrades those of older repos.
func OpenViews(db *sqlitedb.DB) (*Views, error) {
	if _, err := db.SQL().Exec(viewsSchema); err != nil {
		return nil, fmt.Errorf("create the views: %w", err)
	}
	if err := dropUniqueVersionCIDs(db.SQL()); err != nil {
		return nil, fmt.Errorf("upgrade the views: %w", err)
	}
	if err := migrateViews(db.SQL()); err != nil {
		return nil, fmt.Errorf("upgrade the views: %w", err)
	}
	if _, err := db.SQL().Exec(viewsIndexes); err != nil {
		return nil, fmt.Errorf("index the views: %w", err)
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

// execFunc runs one statement of an apply in its transaction.
type execFunc func(q string, args ...any) error

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
			return applyProfile(exec, a)
		case a.Object.Resource != nil:
			return applyResource(exec, e)
		case a.Object.Note != nil && a.Type == activity.TypeCreate:
			return applyNote(exec, e)
		}
	case activity.TypeDelete:
		return applyDelete(exec, a)
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

// applyProfile keeps an actor's profile: only an actor describes itself,
// and the profile of the highest seq wins whatever the order of arrival.
func applyProfile(exec execFunc, a *activity.Activity) error {
	p := a.Object.Actor
	if p.ID != a.Actor {
		return nil
	}
	var icon, iconType string
	if p.Icon != nil {
		icon, iconType = p.Icon.CID, p.Icon.MediaType
	}
	// seq is the highest entry stored of the actor's log, whichever came
	// first: its other entries may be stored before its profile.
	return exec(`INSERT INTO actors (did, type, username, name, summary, node, seq, icon_cid, icon_type, profile_seq)
		VALUES (?, ?, ?, ?, ?, ?, max(?, coalesce((SELECT max(seq) FROM log_entries WHERE actor = ?), 0)), ?, ?, ?)
		ON CONFLICT (did) DO UPDATE SET type = excluded.type, username = excluded.username, name = excluded.name,
		summary = excluded.summary, node = excluded.node, icon_cid = excluded.icon_cid, icon_type = excluded.icon_type,
		profile_seq = excluded.profile_seq, seq = max(actors.seq, excluded.seq)
		WHERE excluded.profile_seq > actors.profile_seq`,
		p.ID, string(p.Type), p.PreferredUsername, p.Name, p.Summary, p.Node, a.Seq, p.ID, icon, iconType, a.Seq)
}

// applyResource keeps a version of a resource, moves the resource's
// latest version forward when it is its author's highest, and notes what
// the version says it was derived from.
func applyResource(exec execFunc, e actorlog.Entry) error {
	a, r := e.Act, e.Act.Object.Resource
	id := r.ID
	if a.Type == activity.TypeCreate {
		id = e.CID.String()
	}
	at := sortableTime(a.Published)
	// created is the first version's date and latest the highest version,
	// whichever came first; only the author's versions count.
	if err := exec(`INSERT INTO resources (id, actor, community, created, latest, updated) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET created = min(resources.created, excluded.created),
		updated = CASE WHEN excluded.latest > resources.latest THEN excluded.updated ELSE resources.updated END,
		latest = max(resources.latest, excluded.latest)
		WHERE excluded.actor = resources.actor`,
		id, a.Actor, a.Community(), at, r.Version, at); err != nil {
		return err
	}
	if err := exec(`INSERT OR IGNORE INTO versions (resource_id, version, activity_cid, actor, title, media_cid, url, license, language,
		derived_from, published, community, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, x'')`,
		id, r.Version, e.CID.String(), a.Actor, r.Title, r.Media.CID, r.Media.URL, r.License, r.Language,
		strings.Join(r.DerivedFrom, " "), at, a.Community()); err != nil {
		return err
	}
	for _, src := range r.DerivedFrom {
		if err := exec(`INSERT OR IGNORE INTO derivations (source, resource_id, version) VALUES (?, ?, ?)`, src, id, r.Version); err != nil {
			return err
		}
	}
	return nil
}

// applyDelete records a tombstone, and drops the comment it deletes, if
// it deletes one of its actor's.
func applyDelete(exec execFunc, a *activity.Activity) error {
	target := a.Object.Ref
	if a.Object.Tombstone != nil {
		target = a.Object.Tombstone.ID
	}
	if err := exec(`INSERT OR IGNORE INTO deletions (object, actor) VALUES (?, ?)`, target, a.Actor); err != nil {
		return err
	}
	return exec(`DELETE FROM comments WHERE activity_cid = ? AND actor = ?`, target, a.Actor)
}

// sortableTimeLayout is RFC 3339 with a fixed nine-digit fraction: as
// text, such times sort in time order (RFC3339Nano drops trailing zeros,
// so that "…05.5Z" sorts after "…05.55Z").
const sortableTimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// sortableTime formats t, in UTC, for the views' columns that lists sort
// and page on; time.RFC3339Nano parses it back.
func sortableTime(t time.Time) string { return t.UTC().Format(sortableTimeLayout) }
