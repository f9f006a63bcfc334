package fediverse

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/gateway/delivery"
	"github.com/lyceum-oer/lyceum/gateway/httpsig"
	"github.com/lyceum-oer/lyceum/node/api"
)

func TestInboxRefusesWhatMastodonRefuses(t *testing.T) {
	s := newSite(t)
	s.actor(t, "alice", activity.Person)
	f := newFakeServer(t, "mastodon", "eve", "mallory")
	inbox := s.url + "/ap/inbox"
	like := func(actor string) obj {
		return obj{"@context": asContext, "id": f.url + "/likes/" + randomID(), "type": "Like", "actor": f.actor(actor), "object": s.url + "/ap/users/alice"}
	}
	for _, tc := range []struct {
		name string
		as   string // who signs
		act  obj
		edit func(*http.Request)
		want int
	}{
		{"a signed activity is accepted", "eve", like("eve"), nil, http.StatusAccepted},
		{"an unsigned activity is refused", "", like("eve"), nil, http.StatusUnauthorized},
		{"a wrong digest is refused", "eve", like("eve"), func(r *http.Request) { r.Header.Set("Digest", httpsig.Digest([]byte("other"))) }, http.StatusUnauthorized},
		{"a tampered body is refused", "eve", like("eve"), func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(`{"type":"Delete"}`))
			r.ContentLength = 17
		}, http.StatusUnauthorized},
		{"a stale date is refused", "eve", like("eve"), func(r *http.Request) {
			k := f.keys["eve"]
			body, _ := r.GetBody()
			b, _ := io.ReadAll(body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			_ = httpsig.Sign(r, b, f.actor("eve")+"#main-key", k, time.Now().Add(-3*time.Hour))
		}, http.StatusUnauthorized},
		{"the key of another actor is refused", "mallory", like("eve"), nil, http.StatusUnauthorized},
		{"application/json is refused", "eve", like("eve"), func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }, http.StatusUnsupportedMediaType},
		{"a malformed signature header is refused", "eve", like("eve"), func(r *http.Request) { r.Header.Set("Signature", `keyId="x",,,`) }, http.StatusBadRequest},
		{"a deleted account's unverifiable Delete of itself is acknowledged", "eve",
			obj{"id": f.url + "/users/ghost#delete", "type": "Delete", "actor": f.actor("ghost"), "object": f.actor("ghost")},
			func(r *http.Request) {
				body, _ := r.GetBody()
				data, _ := io.ReadAll(body)
				r.Body = io.NopCloser(bytes.NewReader(data))
				_ = httpsig.Sign(r, data, f.actor("ghost")+"#main-key", f.keys["eve"], time.Now())
			}, http.StatusAccepted},
		{"an unknown type is accepted and ignored", "eve", obj{"id": f.url + "/x/1", "type": "EmojiReact", "actor": f.actor("eve")}, nil, http.StatusAccepted},
		{"an oversized body is refused", "eve", obj{"id": f.url + "/x/2", "type": "Note", "actor": f.actor("eve"), "content": strings.Repeat("x", 300<<10)}, nil, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if resp := f.post(t, inbox, tc.as, tc.act, tc.edit); resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	t.Run("the inbox of an unknown actor is not found", func(t *testing.T) {
		if resp := f.post(t, s.url+"/ap/users/nobody/inbox", "eve", like("eve"), nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("a report is kept for the moderators", func(t *testing.T) {
		f.post(t, inbox, "eve", obj{"id": f.url + "/flags/1", "type": "Flag", "actor": f.actor("eve"), "content": "spam <b>here</b><script>x</script>",
			"object": []any{s.url + "/ap/users/alice"}}, nil)
		fl, err := s.bridge.Flags(context.Background())
		if err != nil || len(fl) != 1 || fl[0].Objects[0] != s.url+"/ap/users/alice" || strings.Contains(fl[0].Content, "script") {
			t.Fatalf("flags = %+v, %v", fl, err)
		}
	})
}

// A follow from Mastodon is accepted at once with the Follow embedded; a
// new resource then reaches the server's shared inbox once for two
// followers there, as a Create of a Note signed by the author's key.
func TestFollowersOnMastodonGetEachNewResourceOncePerServer(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	s.actor(t, "alice", activity.Person)
	f := newFakeServer(t, "mastodon", "eve", "frank")
	alice := s.url + "/ap/users/alice"
	for _, u := range []string{"eve", "frank"} {
		followID := f.url + "/follows/" + u
		if resp := f.post(t, alice+"/inbox", u, obj{"@context": asContext, "id": followID, "type": "Follow", "actor": f.actor(u), "object": alice}, nil); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("follow: %d", resp.StatusCode)
		}
	}
	acc := f.waitFor(t, "Accept")
	if inner, _ := acc.doc["object"].(map[string]any); inner["type"] != "Follow" || !strings.HasPrefix(inner["id"].(string), f.url+"/follows/") || acc.keyID != alice+"#main-key" {
		t.Fatalf("accept = %v", acc.doc)
	}
	if !strings.HasSuffix(acc.path, "/inbox") || acc.path == "/inbox" {
		t.Fatalf("accept went to %s, want the follower's own inbox", acc.path)
	}
	pub, err := s.node.Social().Publish(ctx, api.PublishRequest{As: "alice", URL: "https://example.org/a", Title: "Photosynthesis",
		License: "CC0-1.0", Language: "en", Keywords: []string{"plants"}})
	if err != nil {
		t.Fatal(err)
	}
	create := f.waitFor(t, "Create")
	if create.path != "/inbox" {
		t.Fatalf("create went to %s, want the shared inbox", create.path)
	}
	note, _ := create.doc["object"].(map[string]any)
	if note["type"] != "Note" || note["id"] != s.url+"/ap/resources/"+pub.ID || note["to"].([]any)[0] != activity.PublicAudience ||
		note["cc"].([]any)[0] != alice+"/followers" {
		t.Fatalf("create = %v", create.doc)
	}
	time.Sleep(200 * time.Millisecond) // let a wrong second POST show up
	n := 0
	for _, r := range f.got() {
		if r.doc["type"] == "Create" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d Creates for two followers on one server, want 1", n)
	}
}

// A community boosts a new resource as Announce{Note URL} to Mastodon and
// as the FEP-1b12 Announce{Create{Note}} with audience to Lemmy.
func TestCommunityBoostsPerFollowerSoftware(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	s.actor(t, "alice", activity.Person)
	s.actor(t, "maths", activity.Group)
	masto := newFakeServer(t, "mastodon", "eve")
	lemmy := newFakeServer(t, "lemmy", "lena")
	group := s.url + "/ap/users/maths"
	masto.post(t, group+"/inbox", "eve", obj{"id": masto.url + "/f/1", "type": "Follow", "actor": masto.actor("eve"), "object": group}, nil)
	lemmy.post(t, group+"/inbox", "lena", obj{"id": lemmy.url + "/f/1", "type": "Follow", "actor": lemmy.actor("lena"), "object": group}, nil)
	masto.waitFor(t, "Accept")
	lemmy.waitFor(t, "Accept")
	pub, err := s.node.Social().Publish(ctx, api.PublishRequest{As: "alice", URL: "https://example.org/g", Title: "Geometry",
		License: "CC-BY-4.0", Language: "en", Community: "maths"})
	if err != nil {
		t.Fatal(err)
	}
	noteURL := s.url + "/ap/resources/" + pub.ID
	ann := masto.waitFor(t, "Announce")
	if ann.doc["object"] != noteURL || ann.doc["actor"] != group || ann.keyID != group+"#main-key" {
		t.Fatalf("mastodon announce = %v", ann.doc)
	}
	ann = lemmy.waitFor(t, "Announce")
	inner, _ := ann.doc["object"].(map[string]any)
	if inner["type"] != "Create" || ann.doc["audience"] != group || inner["audience"] != group {
		t.Fatalf("lemmy announce = %v", ann.doc)
	}
	if note, _ := inner["object"].(map[string]any); note["id"] != noteURL || note["audience"] != group || note["name"] != "Geometry" {
		t.Fatalf("lemmy announce's note = %v", inner["object"])
	}
	// An edit is not boosted again.
	if _, err := s.node.Social().UpdateResource(ctx, pub.ID, api.PublishRequest{Title: "Geometry 2"}); err != nil {
		t.Fatal(err)
	}
	masto.waitFor(t, "Update")
	n := 0
	for _, r := range masto.got() {
		if r.doc["type"] == "Announce" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d boosts, want 1", n)
	}
}

// Likes and boosts can be taken back by ID or by actor and object; a
// repeated activity is handled once; a deleted actor's traces go.
func TestInboxUndoDuplicatesAndDeletedActors(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	s.actor(t, "alice", activity.Person)
	pub, err := s.node.Social().Publish(ctx, api.PublishRequest{As: "alice", URL: "https://example.org/u", Title: "Undo me", License: "CC0-1.0", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeServer(t, "gotosocial", "eve")
	note := s.url + "/ap/resources/" + pub.ID
	inbox := s.url + "/ap/inbox"
	count := func(kind string) int {
		its, _ := s.bridge.Interactions(ctx, pub.ID)
		n := 0
		for _, it := range its {
			if it.Kind == kind {
				n++
			}
		}
		return n
	}
	like := obj{"id": f.url + "/likes/1", "type": "Like", "actor": f.actor("eve"), "object": note}
	f.post(t, inbox, "eve", like, nil)
	f.post(t, inbox, "eve", like, nil)
	if count(KindLike) != 1 {
		t.Fatalf("%d likes after a repeated Like, want 1", count(KindLike))
	}
	// Undo naming only the actor and object, with a fresh Like ID.
	f.post(t, inbox, "eve", obj{"id": f.url + "/undo/1", "type": "Undo", "actor": f.actor("eve"),
		"object": obj{"id": f.url + "/likes/other", "type": "Like", "actor": f.actor("eve"), "object": note}}, nil)
	if count(KindLike) != 0 {
		t.Fatal("the like survived its Undo")
	}
	f.post(t, inbox, "eve", obj{"id": f.url + "/boosts/1", "type": "Announce", "actor": f.actor("eve"), "object": []any{note}}, nil)
	f.post(t, inbox, "eve", obj{"id": f.url + "/notes/eve-1", "type": "Create", "actor": f.actor("eve"),
		"object": obj{"id": f.url + "/notes/eve-1", "type": "Note", "attributedTo": f.actor("eve"), "inReplyTo": note,
			"content": `<p onclick="x()">Nice <a href="javascript:alert(1)">link</a> <img src="x"></p>`, "to": activity.PublicAudience}}, nil)
	its, _ := s.bridge.Interactions(ctx, pub.ID)
	if len(its) != 2 {
		t.Fatalf("interactions = %+v", its)
	}
	for _, it := range its {
		if it.Kind == KindComment && (strings.Contains(it.Content, "onclick") || strings.Contains(it.Content, "javascript") || strings.Contains(it.Content, "<img")) {
			t.Fatalf("comment not sanitized: %q", it.Content)
		}
	}
	// Update of the comment by its author.
	f.post(t, inbox, "eve", obj{"id": f.url + "/updates/1", "type": "Update", "actor": f.actor("eve"),
		"object": obj{"id": f.url + "/notes/eve-1", "type": "Note", "attributedTo": f.actor("eve"), "inReplyTo": note, "content": "<p>Edited</p>"}}, nil)
	its, _ = s.bridge.Interactions(ctx, pub.ID)
	edited := false
	for _, it := range its {
		edited = edited || (it.Kind == KindComment && it.Content == "<p>Edited</p>")
	}
	if !edited {
		t.Fatalf("comment not edited: %+v", its)
	}
	// The actor is deleted: everything of it goes.
	f.post(t, inbox, "eve", obj{"id": f.url + "/users/eve#delete", "type": "Delete", "actor": f.actor("eve"), "object": f.actor("eve")}, nil)
	if its, _ := s.bridge.Interactions(ctx, pub.ID); len(its) != 0 {
		t.Fatalf("a deleted actor's interactions remain: %+v", its)
	}
}

// Replies in a thread under one of our resources are not always addressed
// to us: the bridge reads the replies collection of the remote comments it
// receives.
func TestRepliesCollectionsOfRemoteCommentsAreRead(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	s.actor(t, "alice", activity.Person)
	pub, err := s.node.Social().Publish(ctx, api.PublishRequest{As: "alice", URL: "https://example.org/t", Title: "Thread", License: "CC0-1.0", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeServer(t, "mastodon", "eve", "frank")
	eveNote := f.url + "/docs/notes/eve-1"
	frankNote := f.serve("/docs/notes/frank-1", obj{"id": f.url + "/docs/notes/frank-1", "type": "Note", "attributedTo": f.actor("frank"),
		"inReplyTo": eveNote, "content": "<p>I agree with Eve</p>"})
	replies := f.serve("/docs/notes/eve-1/replies", obj{"id": f.url + "/docs/notes/eve-1/replies", "type": "Collection",
		"first": obj{"type": "CollectionPage", "items": []any{frankNote}}})
	f.post(t, s.url+"/ap/inbox", "eve", obj{"id": eveNote + "/activity", "type": "Create", "actor": f.actor("eve"),
		"object": obj{"id": eveNote, "type": "Note", "attributedTo": f.actor("eve"), "inReplyTo": s.url + "/ap/resources/" + pub.ID,
			"content": "<p>Nice</p>", "replies": replies}}, nil)
	eventually(t, "frank's reply read from eve's replies collection", func() bool {
		its, _ := s.bridge.Interactions(ctx, pub.ID)
		for _, it := range its {
			if it.ID == frankNote && it.Kind == KindComment {
				return true
			}
		}
		return false
	})
}

// GoToSocial names keys ACTOR/main-key and serves a key document there:
// the bridge reads the owner from it and then the whole actor.
func TestKeysNamedAsGoToSocialNamesThem(t *testing.T) {
	s := newSite(t)
	s.actor(t, "alice", activity.Person)
	f := newFakeServer(t, "gotosocial", "tom")
	f.keyPath = "/main-key"
	alice := s.url + "/ap/users/alice"
	resp := f.post(t, alice+"/inbox", "tom", obj{"id": f.url + "/follows/1", "type": "Follow", "actor": f.actor("tom"), "object": alice}, nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d", resp.StatusCode)
	}
	f.waitFor(t, "Accept")
	fs, _ := s.bridge.Followers(context.Background(), "alice")
	if len(fs) != 1 || fs[0].KeyID != f.actor("tom")+"/main-key" || fs[0].Software != "gotosocial" {
		t.Fatalf("followers = %+v", fs)
	}
}

// The bridge's own requests go through the federation client, which
// refuses private and loopback addresses unless allowed: a key "hosted"
// on loopback is not fetched, so the request is refused.
func TestTheBridgeDoesNotFetchFromPrivateAddresses(t *testing.T) {
	s := newSite(t, func(c *Config) { c.Client = delivery.NewHTTPClient() })
	s.actor(t, "alice", activity.Person)
	f := newFakeServer(t, "mastodon", "eve")
	resp := f.post(t, s.url+"/ap/inbox", "eve", obj{"id": f.url + "/l/1", "type": "Like", "actor": f.actor("eve"), "object": s.url + "/ap/users/alice"}, nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401 (key unavailable)", resp.StatusCode)
	}
	if _, err := s.bridge.Resolve(context.Background(), f.actor("eve")); err == nil || !errors.Is(err, delivery.ErrForbiddenAddress) {
		t.Fatalf("resolve on loopback: %v, want a forbidden-address error", err)
	}
}

// A server built on an independent, maintained HTTP-signature library
// (GoToSocial's) follows a Lyceum person: the bridge accepts its signed
// Follow, and the library verifies the bridge's signed Accept and Create.
func TestAnIndependentSignatureLibraryInteroperates(t *testing.T) {
	s := newSite(t)
	s.actor(t, "alice", activity.Person)
	f := newFakeServer(t, "gotosocial", "tom")
	f.independent = true
	alice := s.url + "/ap/users/alice"
	if resp := f.post(t, alice+"/inbox", "tom", obj{"id": f.url + "/follows/1", "type": "Follow", "actor": f.actor("tom"), "object": alice}, nil); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("follow signed by the independent library: %d", resp.StatusCode)
	}
	f.waitFor(t, "Accept") // fails unless the library verified it
	if _, err := s.node.Social().Publish(context.Background(), api.PublishRequest{As: "alice", URL: "https://example.org/i", Title: "Interop",
		License: "CC0-1.0", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, "Create")
}
