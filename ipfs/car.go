package ipfs

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/boxo/blockservice"
	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/boxo/verifcid"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	car "github.com/ipld/go-car/v2"
)

// CAR import limits used when CARImportOptions leaves them at zero.
const (
	// DefaultMaxBlockSize is the largest block ImportCAR accepts: 2 MiB,
	// the bitswap limit, so every imported block can also be served.
	DefaultMaxBlockSize = 2 << 20
	// DefaultMaxCARHeaderSize bounds the CAR header (the roots list).
	DefaultMaxCARHeaderSize = 1 << 20

	// maxCIDSize bounds the CID part of a CAR section.
	maxCIDSize = 256
	// importBatchBytes is how much ImportCAR buffers before writing.
	importBatchBytes = 32 << 20
)

// CARImportOptions control ImportCAR. The zero value pins the roots and
// uses the default limits.
type CARImportOptions struct {
	// NoPin leaves the roots unpinned (they go at the next GC).
	NoPin bool
	// MaxBlockSize is the largest block accepted; 0 means
	// DefaultMaxBlockSize.
	MaxBlockSize int
	// MaxHeaderSize is the largest CAR header accepted; 0 means
	// DefaultMaxCARHeaderSize.
	MaxHeaderSize int
}

// ExportCAR writes the whole DAG under root to w as a CARv1 with root as
// its only root. Blocks come in depth-first order, each once, so the same
// DAG always gives the same bytes. Missing blocks are fetched when online.
func (c *Content) ExportCAR(ctx context.Context, root cid.Cid, w io.Writer) error {
	ctx = blockservice.ContextWithSession(ctx, c.bserv)
	bw := bufio.NewWriterSize(w, 1<<20)
	if _, err := bw.Write(carHeader(root)); err != nil {
		return fmt.Errorf("export %s: %w", root, err)
	}
	seen := cid.NewSet()
	stack := []cid.Cid{root}
	var buf [binary.MaxVarintLen64]byte
	for len(stack) > 0 {
		k := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !seen.Visit(k) {
			continue
		}
		nd, err := c.dag.Get(ctx, k)
		if err != nil {
			return fmt.Errorf("export %s: block %s: %w", root, k, notFound(err))
		}
		kb, data := k.Bytes(), nd.RawData()
		n := binary.PutUvarint(buf[:], uint64(len(kb)+len(data)))
		if _, err := bw.Write(buf[:n]); err != nil {
			return fmt.Errorf("export %s: %w", root, err)
		}
		if _, err := bw.Write(kb); err != nil {
			return fmt.Errorf("export %s: %w", root, err)
		}
		if _, err := bw.Write(data); err != nil {
			return fmt.Errorf("export %s: %w", root, err)
		}
		links := nd.Links()
		for i := len(links) - 1; i >= 0; i-- { // push in reverse: visit in link order
			stack = append(stack, links[i].Cid)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export %s: %w", root, err)
	}
	return nil
}

// carHeader encodes the CARv1 header {roots: [root], version: 1} in
// dag-cbor, length-prefixed.
func carHeader(root cid.Cid) []byte {
	var h []byte
	h = append(h, 0xa2)       // map, 2 entries (keys in dag-cbor order)
	h = append(h, 0x65)       // text, 5 bytes
	h = append(h, "roots"...) //
	h = append(h, 0x81)       // array, 1 item
	h = append(h, 0xd8, 0x2a) // tag 42: CID
	h = cborHead(h, 2, uint64(root.ByteLen()+1))
	h = append(h, 0x00)            // multibase identity prefix
	h = append(h, root.Bytes()...) //
	h = append(h, 0x67)            // text, 7 bytes
	h = append(h, "version"...)    //
	h = append(h, 0x01)            // 1
	out := binary.AppendUvarint(nil, uint64(len(h)))
	return append(out, h...)
}

// cborHead appends a CBOR head of the given major type and argument.
func cborHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= 0xff:
		return append(b, m|24, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, m|27), n)
	}
}

