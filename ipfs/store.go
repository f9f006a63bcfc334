package ipfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/exchange/offline"
	"github.com/ipfs/boxo/ipld/merkledag"
	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/boxo/pinning/pinner/dspinner"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/mount"
	"github.com/ipfs/go-datastore/namespace"
	dsq "github.com/ipfs/go-datastore/query"
	dssync "github.com/ipfs/go-datastore/sync"
	pebbleds "github.com/ipfs/go-ds-pebble"
	ipld "github.com/ipfs/go-ipld-format"
)

// Key prefixes inside the metadata datastore. boxo's pinner writes under
// /pins and its provider under /provider; the rest are ours.
var (
	blocksPrefix = datastore.NewKey("/blocks")
	rootsPrefix  = datastore.NewKey("/lyceum/roots")
	keepPrefix   = datastore.NewKey("/lyceum/keep")
	nodePrefix   = datastore.NewKey("/node")
)

// StoreOption configures OpenStore and NewMemStore.
type StoreOption func(*storeConfig)

type storeConfig struct {
	log    *slog.Logger
	source BlockSource
}

// WithStoreLogger sets the logger the Store reports to; the default is
// slog.Default().
func WithStoreLogger(l *slog.Logger) StoreOption {
	return func(c *storeConfig) { c.log = l }
}

// Store holds blocks, pins and the node's small records. Blocks live in a
// flatfs directory (one synced file per block, sharded like Kubo), all the
// rest in a pebble database with synced writes, so whatever a call has
// acknowledged survives a crash of the process or the machine.
//
// A Store is safe for concurrent use. Several Contents and one Exchange may
// share it; they then share its pins and its GC lock.
type Store struct {
	dir    string // "" for an in-memory store
	log    *slog.Logger
	root   datastore.Batching    // everything: /blocks → flatfs, the rest → pebble
	bs     blockstore.Blockstore // base, read through the block source if any
	base   blockstore.Blockstore // the blocks the store owns: listed, collected
	blocks blockSyncer           // the block folder's sync when it can defer one; nil otherwise
	locker *gcLocker
	pinner pin.Pinner
	// pinMu makes each change to the pin set (check, pin or unpin, flush)
	// one step; see pinRoots.
	pinMu sync.Mutex
	// dag reads and writes bs only: the pinner and GC must never reach the
	// network.
	dag ipld.DAGService

	closeOnce sync.Once
	closeErr  error

	// beforePin, set by tests, runs in pinRoots once the blocks are
	// synced, before the pin is written.
	beforePin func()
}

// OpenStore opens the store rooted at dir, creating it if missing. Blocks
// go to dir/blocks (flatfs, next-to-last/2 sharding, synced), everything else
// to dir/datastore (pebble, synced writes).
func OpenStore(dir string, opts ...StoreOption) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	flat, err := openBlocks(filepath.Join(dir, "blocks"))
	if err != nil {
		return nil, fmt.Errorf("open store %s: blocks: %w", dir, err)
	}
	meta, err := pebbleds.NewDatastore(filepath.Join(dir, "datastore"),
		pebbleds.WithPebbleWriteOptions(pebble.Sync))
	if err != nil {
		_ = flat.Close()
		return nil, fmt.Errorf("open store %s: datastore: %w", dir, err)
	}
	root := mount.New([]mount.Mount{
		{Prefix: blocksPrefix, Datastore: flat},
		{Prefix: datastore.NewKey("/"), Datastore: meta},
	})
	s, err := newStore(dir, root, opts)
	if err != nil {
		_ = root.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	s.blocks, _ = flat.(blockSyncer)
	return s, nil
}

// NewMemStore returns a Store kept in memory, for tests and the simulator.
func NewMemStore(opts ...StoreOption) *Store {
	s, err := newStore("", dssync.MutexWrap(datastore.NewMapDatastore()), opts)
	if err != nil {
		// The pinner only fails to load from a broken datastore; an empty
		// map cannot be one.
		panic(fmt.Sprintf("ipfs: new memory store: %v", err))
	}
	return s
}

func newStore(dir string, root datastore.Batching, opts []StoreOption) (*Store, error) {
	cfg := storeConfig{log: slog.Default()}
	for _, o := range opts {
		o(&cfg)
	}
	base := blockstore.NewIdStore(blockstore.NewBlockstore(root))
	bs := base
	if cfg.source != nil {
		bs = &sourcedBlockstore{Blockstore: base, src: cfg.source}
	}
	dag := merkledag.NewDAGService(blockservice.New(bs, offline.Exchange(bs)))
	pinner, err := dspinner.New(context.Background(), root, dag)
	if err != nil {
		return nil, fmt.Errorf("load pins: %w", err)
	}
	return &Store{
		dir:    dir,
		log:    cfg.log,
		root:   root,
		bs:     bs,
		base:   base,
		locker: &gcLocker{},
		pinner: pinner,
		dag:    dag,
	}, nil
}

