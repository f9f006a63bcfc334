package fediverse

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
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