// ImportCAR reads a CARv1 or CARv2 stream into the store and returns its
// roots and the number of distinct blocks in it. It is strict and
// all-or-nothing: every block is re-hashed against its CID, sizes are
// bounded, and the roots' DAGs must be complete when they are pinned; on
// any failure the blocks it wrote are removed again and no pin is made.
// Malformed streams fail with ErrInvalidCAR, unacceptable blocks with
// ErrBadBlock.
func (c *Content) ImportCAR(ctx context.Context, r io.Reader, o CARImportOptions) (roots []cid.Cid, nblocks int, err error) {
	maxBlock := o.MaxBlockSize
	if maxBlock <= 0 {
		maxBlock = DefaultMaxBlockSize
	}
	maxHeader := o.MaxHeaderSize
	if maxHeader <= 0 {
		maxHeader = DefaultMaxCARHeaderSize
	}

	unlock := c.store.locker.PinLock(ctx)
	defer unlock.Unlock(ctx)

	br, err := car.NewBlockReader(r,
		car.MaxAllowedHeaderSize(uint64(maxHeader)),
		car.MaxAllowedSectionSize(uint64(maxBlock+maxCIDSize)))
	if err != nil {
		return nil, 0, fmt.Errorf("import CAR: header: %w: %w", ErrInvalidCAR, err)
	}
	roots = br.Roots

	imp := carImport{ctx: ctx, store: c.store, seen: cid.NewSet()}
	defer func() {
		if err != nil {
			imp.rollback()
		}
	}()
	for {
		blk, err := nextBlock(br, maxBlock)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("import CAR: %w", err)
		}
		if err := imp.add(blk); err != nil {
			return nil, 0, fmt.Errorf("import CAR: %w", err)
		}
	}
	if err := imp.flush(); err != nil {
		return nil, 0, fmt.Errorf("import CAR: %w", err)
	}

	if !o.NoPin {
		for _, root := range roots {
			if err := c.store.walk(ctx, root, cid.NewSet()); err != nil {
				return nil, 0, fmt.Errorf("import CAR: root %s: incomplete DAG: %w: %w", root, ErrInvalidCAR, err)
			}
		}
		for i, root := range roots {
			if err := c.store.pinner.PinWithMode(ctx, root, pin.Recursive, ""); err != nil {
				for _, done := range roots[:i] { // all-or-nothing holds for pins too
					_ = c.store.pinner.Unpin(context.WithoutCancel(ctx), done, true)
				}
				return nil, 0, fmt.Errorf("import CAR: pin %s: %w", root, err)
			}
		}
		if err := c.store.pinner.Flush(ctx); err != nil {
			return nil, 0, fmt.Errorf("import CAR: pin: %w", err)
		}
		for _, root := range roots {
			c.provide(ctx, root)
		}
	}
	c.log.Debug("ipfs: imported CAR", "roots", len(roots), "blocks", imp.seen.Len(), "new", len(imp.added))
	return roots, imp.seen.Len(), nil
}

// nextBlock reads and checks one CAR section.
func nextBlock(br *car.BlockReader, maxBlock int) (blocks.Block, error) {
	k, rd, n, err := br.NextReader()
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: truncated section: %w", ErrInvalidCAR, err)
		}
		return nil, fmt.Errorf("%w: section: %w", ErrInvalidCAR, err)
	}
	if n > uint64(maxBlock) {
		return nil, fmt.Errorf("block %s: %w: %d bytes, over the %d-byte limit", k, ErrBadBlock, n, maxBlock)
	}
	if err := verifcid.ValidateCid(verifcid.DefaultAllowlist, k); err != nil {
		return nil, fmt.Errorf("block %s: %w: %w", k, ErrBadBlock, err)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(rd, data); err != nil {
		return nil, fmt.Errorf("block %s: %w: truncated: %w", k, ErrInvalidCAR, err)
	}
	sum, err := k.Prefix().Sum(data)
	if err != nil {
		return nil, fmt.Errorf("block %s: %w: %w", k, ErrBadBlock, err)
	}
	if !sum.Equals(k) {
		return nil, fmt.Errorf("block %s: %w: bytes hash to %s", k, ErrBadBlock, sum)
	}
	return blocks.NewBlockWithCid(data, k)
}

// carImport writes checked blocks in batches and remembers which ones were
// new, so a failed import can remove exactly those.
type carImport struct {
	ctx     context.Context
	store   *Store
	seen    *cid.Set
	pending []blocks.Block
	size    int
	added   []cid.Cid
}

func (imp *carImport) add(b blocks.Block) error {
	if !imp.seen.Visit(b.Cid()) {
		return nil
	}
	imp.pending = append(imp.pending, b)
	imp.size += len(b.RawData())
	if imp.size >= importBatchBytes {
		return imp.flush()
	}
	return nil
}

func (imp *carImport) flush() error {
	var fresh []blocks.Block
	for _, b := range imp.pending {
		has, err := imp.store.bs.Has(imp.ctx, b.Cid())
		if err != nil {
			return fmt.Errorf("block %s: %w", b.Cid(), err)
		}
		if !has {
			fresh = append(fresh, b)
		}
	}
	imp.pending, imp.size = imp.pending[:0], 0
	if len(fresh) == 0 {
		return nil
	}
	// Record before writing: a failed PutMany may have written some.
	for _, b := range fresh {
		imp.added = append(imp.added, b.Cid())
	}
	if err := imp.store.bs.PutMany(imp.ctx, fresh); err != nil {
		return fmt.Errorf("write blocks: %w", err)
	}
	return nil
}

// rollback removes the blocks this import added. It runs even when the
// import's context is done.
func (imp *carImport) rollback() {
	ctx := context.WithoutCancel(imp.ctx)
	for _, k := range imp.added {
		if err := imp.store.bs.DeleteBlock(ctx, k); err != nil {
			imp.store.log.Error("ipfs: CAR import rollback: cannot delete block", "cid", k, "err", err)
		}
	}
}
