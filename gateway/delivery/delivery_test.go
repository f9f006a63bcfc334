package delivery_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/gateway/delivery"
	"github.com/lyceum-oer/lyceum/gateway/httpsig"
)

const (
	actor = "https://lyceum.example/users/alice"
	keyID = actor + "#main-key"
)

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
)

func testKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	keyOnce.Do(func() {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return key
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// signer knows alice's key only.
func signer(tb testing.TB) delivery.Signer {
	k := testKey(tb)
	return delivery.SignerFunc(func(id string) (*rsa.PrivateKey, error) {
		if id != keyID {
			return nil, errors.New("unknown key")
		}
		return k, nil
	})
}

// openQueue opens a queue in dir with test-friendly defaults: loopback
// allowed, short backoff.
func openQueue(tb testing.TB, path string, opts ...delivery.Option) *delivery.Queue {
	tb.Helper()
	all := append([]delivery.Option{
		delivery.WithSigner(signer(tb)),
		delivery.WithHTTPClient(delivery.NewHTTPClient(delivery.WithAllowedNetworks(loopback))),
		delivery.WithBackoff(10*time.Millisecond, 100*time.Millisecond),
	}, opts...)
	q, err := delivery.Open(path, all...)
	if err != nil {
		tb.Fatal(err)
	}
	return q
}

// run starts q.Run and returns a function that closes q and waits for Run.
func run(tb testing.TB, q *delivery.Queue) func() {
	tb.Helper()
	done := make(chan error, 1)
	go func() { done <- q.Run(context.Background()) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			if err := q.Close(); err != nil {
				tb.Error(err)
			}
			if err := <-done; err != nil {
				tb.Error(err)
			}
		})
	}
	tb.Cleanup(stop)
	return stop
}

// keyDir serves alice's public key to a Verifier.
type keyDir struct{ k *rsa.PublicKey }

func (d keyDir) FetchKey(_ context.Context, id string, _ bool) (httpsig.PublicKey, error) {
	if id != keyID {
		return httpsig.PublicKey{}, errors.New("not found")
	}
	return httpsig.PublicKey{ID: keyID, Owner: actor, Key: d.k}, nil
}

// sink is a fake fediverse server: it verifies each POST's signature,
// records what it accepted, and answers as behave says.
type sink struct {
	srv      *httptest.Server
	verifier *httpsig.Verifier

	mu      sync.Mutex
	got     map[string]int // accepted POSTs by path
	dates   []string
	bad     []string // problems seen
	active  int
	maxSeen int
	calls   int
	times   []time.Time
	behave  func(n int, w http.ResponseWriter, r *http.Request) bool // true: handled
}

func newSink(tb testing.TB, clock func() time.Time) *sink {
	s := &sink{got: map[string]int{}}
	opts := []httpsig.VerifierOption{}
	if clock != nil {
		opts = append(opts, httpsig.WithClock(clock))
	}
	s.verifier = httpsig.NewVerifier(keyDir{&testKey(tb).PublicKey}, opts...)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.srv.Close)
	return s
}

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	body, err := delivery.ReadLimited(r.Body, 1<<20)
	s.mu.Lock()
	s.calls++
	n := s.calls
	s.active++
	if s.active > s.maxSeen {
		s.maxSeen = s.active
	}
	s.times = append(s.times, time.Now())
	s.dates = append(s.dates, r.Header.Get("Date"))
	behave := s.behave
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.active--
		s.mu.Unlock()
	}()
	if err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	if ct := r.Header.Get("Content-Type"); r.Method != http.MethodPost || ct != "application/activity+json" {
		s.problem(fmt.Sprintf("%s with Content-Type %q", r.Method, ct))
	}
	if _, err := s.verifier.Verify(r.Context(), r, body); err != nil {
		s.problem("signature: " + err.Error())
		http.Error(w, err.Error(), httpsig.Status(err))
		return
	}
	if behave != nil && behave(n, w, r) {
		return
	}
	s.mu.Lock()
	s.got[r.URL.Path]++
	s.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (s *sink) problem(p string) {
	s.mu.Lock()
	s.bad = append(s.bad, p)
	s.mu.Unlock()
}

func (s *sink) setBehave(f func(n int, w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	s.behave = f
	s.mu.Unlock()
}

func (s *sink) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[path]
}

func (s *sink) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.got {
		n += c
	}
	return n
}

func (s *sink) host() string {
	u, _ := url.Parse(s.srv.URL)
	return u.Host
}

func (s *sink) check(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.bad {
		t.Error(p)
	}
}

