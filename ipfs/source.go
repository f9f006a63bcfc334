package ipfs

import (
	"context"
	"fmt"

	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// BlockSource is a read-only set of blocks kept outside the blockstore,
// by a component that must write them in its own durable transaction. The
// node keeps the entries of actor logs this way, in the same SQLite commit
// as the log index: one synced write per batch instead of a synced file
// per entry.
type BlockSource interface {
	// LookupBlock returns the bytes of c, or ok false if the source does
	// not hold it.
	LookupBlock(ctx context.Context, c cid.Cid) (data []byte, ok bool, err error)
}

// WithBlockSource adds src to the blocks the store serves: reads (local
// and by bitswap, the gateway, CAR export) find its blocks as if they
// were in the blockstore. The store never writes, lists, pins or collects
// them: they belong to src.
func WithBlockSource(src BlockSource) StoreOption {
	return func(c *storeConfig) { c.source = src }
}

// sourcedBlockstore reads a BlockSource before the blockstore under it;
// writes, deletes and listings go to the blockstore alone, so GC never
// sees the source's blocks.
type sourcedBlockstore struct {
	blockstore.Blockstore
	src BlockSource
}

func (s *sourcedBlockstore) lookup(ctx context.Context, c cid.Cid) ([]byte, bool, error) {
	data, ok, err := s.src.LookupBlock(ctx, c)
	if err != nil {
		return nil, false, fmt.Errorf("block source %s: %w", c, err)
	}
	return data, ok, nil
}

func (s *sourcedBlockstore) Has(ctx context.Context, c cid.Cid) (bool, error) {
	if _, ok, err := s.lookup(ctx, c); err != nil || ok {
		return ok, err
	}
	return s.Blockstore.Has(ctx, c)
}

func (s *sourcedBlockstore) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	data, ok, err := s.lookup(ctx, c)
	if err != nil {
		return nil, err
	}
	if ok {
		return blocks.NewBlockWithCid(data, c)
	}
	return s.Blockstore.Get(ctx, c)
}

func (s *sourcedBlockstore) GetSize(ctx context.Context, c cid.Cid) (int, error) {
	data, ok, err := s.lookup(ctx, c)
	if err != nil {
		return -1, err
	}
	if ok {
		return len(data), nil
	}
	return s.Blockstore.GetSize(ctx, c)
}

var _ blockstore.Blockstore = (*sourcedBlockstore)(nil)
