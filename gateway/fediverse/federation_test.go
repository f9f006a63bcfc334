package fediverse

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

func getDoc(tb testing.TB, s *site, url, accept string) (int, http.Header, []byte) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := s.bridge.cfg.Client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body
}

// Two Lyceum nodes that know each other only through their gateways
// federate over HTTPS on loopback: a person on B follows a person and a
// community on A (WebFinger, Follow, Accept), A publishes (Create, and
// the community's boost), B replies, likes and boosts (a comment, a like
// and a boost on A's resource), A edits (Update) and deletes (Delete, 410).
func TestTwoNodesFederateThroughTheirGateways(t *testing.T) {
	ctx := context.Background()
	a, b := newSite(t), newSite(t)
	a.actor(t, "alice", activity.Person)
	a.actor(t, "maths", activity.Group)
	b.actor(t, "bob", activity.Person)
	aliceURL, mathsURL := a.url+"/ap/users/alice", a.url+"/ap/users/maths"

	// Discovery.
	st, h, body := getDoc(t, a, a.url+"/.well-known/webfinger?resource=acct:alice@"+a.host, "")
	if st != http.StatusOK || !strings.Contains(h.Get("Content-Type"), "jrd+json") || !strings.Contains(string(body), `"href":"`+aliceURL+`"`) {
		t.Fatalf("webfinger: %d %s", st, body)
	}

	// Follow a person and a community across the gateways.
	if _, err := b.bridge.Follow(ctx, "bob", "alice@"+a.host); err != nil {
		t.Fatal(err)
	}
	if _, err := b.bridge.Follow(ctx, "bob", "@maths@"+a.host); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both follows accepted", func() bool {
		f, _ := b.bridge.Following(ctx, "bob")
		return f[aliceURL] == "accepted" && f[mathsURL] == "accepted"
	})
	fs, err := a.bridge.Followers(ctx, "alice")
	if err != nil || len(fs) != 1 || fs[0].ID != b.url+"/ap/users/bob" || fs[0].Software != "lyceum" {
		t.Fatalf("alice's followers = %+v, %v", fs, err)
	}

	// Publish in the community: B gets the post and the community's boost.
	pub, err := a.node.Social().Publish(ctx, api.PublishRequest{As: "alice", URL: "https://example.org/fractions", Title: "Fractions worksheet",
		Summary: "Adding fractions", License: "CC-BY-4.0", Language: "en", Subjects: []string{"0541"}, Community: "maths"})
	if err != nil {
		t.Fatal(err)
	}
	noteURL := a.url + "/ap/resources/" + pub.ID
	eventually(t, "the post and the boost on B", func() bool {
		tl, _ := b.bridge.Timeline(ctx, 10)
		var post, boost bool
		for _, it := range tl {
			post = post || (it.Kind == KindPost && it.ID == noteURL && strings.Contains(it.Content, "Fractions worksheet"))
			boost = boost || (it.Kind == KindBoost && it.Actor == mathsURL && it.Object == noteURL)
		}
		return post && boost
	})

	// The Note as Mastodon reads it.
	st, h, body = getDoc(t, a, noteURL, "application/activity+json")
	var note map[string]any
	if st != http.StatusOK || h.Get("Content-Type") != apType || json.Unmarshal(body, &note) != nil {
		t.Fatalf("note: %d %s", st, body)
	}
	if note["type"] != "Note" || note["attributedTo"] != aliceURL || note["audience"] != mathsURL ||
		!strings.Contains(note["content"].(string), "#<span>Mathematics</span>") || !strings.Contains(note["content"].(string), "creativecommons.org") {
		t.Fatalf("note = %s", body)
	}

	// Reply, like and boost from B: comments, likes and boosts on A.
	if _, err := b.bridge.Reply(ctx, "bob", noteURL, "Great worksheet! <script>alert(1)</script>"); err != nil {
		t.Fatal(err)
	}
	if err := b.bridge.Like(ctx, "bob", noteURL); err != nil {
		t.Fatal(err)
	}
	if err := b.bridge.Boost(ctx, "bob", noteURL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a comment, a like and a boost on A", func() bool {
		its, _ := a.bridge.Interactions(ctx, pub.ID)
		kinds := map[string]int{}
		for _, it := range its {
			kinds[it.Kind]++
			if it.Kind == KindComment && (strings.Contains(it.Content, "<script") || !strings.Contains(it.Content, "Great worksheet")) {
				t.Fatalf("comment not sanitized: %q", it.Content)
			}
		}
		return kinds[KindComment] == 1 && kinds[KindLike] == 1 && kinds[KindBoost] == 1
	})

	// Edit: B's copy of the post follows.
	if _, err := a.node.Social().UpdateResource(ctx, pub.ID, api.PublishRequest{Title: "Fractions worksheet, revised"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the edit on B", func() bool {
		tl, _ := b.bridge.Timeline(ctx, 10)
		for _, it := range tl {
			if it.ID == noteURL && strings.Contains(it.Content, "revised") && !it.Updated.IsZero() {
				return true
			}
		}
		return false
	})

	// Delete: B drops the post; A answers 410.
	if _, err := a.node.Social().DeleteResource(ctx, pub.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deletion on B", func() bool {
		tl, _ := b.bridge.Timeline(ctx, 10)
		for _, it := range tl {
			if it.ID == noteURL {
				return false
			}
		}
		return true
	})
	if st, _, _ := getDoc(t, a, noteURL, "application/activity+json"); st != http.StatusGone {
		t.Fatalf("deleted note: status %d, want 410", st)
	}

	// Unfollow: A forgets the follower.
	if err := b.bridge.Unfollow(ctx, "bob", aliceURL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the unfollow on A", func() bool {
		fs, _ := a.bridge.Followers(ctx, "alice")
		return len(fs) == 0
	})
}
