package ipfs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/mount"
	dsq "github.com/ipfs/go-datastore/query"
	pebbleds "github.com/ipfs/go-ds-pebble"
)

// backupPrefixes are the namespaces of the metadata datastore a backup
// keeps: boxo's pins, our roots and kept blocks, and the node's own
// records. The provider's queue (/provider) is left out: it is rebuilt.
var backupPrefixes = []string{"/pins", "/lyceum", "/node"}

// IsBackupRecord reports whether key is one Backup gives and
// RestoreStore takes.
func IsBackupRecord(key string) bool {
	for _, p := range backupPrefixes {
		if key == p || strings.HasPrefix(key, p+"/") {
			return true
		}
	}
	return false
}

// Backup gives record each key and value of the store's metadata (pins,
// roots, the node's records), then block each block the store owns. It
// holds the pin lock throughout, so that no GC removes a block of a pin
// it gave; adds and pins go on meanwhile, a GC waits.
func (s *Store) Backup(ctx context.Context, record func(key string, value []byte) error, block func(blocks.Block) error) error {
	unlock := s.locker.PinLock(ctx)
	defer unlock.Unlock(ctx)
	for _, p := range backupPrefixes {
		res, err := s.root.Query(ctx, dsq.Query{Prefix: p})
		if err != nil {
			return fmt.Errorf("list %s: %w", p, err)
		}
		for r := range res.Next() {
			if r.Error != nil {
				res.Close()
				return fmt.Errorf("list %s: %w", p, r.Error)
			}
			if err := record(r.Key, r.Value); err != nil {
				res.Close()
				return err
			}
		}
		if err := res.Close(); err != nil {
			return err
		}
	}
	return s.forEachBlock(ctx, func(c cid.Cid) error {
		b, err := s.base.Get(ctx, c)
		if err != nil {
			return fmt.Errorf("read block %s: %w", c, err)
		}
		return block(b)
	})
}

// StoreWriter fills a new store from a backup: records and blocks, without
// the pinner (which reads the pins RestoreStore wrote when the store is
// next opened).
type StoreWriter struct {
	root datastore.Batching // as OpenStore mounts it
	bs   blockstore.Blockstore
}

// RestoreStore opens an empty store at dir for a restore.
func RestoreStore(dir string) (*StoreWriter, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("restore store %s: %w", dir, err)
	}
	flat, err := openBlocks(filepath.Join(dir, "blocks"))
	if err != nil {
		return nil, fmt.Errorf("restore store %s: blocks: %w", dir, err)
	}
	meta, err := pebbleds.NewDatastore(filepath.Join(dir, "datastore"), pebbleds.WithPebbleWriteOptions(pebble.Sync))
	if err != nil {
		flat.Close()
		return nil, fmt.Errorf("restore store %s: datastore: %w", dir, err)
	}
	root := mount.New([]mount.Mount{
		{Prefix: blocksPrefix, Datastore: flat},
		{Prefix: datastore.NewKey("/"), Datastore: meta},
	})
	return &StoreWriter{root: root, bs: blockstore.NewBlockstore(root)}, nil
}

// PutRecord writes one metadata record; keys outside the namespaces a
// backup keeps are refused.
func (w *StoreWriter) PutRecord(ctx context.Context, key string, value []byte) error {
	if !IsBackupRecord(key) || datastore.NewKey(key).String() != key {
		return fmt.Errorf("record %q is not one a backup holds", key)
	}
	return w.root.Put(ctx, datastore.NewKey(key), value)
}

// PutBlock writes one block after checking that data hashes to c.
func (w *StoreWriter) PutBlock(ctx context.Context, c cid.Cid, data []byte) error {
	b, err := blocks.NewBlockWithCid(data, c)
	if err != nil {
		return err
	}
	sum, err := c.Prefix().Sum(data)
	if err != nil {
		return fmt.Errorf("hash block %s: %w", c, err)
	}
	if string(sum.Hash()) != string(c.Hash()) {
		return fmt.Errorf("block %s: the data does not hash to its CID", c)
	}
	return w.bs.Put(ctx, b)
}

// Close closes the store's databases.
func (w *StoreWriter) Close() error {
	return w.root.Close()
}
