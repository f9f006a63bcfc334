package logsync

import (
	"context"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/lyceum-oer/lyceum/node/actorlog"
)

// backfill walks prev from e back to what the node has, verifying every
// entry, and returns the missing entries in a spool (which the caller
// closes). It takes the entries in pages over ProtocolLog from the peer
// that sent e when it can (one round trip per thousand entries), and
// otherwise one block at a time over bitswap from any peer that has them.
// A walk longer than limits.backfill_max_entries fails.
func (s *Service) backfill(ctx context.Context, e actorlog.Entry, from peer.ID) (_ *spool, err error) {
	have, err := s.Log.Contiguous(ctx, e.Act.Actor)
	if err != nil {
		return nil, err
	}
	w := &logWalk{s: s, top: e, cur: e, have: have, missing: newSpool(s.cfg.TmpDir, s.spoolBudget, s.verify)}
	defer func() {
		if err != nil {
			w.missing.close()
		}
	}()
	// Entries handed over with the head by syncActor come first.
	if _, err := w.page(ctx, s.pages.take(e.Act.Actor)); err != nil {
		return nil, err
	}
	for !w.done() && from != "" {
		page, err := s.askLog(ctx, from, logRequest{DID: e.Act.Actor, Below: w.cur.Act.Seq, Max: int(min(w.cur.Act.Seq-1-have, maxLogPage))})
		if err != nil || len(page.Entries) == 0 {
			break
		}
		if progressed, err := w.page(ctx, page.Entries); err != nil {
			return nil, err
		} else if !progressed {
			break
		}
	}
	for !w.done() {
		if err := w.block(ctx); err != nil {
			return nil, err
		}
	}
	return w.missing, nil
}

// logWalk is a backfill under way: it walks an actor's log down from top,
// entry by entry, until it meets what the node has.
type logWalk struct {
	s       *Service
	top     actorlog.Entry // where the walk began
	cur     actorlog.Entry // the lowest entry reached
	have    uint64         // the node holds seqs 1..have
	walked  int
	missing *spool
}

// done reports whether the walk met what the node has.
func (w *logWalk) done() bool { return w.cur.Act.Seq <= w.have+1 }

// accept checks that p is the entry below the lowest one reached and
// records it.
func (w *logWalk) accept(ctx context.Context, p actorlog.Entry) error {
	cur := w.cur
	if p.CID.String() != cur.Act.Prev || p.Act.Actor != w.top.Act.Actor || p.Act.Seq != cur.Act.Seq-1 {
		return fmt.Errorf("%s does not continue the log at seq %d", p.CID, cur.Act.Seq-1)
	}
	if w.walked++; w.walked > w.s.cfg.BackfillMaxEntries {
		return fmt.Errorf("more than %d entries missing below seq %d: too long to backfill at once (limits.backfill_max_entries)", w.s.cfg.BackfillMaxEntries, w.top.Act.Seq)
	}
	switch ok, fork, err := w.s.Log.Has(ctx, p.Act, p.CID, false); {
	case err != nil:
		return err
	case fork:
		w.s.rejected.inc(ReasonFork)
		return fmt.Errorf("the log forks at seq %d", p.Act.Seq)
	case !ok:
		if err := w.missing.add(p); err != nil {
			return err
		}
	}
	w.cur = p
	return nil
}

// page accepts the entries of a page, newest first, until the walk is
// done or an entry does not verify; it reports whether any was accepted.
func (w *logWalk) page(ctx context.Context, page [][]byte) (bool, error) {
	progressed := false
	for _, data := range page {
		if w.done() {
			break
		}
		p, err := w.s.verify(data)
		if err != nil {
			break
		}
		if err := w.accept(ctx, p); err != nil {
			return progressed, err
		}
		progressed = true
	}
	return progressed, nil
}

// block fetches the entry below the lowest one reached over bitswap.
func (w *logWalk) block(ctx context.Context) error {
	seq := w.cur.Act.Seq
	prev, err := cid.Decode(w.cur.Act.Prev)
	if err != nil {
		return fmt.Errorf("seq %d: bad prev %q: %w", seq, w.cur.Act.Prev, err)
	}
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	data, err := w.s.Blocks.GetBlock(fctx, prev)
	cancel()
	if err != nil {
		return fmt.Errorf("fetch seq %d (%s): %w", seq-1, prev, err)
	}
	p, err := w.s.verify(data)
	if err != nil {
		return fmt.Errorf("seq %d (%s): %w", seq-1, prev, err)
	}
	return w.accept(ctx, p)
}

// ingestLog stores e and every missing entry below it, whether or not the
// node tracks the actor yet (following starts by fetching the history).
// The walk back over the network runs outside ingestMu; storing is
// idempotent, so entries that gossip stored meanwhile are skipped.
func (s *Service) ingestLog(ctx context.Context, e actorlog.Entry, from peer.ID) (err error) {
	s.counts.backfills[0].Add(1)
	defer func() { s.counts.backfillEnded(err) }()
	missing, err := s.backfill(ctx, e, from)
	if err != nil {
		return err
	}
	defer missing.close()
	store := func(es []actorlog.Entry) error {
		s.ingestMu.Lock()
		stored, err := s.Log.Store(ctx, es)
		s.ingestMu.Unlock()
		if err != nil {
			return err
		}
		s.counts.backfill.Add(int64(len(stored)))
		for _, m := range stored {
			s.afterIngest(ctx, m)
		}
		return nil
	}
	// In batches, oldest first, so that ingest from gossip goes on
	// between them and memory stays bounded however long the log.
	return missing.drain(maxIngestBatch, e, store)
}
