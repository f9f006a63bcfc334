package ipfs

import (
	"context"
	"fmt"

	"github.com/ipfs/boxo/blockservice"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// codecJSON is the multicodec of plain JSON blocks (0x0200), which the DAG
// walkers treat, like raw blocks, as having no links.
const codecJSON = 0x0200

// Block is one block to store: its CID and bytes.
type Block struct {
	CID  cid.Cid
	Data []byte
}

// PutBlock stores one block after checking that data hashes to k, and keeps
// it so that GC never removes it (a keep record, lighter than a pin: no
// pin listing shows the thousands of log entries a node holds). It is how the node
// stores the entries of actor logs, which other nodes then fetch by CID.
// Storing a block that is already kept does nothing.
func (c *Content) PutBlock(ctx context.Context, k cid.Cid, data []byte) error {
	return c.PutBlocks(ctx, []Block{{CID: k, Data: data}})
}

// PutBlocks is PutBlock for many blocks, with one write and one pin flush.
func (c *Content) PutBlocks(ctx context.Context, bs []Block) error {
	out := make([]blocks.Block, 0, len(bs))
	for _, b := range bs {
		if len(b.Data) > DefaultMaxBlockSize {
			return fmt.Errorf("put %s: %w: %d bytes, more than %d", b.CID, ErrBadBlock, len(b.Data), DefaultMaxBlockSize)
		}
		sum, err := b.CID.Prefix().Sum(b.Data)
		if err != nil || !sum.Equals(b.CID) {
			return fmt.Errorf("put %s: %w: the bytes do not hash to the CID", b.CID, ErrBadBlock)
		}
		blk, err := blocks.NewBlockWithCid(b.Data, b.CID)
		if err != nil {
			return fmt.Errorf("put %s: %w", b.CID, err)
		}
		out = append(out, blk)
	}
	unlock := c.store.locker.PinLock(ctx)
	defer unlock.Unlock(ctx)
	if err := c.store.bs.PutMany(ctx, out); err != nil {
		return fmt.Errorf("put %d blocks: %w", len(out), err)
	}
	// One synced batch of keep records for the lot.
	batch, err := c.store.root.Batch(ctx)
	if err != nil {
		return fmt.Errorf("keep %d blocks: %w", len(bs), err)
	}
	for _, b := range bs {
		if err := batch.Put(ctx, keepPrefix.ChildString(b.CID.String()), nil); err != nil {
			return fmt.Errorf("keep %s: %w", b.CID, err)
		}
	}
	if err := batch.Commit(ctx); err != nil {
		return fmt.Errorf("keep %d blocks: %w", len(bs), err)
	}
	return nil
}

// GetBlock returns the bytes of one block, from the store or, when online,
// from the network (bitswap verifies them against k).
func (c *Content) GetBlock(ctx context.Context, k cid.Cid) ([]byte, error) {
	// Local first: a bitswap session lives as long as ctx, which for the
	// node's own loops is the node's lifetime.
	if b, err := c.store.bs.Get(ctx, k); err == nil {
		return b.RawData(), nil
	}
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
