package social

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/actorlog"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// This file holds collections: ordered, curated lists of resources owned
// by a Person or a Group. A collection is a Create{Collection} in its
// owner's log (its ID is the Create's CID); Update{Collection} renames it,
// Add{object: resource, target: collection} and Remove{…} change its items,
// and a Delete{Tombstone} ends it. All of them are signed by the owner, so
// only the owner's node can change a collection, and followers receive the
// changes through the usual gossip and backfill.
//
// The views (collections, collection_items) do not depend on the order
// the activities arrive in: an item is in a collection when its newest Add
// has a higher seq than its newest Remove, and it is ordered by that Add's
// seq; a rename keeps the title of the highest seq.

// MaxCollectionItems is how many resources a collection may hold, the
// limit on a list in an activity (a Create may carry them all).
const MaxCollectionItems = activity.MaxList

// collectionSchema is part of the views' schema.
const collectionSchema = `
CREATE TABLE IF NOT EXISTS collections (
	id         TEXT NOT NULL,
	actor      TEXT NOT NULL,
	owner      TEXT NOT NULL DEFAULT '',
	title      TEXT NOT NULL DEFAULT '',
	summary    TEXT NOT NULL DEFAULT '',
	seq        INTEGER NOT NULL DEFAULT 0,
	has_create INTEGER NOT NULL DEFAULT 0,
	created    TEXT NOT NULL DEFAULT '',
	updated    TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (id, actor)
);
CREATE INDEX IF NOT EXISTS collections_owner ON collections (owner);
CREATE TABLE IF NOT EXISTS collection_items (
	collection  TEXT NOT NULL,
	actor       TEXT NOT NULL,
	resource    TEXT NOT NULL,
	added_seq   INTEGER NOT NULL DEFAULT 0,
	pos         INTEGER NOT NULL DEFAULT 0,
	removed_seq INTEGER NOT NULL DEFAULT 0,
	added_cid   TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (collection, actor, resource)
);
CREATE INDEX IF NOT EXISTS collection_items_resource ON collection_items (resource);
`

// applyCollection updates the collection views for a Create, Update, Add or
// Remove; it reports whether the activity was one of these.
func applyCollection(ctx context.Context, tx *sqlitedb.Tx, e actorlog.Entry) (bool, error) {
	a := e.Act
	exec := func(q string, args ...any) error {
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("apply %s %s: %w", a.Type, e.CID, err)
		}
		return nil
	}
	at := a.Published.UTC().Format(time.RFC3339Nano)
	switch a.Type {
	case activity.TypeCreate, activity.TypeUpdate:
		c := a.Object.Collection
		if c == nil {
			return false, nil
		}
		id, create := c.ID, 0
		if a.Type == activity.TypeCreate {
			id, create = e.CID.String(), 1
		}
		owner := firstNonEmpty(c.Owner, a.Actor)
		created := ""
		if create == 1 {
			created = at
		}
		if err := exec(`INSERT INTO collections (id, actor, owner, title, summary, seq, has_create, created, updated)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id, actor) DO UPDATE SET
				title = CASE WHEN excluded.seq > collections.seq THEN excluded.title ELSE collections.title END,
				summary = CASE WHEN excluded.seq > collections.seq THEN excluded.summary ELSE collections.summary END,
				updated = CASE WHEN excluded.seq > collections.seq THEN excluded.updated ELSE collections.updated END,
				owner = CASE WHEN excluded.has_create = 1 THEN excluded.owner ELSE collections.owner END,
				created = CASE WHEN excluded.has_create = 1 THEN excluded.created ELSE collections.created END,
				has_create = max(collections.has_create, excluded.has_create),
				seq = max(collections.seq, excluded.seq)`,
			id, a.Actor, owner, c.Title, c.Description, a.Seq, create, created, at); err != nil {
			return true, err
		}
		if create == 1 {
			// A Create may list first items; later changes are Adds and Removes.
			for i, it := range c.Items {
				if err := exec(`INSERT INTO collection_items (collection, actor, resource, added_seq, pos, added_cid) VALUES (?, ?, ?, ?, ?, ?)
					ON CONFLICT DO UPDATE SET pos = CASE WHEN excluded.added_seq > added_seq THEN excluded.pos ELSE pos END,
					added_cid = CASE WHEN excluded.added_seq > added_seq THEN excluded.added_cid ELSE added_cid END,
					added_seq = max(added_seq, excluded.added_seq)`,
					id, a.Actor, it, a.Seq, i, e.CID.String()); err != nil {
					return true, err
				}
			}
		}
		return true, nil
	case activity.TypeAdd:
		return true, exec(`INSERT INTO collection_items (collection, actor, resource, added_seq, added_cid) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT DO UPDATE SET pos = CASE WHEN excluded.added_seq > added_seq THEN 0 ELSE pos END,
			added_cid = CASE WHEN excluded.added_seq > added_seq THEN excluded.added_cid ELSE added_cid END,
			added_seq = max(added_seq, excluded.added_seq)`,
			a.Target, a.Actor, a.Object.Ref, a.Seq, e.CID.String())
	case activity.TypeRemove:
		return true, exec(`INSERT INTO collection_items (collection, actor, resource, removed_seq) VALUES (?, ?, ?, ?)
			ON CONFLICT DO UPDATE SET removed_seq = max(removed_seq, excluded.removed_seq)`,
			a.Target, a.Actor, a.Object.Ref, a.Seq)
	}
	return false, nil
}

