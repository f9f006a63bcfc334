package ipfs

import (
	"context"
	"fmt"

	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
)

// deferSyncKey marks a context whose block writes may return before their
// data is on stable storage.
type deferSyncKey struct{}

// deferSync returns ctx marked so that block writes under it do not wait
// for the disk. The caller must call Store.syncBlocks before it
// acknowledges anything it wrote: an import syncs once at its end instead
// of once per batch, and the disk writes out the first batches while the
// importer hashes the next.
func deferSync(ctx context.Context) context.Context {
	return context.WithValue(ctx, deferSyncKey{}, true)
}

// syncDeferred reports whether ctx was marked by deferSync.
func syncDeferred(ctx context.Context) bool {
	v, _ := ctx.Value(deferSyncKey{}).(bool)
	return v
}

// blockSyncer is the block folder of an on-disk store.
type blockSyncer interface {
	// syncAll makes every block written so far durable.
	syncAll() error
	// pending reports the blocks written under deferSync that no syncAll
	// has covered yet.
	pending() int64
}

// syncBlocks makes every block written so far durable; it is what an
// importer calls before it pins or acknowledges the blocks it wrote under
// deferSync. A memory store has nothing to sync.
func (s *Store) syncBlocks() error {
	if s.blocks == nil {
		return nil
	}
	if err := s.blocks.syncAll(); err != nil {
		return fmt.Errorf("sync blocks: %w", err)
	}
	return nil
}

// cacheBlockstore is the view of the store that fetched and imported blocks
// are written through: its writes do not wait for the disk. A fetched
// block is a cache entry until something pins it, and pinRoots syncs the
// blocks before it records a pin; an import syncs before it returns.
type cacheBlockstore struct{ blockstore.Blockstore }

func (b cacheBlockstore) Put(ctx context.Context, blk blocks.Block) error {
	return b.Blockstore.Put(deferSync(ctx), blk)
}

func (b cacheBlockstore) PutMany(ctx context.Context, blks []blocks.Block) error {
	return b.Blockstore.PutMany(deferSync(ctx), blks)
}
