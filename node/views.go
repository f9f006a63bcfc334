package node

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
)

// communityOf names the community an activity is posted in: the first
// did:key among its recipients (FEP-1b12 calls it the audience).
func communityOf(a *activity.Activity) string {
	for _, to := range a.To {
		if strings.HasPrefix(to, "did:key:") {
			return to
		}
	}
	return ""
}

// advanceActorSeqs moves each actor's known seq forward to the highest of
// its entries in es, after es were applied to the views: one statement
// per actor and not per entry (an HQ's batch holds a few entries of each
// of many actors).
func (s *socialStore) advanceActorSeqs(ctx context.Context, tx *sql.Tx, es []entry) error {
	top := map[string]uint64{}
	for _, e := range es {
		top[e.act.Actor] = max(top[e.act.Actor], e.act.Seq)
	}
	for did, seq := range top {
		if _, err := s.execIn(ctx, tx, `UPDATE actors SET seq = max(seq, ?) WHERE did = ?`, seq, did); err != nil {
			return fmt.Errorf("advance the seq of %s: %w", did, err)
		}
	}
	return nil
}

// applyToViews updates the derived tables for one activity
// (advanceActorSeqs does the actors' seqs, once per batch). It depends
// only on the activity itself, never on what arrived before it, except
// that an Undo follows the activity it undoes in the same actor's log;
// that is what makes a rebuild from the logs give the same state.
func (s *socialStore) applyToViews(ctx context.Context, tx *sql.Tx, e entry) error {
	a := e.act
	exec := func(q string, args ...any) error {
		if _, err := s.execIn(ctx, tx, q, args...); err != nil {
			return fmt.Errorf("apply %s %s: %w", a.Type, e.cid, err)
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
				id = e.cid.String()
			}
			if err := exec(`INSERT OR IGNORE INTO resources (id, actor, community, created) VALUES (?, ?, ?, ?)`,
				id, a.Actor, communityOf(a), a.Published.UTC().Format(time.RFC3339Nano)); err != nil {
				return err
			}
			return exec(`INSERT OR IGNORE INTO versions (resource_id, version, activity_cid, actor, title, media_cid, url, license, language, derived_from, published, body)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, x'')`,
				id, r.Version, e.cid.String(), a.Actor, r.Title, r.Media.CID, r.Media.URL, r.License, r.Language,
				strings.Join(r.DerivedFrom, " "), a.Published.UTC().Format(time.RFC3339Nano))
		}
	case activity.TypeDelete:
		target := a.Object.Ref
		if a.Object.Tombstone != nil {
			target = a.Object.Tombstone.ID
		}
		return exec(`INSERT OR IGNORE INTO deletions (object, actor) VALUES (?, ?)`, target, a.Actor)
	case activity.TypeFollow:
		return exec(`INSERT OR REPLACE INTO follows (follower, followee, activity_cid) VALUES (?, ?, ?)`, a.Actor, a.Object.Ref, e.cid.String())
	case activity.TypeLike:
		return exec(`INSERT OR REPLACE INTO likes (actor, object, activity_cid) VALUES (?, ?, ?)`, a.Actor, a.Object.Ref, e.cid.String())
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
