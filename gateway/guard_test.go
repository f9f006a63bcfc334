package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lyceum-oer/lyceum/node/api"
)

// The tests of this file each cover an attack of the hardening issue
// (docs/SECURITY-TESTS.md lists them).

// GET /api/v1/search?page=4611686018427387905&size=2, with no token,
// once killed the daemon: the offset overflowed and bleve panicked.
func TestHugeSearchPageIsRefusedAndTheServerLives(t *testing.T) {
	tn := mustStartNode(t)
	for _, q := range []string{
		"q=x&page=4611686018427387905&size=2",
		"q=x&page=9223372036854775807&size=100",
		"q=x&page=5001&size=2",
		"q=x&size=101",
		"q=" + strings.Repeat("word+", 40),
		"q=x&language=french",
	} {
		res, err := http.Get(tn.server.URL + "/api/v1/search?" + q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d (%s), want 400", q, res.StatusCode, body)
		}
	}
	res, err := http.Get(tn.server.URL + "/api/v1/search?q=fractions")
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("the server no longer answers: %v %v", res, err)
	}
	res.Body.Close()
}

// FuzzSearchOverHTTP sends GET /api/v1/search every integer page and size
// with any text: a client error or an answer, never a server error or a
// crash.
func FuzzSearchOverHTTP(f *testing.F) {
	tn := mustStartNode(f)
	h := tn.server.Config.Handler
	f.Add(int64(4611686018427387905), int64(2), "x", "resource")
	f.Add(int64(math.MaxInt64), int64(math.MaxInt64), "fractions", "")
	f.Add(int64(math.MinInt64), int64(0), `"a phrase" and words`, "person")
	f.Add(int64(1), int64(100), strings.Repeat("é", 600), "collection")
	f.Fuzz(func(t *testing.T, page, size int64, text, kind string) {
		v := url.Values{"q": {text}, "page": {strconv.FormatInt(page, 10)}, "size": {strconv.FormatInt(size, 10)}, "kind": {kind}}
		req := httptest.NewRequest(http.MethodGet, "/api/v1/search?"+v.Encode(), nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("page %d size %d: status %d: %s", page, size, rec.Code, rec.Body)
		}
	})
}

func TestAPanickingHandlerAnswers500AndIsCounted(t *testing.T) {
	tn := mustStartNode(t)
	srv, err := New(Config{Token: "t", Metrics: prometheus.NewRegistry()}, Services{Identity: tn.node.Swarm(), Swarm: tn.node.Swarm()})
	if err != nil {
		t.Fatal(err)
	}
	srv.mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("secret internal state") })
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	res, err := http.Get(hs.URL + "/boom")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusInternalServerError || strings.Contains(string(body), "secret") {
		t.Fatalf("status %d, body %s", res.StatusCode, body)
	}
	res, err = http.Get(hs.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(metrics), "\nlyceum_http_panics_total 1\n") {
		t.Errorf("the panic is not counted in /metrics:\n%s", metrics)
	}
	if res, err := http.Get(hs.URL + "/boom"); err != nil || res.StatusCode != 500 {
		t.Fatalf("second request: %v %v", res, err)
	}
}

func TestJSONBodiesWithTrailingGarbageAreRefused(t *testing.T) {
	tn := mustStartNode(t)
	for _, body := range []string{`{"username":"ada"} {"username":"eve"}`, `{"username":"ada"}x`, `{"username":"ada","admin":true}`} {
		req, _ := http.NewRequest(http.MethodPost, tn.server.URL+"/api/v1/actors", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tn.client.token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", body, res.StatusCode)
		}
	}
	if _, err := tn.node.Social().Actor(context.Background(), "ada"); api.KindOf(err) != api.KindNotFound {
		t.Errorf("an actor was created from a refused body: %v", err)
	}
}

// Errors to callers without the token say what was wrong with their
// request, never the node's internals; the operator reads the cause.
func TestUntrustedCallersGetPublicMessagesOnly(t *testing.T) {
	tn := mustStartNode(t)
	srv, err := New(Config{Token: "t"}, Services{Identity: tn.node.Swarm(), Swarm: tn.node.Swarm()})
	if err != nil {
		t.Fatal(err)
	}
	internal := fmt.Errorf("open /home/lyceum/.lyceum/lyceum.db: %w", io.ErrUnexpectedEOF)
	invalid := &api.Error{Kind: api.KindInvalid, Msg: "page must be a whole number from 1", Err: internal}
	for _, tc := range []struct {
		err          error
		trusted      bool
		want, hidden string
	}{
		{internal, false, "could not complete", "lyceum.db"},
		{invalid, false, "page must be", "lyceum.db"},
		{invalid, true, "lyceum.db", ""},
	} {
		req := httptest.NewRequest(http.MethodGet, "/x", nil)
		if tc.trusted {
			req = withTrust(req)
		}
		rec := httptest.NewRecorder()
		srv.fail(rec, req, tc.err)
		var body errorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(body.Error.Message, tc.want) || (tc.hidden != "" && strings.Contains(body.Error.Message, tc.hidden)) {
			t.Errorf("trusted=%v: message %q", tc.trusted, body.Error.Message)
		}
	}
}

// dialFrom opens a TCP connection to addr from a local loopback address
// of the test's choosing, as another client would.
func dialFrom(t *testing.T, local, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", local, err)
	}
	return c
}

// Slow request bodies once held connections forever: 200 dribbling
// connections made the daemon unreachable. Now a body has a deadline and
// an IP a connection cap, and a normal client is answered meanwhile.
func TestSlowClientsDoNotStarveOthers(t *testing.T) {
	tn := mustStartNode(t)
	srv, err := New(Config{Token: tn.client.token, ConnsPerIP: 20, BodyTimeout: time.Second}, servicesOf(tn.node))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	addr := ln.Addr().String()

	// 60 dribblers from 127.0.0.2: each sends headers and then a byte of a
	// body now and then.
	var wg sync.WaitGroup
	ended := make(chan time.Duration, 60)
	stop := make(chan struct{})
	for range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
			c, err := d.Dial("tcp", addr)
			if err != nil {
				ended <- 0
				return
			}
			defer c.Close()
			start := time.Now()
			fmt.Fprintf(c, "POST /api/v1/search HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
			go func() {
				for {
					select {
					case <-stop:
						return
					case <-time.After(200 * time.Millisecond):
						if _, err := c.Write([]byte("x")); err != nil {
							return
						}
					}
				}
			}()
			_, _ = io.Copy(io.Discard, c) // until the server closes it
			ended <- time.Since(start)
		}()
	}
	time.Sleep(300 * time.Millisecond)
	// A normal client from 127.0.0.1 is answered while they dribble.
	c := dialFrom(t, "127.0.0.1", addr)
	fmt.Fprintf(c, "GET /api/v1/search?q=fractions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("a normal request during the flood: %v %v", res, err)
	}
	c.Close()
	// Every dribbler is cut off: over the cap at once, the others at the
	// body deadline.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("dribbling connections are still open after 10 s")
	}
	close(stop)
	close(ended)
	for d := range ended {
		if d > 5*time.Second {
			t.Errorf("a dribbler held its connection for %s", d)
		}
	}
}
