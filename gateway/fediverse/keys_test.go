package fediverse

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
)

// A rotated key is still picked up: once the cached key is older than
// KeyRefreshMinAge, a signature that does not verify with it makes the
// bridge fetch it again, once.
func TestARotatedKeyIsPickedUpOnceTheCachedOneIsOldEnough(t *testing.T) {
	const minAge = 3 * time.Second
	s := newSite(t, func(c *Config) { c.KeyRefreshMinAge = minAge })
	s.actor(t, "alice", activity.Person)
	f := newFakeServer(t, "mastodon", "eve")
	like := func(i int) obj {
		return obj{"id": f.url + "/likes/" + fmt.Sprint(i), "type": "Like", "actor": f.actor("eve"), "object": s.url + "/ap/users/alice"}
	}
	fresh, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := f.key("eve")
	if st, body := postSigned(t, s.url+"/ap/inbox", f.keyID("eve"), old, like(0)); st != http.StatusAccepted {
		t.Fatalf("status %d %s", st, body)
	}
	f.setKey("eve", fresh)
	if st, _ := postSigned(t, s.url+"/ap/inbox", f.keyID("eve"), fresh, like(1)); st != http.StatusUnauthorized {
		t.Fatalf("new key while the cached one is young: status %d, want 401", st)
	}
	if n := f.gets("/users/eve"); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
	time.Sleep(minAge + 100*time.Millisecond)
	for i := 2; i < 4; i++ {
		if st, body := postSigned(t, s.url+"/ap/inbox", f.keyID("eve"), fresh, like(i)); st != http.StatusAccepted {
			t.Fatalf("new key once the cached one is old: status %d %s", st, body)
		}
	}
	if n := f.gets("/users/eve"); n != 2 {
		t.Fatalf("%d fetches, want 2: one refetch for the rotation", n)
	}
	// The old key, now refused, costs no fetch.
	if st, _ := postSigned(t, s.url+"/ap/inbox", f.keyID("eve"), old, like(9)); st != http.StatusUnauthorized {
		t.Fatalf("old key: status %d, want 401", st)
	}
	if n := f.gets("/users/eve"); n != 2 {
		t.Fatalf("%d fetches after a signature by the old key, want still 2", n)
	}
}

// Slow key servers hold at most MaxKeyFetches fetches at once.
func TestKeyFetchesRunAFewAtATime(t *testing.T) {
	remote := newAnyHost(t, 200*time.Millisecond)
	s := newSite(t, func(c *Config) { c.MaxKeyFetches = 2; c.InboxIPRate = 1000; c.Client = remote.client() })
	s.actor(t, "alice", activity.Person)
	f := newFakeServer(t, "mastodon", "eve")
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Go(func() {
			actor := fmt.Sprintf("http://slow%d.example/users/eve", i)
			codes[i], _ = postSigned(t, s.url+"/ap/inbox", actor+"#main-key", f.keys["eve"],
				obj{"id": actor + "/likes/1", "type": "Like", "actor": actor, "object": s.url + "/ap/users/alice"})
		})
	}
	wg.Wait()
	hits, most := remote.count()
	if hits != len(codes) || most > 2 {
		t.Fatalf("%d fetches, %d at once; want %d, at most 2 at once", hits, most, len(codes))
	}
	for i, c := range codes {
		if c != http.StatusUnauthorized {
			t.Fatalf("request %d: status %d, want 401", i, c)
		}
	}
}

// After authentication the limit is the signing actor's server: its
// actors share one budget, whatever addresses they send from.
func TestInboxRateLimitsEachVerifiedServer(t *testing.T) {
	s := newSite(t, func(c *Config) { c.InboxRate = 0.001; c.InboxIPRate = 1000 }) // a burst of 1 per server
	s.actor(t, "alice", activity.Person)
	f := newFakeServer(t, "mastodon", "eve", "frank")
	g := newFakeServer(t, "mastodon", "grace")
	like := func(srv *fakeServer, user string) obj {
		return obj{"id": srv.url + "/x/" + randomID(), "type": "Like", "actor": srv.actor(user), "object": s.url + "/ap/users/alice"}
	}
	for _, step := range []struct {
		srv  *fakeServer
		user string
		want int
	}{
		{f, "eve", http.StatusAccepted},
		{f, "frank", http.StatusTooManyRequests},
		{g, "grace", http.StatusAccepted},
	} {
		if resp := step.srv.post(t, s.url+"/ap/inbox", step.user, like(step.srv, step.user), nil); resp.StatusCode != step.want {
			t.Fatalf("%s: status %d, want %d", step.user, resp.StatusCode, step.want)
		}
	}
}

