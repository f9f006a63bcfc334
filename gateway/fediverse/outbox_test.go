package fediverse

import (
	"context"
	"net/http"
	"testing"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// The bridge moves its checkpoint only once an activity's deliveries are
// queued durably: what was published while it was down goes out when it
// starts again (at least once; receivers de-duplicate by activity ID).
func TestWhatWasPublishedWhileTheBridgeWasDownGoesOutAfterwards(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	s.actor(t, "alice", activity.Person)
	f := newFakeServer(t, "mastodon", "eve")
	alice := s.url + "/ap/users/alice"
	f.post(t, alice+"/inbox", "eve", obj{"id": f.url + "/f/1", "type": "Follow", "actor": f.actor("eve"), "object": alice}, nil)
	f.waitFor(t, "Accept")
	// Stop the bridge (as a crash would), publish, start a new one on the
	// same state.
	eventually(t, "the outbox checkpoint", func() bool {
		c, ok, _ := s.bridge.db.getState(ctx, cursorKey)
		last, _ := s.node.Log().LastCursor(ctx)
		return ok && c == last
	})
	cfg := s.bridge.cfg
	s.bridge.cancel()
	s.bridge.wg.Wait()
	if _, err := s.node.Social().Publish(ctx, api.PublishRequest{As: "alice", URL: "https://example.org/late", Title: "Published while down",
		License: "CC0-1.0", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	again, err := New(cfg, servicesOf(s.node))
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	again.Start()
	create := f.waitFor(t, "Create")
	if note := create.doc["object"].(map[string]any); note["content"] == nil {
		t.Fatalf("create = %v", create.doc)
	}
}

// A remote server that floods the inbox is answered 429 beyond its rate.
func TestInboxRateLimitsEachRemoteServer(t *testing.T) {
	s := newSite(t, func(c *Config) { c.InboxRate = 0.001 }) // a burst of 1
	s.actor(t, "alice", activity.Person)
	f := newFakeServer(t, "mastodon", "eve")
	var codes []int
	for i := 0; i < 3; i++ {
		resp := f.post(t, s.url+"/ap/inbox", "eve", obj{"id": f.url + "/x/" + randomID(), "type": "Like", "actor": f.actor("eve"), "object": s.url + "/ap/users/alice"}, nil)
		codes = append(codes, resp.StatusCode)
	}
	if codes[0] != http.StatusAccepted || codes[2] != http.StatusTooManyRequests {
		t.Fatalf("statuses %v, want 202 first and 429 at last", codes)
	}
}
