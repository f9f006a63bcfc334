package node

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"
)

// entry is one stored, verified activity with its CID and canonical bytes.
type entry struct {
	act  *activity.Activity
	cid  cid.Cid
	data []byte
}

// appendActivity numbers, signs, stores, applies and announces a new
// activity of a local actor. It returns the activity's CID once the entry
// is durable (block synced, SQLite committed); gossip follows, and a DHT
// provide is never waited for.
func (n *Node) appendActivity(ctx context.Context, did string, a *activity.Activity) (cid.Cid, error) {
	key, err := n.localKey(ctx, did)
	if err != nil {
		return cid.Undef, err
	}
	return n.appendSigned(ctx, did, key, a, nil)
}

// appendSigned is appendActivity with the actor's key in hand; before, if
// not nil, runs in the transaction that stores the entry (a new actor's
// key is stored with its first entry, so that a failure leaves neither).
func (n *Node) appendSigned(ctx context.Context, did string, key ed25519.PrivateKey, a *activity.Activity, before func(*sql.Tx) error) (cid.Cid, error) {
	n.appendMu.Lock()
	defer n.appendMu.Unlock()
	head, headCID, err := n.logHead(ctx, did)
	if err != nil {
		return cid.Undef, err
	}
	now := time.Now().UTC()
	a.Actor = did
	a.Seq = head + 1
	a.Prev = ""
	if head > 0 {
		a.Prev = headCID
	}
	if a.Published.IsZero() {
		a.Published = now
	}
	if len(a.To) == 0 {
		a.To = []string{activity.PublicAudience}
	}
	if err := activity.Sign(a, key, now); err != nil {
		return cid.Undef, invalidf("%v", err)
	}
	c, data, err := activity.Block(a)
	if err != nil {
		return cid.Undef, invalidf("%v", err)
	}
	e := entry{act: a, cid: c, data: data}
	if err := n.storeEntriesWith(ctx, []entry{e}, before); err != nil {
		return cid.Undef, err
	}
	n.announce(e)
	return c, nil
}

// logHead is the highest seq stored for an actor and its CID.
func (n *Node) logHead(ctx context.Context, did string) (uint64, string, error) {
	var seq uint64
	var c string
	err := n.db.db.QueryRowContext(ctx, `SELECT seq, cid FROM log_entries WHERE actor = ? ORDER BY seq DESC LIMIT 1`, did).Scan(&seq, &c)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("log head of %s: %w", did, err)
	}
	return seq, c, nil
}

