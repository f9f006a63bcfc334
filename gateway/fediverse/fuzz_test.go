package fediverse

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// FuzzInbox feeds inbox bodies, as if signed by their actor, through
// parsing and every handler: whatever arrives, the answer is 202, 400 or
// 401, never a panic or a 500. The seed corpus (testdata/fuzz/FuzzInbox)
// holds activities as Mastodon, GoToSocial, Pleroma and Lemmy send them,
// with single values where arrays are usual and the reverse.
func FuzzInbox(f *testing.F) {
	s := newSite(f)
	s.actor(f, "alice", activity.Person)
	s.actor(f, "maths", activity.Group)
	f.Add([]byte(`{"id":"https://m.example/1","type":"Like","actor":"https://m.example/users/eve","object":"` + s.url + `/ap/users/alice"}`))
	// A reply to a resource of ours whose replies collection embeds notes
	// "by" actors of other servers: only their servers may vouch for them.
	pub, err := s.node.Social().Publish(context.Background(), api.PublishRequest{As: "alice", URL: "https://example.org/f", Title: "Fuzzed",
		License: "CC0-1.0", Language: "en"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"id":"https://m.example/n/1/a","type":"Create","actor":"https://m.example/users/eve","object":{"id":"https://m.example/n/1",
		"type":"Note","attributedTo":"https://m.example/users/eve","inReplyTo":"` + s.url + `/ap/resources/` + pub.ID + `","content":"hi",
		"replies":{"type":"Collection","first":{"type":"CollectionPage","items":[{"id":"https://o.example/n/2","type":"Note",
		"attributedTo":"https://o.example/users/frank","inReplyTo":"https://m.example/n/1","content":"forged"},"https://m.example/n/3"]}}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		owner := ""
		if doc, err := parseDoc(body); err == nil {
			owner = ref(doc["actor"])
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		st, msg := s.bridge.receive(ctx, body, owner)
		switch st {
		case http.StatusAccepted, http.StatusBadRequest, http.StatusUnauthorized:
		default:
			t.Fatalf("status %d (%s) for %q", st, msg, body)
		}
		// Whatever arrived, every stored note or reaction is on its
		// actor's host: no sender speaks for another server.
		rows, err := s.bridge.db.strings(ctx, `SELECT id || ' ' || actor FROM interactions`)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			id, actor, _ := strings.Cut(r, " ")
			if !sameHost(id, actor) {
				t.Fatalf("stored %s by %s, of another host, from %q", id, actor, body)
			}
		}
	})
}