// CreateCollection signs a Create of an empty collection owned by the
// actor (a Person or a Group of this node), appends it to the actor's log
// and announces it.
func (s *Service) CreateCollection(ctx context.Context, req api.CollectionRequest) (api.CollectionResult, error) {
	did, err := s.actingAs(ctx, req.As)
	if err != nil {
		return api.CollectionResult{}, err
	}
	c := &activity.Collection{Title: req.Title, Description: req.Summary, Owner: did}
	if err := c.Validate(); err != nil {
		return api.CollectionResult{}, api.Invalidf("%v", err)
	}
	e, err := s.log.Append(ctx, did, &activity.Activity{Type: activity.TypeCreate, Object: activity.Object{Collection: c}})
	if err != nil {
		return api.CollectionResult{}, err
	}
	return api.CollectionResult{ID: e.CID.String(), ActivityCID: e.CID.String(), Changed: true}, nil
}

// ownCollection finds a live collection whose owner is a local actor; with
// as set, that actor must be the owner.
func (s *Service) ownCollection(ctx context.Context, as, id string) (api.Collection, error) {
	info, err := s.collection(ctx, id)
	if err != nil {
		return info, err
	}
	if info.Deleted {
		return info, api.NotFoundf("collection %s was deleted", id)
	}
	if !info.Local {
		return info, api.Invalidf("only the owner's node can change collection %s", id)
	}
	if as != "" {
		did, err := s.Resolve(ctx, as)
		if err != nil {
			return info, err
		}
		if did != info.Owner {
			return info, api.Invalidf("collection %s belongs to %s, not %s", id, info.Owner, as)
		}
	}
	return info, nil
}

// UpdateCollection renames a collection or changes its summary; empty
// fields keep their value.
func (s *Service) UpdateCollection(ctx context.Context, id string, req api.CollectionRequest) (api.CollectionResult, error) {
	info, err := s.ownCollection(ctx, req.As, id)
	if err != nil {
		return api.CollectionResult{}, err
	}
	c := &activity.Collection{ID: id, Title: firstNonEmpty(req.Title, info.Title), Description: firstNonEmpty(req.Summary, info.Summary), Owner: info.Owner}
	if err := c.Validate(); err != nil {
		return api.CollectionResult{}, api.Invalidf("%v", err)
	}
	return s.changeCollection(ctx, info, &activity.Activity{Type: activity.TypeUpdate, Object: activity.Object{Collection: c}})
}

// changeCollection appends a change of a collection to its owner's log.
func (s *Service) changeCollection(ctx context.Context, info api.Collection, a *activity.Activity) (api.CollectionResult, error) {
	e, err := s.log.Append(ctx, info.Owner, a)
	if err != nil {
		return api.CollectionResult{}, err
	}
	return api.CollectionResult{ID: info.ID, ActivityCID: e.CID.String(), Changed: true}, nil
}

// DeleteCollection publishes a tombstone for a collection; its resources
// stay.
func (s *Service) DeleteCollection(ctx context.Context, as, id string) (api.CollectionResult, error) {
	info, err := s.ownCollection(ctx, as, id)
	if err != nil {
		return api.CollectionResult{}, err
	}
	return s.changeCollection(ctx, info, &activity.Activity{Type: activity.TypeDelete, Object: activity.Object{Tombstone: &activity.Tombstone{
		ID: id, FormerType: "OrderedCollection", Deleted: time.Now().UTC(),
	}}})
}

// AddToCollection signs an Add of a known resource to the end of a
// collection. Adding a resource that is already there changes nothing.
func (s *Service) AddToCollection(ctx context.Context, id string, req api.CollectionItemRequest) (api.CollectionResult, error) {
	info, err := s.ownCollection(ctx, req.As, id)
	if err != nil {
		return api.CollectionResult{}, err
	}
	if _, err := cid.Decode(req.Resource); err != nil {
		return api.CollectionResult{}, api.Invalidf("%s is not a resource ID (a CID)", api.Quote(req.Resource))
	}
	if _, err := s.latestVersion(ctx, req.Resource); err != nil {
		return api.CollectionResult{}, err
	}
	if s.inCollection(ctx, info, req.Resource) {
		return api.CollectionResult{ID: id}, nil
	}
	if info.Items >= MaxCollectionItems {
		return api.CollectionResult{}, api.Invalidf("collection %s is full (%d resources)", id, MaxCollectionItems)
	}
	return s.changeCollection(ctx, info, &activity.Activity{Type: activity.TypeAdd, Object: activity.Object{Ref: req.Resource}, Target: id})
}