// contiguous is the largest k such that seqs 1..k of the actor are all
// stored: below it nothing is missing.
func (n *Node) contiguous(ctx context.Context, did string) (uint64, error) {
	if k, ok := n.heads.contiguous(did); ok {
		return k, nil
	}
	epoch := n.heads.readStart()
	// Most logs have no gap: then the count of entries is the last seq.
	var count, last uint64
	if err := n.db.queryRow(ctx, `SELECT count(*), coalesce(max(seq), 0) FROM log_entries WHERE actor = ?`, did).Scan(&count, &last); err != nil {
		return 0, err
	}
	if count == last {
		n.heads.learn(did, last, false, epoch)
		return last, nil
	}
	rows, err := n.db.query(ctx, `SELECT seq FROM log_entries WHERE actor = ? ORDER BY seq`, did)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var k uint64
	for rows.Next() {
		var s uint64
		if err := rows.Scan(&s); err != nil {
			return 0, err
		}
		if s != k+1 {
			break
		}
		k = s
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n.heads.learn(did, k, true, epoch)
	return k, nil
}

// hasEntry reports whether an activity is stored, and whether another one
// holds its actor's seq (a fork).
func (n *Node) hasEntry(ctx context.Context, a *activity.Activity, c cid.Cid) (have bool, fork bool, err error) {
	return n.hasEntryOn(ctx, a, c, false)
}

// hasEntryOn is hasEntry, on the read pool if read (for the validators,
// which must not wait for the ingest loop's transaction).
func (n *Node) hasEntryOn(ctx context.Context, a *activity.Activity, c cid.Cid, read bool) (have bool, fork bool, err error) {
	if n.heads.unstored(a.Actor, a.Seq) {
		return false, false, nil
	}
	const q = `SELECT cid FROM log_entries WHERE actor = ? AND seq = ?`
	var stored string
	if read {
		err = n.db.readRow(ctx, q, a.Actor, a.Seq).Scan(&stored)
	} else {
		err = n.db.queryRow(ctx, q, a.Actor, a.Seq).Scan(&stored)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	return stored == c.String(), stored != c.String(), nil
}

// storeEntries makes activities durable and applies them to the views, in
// one SQLite transaction, in the order given: each entry's bytes go in the
// log index beside its actor and seq (served to other nodes as a block from
// there), so a batch costs one synced commit. Storing an entry twice
// changes nothing.
func (n *Node) storeEntries(ctx context.Context, es []entry) error {
	return n.storeEntriesWith(ctx, es, nil)
}

// storeEntriesWith is storeEntries that runs before, if not nil, first in
// the same transaction.
func (n *Node) storeEntriesWith(ctx context.Context, es []entry, before func(*sql.Tx) error) error {
	if len(es) == 0 {
		return nil
	}
	// A store is a few point writes and a commit; interrupting it only
	// wastes the work, and with a context that can end the SQLite driver
	// starts a watcher goroutine per statement: 9 % of the ingest loop's
	// time went to scheduling them (go tool trace -pprof=sched).
	ctx = context.WithoutCancel(ctx)
	stored := make([]entry, 0, len(es))
	rowids := make([]uint64, 0, len(es))
	defer n.kickIndex()
	pending := n.heads.storing(es)
	err := n.db.tx(ctx, func(tx *sql.Tx) error {
		if before != nil {
			if err := before(tx); err != nil {
				return err
			}
		}
		for _, e := range es {
			if len(e.data) > activity.DefaultMaxSize {
				return fmt.Errorf("store %s: %d bytes, more than %d", e.cid, len(e.data), activity.DefaultMaxSize)
			}
			res, err := n.db.execIn(ctx, tx, `INSERT OR IGNORE INTO log_entries (actor, seq, cid, type, published, body) VALUES (?, ?, ?, ?, ?, ?)`,
				e.act.Actor, e.act.Seq, e.cid.String(), string(e.act.Type), e.act.Published.UTC().Format(time.RFC3339Nano), e.data)
			if err != nil {
				return fmt.Errorf("index %s: %w", e.cid, err)
			}
			if k, _ := res.RowsAffected(); k == 0 {
				continue // already stored
			}
			rowid, err := res.LastInsertId()
			if err != nil {
				return fmt.Errorf("index %s: %w", e.cid, err)
			}
			if err := n.db.applyToViews(ctx, tx, e); err != nil {
				return err
			}
			stored = append(stored, e)
			rowids = append(rowids, uint64(rowid))
		}
		return n.db.advanceActorSeqs(ctx, tx, stored)
	})
	n.heads.stored(pending, err == nil, stored)
	if err != nil {
		return err
	}
	if n.index != nil {
		n.justStored.put(rowids, stored)
	}
	return nil
}

// loadEntry reads a stored activity back from its block.
func (n *Node) loadEntry(ctx context.Context, c cid.Cid) (entry, error) {
	data, err := n.content.GetBlock(ctx, c)
	if err != nil {
		return entry{}, err
	}
	return decodeStored(c, data)
}

// decodeStored decodes an activity the node stored, verified, as c.
func decodeStored(c cid.Cid, data []byte) (entry, error) {
	a, err := activity.Decode(data)
	if err != nil {
		return entry{}, fmt.Errorf("activity %s: %w", c, err)
	}
	return entry{act: a, cid: c, data: data}, nil
}

// verifyBlock decodes, verifies and identifies an activity received from
// outside; the CID is that of the exact bytes received.
func verifyBlock(data []byte) (entry, error) {
	a, c, err := activity.VerifyBlock(data)
	if err != nil {
		return entry{}, err
	}
	return entry{act: a, cid: c, data: data}, nil
}

// RebuildViews drops every view and replays the stored logs, actor by
// actor in seq order. The result equals the state built as activities
// arrived, since the views depend only on the set of activities.
func (n *Node) RebuildViews(ctx context.Context) (int, error) {
	n.appendMu.Lock()
	defer n.appendMu.Unlock()
	n.ingestMu.Lock()
	defer n.ingestMu.Unlock()
	rows, err := n.db.db.QueryContext(ctx, `SELECT cid FROM log_entries ORDER BY actor, seq`)
	if err != nil {
		return 0, fmt.Errorf("rebuild views: %w", err)
	}
	var cids []cid.Cid
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return 0, err
		}
		c, err := cid.Decode(s)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("rebuild views: bad CID %q in the log index: %w", s, err)
		}
		cids = append(cids, c)
	}
	rows.Close()
	var entries []entry
	for _, c := range cids {
		e, err := n.loadEntry(ctx, c)
		if err != nil {
			return 0, fmt.Errorf("rebuild views: %w", err)
		}
		entries = append(entries, e)
	}
	err = n.db.tx(ctx, func(tx *sql.Tx) error {
		for _, t := range viewTables {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
				return fmt.Errorf("clear %s: %w", t, err)
			}
		}
		for _, e := range entries {
			if err := n.db.applyToViews(ctx, tx, e); err != nil {
				return err
			}
		}
		return n.db.advanceActorSeqs(ctx, tx, entries)
	})
	if err != nil {
		return 0, fmt.Errorf("rebuild views: %w", err)
	}
	return len(entries), nil
}
