package ipfs

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
)

// recordingRouter is a content router that records what it is asked to
// provide and never finds anyone.
type recordingRouter struct {
	routing.Routing // nil: any other method panics, which the tests would catch

	mu       sync.Mutex
	provided []cid.Cid
	notify   chan struct{}
}

func newRecordingRouter() *recordingRouter {
	return &recordingRouter{notify: make(chan struct{}, 1)}
}

func (r *recordingRouter) Provide(_ context.Context, c cid.Cid, _ bool) error {
	r.mu.Lock()
	r.provided = append(r.provided, c)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
	return nil
}

func (r *recordingRouter) FindProvidersAsync(context.Context, cid.Cid, int) <-chan peer.AddrInfo {
	ch := make(chan peer.AddrInfo)
	close(ch)
	return ch
}

func (r *recordingRouter) snapshot() []cid.Cid {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]cid.Cid(nil), r.provided...)
}

// waitFor waits until every CID in want was provided.
func (r *recordingRouter) waitFor(tb testing.TB, want ...cid.Cid) {
	tb.Helper()
	deadline := time.After(10 * time.Second)
	for {
		got := cid.NewSet()
		for _, c := range r.snapshot() {
			got.Add(c)
		}
		missing := false
		for _, w := range want {
			if !got.Has(w) {
				missing = true
			}
		}
		if !missing {
			return
		}
		select {
		case <-r.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			tb.Fatalf("provided %v, still waiting for %v", got.Keys(), want)
		}
	}
}

func TestProvidingAnnouncesRootsOnly(t *testing.T) {
	router := newRecordingRouter()
	s := NewMemStore(WithStoreLogger(quietLogger()))
	e, err := NewExchange(MustHost(t), router, s, ExchangeConfig{Provide: true}, WithExchangeLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = e.Close()
		_ = s.Close()
	})
	c := New(s, e, WithLogger(quietLogger()))
	ctx := context.Background()

	added := MustAddBytes(t, c, make([]byte, 1<<20), ImportOptions{}) // root and four chunks
	pinned := MustAddBytes(t, c, randomBytes(50, 1<<20), ImportOptions{Pin: true})
	router.waitFor(t, added, pinned)
	time.Sleep(100 * time.Millisecond) // give stray chunk announcements a chance to show
	for _, got := range router.snapshot() {
		if h := string(got.Hash()); h != string(added.Hash()) && h != string(pinned.Hash()) {
			t.Errorf("provided %s, which is not a root", got)
		}
	}

	t.Run("a reprovide announces pins and added roots again", func(t *testing.T) {
		before := len(router.snapshot())
		if err := e.Reprovide(ctx); err != nil {
			t.Fatal(err)
		}
		// Reprovides go by multihash (as raw CIDv1s): DHT records name
		// multihashes, not CIDs.
		got := hashes(router.snapshot()[before:])
		if len(got) != 2 || !got[string(added.Hash())] || !got[string(pinned.Hash())] {
			t.Fatalf("reprovided %d distinct hashes, want the two roots", len(got))
		}
	})
	t.Run("a garbage-collected root is not reprovided", func(t *testing.T) {
		if _, err := c.GC(ctx); err != nil {
			t.Fatal(err)
		}
		before := len(router.snapshot())
		if err := e.Reprovide(ctx); err != nil {
			t.Fatal(err)
		}
		got := hashes(router.snapshot()[before:])
		if len(got) != 1 || !got[string(pinned.Hash())] {
			t.Fatalf("reprovided %d distinct hashes, want only the pinned root", len(got))
		}
	})
}

func hashes(cs []cid.Cid) map[string]bool {
	m := make(map[string]bool, len(cs))
	for _, c := range cs {
		m[string(c.Hash())] = true
	}
	return m
}