// RemoveFromCollection signs a Remove of a resource from a collection.
func (s *Service) RemoveFromCollection(ctx context.Context, id string, req api.CollectionItemRequest) (api.CollectionResult, error) {
	info, err := s.ownCollection(ctx, req.As, id)
	if err != nil {
		return api.CollectionResult{}, err
	}
	if !s.inCollection(ctx, info, req.Resource) {
		return api.CollectionResult{}, api.NotFoundf("%s is not in collection %s", req.Resource, id)
	}
	return s.changeCollection(ctx, info, &activity.Activity{Type: activity.TypeRemove, Object: activity.Object{Ref: req.Resource}, Target: id})
}

func (s *Service) inCollection(ctx context.Context, info api.Collection, resourceID string) bool {
	k, _ := s.db.Count(ctx, `SELECT count(*) FROM collection_items WHERE collection = ? AND actor = ? AND resource = ? AND added_seq > removed_seq`,
		info.ID, info.Owner, resourceID)
	return k > 0
}

// collectionCols reads a collection row: only the version its creator
// wrote counts (has_create), whoever else claims the ID.
const collectionCols = `c.id, c.title, c.summary, c.actor, coalesce(a.username || '@' || a.node, ''),
	(SELECT count(*) FROM collection_items i WHERE i.collection = c.id AND i.actor = c.actor AND i.added_seq > i.removed_seq),
	EXISTS (SELECT 1 FROM deletions d WHERE d.object = c.id AND d.actor = c.actor),
	EXISTS (SELECT 1 FROM local_actors l WHERE l.did = c.actor), c.created, c.updated
	FROM collections c LEFT JOIN actors a ON a.did = c.actor WHERE c.has_create = 1`

func scanCollection(sc interface{ Scan(...any) error }) (api.Collection, error) {
	var c api.Collection
	var created, updated string
	if err := sc.Scan(&c.ID, &c.Title, &c.Summary, &c.Owner, &c.OwnerHandle, &c.Items, &c.Deleted, &c.Local, &created, &updated); err != nil {
		return c, err
	}
	c.Created, _ = time.Parse(time.RFC3339Nano, created)
	c.Updated, _ = time.Parse(time.RFC3339Nano, updated)
	return c, nil
}

func (s *Service) collection(ctx context.Context, id string) (api.Collection, error) {
	c, err := scanCollection(s.db.QueryRow(ctx, `SELECT `+collectionCols+` AND c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, api.NotFoundf("no collection %s known here", id)
	}
	if err != nil {
		return c, fmt.Errorf("collection %s: %w", id, err)
	}
	return c, nil
}

// Collections lists the live collections of an actor (name, handle or
// DID), or with owner "" those of every local actor, newest first.
func (s *Service) Collections(ctx context.Context, owner string) ([]api.Collection, error) {
	q := `SELECT ` + collectionCols + ` AND NOT EXISTS (SELECT 1 FROM deletions d WHERE d.object = c.id AND d.actor = c.actor)`
	var args []any
	if owner != "" {
		did, err := s.Resolve(ctx, owner)
		if err != nil {
			return nil, err
		}
		q += ` AND (c.actor = ? OR c.owner = ?)`
		args = append(args, did, did)
	} else {
		q += ` AND c.actor IN (SELECT did FROM local_actors)`
	}
	rows, err := s.db.Query(ctx, q+` ORDER BY c.created DESC, c.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("collections: %w", err)
	}
	return sqlitedb.Scan(rows, func(rows *sql.Rows) (api.Collection, error) { return scanCollection(rows) })
}

// ShowCollection returns a collection with its items in order, with the
// title of each resource the node knows.
func (s *Service) ShowCollection(ctx context.Context, id string) (api.CollectionView, error) {
	info, err := s.collection(ctx, id)
	if err != nil {
		return api.CollectionView{}, err
	}
	v := api.CollectionView{Collection: info}
	rows, err := s.db.Query(ctx, `SELECT i.resource, i.added_cid,
		coalesce((SELECT title FROM versions v WHERE v.resource_id = i.resource ORDER BY v.version DESC LIMIT 1), ''),
		coalesce(r.actor, ''), EXISTS (SELECT 1 FROM deletions d WHERE d.object = i.resource AND d.actor = r.actor)
		FROM collection_items i LEFT JOIN resources r ON r.id = i.resource
		WHERE i.collection = ? AND i.actor = ? AND i.added_seq > i.removed_seq
		ORDER BY i.added_seq, i.pos`, id, info.Owner)
	if err != nil {
		return v, fmt.Errorf("collection %s: %w", id, err)
	}
	pos := 0
	v.Entries, err = sqlitedb.Scan(rows, func(rows *sql.Rows) (api.CollectionItem, error) {
		pos++
		it := api.CollectionItem{Position: pos}
		return it, rows.Scan(&it.ResourceID, &it.AddedBy, &it.Title, &it.Author, &it.Deleted)
	})
	return v, err
}
