package ipfs

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/ipld/merkledag"
	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// Pin pins root recursively. When blocks of the DAG are missing they are
// fetched first through the Exchange (offline, it fails with ErrNotFound);
// the pin is only written once the whole DAG is local. The root is then
// announced when online.
func (c *Content) Pin(ctx context.Context, root cid.Cid) error {
	unlock := c.store.locker.PinLock(ctx)
	defer unlock.Unlock(ctx)

	c.streamDAG(ctx, root)
	fetchCtx := blockservice.ContextWithSession(ctx, c.bserv)
	if _, err := c.node(fetchCtx, root); err != nil {
		return fmt.Errorf("pin %s: %w", root, err)
	}
	if err := merkledag.FetchGraph(fetchCtx, root, c.dag); err != nil {
		return fmt.Errorf("pin %s: fetch: %w", root, notFound(err))
	}
	if c.exch != nil {
		c.exch.waitDAG(ctx, root)
	}
	if err := c.store.pinRoots(ctx, []cid.Cid{root}); err != nil {
		return err
	}
	c.provide(ctx, root)
	return nil
}

// Unpin removes the recursive pin on root; its blocks go at the next GC
// unless another pin reaches them. It fails with ErrNotPinned when root is
// not pinned.
func (c *Content) Unpin(ctx context.Context, root cid.Cid) error {
	unlock := c.store.locker.PinLock(ctx)
	defer unlock.Unlock(ctx)
	c.store.pinMu.Lock()
	defer c.store.pinMu.Unlock()

	if err := c.store.pinner.Unpin(ctx, root, true); err != nil {
		if errors.Is(err, pin.ErrNotPinned) {
			return fmt.Errorf("unpin %s: %w", root, ErrNotPinned)
		}
		return fmt.Errorf("unpin %s: %w", root, err)
	}
	if err := c.store.pinner.Flush(ctx); err != nil {
		return fmt.Errorf("unpin %s: %w", root, err)
	}
	return nil
}

// Pins lists the roots of recursive pins.
func (c *Content) Pins(ctx context.Context) ([]cid.Cid, error) {
	pins, err := c.store.recursivePins(ctx)
	if err != nil {
		return nil, fmt.Errorf("list pins: %w", err)
	}
	return pins, nil
}

