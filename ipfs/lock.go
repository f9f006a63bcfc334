package ipfs

import (
	"context"
	"sync"

	"github.com/ipfs/boxo/blockstore"
)

// gcLocker orders GC against the operations that store blocks and then pin
// or keep them (Add, Pin, PutBlocks, ImportCAR). Those hold the shared pin
// lock from their first write to their pin, so a GC, which holds the
// exclusive GC lock, never sees their blocks unpinned.
//
// It is boxo's blockstore.NewGCLocker (a sync.RWMutex) with one more
// ability, tryGCLock, for a failed CAR import's cleanup: a sync.RWMutex
// writer that waits blocks every new reader, so waiting for the GC lock
// behind a slow upload would stall every add and publish until that upload
// ends.
type gcLocker struct {
	mu sync.RWMutex
}

// unlockFunc is a blockstore.Unlocker.
type unlockFunc func()

// Unlock releases the lock.
func (f unlockFunc) Unlock(context.Context) { f() }

// PinLock takes the shared lock: many writers at once, no GC.
func (l *gcLocker) PinLock(context.Context) blockstore.Unlocker {
	l.mu.RLock()
	return unlockFunc(l.mu.RUnlock)
}

// GCLock takes the exclusive lock, waiting for every pin lock holder to
// finish; new pin lock callers wait until it is released.
func (l *gcLocker) GCLock(context.Context) blockstore.Unlocker {
	l.mu.Lock()
	return unlockFunc(l.mu.Unlock)
}

// tryGCLock takes the exclusive lock only if nobody holds either lock,
// without waiting and without making new pin lock callers wait.
func (l *gcLocker) tryGCLock() (blockstore.Unlocker, bool) {
	if !l.mu.TryLock() {
		return nil, false
	}
	return unlockFunc(l.mu.Unlock), true
}
