package fediverse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Every signed request names a key by URL, and a key the bridge does not
// hold is fetched from there: whoever sends requests chooses what the
// node fetches. keyFetches bounds that. Failures are remembered for a
// while (the same dead key is not fetched on every request), fetches of
// one document under way at once are made once and shared, and only a
// few run at a time. The refetch after a bad signature is bounded by the
// cached key's age, in FetchKey.

// keyFetchTimeout bounds one key fetch (the key or actor document, the
// actor when the key is a document of its own, and its server's
// NodeInfo), and how long a request waits for a free fetch.
const keyFetchTimeout = 15 * time.Second

// errKeyFetchBusy: every key fetch is taken; the sender should retry
// later (503), and nothing is learnt about the key.
var errKeyFetchBusy = errors.New("too many key fetches under way")

// errKeyFailedRecently: the key could not be fetched moments ago, and is
// not fetched again yet.
var errKeyFailedRecently = errors.New("the key could not be fetched moments ago")

// keyFetches is the state of the bridge's key fetches. It is safe for
// concurrent use.
type keyFetches struct {
	slots   chan struct{}
	failTTL time.Duration

	mu      sync.Mutex
	failed  *simplelru.LRU[string, time.Time] // document URL or key ID → when it failed
	flights map[string]*keyFlight             // by document URL
}

// keyFlight is one fetch under way, shared by the requests that need it.
type keyFlight struct {
	done chan struct{} // closed when a and err are set
	a    RemoteActor
	err  error
}

func newKeyFetches(concurrent, failures int, failTTL time.Duration) (*keyFetches, error) {
	failed, err := simplelru.NewLRU[string, time.Time](failures, nil)
	if err != nil {
		return nil, fmt.Errorf("key failure cache of %d entries: %w", failures, err)
	}
	return &keyFetches{slots: make(chan struct{}, concurrent), failTTL: failTTL, failed: failed, flights: map[string]*keyFlight{}}, nil
}

// failedRecently reports whether fetching id failed within the TTL. The
// caller holds k.mu.
func (k *keyFetches) failedRecently(id string) bool {
	at, ok := k.failed.Get(id)
	if ok && time.Since(at) >= k.failTTL {
		k.failed.Remove(id)
		return false
	}
	return ok
}

// fail remembers that fetching id failed now.
func (k *keyFetches) fail(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.failed.Add(id, time.Now())
}

// fetch returns the actor fetch(docURL) finds for keyID's document,
// unless that document or keyID failed recently. A fetch of the same
// document under way is waited for rather than repeated. The fetch runs
// under life (the bridge's lifetime) with a timeout, not under ctx: other
// requests may be waiting for it, and what it finds is cached.
func (k *keyFetches) fetch(ctx, life context.Context, keyID string, fetch func(context.Context, string) (RemoteActor, error)) (RemoteActor, error) {
	docURL, _, _ := strings.Cut(keyID, "#")
	k.mu.Lock()
	if k.failedRecently(docURL) || k.failedRecently(keyID) {
		k.mu.Unlock()
		return RemoteActor{}, errKeyFailedRecently
	}
	if f, ok := k.flights[docURL]; ok {
		k.mu.Unlock()
		select {
		case <-f.done:
			return f.a, f.err
		case <-ctx.Done():
			return RemoteActor{}, fmt.Errorf("waiting for the key: %w", ctx.Err())
		}
	}
	f := &keyFlight{done: make(chan struct{})}
	k.flights[docURL] = f
	k.mu.Unlock()

	f.a, f.err = k.run(ctx, life, docURL, fetch)

	k.mu.Lock()
	delete(k.flights, docURL)
	if f.err != nil && !errors.Is(f.err, errKeyFetchBusy) && life.Err() == nil {
		k.failed.Add(docURL, time.Now())
	}
	k.mu.Unlock()
	close(f.done)
	return f.a, f.err
}

// run takes a fetch slot, waiting a bounded time for one, and fetches.
func (k *keyFetches) run(ctx, life context.Context, docURL string, fetch func(context.Context, string) (RemoteActor, error)) (RemoteActor, error) {
	wait := time.NewTimer(keyFetchTimeout)
	defer wait.Stop()
	select {
	case k.slots <- struct{}{}:
	case <-wait.C:
		return RemoteActor{}, errKeyFetchBusy
	case <-ctx.Done():
		return RemoteActor{}, fmt.Errorf("%w: %w", errKeyFetchBusy, ctx.Err())
	case <-life.Done():
		return RemoteActor{}, fmt.Errorf("%w: %w", errKeyFetchBusy, life.Err())
	}
	defer func() { <-k.slots }()
	fctx, cancel := context.WithTimeout(life, keyFetchTimeout)
	defer cancel()
	return fetch(fctx, docURL)
}
