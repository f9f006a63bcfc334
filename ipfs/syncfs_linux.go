package ipfs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/ipfs/go-datastore"
	flatfs "github.com/ipfs/go-ds-flatfs"
	"golang.org/x/sys/unix"
)

// blockShard is the flatfs sharding of the block folder, as Kubo has it.
var blockShard = flatfs.NextToLast(2)

// openBlocks opens the flatfs block folder. On Linux, files are not synced
// one by one: a write or batch of writes is made durable with one
// syncfs(2) of the folder's filesystem before it returns, which costs one
// disk flush per batch instead of one per block (a 10,000-entry log
// backfill is 10,000 blocks).
//
// Writes under a context marked by deferSync return without waiting: each
// file's write-out to disk is started at once (sync_file_range), so the
// disk works while the importer hashes the next chunks, and the importer
// calls syncAll, one syncfs that has little left to wait for, before it
// acknowledges them.
func openBlocks(path string) (datastore.Batching, error) {
	flat, err := flatfs.CreateOrOpen(path, blockShard, false)
	if err != nil {
		return nil, err
	}
	dir, err := os.Open(path)
	if err != nil {
		flat.Close()
		return nil, err
	}
	return &syncedBlocks{Datastore: flat, dir: dir, shard: blockShard.Func()}, nil
}

// syncedBlocks is flatfs whose Put and batch Commit return only once the
// data is on disk, unless their context defers the sync.
type syncedBlocks struct {
	*flatfs.Datastore
	dir   *os.File
	shard func(string) string
	// unsynced counts the blocks written under deferSync that no
	// completed syncAll covers yet.
	unsynced atomic.Int64
}

func (s *syncedBlocks) syncfs() error {
	if err := unix.Syncfs(int(s.dir.Fd())); err != nil {
		return fmt.Errorf("syncfs %s: %w", s.dir.Name(), err)
	}
	return nil
}

// syncAll makes every block written so far durable.
func (s *syncedBlocks) syncAll() error {
	n := s.unsynced.Load()
	if err := s.syncfs(); err != nil {
		return err
	}
	s.unsynced.Add(-n)
	return nil
}

// pending reports the blocks written under deferSync and not yet synced.
func (s *syncedBlocks) pending() int64 { return s.unsynced.Load() }

// startWriteback asks the kernel to start writing the blocks' files to
// disk without waiting for it. Failures only lose the head start: syncAll
// still waits for every byte.
func (s *syncedBlocks) startWriteback(keys []datastore.Key) {
	for _, k := range keys {
		name := k.String()[1:]
		f, err := os.Open(filepath.Join(s.dir.Name(), s.shard(name), name+".data"))
		if err != nil {
			continue
		}
		_ = unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
		f.Close()
	}
}

// Put writes one block durably, or starts its write-out under deferSync.
func (s *syncedBlocks) Put(ctx context.Context, k datastore.Key, v []byte) error {
	if err := s.Datastore.Put(ctx, k, v); err != nil {
		return err
	}
	if syncDeferred(ctx) {
		s.unsynced.Add(1)
		s.startWriteback([]datastore.Key{k})
		return nil
	}
	return s.syncfs()
}

// Batch returns a batch whose Commit is durable, or starts the write-out
// of its blocks under deferSync.
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
	s    *syncedBlocks
	keys []datastore.Key // put under deferSync, for startWriteback
}

func (b *syncedBatch) Put(ctx context.Context, k datastore.Key, v []byte) error {
	if err := b.Batch.Put(ctx, k, v); err != nil {
		return err
	}
	if syncDeferred(ctx) {
		b.keys = append(b.keys, k)
	}
	return nil
}

func (b *syncedBatch) Commit(ctx context.Context) error {
	if err := b.Batch.Commit(ctx); err != nil {
		return err
	}
	if syncDeferred(ctx) {
		b.s.unsynced.Add(int64(len(b.keys)))
		b.s.startWriteback(b.keys)
		b.keys = b.keys[:0]
		return nil
	}
	return b.s.syncfs()
}
