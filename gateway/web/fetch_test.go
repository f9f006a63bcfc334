package web

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

// fakeFetcher brings a resource into a contentNode, once asked.
type fakeFetcher struct {
	n     *contentNode
	mu    sync.Mutex
	asked []string
	have  map[string]api.Resource // what the network holds, by ID
}

func (f *fakeFetcher) FetchObject(_ context.Context, id string) error {
	f.mu.Lock()
	f.asked = append(f.asked, id)
	r, ok := f.have[id]
	f.mu.Unlock()
	if !ok {
		return api.NotFoundf("no neighbour gave %s", id)
	}
	f.n.addResource(r, "far@"+farPeer)
	return nil
}

func (f *fakeFetcher) Fetch(_ context.Context, ref string) (string, error) {
	f.mu.Lock()
	f.asked = append(f.asked, ref)
	f.mu.Unlock()
	return "", api.NotFoundf("no %s", ref)
}

func (f *fakeFetcher) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.asked)
}

// A resource the node does not hold is fetched when its page is opened
// (a hit found through an HQ); a visitor over the search rate limit makes
// the node fetch nothing.
func TestAnUnknownResourceIsFetchedWithinTheSearchRateLimit(t *testing.T) {
	n := newContentNode()
	far := sampleResource("Tides far away", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	far.ID = contentCID("far resource")
	f := &fakeFetcher{n: n, have: map[string]api.Resource{far.ID: far}}
	n.fetcher = f
	ca := newContentApp(t, n, Config{})
	anon := ca.client(t, "", "en")

	res, body := anon.get("/r/" + far.ID)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("a resource found elsewhere: %d", res.StatusCode)
	}
	mustContain(t, "the fetched resource", body, "Tides far away")
	if res, _ := anon.get("/r/" + contentCID("nowhere")); res.StatusCode != http.StatusNotFound {
		t.Fatalf("a resource nobody has: %d", res.StatusCode)
	}
	if res, _ := anon.get("/@someone@" + farPeer); res.StatusCode != http.StatusNotFound {
		t.Fatalf("a person nobody has: %d", res.StatusCode)
	}
	if f.count() != 3 {
		t.Fatalf("asked %v", f.asked)
	}
	// A local name is never fetched; nor anything over the rate limit.
	anon.get("/@nobody")
	n.refuse = true
	anon.get("/r/" + contentCID("elsewhere"))
	if f.count() != 3 {
		t.Fatalf("asked %v", f.asked)
	}
}
