package ipfs

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/verifcid"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	car "github.com/ipld/go-car/v2"
	mh "github.com/multiformats/go-multihash"
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
	c.streamDAG(ctx, root)
	ctx = blockservice.ContextWithSession(ctx, c.bserv)
	if _, err := c.node(ctx, root); err != nil {
		return fmt.Errorf("export %s: %w", root, err)
	}
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
// roots and the number of distinct blocks in it. It is strict: every block
// is re-hashed against its CID, sizes are bounded, and the roots' DAGs must
// be complete when they are pinned. Since the uploader chooses every CID,
// only collision-resistant hashes with digests of 32 bytes or more are
// accepted: sha2-256 (what Kubo makes by default), sha2-512,
// sha3-256/384/512, blake2b-256 to blake2b-512 and blake3, and identity
// CIDs up to 128 bytes; SHA-1 and other weak or truncated hashes are
// refused. Malformed streams fail with ErrInvalidCAR, unacceptable blocks
// with ErrBadBlock.
//
// Pins are all-or-nothing: a failed import leaves no pin. Its blocks are
// not: another operation may have found them already stored and relied on
// them, so a failed import never removes a block that a pin, a keep record
// (PutBlocks) or an added root reaches. It removes its other blocks when it
// can do so at once, and otherwise leaves them to the next GC.
func (c *Content) ImportCAR(ctx context.Context, r io.Reader, o CARImportOptions) (roots []cid.Cid, nblocks int, err error) {
	return c.importCAR(ctx, r, o, carTuning{})
}

// carTuning holds the knobs tests turn; the zero value is what ImportCAR
// uses.
type carTuning struct {
	batchBytes int              // bytes buffered before a write; 0 means importBatchBytes
	afterFlush func(blocks int) // called after each write with the distinct blocks read so far
}

func (c *Content) importCAR(ctx context.Context, r io.Reader, o CARImportOptions, tune carTuning) ([]cid.Cid, int, error) {
	// Blocks are written without waiting for the disk and synced once, at
	// the end of the import, before any pin (see deferSync).
	imp := &carImport{ctx: deferSync(ctx), store: c.store, seen: cid.NewSet(), tune: tune}
	roots, err := c.importLocked(ctx, r, o, imp)
	if err != nil {
		// Only now, with the pin lock released: rollback takes the GC lock,
		// which a pin lock holder would wait for forever.
		imp.rollback()
		return nil, 0, err // the caller says what failed: "import CAR"
	}
	if !o.NoPin {
		for _, root := range roots {
			c.provide(ctx, root)
		}
	}
	c.log.Debug("ipfs: imported CAR", "roots", len(roots), "blocks", imp.seen.Len(), "new", len(imp.added))
	return roots, imp.seen.Len(), nil
}