// GC removes every block that no pin reaches and returns how many it
// removed. It holds the GC lock, so no Add, Pin or CAR import runs while it
// does. It fails, removing nothing, when a pinned DAG is incomplete.
func (c *Content) GC(ctx context.Context) (removed int, err error) {
	unlock := c.store.locker.GCLock(ctx)
	defer unlock.Unlock(ctx)

	live, err := c.store.live(ctx)
	if err != nil {
		return 0, fmt.Errorf("gc: %w", err)
	}
	keep := byHash(live)
	var dead []cid.Cid
	err = c.store.forEachBlock(ctx, func(k cid.Cid) error {
		if _, ok := keep[string(k.Hash())]; !ok {
			dead = append(dead, k)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("gc: list blocks: %w", err)
	}
	for _, k := range dead {
		if err := c.store.bs.DeleteBlock(ctx, k); err != nil {
			return removed, fmt.Errorf("gc: delete %s: %w", k, err)
		}
		removed++
	}

	roots, err := c.store.roots(ctx)
	if err != nil {
		return removed, fmt.Errorf("gc: list roots: %w", err)
	}
	for _, r := range roots {
		if _, ok := keep[string(r.Hash())]; !ok {
			if err := c.store.dropRoot(ctx, r); err != nil {
				return removed, fmt.Errorf("gc: forget root %s: %w", r, err)
			}
		}
	}
	c.log.Info("ipfs: garbage collected", "removed", removed, "kept", live.Len())
	return removed, nil
}

// pinRoots pins roots recursively and flushes, all or none: when one fails,
// those it pinned are unpinned again. A root already pinned is left as it
// is, for two reasons. boxo's pinner re-pins by removing the pin and adding
// it back, so pinning again could lose an acknowledged pin to a failed write
// or a cancelled ctx. And undoing a failure must remove only this call's
// pins, never one another operation made; pinMu, held by every change to
// the pin set, makes the check and the pins one step so that no other
// operation can pin the same root in between. The caller holds the pin lock
// and has checked that the roots' DAGs are complete.
func (s *Store) pinRoots(ctx context.Context, roots []cid.Cid) (err error) {
	// Fetched blocks are cached without a sync (cacheBlockstore): a pin
	// makes them durable first.
	if err := s.syncBlocks(); err != nil {
		return fmt.Errorf("pin: %w", err)
	}
	if s.beforePin != nil {
		s.beforePin()
	}
	s.pinMu.Lock()
	defer s.pinMu.Unlock()
	var made []cid.Cid
	defer func() {
		if err == nil || len(made) == 0 {
			return
		}
		undo := context.WithoutCancel(ctx)
		for _, r := range made {
			if uerr := s.pinner.Unpin(undo, r, true); uerr != nil {
				s.log.Error("ipfs: cannot undo pin after a failure", "cid", r, "err", uerr)
			}
		}
		if ferr := s.pinner.Flush(undo); ferr != nil {
			s.log.Error("ipfs: cannot flush undone pins", "err", ferr)
		}
	}()
	for _, r := range roots {
		_, pinned, err := s.pinner.IsPinnedWithType(ctx, r, pin.Recursive)
		if err != nil {
			return fmt.Errorf("pin %s: %w", r, err)
		}
		if pinned {
			continue
		}
		if err := s.pinner.PinWithMode(ctx, r, pin.Recursive, ""); err != nil {
			return fmt.Errorf("pin %s: %w", r, err)
		}
		made = append(made, r)
	}
	if err := s.pinner.Flush(ctx); err != nil {
		return fmt.Errorf("pin: flush: %w", err)
	}
	return nil
}

// byHash returns the multihashes of set. The blockstore lists raw CIDv1s of
// its multihashes, so liveness is decided by multihash, never by whole CID.
func byHash(set *cid.Set) map[string]struct{} {
	out := make(map[string]struct{}, set.Len())
	_ = set.ForEach(func(k cid.Cid) error {
		out[string(k.Hash())] = struct{}{}
		return nil
	})
	return out
}

// live returns every CID reachable from a pin, reading local blocks only.
func (s *Store) live(ctx context.Context) (*cid.Set, error) {
	recursive, err := s.recursivePins(ctx)
	if err != nil {
		return nil, fmt.Errorf("list pins: %w", err)
	}
	direct, err := s.directPins(ctx)
	if err != nil {
		return nil, fmt.Errorf("list pins: %w", err)
	}
	kept, err := s.kept(ctx)
	if err != nil {
		return nil, fmt.Errorf("list kept blocks: %w", err)
	}
	live := cid.NewSet()
	for _, d := range append(direct, kept...) {
		live.Add(d)
	}
	for _, r := range recursive {
		if err := s.walk(ctx, r, live, false); err != nil {
			return nil, fmt.Errorf("pinned DAG %s: %w", r, err)
		}
	}
	return live, nil
}

// reachable returns the multihashes of the blocks a failed import must not
// remove: what GC keeps (see live), and what is below the roots of adds,
// pinned or not, so that the import does not leave a half-removed file
// where GC would remove all of it or none. Those DAGs may already be
// partial (GC has not yet forgotten a removed root), so missing blocks are
// skipped there.
func (s *Store) reachable(ctx context.Context) (map[string]struct{}, error) {
	live, err := s.live(ctx)
	if err != nil {
		return nil, err
	}
	roots, err := s.roots(ctx)
	if err != nil {
		return nil, fmt.Errorf("list roots: %w", err)
	}
	for _, r := range roots {
		if err := s.walk(ctx, r, live, true); err != nil {
			return nil, fmt.Errorf("added DAG %s: %w", r, err)
		}
	}
	return byHash(live), nil
}

// walk adds root and everything below it to seen, from local blocks only.
// Raw blocks have no links, so they are never read. A missing block is an
// error unless skipMissing is set; then it is left out with what is below.
func (s *Store) walk(ctx context.Context, root cid.Cid, seen *cid.Set, skipMissing bool) error {
	stack := []cid.Cid{root}
	for len(stack) > 0 {
		k := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !seen.Visit(k) || k.Prefix().Codec == cid.Raw || k.Prefix().Codec == codecJSON {
			continue
		}
		nd, err := s.dag.Get(ctx, k)
		if skipMissing && ipld.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("block %s: %w", k, notFound(err))
		}
		for _, l := range nd.Links() {
			stack = append(stack, l.Cid)
		}
	}
	return nil
}