// waitFor polls cond until it holds; the bound only stops a hung test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var body = []byte(`{"@context":"https://www.w3.org/ns/activitystreams","id":"https://lyceum.example/activities/1","type":"Create","actor":"https://lyceum.example/users/alice"}`)

func inboxes(s *sink, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s/inbox/%d", s.srv.URL, i)
	}
	return out
}

func TestBatchIsDeliveredSignedToEveryInbox(t *testing.T) {
	a, b := newSink(t, nil), newSink(t, nil)
	q := openQueue(t, filepath.Join(t.TempDir(), "q.db"))
	run(t, q)
	targets := append(inboxes(a, 20), inboxes(b, 20)...)
	targets = append(targets, targets[0]) // duplicates are sent once
	if err := q.EnqueueBatch(context.Background(), keyID, body, targets); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "40 deliveries", func() bool { return q.Stats().Delivered == 40 })
	a.check(t)
	b.check(t)
	for _, in := range targets {
		u, _ := url.Parse(in)
		s := a
		if u.Host == b.host() {
			s = b
		}
		if c := s.count(u.Path); c != 1 {
			t.Errorf("%s got %d POSTs", in, c)
		}
	}
	st := q.Stats()
	if st.Pending != 0 || st.Signatures != 40 || st.InFlight != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestEnqueueRefusesBadInput(t *testing.T) {
	q := openQueue(t, filepath.Join(t.TempDir(), "q.db"), delivery.WithMaxBody(100))
	defer q.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		d    delivery.Delivery
	}{
		{"an ftp inbox", delivery.Delivery{Inbox: "ftp://x.example/inbox", Body: body[:10], KeyID: keyID}},
		{"an inbox without a host", delivery.Delivery{Inbox: "https:///inbox", Body: body[:10], KeyID: keyID}},
		{"an inbox with credentials", delivery.Delivery{Inbox: "https://u:p@x.example/inbox", Body: body[:10], KeyID: keyID}},
		{"an empty body", delivery.Delivery{Inbox: "https://x.example/inbox", KeyID: keyID}},
		{"a body over the limit", delivery.Delivery{Inbox: "https://x.example/inbox", Body: body, KeyID: keyID}},
		{"no key id", delivery.Delivery{Inbox: "https://x.example/inbox", Body: body[:10]}},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			if err := q.Enqueue(ctx, tc.d); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if p := q.Stats().Pending; p != 0 {
		t.Fatalf("pending %d", p)
	}
}

