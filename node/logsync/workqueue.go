package logsync

import (
	"context"
	"sync"
)

// keyedQueue is a set of pending jobs, one per key, taken in the order
// their keys first arrived. Pushing a key that is already pending replaces
// its job (the newer one supersedes it: a peer to sync again, a higher
// entry of a log to backfill to) instead of queueing it twice, so a burst
// of events costs one job per key. A key is worked on by one worker at a
// time: a job pushed while its key is busy waits for the running one to
// end (two backfills of one log would fetch the same entries twice).
// push never blocks. At most limit jobs wait: the keys come from other
// peers, so a new key beyond the limit drops the oldest waiting job.
type keyedQueue[K comparable, V any] struct {
	mu      sync.Mutex
	order   []K
	pending map[K]V
	busy    map[K]bool
	limit   int
	ready   chan struct{} // one token: "a job may be ready"
}

func newKeyedQueue[K comparable, V any](limit int) *keyedQueue[K, V] {
	return &keyedQueue[K, V]{pending: map[K]V{}, busy: map[K]bool{}, limit: max(limit, 1), ready: make(chan struct{}, 1)}
}

// push queues v under k, or replaces the job pending under k when keep
// says the new one wins (nil keep: the new one always wins). It reports
// whether an older job was dropped to make room.
func (q *keyedQueue[K, V]) push(k K, v V, keep func(old, new V) bool) (dropped bool) {
	q.mu.Lock()
	if old, ok := q.pending[k]; ok {
		if keep == nil || keep(old, v) {
			q.pending[k] = v
		}
	} else {
		if len(q.order) >= q.limit {
			delete(q.pending, q.order[0])
			q.order = q.order[1:]
			dropped = true
		}
		q.pending[k] = v
		q.order = append(q.order, k)
	}
	q.mu.Unlock()
	q.signal()
	return dropped
}

func (q *keyedQueue[K, V]) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pop takes the oldest pending job whose key is not busy, and marks its
// key busy until done; ok is false when there is none.
func (q *keyedQueue[K, V]) pop() (k K, v V, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, key := range q.order {
		if q.busy[key] {
			continue
		}
		q.order = append(q.order[:i], q.order[i+1:]...)
		v = q.pending[key]
		delete(q.pending, key)
		q.busy[key] = true
		if len(q.order) > 0 {
			q.signal() // wake another worker for the rest
		}
		return key, v, true
	}
	return k, v, false
}

// done ends the work on k, so its next job can be taken.
func (q *keyedQueue[K, V]) done(k K) {
	q.mu.Lock()
	delete(q.busy, k)
	_, waiting := q.pending[k]
	q.mu.Unlock()
	if waiting {
		q.signal()
	}
}

// work runs do on pending jobs until ctx ends; several workers may share a
// queue.
func (q *keyedQueue[K, V]) work(ctx context.Context, do func(context.Context, K, V)) {
	for {
		k, v, ok := q.pop()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-q.ready:
				continue
			}
		}
		if ctx.Err() != nil {
			return
		}
		do(ctx, k, v)
		q.done(k)
	}
}
