package node

import (
	"context"
	"sync"
)

// keyedQueue is a set of pending jobs, one per key, taken in the order
// their keys first arrived. Pushing a key that is already pending replaces
// its job (the newer one supersedes it: a peer to sync again, a higher
// entry of a log to backfill to) instead of queueing it twice, so a burst
// of events costs one job per key. push never blocks.
type keyedQueue[K comparable, V any] struct {
	mu      sync.Mutex
	order   []K
	pending map[K]V
	ready   chan struct{} // one token: "something is pending"
}

func newKeyedQueue[K comparable, V any]() *keyedQueue[K, V] {
	return &keyedQueue[K, V]{pending: map[K]V{}, ready: make(chan struct{}, 1)}
}

// push queues v under k, or replaces the job pending under k when keep
// says the new one wins (nil keep: the new one always wins).
func (q *keyedQueue[K, V]) push(k K, v V, keep func(old, new V) bool) {
	q.mu.Lock()
	if old, ok := q.pending[k]; ok {
		if keep == nil || keep(old, v) {
			q.pending[k] = v
		}
	} else {
		q.pending[k] = v
		q.order = append(q.order, k)
	}
	q.mu.Unlock()
	q.signal()
}

func (q *keyedQueue[K, V]) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pop takes the oldest pending job; ok is false when none is pending.
func (q *keyedQueue[K, V]) pop() (k K, v V, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.order) == 0 {
		return k, v, false
	}
	k = q.order[0]
	q.order[0] = *new(K)
	q.order = q.order[1:]
	v = q.pending[k]
	delete(q.pending, k)
	if len(q.order) > 0 {
		q.signal() // wake another worker for the rest
	}
	return k, v, true
}

// len is the number of pending jobs.
func (q *keyedQueue[K, V]) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.order)
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
	}
}