func TestRetriesAreSignedAgain(t *testing.T) {
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	s := newSink(t, clock)
	s.setBehave(func(n int, w http.ResponseWriter, _ *http.Request) bool {
		if n <= 2 {
			offset.Add(int64(10 * time.Minute)) // time passes before the retry
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	q := openQueue(t, filepath.Join(t.TempDir(), "q.db"), delivery.WithClock(clock))
	run(t, q)
	if err := q.Enqueue(context.Background(), delivery.Delivery{Inbox: s.srv.URL + "/inbox", Body: body, KeyID: keyID}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delivery", func() bool { return q.Stats().Delivered == 1 })
	s.check(t)
	s.mu.Lock()
	dates := append([]string(nil), s.dates...)
	s.mu.Unlock()
	if len(dates) != 3 || dates[0] == dates[1] || dates[1] == dates[2] {
		t.Fatalf("Date headers of the attempts: %q", dates)
	}
	if st := q.Stats(); st.Retried != 2 || st.Signatures != 3 || st.Delivered != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestStatusDecidesRetry(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   int
		attempts int // before it stops
	}{
		{"a 400 is not retried", http.StatusBadRequest, 1},
		{"a 401 is not retried", http.StatusUnauthorized, 1},
		{"a 404 is not retried", http.StatusNotFound, 1},
		{"a 410 is not retried", http.StatusGone, 1},
		{"a redirect is not followed nor retried", http.StatusFound, 1},
		{"a 500 is retried", http.StatusInternalServerError, 3},
		{"a 502 is retried", http.StatusBadGateway, 3},
		{"a 429 is retried", http.StatusTooManyRequests, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSink(t, nil)
			s.setBehave(func(n int, w http.ResponseWriter, _ *http.Request) bool {
				if n < 3 || tc.attempts == 1 {
					if tc.status == http.StatusFound {
						w.Header().Set("Location", "/elsewhere")
					}
					w.WriteHeader(tc.status)
					return true
				}
				return false
			})
			q := openQueue(t, filepath.Join(t.TempDir(), "q.db"))
			run(t, q)
			if err := q.Enqueue(context.Background(), delivery.Delivery{Inbox: s.srv.URL + "/inbox", Body: body, KeyID: keyID}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the queue to settle", func() bool { return q.Stats().Pending == 0 })
			st := q.Stats()
			s.mu.Lock()
			calls := s.calls
			s.mu.Unlock()
			if calls != tc.attempts {
				t.Fatalf("%d attempts, want %d", calls, tc.attempts)
			}
			if tc.attempts == 1 && (st.Failed != 1 || st.Delivered != 0) || tc.attempts > 1 && (st.Delivered != 1 || st.Retried != 2) {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	s := newSink(t, nil)
	s.setBehave(func(n int, w http.ResponseWriter, _ *http.Request) bool {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	})
	q := openQueue(t, filepath.Join(t.TempDir(), "q.db")) // backoff alone would retry after ~10 ms
	run(t, q)
	if err := q.Enqueue(context.Background(), delivery.Delivery{Inbox: s.srv.URL + "/inbox", Body: body, KeyID: keyID}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delivery", func() bool { return s.count("/inbox") == 1 })
	s.mu.Lock()
	gap := s.times[1].Sub(s.times[0])
	s.mu.Unlock()
	if gap < 900*time.Millisecond {
		t.Fatalf("retried after %v despite Retry-After: 1", gap)
	}
}

func TestConcurrencyPerHostIsBounded(t *testing.T) {
	s := newSink(t, nil)
	release := make(chan struct{})
	s.setBehave(func(int, http.ResponseWriter, *http.Request) bool {
		<-release
		return false
	})
	q := openQueue(t, filepath.Join(t.TempDir(), "q.db"), delivery.WithPerHost(3), delivery.WithWorkers(16))
	run(t, q)
	if err := q.EnqueueBatch(context.Background(), keyID, body, inboxes(s, 30)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "3 POSTs in flight", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.active == 3
	})
	// Give the dispatcher every chance to overshoot before releasing.
	time.Sleep(50 * time.Millisecond)
	close(release)
	waitFor(t, "30 deliveries", func() bool { return q.Stats().Delivered == 30 })
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.maxSeen != 3 {
		t.Fatalf("at most %d POSTs at once, want 3", s.maxSeen)
	}
}

func TestUnreachableHostIsSkippedUntilAProbeSucceeds(t *testing.T) {
	s := newSink(t, nil)
	var down atomic.Bool
	down.Store(true)
	s.setBehave(func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	other := newSink(t, nil)
	q := openQueue(t, filepath.Join(t.TempDir(), "q.db"),
		delivery.WithUnreachable(3, 300*time.Millisecond), delivery.WithPerHost(1))
	run(t, q)
	if err := q.EnqueueBatch(context.Background(), keyID, body, append(inboxes(s, 5), inboxes(other, 5)...)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the host to be marked unreachable", func() bool { return q.Unreachable(s.host()) })
	waitFor(t, "the other host's deliveries", func() bool { return q.Stats().Delivered == 5 })
	s.mu.Lock()
	calls := s.calls
	s.mu.Unlock()
	if calls > 4 {
		t.Fatalf("%d attempts before the host was marked unreachable (3 expected, at most one probe more)", calls)
	}
	if st := q.Stats(); st.UnreachableHosts != 1 || st.Pending != 5 {
		t.Fatalf("stats %+v", st)
	}
	down.Store(false)
	waitFor(t, "the probe to succeed and the rest to follow", func() bool { return s.total() == 5 })
	if q.Unreachable(s.host()) {
		t.Fatal("still unreachable")
	}
	s.check(t)
}

func TestMarkReachableResumesAtOnce(t *testing.T) {
	s := newSink(t, nil)
	var down atomic.Bool
	down.Store(true)
	s.setBehave(func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		if down.Load() {
			w.WriteHeader(http.StatusBadGateway)
			return true
		}
		return false
	})
	q := openQueue(t, filepath.Join(t.TempDir(), "q.db"),
		delivery.WithUnreachable(2, time.Hour), delivery.WithBackoff(time.Hour, time.Hour))
	run(t, q)
	if err := q.EnqueueBatch(context.Background(), keyID, body, inboxes(s, 4)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the host to be marked unreachable", func() bool { return q.Unreachable(s.host()) })
	down.Store(false)
	// Attempts may still be in flight: their failures must not undo this.
	q.MarkReachable(s.host())
	waitFor(t, "the deliveries", func() bool { return s.total() == 4 })
}

func TestDeliveriesExpire(t *testing.T) {
	s := newSink(t, nil)
	s.setBehave(func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	})
	q := openQueue(t, filepath.Join(t.TempDir(), "q.db"), delivery.WithMaxAge(200*time.Millisecond))
	run(t, q)
	if err := q.Enqueue(context.Background(), delivery.Delivery{Inbox: s.srv.URL + "/inbox", Body: body, KeyID: keyID}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delivery to expire", func() bool { return q.Stats().Pending == 0 })
	if st := q.Stats(); st.Expired != 1 || st.Delivered != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDroppedWithoutSending(t *testing.T) {
	s := newSink(t, nil)
	t.Run("a private address is never dialled by the default client", func(t *testing.T) {
		q, err := delivery.Open(filepath.Join(t.TempDir(), "q.db"), delivery.WithSigner(signer(t)))
		if err != nil {
			t.Fatal(err)
		}
		run(t, q)
		if err := q.Enqueue(context.Background(), delivery.Delivery{Inbox: s.srv.URL + "/inbox", Body: body, KeyID: keyID}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the drop", func() bool { return q.Stats().Failed == 1 })
	})
	t.Run("a delivery whose key is gone is dropped", func(t *testing.T) {
		q := openQueue(t, filepath.Join(t.TempDir(), "q.db"))
		run(t, q)
		if err := q.Enqueue(context.Background(), delivery.Delivery{Inbox: s.srv.URL + "/inbox", Body: body, KeyID: "https://lyceum.example/users/gone#main-key"}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the drop", func() bool { return q.Stats().Failed == 1 })
	})
	if s.total() != 0 {
		t.Fatalf("%d POSTs arrived", s.total())
	}
}

// TestRestartLosesNothing closes the queue with deliveries waiting and in
// flight, reopens it, and checks that every inbox gets the activity: at
// least once. POSTs in flight at Close whose answer was not recorded are
// sent again, so an inbox may get a duplicate (receivers deduplicate by
// activity id); none gets more than two.
func TestRestartLosesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	sinks := []*sink{newSink(t, nil), newSink(t, nil), newSink(t, nil)}
	release := make(chan struct{})
	var slow atomic.Bool
	slow.Store(true)
	for _, s := range sinks {
		s.setBehave(func(n int, w http.ResponseWriter, r *http.Request) bool {
			if slow.Load() && n > 2 {
				// Hold the POST: it is in flight when the queue closes. It
				// is accepted once released, after the sender gave up.
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}
			return false
		})
	}
	var targets []string
	for _, s := range sinks {
		targets = append(targets, inboxes(s, 20)...)
	}
	before := runtime.NumGoroutine()
	q := openQueue(t, path, delivery.WithPerHost(2))
	stop := run(t, q)
	if err := q.EnqueueBatch(context.Background(), keyID, body, targets); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "deliveries in flight", func() bool { st := q.Stats(); return st.Delivered >= 6 && st.InFlight == 6 })
	stop()
	pendingAtClose := q.Stats().Pending
	if pendingAtClose < 50 {
		t.Fatalf("only %d pending at close", pendingAtClose)
	}
	slow.Store(false)
	close(release)

	q2 := openQueue(t, path)
	if p := q2.Stats().Pending; p != pendingAtClose {
		t.Fatalf("reopened with %d pending, closed with %d", p, pendingAtClose)
	}
	stop2 := run(t, q2)
	waitFor(t, "every inbox", func() bool {
		for _, in := range targets {
			u, _ := url.Parse(in)
			found := false
			for _, s := range sinks {
				if s.host() == u.Host && s.count(u.Path) >= 1 {
					found = true
				}
			}
			if !found {
				return false
			}
		}
		return true
	})
	waitFor(t, "an empty queue", func() bool { return q2.Stats().Pending == 0 })
	stop2()
	dups := 0
	for _, s := range sinks {
		s.check(t)
		s.mu.Lock()
		for p, c := range s.got {
			if c > 2 {
				t.Errorf("%s got %d copies", p, c)
			}
			dups += c - 1
		}
		s.mu.Unlock()
	}
	t.Logf("60 deliveries, %d pending at close, %d duplicates after restart", pendingAtClose, dups)
	// Every goroutine the queues started is gone.
	for _, s := range sinks {
		s.srv.CloseClientConnections()
	}
	waitFor(t, "the queue's goroutines to stop", func() bool { return runtime.NumGoroutine() <= before+2 })
}

func TestCloseIsIdempotentAndRunAfterCloseFails(t *testing.T) {
	q := openQueue(t, filepath.Join(t.TempDir(), "q.db"))
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Run(context.Background()); err == nil {
		t.Fatal("Run after Close succeeded")
	}
	if err := q.Enqueue(context.Background(), delivery.Delivery{Inbox: "https://x.example/inbox", Body: body, KeyID: keyID}); err == nil {
		t.Fatal("Enqueue after Close succeeded")
	}
}

func TestRunStopsWithItsContext(t *testing.T) {
	q := openQueue(t, filepath.Join(t.TempDir(), "q.db"))
	defer q.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}

func TestSharedInboxes(t *testing.T) {
	got := delivery.SharedInboxes([]delivery.Follower{
		{Inbox: "https://a.example/users/1/inbox", SharedInbox: "https://a.example/inbox"},
		{Inbox: "https://a.example/users/2/inbox", SharedInbox: "https://a.example/inbox"},
		{Inbox: "https://b.example/u/3/inbox"},
		{Inbox: "https://b.example/u/4/inbox"},
		{Inbox: "https://c.example/users/5/inbox", SharedInbox: "https://c.example/inbox"},
		{},
	})
	want := []string{"https://a.example/inbox", "https://b.example/u/3/inbox", "https://b.example/u/4/inbox", "https://c.example/inbox"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestClientRefusesPrivateAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	_, port, _ := splitHostPort(u.Host)
	for _, tc := range []struct {
		name    string
		url     string
		allowed []netip.Prefix
		ok      bool
	}{
		{"a loopback IP is refused", srv.URL, nil, false},
		{"a name that resolves to loopback is refused at dial time", "http://localhost:" + port, nil, false},
		{"a loopback IP is allowed when allow-listed", srv.URL, loopback, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := delivery.NewHTTPClient(delivery.WithAllowedNetworks(tc.allowed), delivery.WithTimeout(5*time.Second))
			resp, err := c.Get(tc.url)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatal("dialled")
			}
			if !errors.Is(err, delivery.ErrForbiddenAddress) {
				t.Fatalf("err %v is not ErrForbiddenAddress", err)
			}
		})
	}
}

func splitHostPort(hp string) (string, string, error) {
	ap, err := netip.ParseAddrPort(hp)
	if err != nil {
		return "", "", err
	}
	return ap.Addr().String(), fmt.Sprint(ap.Port()), nil
}

func TestPublic(t *testing.T) {
	for _, tc := range []struct {
		ip     string
		public bool
	}{
		{"93.184.216.34", true},
		{"2606:4700::1111", true},
		{"127.0.0.1", false},
		{"::1", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"fe80::1", false},
		{"fc00::1", false},
		{"100.64.0.1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"224.0.0.1", false},
		{"ff02::1", false},
		{"255.255.255.255", false},
		{"::ffff:127.0.0.1", false},
		{"64:ff9b::7f00:1", false},
		{"2002:7f00:1::", false},
		{"198.18.0.1", false},
	} {
		t.Run(tc.ip, func(t *testing.T) {
			if got := delivery.Public(netip.MustParseAddr(tc.ip)); got != tc.public {
				t.Fatalf("Public(%s) = %v", tc.ip, got)
			}
		})
	}
}

func TestReadLimited(t *testing.T) {
	if b, err := delivery.ReadLimited(io.LimitReader(zeros{}, 10), 10); err != nil || len(b) != 10 {
		t.Fatalf("%d bytes, %v", len(b), err)
	}
	if _, err := delivery.ReadLimited(io.LimitReader(zeros{}, 11), 10); !errors.Is(err, delivery.ErrTooLarge) {
		t.Fatalf("err %v", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestUnreachableHostsDeliveriesExpire(t *testing.T) {
	s := newSink(t, nil)
	s.setBehave(func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	})
	path := filepath.Join(t.TempDir(), "q.db")
	q := openQueue(t, path, delivery.WithUnreachable(2, 200*time.Millisecond), delivery.WithMaxAge(400*time.Millisecond), delivery.WithPerHost(1))
	stop := run(t, q)
	if err := q.EnqueueBatch(context.Background(), keyID, body, inboxes(s, 10)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every delivery to expire", func() bool { return q.Stats().Pending == 0 })
	st := q.Stats()
	if st.Expired != 10 || st.Delivered != 0 || st.UnreachableHosts != 1 {
		t.Fatalf("stats %+v", st)
	}
	s.mu.Lock()
	calls := s.calls
	s.mu.Unlock()
	if calls >= 10 {
		t.Fatalf("%d attempts: the unreachable host's deliveries were not held back", calls)
	}
	stop()
	q2 := openQueue(t, path)
	defer q2.Close()
	if st := q2.Stats(); st.Pending != 0 || st.UnreachableHosts != 1 {
		t.Fatalf("reopened: %+v", st)
	}
}
