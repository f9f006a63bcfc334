package logsync

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/lyceum-oer/lyceum/node/actorlog"
)

// pageCache hands the log entries a peer sent with a log head to the
// backfill that follows, so that they are not asked for twice. It is
// bounded in logs and in bytes (limits.sync_cache_entries and
// sync_cache_mib): the least recently put are dropped first, and a
// backfill that finds nothing asks the peer again.
type pageCache struct {
	mu       sync.Mutex
	pages    *simplelru.LRU[string, [][]byte]
	bytes    int64
	maxBytes int64
}

func newPageCache(entries int, maxBytes int64) *pageCache {
	c := &pageCache{maxBytes: maxBytes}
	lru, err := simplelru.NewLRU[string, [][]byte](max(entries, 1), func(_ string, v [][]byte) { c.bytes -= pageBytes(v) })
	if err != nil {
		panic(err) // only for a size below 1
	}
	c.pages = lru
	return c
}

func pageBytes(entries [][]byte) int64 {
	var n int64
	for _, e := range entries {
		n += int64(len(e))
	}
	return n
}

// put keeps the entries sent with did's head, replacing any kept before;
// entries larger than the whole cache are not kept.
func (c *pageCache) put(did string, entries [][]byte) {
	size := pageBytes(entries)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pages.Remove(did)
	if size > c.maxBytes || len(entries) == 0 {
		return
	}
	for c.bytes+size > c.maxBytes {
		c.pages.RemoveOldest()
	}
	c.pages.Add(did, entries)
	c.bytes += size
}

// take removes and returns the entries kept for did.
func (c *pageCache) take(did string) [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, _ := c.pages.Peek(did)
	c.pages.Remove(did)
	return e
}

// size is how many logs and bytes the cache holds.
func (c *pageCache) size() (int, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pages.Len(), c.bytes
}

// spool holds the entries a backfill found missing, newest first as the
// walk down a log finds them: in memory up to a budget of bytes, and the
// older ones in a file in the repo's tmp folder, so that a long log costs
// disk, not memory. It gives them back oldest first, the order they are
// stored in (an Undo must follow what it undoes).
type spool struct {
	dir    string
	budget int64
	verify func([]byte) (actorlog.Entry, error)

	mem      []actorlog.Entry // newest first
	memBytes int64
	f        *os.File // older entries, appended newest first
	w        *bufio.Writer
	refs     []spoolRef // the file's entries, in the order written
	off      int64
}

type spoolRef struct {
	off  int64
	size int
}

func newSpool(dir string, budget int64, verify func([]byte) (actorlog.Entry, error)) *spool {
	return &spool{dir: dir, budget: budget, verify: verify}
}

// len is how many entries the spool holds.
func (s *spool) len() int { return len(s.mem) + len(s.refs) }

// add appends e, older than every entry added before.
func (s *spool) add(e actorlog.Entry) error {
	if s.f == nil && s.memBytes+int64(len(e.Data)) <= s.budget {
		s.mem = append(s.mem, e)
		s.memBytes += int64(len(e.Data))
		return nil
	}
	if s.f == nil {
		if err := os.MkdirAll(s.dir, 0o700); err != nil {
			return fmt.Errorf("backfill spool: %w", err)
		}
		f, err := os.CreateTemp(s.dir, "backfill-*")
		if err != nil {
			return fmt.Errorf("backfill spool: %w", err)
		}
		s.f, s.w = f, bufio.NewWriterSize(f, 1<<20)
	}
	if _, err := s.w.Write(e.Data); err != nil {
		return fmt.Errorf("backfill spool: %w", err)
	}
	s.refs = append(s.refs, spoolRef{off: s.off, size: len(e.Data)})
	s.off += int64(len(e.Data))
	return nil
}

// drain calls store with the entries in ascending seq followed by last, at
// most batch at a time, and stops at its first error.
func (s *spool) drain(batch int, last actorlog.Entry, store func([]actorlog.Entry) error) error {
	if s.f != nil {
		if err := s.w.Flush(); err != nil {
			return fmt.Errorf("backfill spool: %w", err)
		}
		es := make([]actorlog.Entry, 0, batch)
		for i := len(s.refs) - 1; i >= 0; i-- {
			r := s.refs[i]
			data := make([]byte, r.size)
			if _, err := s.f.ReadAt(data, r.off); err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("backfill spool: %w", err)
			}
			// The bytes were verified when the walk found them; they are
			// read back from the node's own disk, and verified again.
			e, err := s.verify(data)
			if err != nil {
				return fmt.Errorf("backfill spool: %w", err)
			}
			if es = append(es, e); len(es) == batch {
				if err := store(es); err != nil {
					return err
				}
				es = es[:0]
			}
		}
		if len(es) > 0 {
			if err := store(es); err != nil {
				return err
			}
		}
	}
	es := make([]actorlog.Entry, 0, min(len(s.mem)+1, batch))
	for i := len(s.mem) - 1; i >= 0; i-- {
		if es = append(es, s.mem[i]); len(es) == batch {
			if err := store(es); err != nil {
				return err
			}
			es = es[:0]
		}
	}
	return store(append(es, last))
}

// close removes the spool's file.
func (s *spool) close() {
	if s.f != nil {
		name := s.f.Name()
		s.f.Close()
		os.Remove(name)
		s.f = nil
	}
}
