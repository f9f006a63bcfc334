package pinsvc_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/nodetest"
	"github.com/lyceum-oer/lyceum/node/pinsvc"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leak := nodetest.Leaked("pinsvc.(*Service)"); leak != "" {
			fmt.Fprintf(os.Stderr, "pinning goroutines still running after the tests:\n%s\n", leak)
			code = 1
		}
	}
	os.Exit(code)
}

// fakeContent pins what it has; a CID in missing blocks until ctx ends,
// as a pin of content nobody provides does.
type fakeContent struct {
	mu      sync.Mutex
	pins    map[cid.Cid]bool
	missing map[cid.Cid]bool
	calls   int
}

func (f *fakeContent) Pin(ctx context.Context, c cid.Cid) error {
	f.mu.Lock()
	miss := f.missing[c]
	f.calls++
	f.mu.Unlock()
	if miss {
		<-ctx.Done()
		return api.Wrap(api.KindUnavailable, "no provider", ctx.Err())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pins[c] = true
	return nil
}

func (f *fakeContent) Unpin(_ context.Context, c cid.Cid) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.pins[c] {
		return api.NotFoundf("not pinned")
	}
	delete(f.pins, c)
	return nil
}

func (f *fakeContent) Pins(context.Context) ([]cid.Cid, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []cid.Cid
	for c := range f.pins {
		out = append(out, c)
	}
	return out, nil
}

func (f *fakeContent) pinned(c cid.Cid) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pins[c]
}

type fakeSwarm struct {
	mu     sync.Mutex
	dialed []string
}

func (s *fakeSwarm) Connect(_ context.Context, req api.ConnectRequest) (api.ConnectResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dialed = append(s.dialed, req.Addr)
	return api.ConnectResponse{}, errors.New("unreachable")
}

func (s *fakeSwarm) ID() api.Identity {
	return api.Identity{PeerID: "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA", Addrs: []string{"/ip4/127.0.0.1/tcp/4101"}}
}

func cidOf(s string) cid.Cid {
	h, _ := multihash.Sum([]byte(s), multihash.SHA2_256, -1)
	return cid.NewCidV1(cid.Raw, h)
}

type harness struct {
	svc     *pinsvc.Service
	content *fakeContent
	swarm   *fakeSwarm
	stop    func()
}

func start(tb testing.TB, path string, opts ...pinsvc.Option) *harness {
	tb.Helper()
	h := &harness{content: &fakeContent{pins: map[cid.Cid]bool{}, missing: map[cid.Cid]bool{}}, swarm: &fakeSwarm{}}
	var err error
	if h.svc, err = pinsvc.Open(path, h.content, h.swarm, opts...); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h.svc.Run(ctx) }()
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			cancel()
			<-done
			if err := h.svc.Close(); err != nil {
				tb.Error(err)
			}
		})
	}
	tb.Cleanup(h.stop)
	return h
}

func waitState(tb testing.TB, s *pinsvc.Service, account, id string, want api.PinState) api.PinRequest {
	tb.Helper()
	var r api.PinRequest
	nodetest.WaitFor(tb, "request "+id+" "+string(want), 10*time.Second, func() bool {
		var err error
		r, err = s.Get(context.Background(), account, id)
		return err == nil && r.Status == want
	})
	return r
}

// A request for a CID nobody has fails after its deadline, says why, and
// leaves no pin; its origins were dialled, bounded in count.
func TestARequestNobodyCanServeFailsAfterItsDeadline(t *testing.T) {
	h := start(t, filepath.Join(t.TempDir(), "pinning.db"), pinsvc.WithPinTimeout(200*time.Millisecond), pinsvc.WithMaxOriginDials(3))
	c := cidOf("nobody has this")
	h.content.missing[c] = true
	var origins []string
	for i := range 10 {
		origins = append(origins, fmt.Sprintf("/ip4/127.0.0.%d/tcp/4001/p2p/12D3KooWHHzSeKaY8xuZVzkLbKFfvNgPPeKhFBGrMbNzbm5akpqu", i+1))
	}
	r, err := h.svc.Add(context.Background(), "ada", api.Pin{CID: c.String(), Origins: origins})
	if err != nil {
		t.Fatal(err)
	}
	got := waitState(t, h.svc, "ada", r.RequestID, api.PinFailed)
	if got.Info["status_details"] == "" || h.content.pinned(c) {
		t.Fatalf("failed request: %+v, pinned %v", got, h.content.pinned(c))
	}
	h.swarm.mu.Lock()
	defer h.swarm.mu.Unlock()
	if len(h.swarm.dialed) != 3 { // every dial fails: three tries, then no more
		t.Fatalf("dialled %d origins, want 3", len(h.swarm.dialed))
	}
}