// Close flushes pins and closes the databases. It is safe to call twice.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		ctx := context.Background()
		var errs []error
		if err := s.pinner.Flush(ctx); err != nil {
			errs = append(errs, fmt.Errorf("flush pins: %w", err))
		}
		if err := s.pinner.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close pinner: %w", err))
		}
		if err := s.root.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close datastore: %w", err))
		}
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("close store %s: %w", s.dir, err)
		}
	})
	return s.closeErr
}

// Datastore returns the datastore for the node's own small records. It is
// a namespace of the store's metadata datastore (pebble on disk, with synced
// writes), kept apart from the keys pins and the provider use.
func (s *Store) Datastore() datastore.Batching {
	return namespace.Wrap(s.root, nodePrefix)
}

// Blockstore returns the store's blockstore. Writing to it directly skips
// pinning and the GC lock; prefer Content's methods.
func (s *Store) Blockstore() blockstore.Blockstore { return s.bs }

// diskUsage reports the bytes the store uses: file sizes under the store
// directory, or the sum of block sizes for a memory store.
func (s *Store) diskUsage(ctx context.Context) (int64, error) {
	if s.dir == "" {
		var total int64
		err := s.forEachBlock(ctx, func(c cid.Cid) error {
			n, err := s.bs.GetSize(ctx, c)
			if err != nil {
				return err
			}
			total += int64(n)
			return nil
		})
		return total, err
	}
	var total int64
	err := filepath.WalkDir(s.dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) { // removed while walking (GC, compaction)
				return nil
			}
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			total += info.Size()
		}
		return ctx.Err()
	})
	return total, err
}

// forEachBlock calls f for every block CID in the store, in no particular
// order.
func (s *Store) forEachBlock(ctx context.Context, f func(cid.Cid) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lister, ok := s.base.(blockstore.AllKeysChanWithErrer)
	if !ok {
		return errors.New("blockstore cannot report listing errors")
	}
	ch, errf, err := lister.AllKeysChanWithErr(ctx)
	if err != nil {
		return err
	}
	for c := range ch {
		if err := f(c); err != nil {
			return err
		}
	}
	if err := errf(); err != nil {
		return err
	}
	return ctx.Err()
}

// addRoot records c as a root this node added, so the provider announces it
// even when it is not pinned.
func (s *Store) addRoot(ctx context.Context, c cid.Cid) error {
	return s.root.Put(ctx, rootsPrefix.ChildString(c.String()), nil)
}

// roots returns the recorded added roots.
func (s *Store) roots(ctx context.Context) ([]cid.Cid, error) {
	return s.cidsUnder(ctx, rootsPrefix)
}

// kept lists the blocks kept by PutBlocks.
func (s *Store) kept(ctx context.Context) ([]cid.Cid, error) {
	return s.cidsUnder(ctx, keepPrefix)
}

// cidsUnder lists the CIDs named by the keys under prefix.
func (s *Store) cidsUnder(ctx context.Context, prefix datastore.Key) ([]cid.Cid, error) {
	res, err := s.root.Query(ctx, dsq.Query{Prefix: prefix.String(), KeysOnly: true})
	if err != nil {
		return nil, err
	}
	entries, err := res.Rest()
	if err != nil {
		return nil, err
	}
	out := make([]cid.Cid, 0, len(entries))
	for _, e := range entries {
		c, err := cid.Decode(datastore.RawKey(e.Key).BaseNamespace())
		if err != nil {
			s.log.Warn("ipfs: skipping malformed record", "key", e.Key, "err", err)
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// dropRoot forgets an added root (after GC removed it).
func (s *Store) dropRoot(ctx context.Context, c cid.Cid) error {
	return s.root.Delete(ctx, rootsPrefix.ChildString(c.String()))
}

// recursivePins lists the roots of recursive pins.
func (s *Store) recursivePins(ctx context.Context) ([]cid.Cid, error) {
	var out []cid.Cid
	for p := range s.pinner.RecursiveKeys(ctx, false) {
		if p.Err != nil {
			return nil, p.Err
		}
		out = append(out, p.Pin.Key)
	}
	return out, nil
}

// directPins lists direct pins (none are made by this package, but a store
// shared with other tools may hold some).
func (s *Store) directPins(ctx context.Context) ([]cid.Cid, error) {
	var out []cid.Cid
	for p := range s.pinner.DirectKeys(ctx, false) {
		if p.Err != nil {
			return nil, p.Err
		}
		out = append(out, p.Pin.Key)
	}
	return out, nil
}
