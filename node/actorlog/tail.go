package actorlog

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

// recentEntries keeps the entries just stored, decoded and by cursor, for
// the tails: the search index and the others would otherwise read them
// back and decode them again (decoding is a tenth of what ingesting an
// activity costs on an HQ). It keeps an entry until every tail has read
// it, and at most size entries: the oldest go first, and a tail that fell
// behind them reads the database.
type recentEntries struct {
	mu   sync.Mutex
	size int
	m    map[int64]Entry
	low  int64 // entries below low were dropped
}

func newRecentEntries(size int) *recentEntries {
	return &recentEntries{size: size, m: map[int64]Entry{}}
}

func (r *recentEntries) put(es []Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.m) == 0 && len(es) > 0 {
		r.low = es[0].Cursor
	}
	for _, e := range es {
		r.m[e.Cursor] = e
	}
	for len(r.m) > r.size {
		delete(r.m, r.low)
		r.low++
	}
}

// run returns the entries of cursors from, from+1, … that are kept, up to
// limit of them.
func (r *recentEntries) run(from int64, limit int) []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	var es []Entry
	for c := from; len(es) < limit; c++ {
		e, ok := r.m[c]
		if !ok {
			break
		}
		es = append(es, e)
	}
	return es
}

// dropThrough drops the entries up to cursor: every tail has read them.
func (r *recentEntries) dropThrough(cursor int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for ; r.low <= cursor && len(r.m) > 0; r.low++ {
		delete(r.m, r.low)
	}
}

func (r *recentEntries) get(cursor int64) (Entry, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.m[cursor]
	return e, ok
}

// tails are the readers following the log, woken after each store.
type tails struct {
	last atomic.Int64 // the cursor of the last entry stored

	mu   sync.Mutex
	subs map[*tailer]struct{}
}

// tailer is one reader: its wake-up token and how far it has read.
type tailer struct {
	wake  chan struct{}
	pos   atomic.Int64
	holds bool // stores wait for it (TailOptions.HoldsStores)
}

func newTails() *tails { return &tails{subs: map[*tailer]struct{}{}} }

func (t *tails) wake(last int64) {
	for old := t.last.Load(); last > old && !t.last.CompareAndSwap(old, last); old = t.last.Load() {
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for s := range t.subs {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (t *tails) add(s *tailer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.subs[s] = struct{}{}
}

func (t *tails) remove(s *tailer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.subs, s)
}

// read is the cursor every tail has read up to: the last entry stored
// when there is no tail.
func (t *tails) read() int64 {
	low := t.last.Load()
	t.mu.Lock()
	defer t.mu.Unlock()
	for s := range t.subs {
		low = min(low, s.pos.Load())
	}
	return low
}

// lag is how many entries the furthest behind of the tails that hold
// stores has yet to read.
func (t *tails) lag() int64 {
	last := t.last.Load()
	t.mu.Lock()
	defer t.mu.Unlock()
	var lag int64
	for s := range t.subs {
		if s.holds {
			lag = max(lag, last-s.pos.Load())
		}
	}
	return lag
}

// TailOptions tune Tail.
type TailOptions struct {
	// Batch is the most entries handed over at once; 0 = 2000.
	Batch int
	// HoldsStores makes WaitForTails wait for this tail: the search index
	// uses it, so that ingest does not run ahead of what it can index.
	HoldsStores bool
}

// Tail calls fn with every entry stored after cursor, in the order they
// were stored, a batch at a time: first those stored already, then each
// new batch as soon as it is stored. It returns when ctx ends or fn fails,
// with that error. fn's batches never overlap, and the next batch begins
// right after the last entry of the one before.
func (l *Log) Tail(ctx context.Context, cursor int64, o TailOptions, fn func([]Entry) error) error {
	if o.Batch <= 0 {
		o.Batch = 2000
	}
	s := &tailer{wake: make(chan struct{}, 1), holds: o.HoldsStores}
	s.pos.Store(cursor)
	l.tails.add(s)
	defer l.tails.remove(s)
	for {
		es, err := l.After(ctx, cursor, o.Batch)
		if err != nil {
			return err
		}
		if len(es) > 0 {
			if err := fn(es); err != nil {
				return err
			}
			cursor = es[len(es)-1].Cursor
			s.pos.Store(cursor)
			l.recent.dropThrough(l.tails.read())
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.wake:
		}
	}
}

// WaitForTails waits, up to maxWait, until the tails that hold stores
// have fewer than maxLag entries left to read. A tail that is stuck slows
// the caller down; it does not stop it.
func (l *Log) WaitForTails(ctx context.Context, maxLag int64, maxWait time.Duration) {
	deadline := time.Now().Add(maxWait)
	for l.tails.lag() >= maxLag && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Millisecond):
		}
	}
}

// TailEntries is Tail for the surfaces: the entries in the types of
// node/api, a batch of the default size at a time.
func (l *Log) TailEntries(ctx context.Context, cursor int64, fn func([]api.LogEntry) error) error {
	return l.Tail(ctx, cursor, TailOptions{}, func(es []Entry) error {
		out := make([]api.LogEntry, len(es))
		for i, e := range es {
			out[i] = api.LogEntry{Cursor: e.Cursor, CID: e.CID.String(), Activity: e.Act, Local: e.Local}
		}
		return fn(out)
	})
}
