package ipfs

import (
	"context"
	"fmt"

	"github.com/ipfs/boxo/blockservice"
	pin "github.com/ipfs/boxo/pinning/pinner"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// codecJSON is the multicodec of plain JSON blocks (0x0200), which the DAG
// walkers treat, like raw blocks, as having no links.
const codecJSON = 0x0200

// PutBlock stores one block after checking that data hashes to k, and keeps
// it with a direct pin so that GC never removes it. It is how the node
// stores the entries of actor logs, which other nodes then fetch by CID.
// Storing a block that is already kept does nothing.
func (c *Content) PutBlock(ctx context.Context, k cid.Cid, data []byte) error {
	if len(data) > DefaultMaxBlockSize {
		return fmt.Errorf("put %s: %w: %d bytes, more than %d", k, ErrBadBlock, len(data), DefaultMaxBlockSize)
	}
	sum, err := k.Prefix().Sum(data)
	if err != nil || !sum.Equals(k) {
		return fmt.Errorf("put %s: %w: the bytes do not hash to the CID", k, ErrBadBlock)
	}
	b, err := blocks.NewBlockWithCid(data, k)
	if err != nil {
		return fmt.Errorf("put %s: %w", k, err)
	}
	unlock := c.store.locker.PinLock(ctx)
	defer unlock.Unlock(ctx)
	if err := c.store.bs.Put(ctx, b); err != nil {
		return fmt.Errorf("put %s: %w", k, err)
	}
	if err := c.store.pinner.PinWithMode(ctx, k, pin.Direct, ""); err != nil {
		return fmt.Errorf("keep %s: %w", k, err)
	}
	if err := c.store.pinner.Flush(ctx); err != nil {
		return fmt.Errorf("keep %s: %w", k, err)
	}
	return nil
}

// GetBlock returns the bytes of one block, from the store or, when online,
// from the network (bitswap verifies them against k).
func (c *Content) GetBlock(ctx context.Context, k cid.Cid) ([]byte, error) {
	b, err := blockservice.NewSession(ctx, c.bserv).GetBlock(ctx, k)
	if err != nil {
		return nil, fmt.Errorf("get block %s: %w", k, notFound(err))
	}
	return b.RawData(), nil
}

// HasBlock reports whether the store holds k, without asking the network.
func (c *Content) HasBlock(ctx context.Context, k cid.Cid) (bool, error) {
	return c.store.bs.Has(ctx, k)
}
