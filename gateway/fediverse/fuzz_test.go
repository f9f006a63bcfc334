package fediverse

import (
	"context"
	"net/http"
	"testing"

	"github.com/lyceum-oer/lyceum/activity"
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
	})
}