// Requests past the queue's bound are refused, not queued; a stop puts
// the pins under way back in the queue, and the next Run pins them.
func TestTheQueueIsBoundedAndSurvivesARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pinning.db")
	h := start(t, path, pinsvc.WithQueueSize(3), pinsvc.WithWorkers(1), pinsvc.WithPinTimeout(time.Hour))
	ctx := context.Background()
	stuck := cidOf("stuck")
	h.content.missing[stuck] = true
	var ids []string
	for i := range 3 {
		r, err := h.svc.Add(ctx, "ada", api.Pin{CID: stuck.String(), Name: fmt.Sprint(i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.RequestID)
	}
	waitState(t, h.svc, "ada", ids[0], api.PinPinning)
	// One runs; two are queued; the bound counts queued ones.
	if _, err := h.svc.Add(ctx, "ada", api.Pin{CID: stuck.String()}); err != nil {
		t.Fatalf("a third queued request: %v", err)
	}
	if _, err := h.svc.Add(ctx, "bob", api.Pin{CID: stuck.String()}); api.KindOf(err) != api.KindRateLimited {
		t.Fatalf("a request past the bound: %v, want rate limited", err)
	}
	h.stop()
	h2 := start(t, path, pinsvc.WithWorkers(4))
	for _, id := range ids {
		waitState(t, h2.svc, "ada", id, api.PinPinned)
	}
	if !h2.content.pinned(stuck) {
		t.Fatal("not pinned after the restart")
	}
}

// Many accounts add, list and delete at once (run with -race); each sees
// only its own requests, and created stamps are unique.
func TestConcurrentAccountsSeeOnlyTheirOwn(t *testing.T) {
	h := start(t, filepath.Join(t.TempDir(), "pinning.db"))
	ctx := context.Background()
	var wg sync.WaitGroup
	for a := range 4 {
		wg.Go(func() {
			account := fmt.Sprint("user", a)
			for i := range 25 {
				if _, err := h.svc.Add(ctx, account, api.Pin{CID: cidOf(fmt.Sprint(a, i)).String(), Meta: map[string]string{"n": fmt.Sprint(i)}}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	all := []api.PinState{api.PinQueued, api.PinPinning, api.PinPinned, api.PinFailed}
	var stamps []time.Time
	for a := range 4 {
		res, err := h.svc.List(ctx, fmt.Sprint("user", a), api.PinQuery{Statuses: all, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if res.Count != 25 || len(res.Results) != 25 {
			t.Fatalf("user%d lists %d (%d), want 25", a, res.Count, len(res.Results))
		}
		for _, r := range res.Results {
			stamps = append(stamps, r.Created)
		}
		res, _ = h.svc.List(ctx, fmt.Sprint("user", a), api.PinQuery{Statuses: all, Meta: map[string]string{"n": "7"}})
		if res.Count != 1 {
			t.Fatalf("user%d meta n=7: %d", a, res.Count)
		}
	}
	slices.SortFunc(stamps, func(x, y time.Time) int { return x.Compare(y) })
	if len(slices.CompactFunc(stamps, func(x, y time.Time) bool { return x.Equal(y) })) != 100 {
		t.Fatal("created stamps are not unique")
	}
}

// BenchmarkAdd measures how fast requests are accepted (each a synced
// SQLite transaction), with the workers pinning behind.
func BenchmarkAdd(b *testing.B) {
	h := start(b, filepath.Join(b.TempDir(), "pinning.db"), pinsvc.WithQueueSize(1<<30))
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if _, err := h.svc.Add(ctx, "ada", api.Pin{CID: cidOf(fmt.Sprint(i)).String(), Name: "n"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}
