package fediverse

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/gateway/delivery"
	"github.com/lyceum-oer/lyceum/gateway/httpsig"
)

// postSigned POSTs act to inbox signed with key under keyID, whoever owns
// it, and returns the status and the body of the answer.
func postSigned(tb testing.TB, inbox, keyID string, key *rsa.PrivateKey, act obj) (int, string) {
	tb.Helper()
	body, _ := json.Marshal(act)
	req, _ := http.NewRequest(http.MethodPost, inbox, bytes.NewReader(body))
	req.Header.Set("Content-Type", apType)
	if err := httpsig.Sign(req, body, keyID, key, time.Now()); err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// anyHost stands in for many remote servers: a plain-HTTP server that
// every host name reaches through its client, answering 404 to every
// request (after delay) and counting them.
type anyHost struct {
	srv   *httptest.Server
	delay time.Duration

	mu                  sync.Mutex
	hits                int
	inflight, inflightN int // now, and the most at once
}

func newAnyHost(tb testing.TB, delay time.Duration) *anyHost {
	tb.Helper()
	a := &anyHost{delay: delay}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.hits++
		a.inflight++
		a.inflightN = max(a.inflightN, a.inflight)
		a.mu.Unlock()
		time.Sleep(a.delay)
		a.mu.Lock()
		a.inflight--
		a.mu.Unlock()
		http.NotFound(w, r)
	}))
	tb.Cleanup(a.srv.Close)
	return a
}

// client dials the server whatever the host asked for.
func (a *anyHost) client() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	addr := a.srv.Listener.Addr().String()
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}}
}

func (a *anyHost) count() (hits, mostAtOnce int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.hits, a.inflightN
}

// Finding 4: the limit before authentication is the client's address, not
// the keyId it names, and a request over it is refused before its key is
// fetched.
func TestVaryingKeyIDHostsFromOneAddressIsLimitedBeforeAnyKeyFetch(t *testing.T) {
	remote := newAnyHost(t, 0)
	s := newSite(t, func(c *Config) { c.InboxRate = 0.1; c.Client = remote.client() }) // a burst of 2
	s.actor(t, "alice", activity.Person)
	f := newFakeServer(t, "mastodon", "eve") // only for a key to sign with
	passed, limited := 0, 0
	for i := range 40 {
		actor := fmt.Sprintf("http://h%d.example/users/eve", i)
		st, _ := postSigned(t, s.url+"/ap/inbox", actor+"#main-key", f.keys["eve"],
			obj{"id": actor + "/likes/1", "type": "Like", "actor": actor, "object": s.url + "/ap/users/alice"})
		if st == http.StatusTooManyRequests {
			limited++
		} else {
			passed++
		}
	}
	hits, _ := remote.count()
	if limited < 40-5 {
		t.Fatalf("%d of 40 requests from one address naming 40 key hosts were refused 429, want all past the burst", limited)
	}
	if hits > passed {
		t.Fatalf("%d key fetches for %d requests under the limit: requests over it caused fetches", hits, passed)
	}
}

// Finding 4: a forged signature under a real actor's key does not make the
// bridge fetch the key again on every request.
func TestABadSignatureRefetchesTheKeyAtMostOncePerPeriod(t *testing.T) {
	s := newSite(t)
	s.actor(t, "alice", activity.Person)
	f := newFakeServer(t, "mastodon", "eve", "mallory")
	for i := range 5 {
		st, _ := postSigned(t, s.url+"/ap/inbox", f.keyID("eve"), f.keys["mallory"],
			obj{"id": f.url + "/likes/" + fmt.Sprint(i), "type": "Like", "actor": f.actor("eve"), "object": s.url + "/ap/users/alice"})
		if st != http.StatusUnauthorized {
			t.Fatalf("forged signature %d: status %d, want 401", i, st)
		}
	}
	if n := f.gets("/users/eve"); n != 1 {
		t.Fatalf("eve's actor fetched %d times for 5 forged signatures, want once", n)
	}
	// eve's own signature still verifies, from the cache.
	if st, body := postSigned(t, s.url+"/ap/inbox", f.keyID("eve"), f.keys["eve"],
		obj{"id": f.url + "/likes/ok", "type": "Like", "actor": f.actor("eve"), "object": s.url + "/ap/users/alice"}); st != http.StatusAccepted {
		t.Fatalf("eve's own signature: %d %s", st, body)
	}
}

// Finding 4: a key that cannot be fetched is not fetched again for a while.
func TestAKeyThatCannotBeFetchedIsNotFetchedAgainForAWhile(t *testing.T) {
	remote := newAnyHost(t, 0)
	s := newSite(t, func(c *Config) { c.Client = remote.client() })
	s.actor(t, "alice", activity.Person)
	f := newFakeServer(t, "mastodon", "eve")
	actor := "http://gone.example/users/eve"
	for i := range 4 {
		if st, _ := postSigned(t, s.url+"/ap/inbox", actor+"#main-key", f.keys["eve"],
			obj{"id": actor + "/likes/" + fmt.Sprint(i), "type": "Like", "actor": actor, "object": s.url + "/ap/users/alice"}); st != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", st)
		}
	}
	if hits, _ := remote.count(); hits != 1 {
		t.Fatalf("a key answered 404 was fetched %d times in a row, want once", hits)
	}
}

// Finding 4: what went wrong fetching a key stays in the node's log; the
// sender learns only that its key could not be had, so the inbox is no
// port scanner.
func TestSignatureErrorsDoNotTellWhyAKeyCouldNotBeFetched(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	f := newFakeServer(t, "mastodon", "eve")
	for _, tc := range []struct {
		name   string
		client *http.Client
		keyID  string
	}{
		{"a closed port", nil, "https://" + closed + "/users/x#main-key"},
		{"a refused address", delivery.NewHTTPClient(), f.keyID("eve")},
		{"a missing document", nil, f.url + "/users/nobody#main-key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, func(c *Config) {
				if tc.client != nil {
					c.Client = tc.client
				}
			})
			s.actor(t, "alice", activity.Person)
			actor, _, _ := strings.Cut(tc.keyID, "#")
			st, body := postSigned(t, s.url+"/ap/inbox", tc.keyID, f.keys["eve"],
				obj{"id": actor + "/likes/1", "type": "Like", "actor": actor, "object": s.url + "/ap/users/alice"})
			if st != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", st)
			}
			for _, leak := range []string{"refused", "dial", "connect", "not allowed", "127.0.0.1", "404", "GET ", "tcp"} {
				if strings.Contains(body, leak) {
					t.Fatalf("the 401 body tells %q: %q", leak, body)
				}
			}
		})
	}
}
