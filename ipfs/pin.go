package ipfs

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/ipld/merkledag"
	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/go-cid"
)

// Pin pins root recursively. When blocks of the DAG are missing they are
// fetched first through the Exchange (offline, it fails with ErrNotFound);
// the pin is only written once the whole DAG is local. The root is then
// announced when online.
func (c *Content) Pin(ctx context.Context, root cid.Cid) error {
	unlock := c.store.locker.PinLock(ctx)
	defer unlock.Unlock(ctx)

	fetchCtx := blockservice.ContextWithSession(ctx, c.bserv)
	if err := merkledag.FetchGraph(fetchCtx, root, c.dag); err != nil {
		return fmt.Errorf("pin %s: fetch: %w", root, notFound(err))
	}
	if err := c.store.pinner.PinWithMode(ctx, root, pin.Recursive, ""); err != nil {
		return fmt.Errorf("pin %s: %w", root, err)
	}
	if err := c.store.pinner.Flush(ctx); err != nil {
		return fmt.Errorf("pin %s: %w", root, err)
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
	// The blockstore lists raw CIDv1s of its multihashes, so liveness is
	// decided by multihash, never by whole CID.
	keep := make(map[string]struct{}, live.Len())
	_ = live.ForEach(func(k cid.Cid) error {
		keep[string(k.Hash())] = struct{}{}
		return nil
	})
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
		if err := s.walk(ctx, r, live); err != nil {
			return nil, fmt.Errorf("pinned DAG %s: %w", r, err)
		}
	}
	return live, nil
}

// walk adds root and everything below it to seen, from local blocks only.
// Raw blocks have no links, so they are never read.
func (s *Store) walk(ctx context.Context, root cid.Cid, seen *cid.Set) error {
	stack := []cid.Cid{root}
	for len(stack) > 0 {
		k := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !seen.Visit(k) || k.Prefix().Codec == cid.Raw || k.Prefix().Codec == codecJSON {
			continue
		}
		nd, err := s.dag.Get(ctx, k)
		if err != nil {
			return fmt.Errorf("block %s: %w", k, notFound(err))
		}
		for _, l := range nd.Links() {
			stack = append(stack, l.Cid)
		}
	}
	return nil
}
