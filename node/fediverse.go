package node

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"
)

// This file holds what the fediverse bridge (gateway/fediverse) reads of
// the node: local actors and their activities in the order they were
// stored, so that the bridge can follow the log from a checkpoint of its
// own, as indexLoop does for search.

// LocalEntry is one activity of a local actor, as the bridge sees it.
type LocalEntry struct {
	// Cursor orders entries as they were stored: it only grows (it is the
	// row ID of the log index, which the node never deletes from or
	// vacuums). The bridge checkpoints the last one it handled.
	Cursor   int64
	CID      string
	Activity *activity.Activity
}

// LocalActor is a local actor with what the bridge renders of it.
type LocalActor struct {
	ActorInfo
	Created time.Time `json:"created"`
}

// LocalEntries lists the activities of local actors stored after cursor,
// oldest first, at most limit (1–1000). With actor set, only that actor's.
func (n *Node) LocalEntries(ctx context.Context, after int64, actor string, limit int) ([]LocalEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	q := `SELECT e.rowid, e.cid FROM log_entries e JOIN local_actors l ON l.did = e.actor WHERE e.rowid > ?`
	args := []any{after}
	if actor != "" {
		q += ` AND e.actor = ?`
		args = append(args, actor)
	}
	q += ` ORDER BY e.rowid LIMIT ?`
	args = append(args, limit)
	rows, err := n.db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("local entries: %w", err)
	}
	type row struct {
		cursor int64
		cid    string
	}
	var rs []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.cursor, &r.cid); err != nil {
			rows.Close()
			return nil, err
		}
		rs = append(rs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]LocalEntry, 0, len(rs))
	for _, r := range rs {
		a, err := n.Entry(ctx, r.cid)
		if err != nil {
			return nil, err
		}
		out = append(out, LocalEntry{Cursor: r.cursor, CID: r.cid, Activity: a})
	}
	return out, nil
}

// LastCursor is the cursor of the newest stored entry of a local actor (0
// if none): a bridge that starts for the first time begins there, so that
// it does not deliver the node's whole history.
func (n *Node) LastCursor(ctx context.Context) (int64, error) {
	var c sql.NullInt64
	if err := n.db.db.QueryRowContext(ctx, `SELECT max(rowid) FROM log_entries`).Scan(&c); err != nil {
		return 0, fmt.Errorf("last cursor: %w", err)
	}
	return c.Int64, nil
}

// Entry reads a stored activity by its CID.
func (n *Node) Entry(ctx context.Context, c string) (*activity.Activity, error) {
	id, err := cid.Decode(c)
	if err != nil {
		return nil, invalidf("%q is not a CID", c)
	}
	var k int
	if err := n.db.db.QueryRowContext(ctx, `SELECT count(*) FROM log_entries WHERE cid = ?`, c).Scan(&k); err != nil {
		return nil, err
	}
	if k == 0 {
		return nil, &Error{Kind: KindNotFound, Msg: fmt.Sprintf("no activity %s stored here", c)}
	}
	e, err := n.loadEntry(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("activity %s: %w", c, err)
	}
	return e.act, nil
}

// LocalActorByName finds a local actor by username.
func (n *Node) LocalActorByName(ctx context.Context, username string) (LocalActor, error) {
	var did, created string
	err := n.db.db.QueryRowContext(ctx, `SELECT did, created FROM local_actors WHERE username = ?`, username).Scan(&did, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return LocalActor{}, &Error{Kind: KindNotFound, Msg: fmt.Sprintf("no local actor %q", username)}
	}
	if err != nil {
		return LocalActor{}, fmt.Errorf("local actor %s: %w", username, err)
	}
	a, err := n.Actor(ctx, did)
	if err != nil {
		return LocalActor{}, err
	}
	t, _ := time.Parse(time.RFC3339Nano, created)
	return LocalActor{ActorInfo: a, Created: t}, nil
}

// ResourceIDs lists the resources an actor published or, for a community,
// that were posted in it, newest first, deleted ones left out.
func (n *Node) ResourceIDs(ctx context.Context, did string, limit int) ([]string, error) {
	if limit <= 0 {
		limit = 20
	}
	ids, err := n.db.strings(ctx, `SELECT r.id FROM resources r
		WHERE (r.actor = ? OR r.community = ?)
		AND NOT EXISTS (SELECT 1 FROM deletions d WHERE d.object = r.id AND d.actor = r.actor)
		ORDER BY r.created DESC LIMIT ?`, did, did, limit)
	if err != nil {
		return nil, fmt.Errorf("resources of %s: %w", did, err)
	}
	return ids, nil
}

// FollowingOf lists the DIDs a local actor follows on the Lyceum network.
func (n *Node) FollowingOf(ctx context.Context, did string) ([]string, error) {
	return n.db.strings(ctx, `SELECT followee FROM follows WHERE follower = ? ORDER BY followee`, did)
}
