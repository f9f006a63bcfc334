package ipfs

import (
	"context"
	"fmt"
	"os"

	"github.com/ipfs/go-datastore"
	flatfs "github.com/ipfs/go-ds-flatfs"
	"golang.org/x/sys/unix"
)

// openBlocks opens the flatfs block folder. On Linux, files are not synced
// one by one: a write or batch of writes is made durable with one
// syncfs(2) of the folder's filesystem before it returns, which costs one
// disk flush per batch instead of one per block (a 10,000-entry log
// backfill is 10,000 blocks).
func openBlocks(path string) (datastore.Batching, error) {
	flat, err := flatfs.CreateOrOpen(path, flatfs.NextToLast(2), false)
	if err != nil {
		return nil, err
	}
	dir, err := os.Open(path)
	if err != nil {
		flat.Close()
		return nil, err
	}
	return &syncedBlocks{Datastore: flat, dir: dir}, nil
}

// syncedBlocks is flatfs whose Put and batch Commit return only once the
// data is on disk.
type syncedBlocks struct {
	*flatfs.Datastore
	dir *os.File
}

func (s *syncedBlocks) syncfs() error {
	if err := unix.Syncfs(int(s.dir.Fd())); err != nil {
		return fmt.Errorf("syncfs %s: %w", s.dir.Name(), err)
	}
	return nil
}

// Put writes one block durably.
func (s *syncedBlocks) Put(ctx context.Context, k datastore.Key, v []byte) error {
	if err := s.Datastore.Put(ctx, k, v); err != nil {
		return err
	}
	return s.syncfs()
}

// Batch returns a batch whose Commit is durable.
func (s *syncedBlocks) Batch(ctx context.Context) (datastore.Batch, error) {
	b, err := s.Datastore.Batch(ctx)
	if err != nil {
		return nil, err
	}
	return &syncedBatch{Batch: b, s: s}, nil
}

// Close closes flatfs and the folder handle.
func (s *syncedBlocks) Close() error {
	err := s.Datastore.Close()
	if cerr := s.dir.Close(); err == nil {
		err = cerr
	}
	return err
}

type syncedBatch struct {
	datastore.Batch
	s *syncedBlocks
}

func (b *syncedBatch) Commit(ctx context.Context) error {
	if err := b.Batch.Commit(ctx); err != nil {
		return err
	}
	return b.s.syncfs()
}