// importLocked streams the CAR into the store and pins its roots, holding
// the shared pin lock throughout: GC cannot take the blocks before they are
// pinned, and adds, pins and other imports go on meanwhile, so a slow
// upload holds up nothing but GC.
func (c *Content) importLocked(ctx context.Context, r io.Reader, o CARImportOptions, imp *carImport) ([]cid.Cid, error) {
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
		return nil, fmt.Errorf("header: %w: %w", ErrInvalidCAR, err)
	}
	for {
		blk, err := nextBlock(br, maxBlock)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := imp.add(blk); err != nil {
			return nil, err
		}
	}
	if err := imp.flush(); err != nil {
		return nil, err
	}
	if err := c.store.syncBlocks(); err != nil {
		return nil, err
	}

	if !o.NoPin {
		for _, root := range br.Roots {
			if err := c.store.walk(ctx, root, cid.NewSet(), false); err != nil {
				return nil, fmt.Errorf("root %s: incomplete DAG: %w: %w", root, ErrInvalidCAR, err)
			}
		}
		if err := c.store.pinRoots(ctx, br.Roots); err != nil {
			return nil, err
		}
	}
	return br.Roots, nil
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
	if err := verifcid.ValidateCid(carHashes{}, k); err != nil {
		return nil, fmt.Errorf("block %s: %w: hash %s: %w (CAR imports take %s)",
			k, ErrBadBlock, hashName(k.Prefix().MhType), err, carHashesAccepted)
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

// carHashesAccepted names the hashes carHashes allows, for error messages.
const carHashesAccepted = "sha2-256, sha2-512, sha3-256, sha3-384, sha3-512, " +
	"blake2b-256 to blake2b-512 or blake3, with digests of 32 bytes or more, " +
	"or identity up to 128 bytes"

// carHashes is the verifcid.Allowlist of CAR imports. A CAR's uploader
// chooses every CID in it, so only hashes that resist collisions today are
// accepted, with digests of at least 256 bits: SHA-2, SHA-3, BLAKE2b and
// BLAKE3. That is what Kubo produces (sha2-256 by default) and what it
// offers for content. boxo's default list, which bitswap fetches still use,
// also allows SHA-1, whose collisions are practical, and double SHA-256,
// Keccak, BLAKE2s, SHA3-224 and digests cut to 20 bytes, none of which
// Lyceum's content needs.
//
// Identity CIDs hold their bytes in the CID and store nothing; they are
// accepted up to verifcid.DefaultMaxIdentityDigestSize (128 bytes), the
// limit boxo's bitswap and gateway apply, which is well above Kubo's
// inlining limit (32 bytes by default).
type carHashes struct{}

var _ verifcid.Allowlist = carHashes{}

// IsAllowed reports whether CAR imports accept the hash function code.
func (carHashes) IsAllowed(code uint64) bool {
	switch code {
	case mh.IDENTITY, mh.SHA2_256, mh.SHA2_512, mh.SHA3_256, mh.SHA3_384, mh.SHA3_512, mh.BLAKE3:
		return true
	}
	return code >= blake2b256 && code <= mh.BLAKE2B_MAX
}

// blake2b256 is the multihash code of blake2b-256; the codes run up by one
// per byte of digest to blake2b-512.
const blake2b256 = mh.BLAKE2B_MIN + 31

// MinDigestSize is 32 bytes (256 bits) for hashes, 0 for identity.
func (carHashes) MinDigestSize(code uint64) int {
	if code == mh.IDENTITY {
		return 0
	}
	return 32
}

// MaxDigestSize is boxo's: 128 bytes for hashes and for identity.
func (carHashes) MaxDigestSize(code uint64) int {
	if code == mh.IDENTITY {
		return verifcid.DefaultMaxIdentityDigestSize
	}
	return verifcid.DefaultMaxDigestSize
}

// hashName is the multihash name of code, or its number.
func hashName(code uint64) string {
	if name, ok := mh.Codes[code]; ok {
		return name
	}
	return fmt.Sprintf("0x%x", code)
}

// carImport writes checked blocks in batches and remembers which ones were
// new, so a failed import knows which ones it may remove.
type carImport struct {
	ctx     context.Context
	store   *Store
	seen    *cid.Set
	pending []blocks.Block
	size    int
	added   []cid.Cid
	tune    carTuning
}

func (imp *carImport) add(b blocks.Block) error {
	if !imp.seen.Visit(b.Cid()) {
		return nil
	}
	imp.pending = append(imp.pending, b)
	imp.size += len(b.RawData())
	batch := imp.tune.batchBytes
	if batch <= 0 {
		batch = importBatchBytes
	}
	if imp.size >= batch {
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
	if len(fresh) > 0 {
		// Record before writing: a failed PutMany may have written some.
		for _, b := range fresh {
			imp.added = append(imp.added, b.Cid())
		}
		if err := imp.store.bs.PutMany(imp.ctx, fresh); err != nil {
			return fmt.Errorf("write blocks: %w", err)
		}
	}
	if imp.tune.afterFlush != nil {
		imp.tune.afterFlush(imp.seen.Len())
	}
	return nil
}

// rollback removes the blocks this failed import added that nothing has
// come to rely on. The import only took the shared pin lock, so while it
// ran, an Add, a Pin (fetching over bitswap) or a PutBlocks could find its
// blocks already stored, skip writing them, and pin or keep them: deleting
// every block it wrote would break content those operations acknowledged.
//
// So rollback is a GC restricted to the import's own blocks: under the
// exclusive GC lock, with no other write in flight, it keeps whatever a
// pin, a keep record or an added root (pinned or not, a file Add returned)
// reaches, and removes the rest. The import's pin lock must be released
// first (the GC lock waits for every pin lock holder).
//
// It takes the GC lock only if it is free. Waiting for it would block every
// new add, pin and publish behind any slow upload still streaming (a
// sync.RWMutex writer that waits holds off new readers); then, as when the
// store cannot tell what is live, the blocks are left to the next GC,
// which removes them unless a retried upload or an add has pinned them by
// then. It runs even when the import's context is done: a client that
// goes away is the commonest failure.
func (imp *carImport) rollback() {
	if len(imp.added) == 0 {
		return
	}
	log := imp.store.log
	unlock, ok := imp.store.locker.tryGCLock()
	if !ok {
		log.Info("ipfs: failed CAR import: other writes running, leaving its blocks to GC", "blocks", len(imp.added))
		return
	}
	ctx := context.WithoutCancel(imp.ctx)
	defer unlock.Unlock(ctx)

	keep, err := imp.store.reachable(ctx)
	if err != nil {
		log.Warn("ipfs: failed CAR import: cannot tell which blocks are in use, leaving them to GC", "blocks", len(imp.added), "err", err)
		return
	}
	removed := 0
	for _, k := range imp.added {
		if _, ok := keep[string(k.Hash())]; ok {
			continue
		}
		if err := imp.store.bs.DeleteBlock(ctx, k); err != nil {
			log.Error("ipfs: failed CAR import: cannot delete block", "cid", k, "err", err)
			continue
		}
		removed++
	}
	log.Debug("ipfs: failed CAR import rolled back", "added", len(imp.added), "removed", removed)
}