// A document is believed only from its ID's host: an open redirect there
// does not let another server speak for it.
func TestAKeyRedirectedToAnotherHostIsNotBelieved(t *testing.T) {
	s := newSite(t)
	s.actor(t, "alice", activity.Person)
	f := newFakeServer(t, "mastodon", "eve") // the attacker
	g := newFakeServer(t, "mastodon")        // a server with an open redirect
	actor := g.url + "/go?to=" + url.QueryEscape(f.url+"/docs/actor")
	pub := f.publicKeyPEM(t, "eve")
	f.serve("/docs/actor", obj{"id": actor, "type": "Person", "inbox": g.url + "/inbox",
		"publicKey": obj{"id": actor + "#main-key", "owner": actor, "publicKeyPem": pub}})
	st, _ := postSigned(t, s.url+"/ap/inbox", actor+"#main-key", f.keys["eve"],
		obj{"id": g.url + "/likes/1", "type": "Like", "actor": actor, "object": s.url + "/ap/users/alice"})
	if st != http.StatusUnauthorized {
		t.Fatalf("an actor of %s served by %s through a redirect: status %d, want 401", g.url, f.url, st)
	}
}

func TestLimiterForgetsTheLeastRecentlySeenFirst(t *testing.T) {
	l, err := newLimiter(0.001, 0, 3) // one request per key
	if err != nil {
		t.Fatal(err)
	}
	if !l.allow("busy") || l.allow("busy") {
		t.Fatal("the burst of 1 is not enforced")
	}
	// A flood of new keys, with the busy one still sending in between,
	// does not reset its limit.
	for i := range 100 {
		l.allow(fmt.Sprint("new", i))
		if l.allow("busy") {
			t.Fatalf("the busy key's limit was reset after %d new keys", i+1)
		}
	}
	if n := l.keys.Len(); n != 3 {
		t.Fatalf("%d keys tracked, want 3", n)
	}
}

func TestClientKeyIsTheAddressTheConnectionCameFrom(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct {
		name, remote, xff, want string
	}{
		{"an IPv4 client", "203.0.113.7:5555", "", "203.0.113.7"},
		{"an IPv4-mapped client", "[::ffff:203.0.113.7]:5555", "", "203.0.113.7"},
		{"an IPv6 client counts by its /64", "[2001:db8:1:2:3:4:5:6]:5555", "", "2001:db8:1:2::/64"},
		{"X-Forwarded-For from a stranger is ignored", "203.0.113.7:5555", "198.51.100.1", "203.0.113.7"},
		{"X-Forwarded-For from a trusted proxy names the client", "10.1.2.3:5555", "198.51.100.1", "198.51.100.1"},
		{"the client cannot pick its address through the proxy", "10.1.2.3:5555", "192.0.2.66, 198.51.100.1", "198.51.100.1"},
		{"a chain of trusted proxies is walked", "10.1.2.3:5555", "198.51.100.1, 10.9.9.9", "198.51.100.1"},
		{"garbage in X-Forwarded-For leaves the proxy's address", "10.1.2.3:5555", "198.51.100.1, junk", "10.1.2.3"},
		{"an X-Forwarded-For of proxies only leaves the proxy's address", "10.1.2.3:5555", "10.4.4.4", "10.1.2.3"},
		{"an empty X-Forwarded-For entry is skipped", "10.1.2.3:5555", "198.51.100.1, ", "198.51.100.1"},
		{"an IPv6 client behind the proxy", "10.1.2.3:5555", "2001:db8::1", "2001:db8::/64"},
		{"an unparsable remote address", "pipe", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "https://lyceum.example/ap/inbox", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := clientKey(r, proxies); got != tc.want {
				t.Fatalf("clientKey = %q, want %q", got, tc.want)
			}
		})
	}
}
