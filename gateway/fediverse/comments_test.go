package fediverse

import (
	"context"
	"net/http"
	"testing"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// commentThread is a resource of alice's with a comment by eve (on one
// fake server) whose replies collection the test fills, and frank and
// mallory on another server.
type commentThread struct {
	s        *site
	f, g     *fakeServer
	resource string // the resource ID
	note     string // its Note URL
	eveNote  string
}

func newCommentThread(t *testing.T) *commentThread {
	t.Helper()
	s := newSite(t)
	s.actor(t, "alice", activity.Person)
	pub, err := s.node.Social().Publish(context.Background(), api.PublishRequest{As: "alice", URL: "https://example.org/c", Title: "Comments",
		License: "CC0-1.0", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeServer(t, "mastodon", "eve")
	g := newFakeServer(t, "mastodon", "frank", "mallory")
	return &commentThread{s: s, f: f, g: g, resource: pub.ID, note: s.url + "/ap/resources/" + pub.ID, eveNote: f.url + "/docs/notes/eve-1"}
}

// comment has eve comment on the resource, with replies as her note's
// replies collection, and waits until the bridge has read it.
func (c *commentThread) comment(t *testing.T, replies any) {
	t.Helper()
	resp := c.f.post(t, c.s.url+"/ap/inbox", "eve", obj{"id": c.eveNote + "/activity", "type": "Create", "actor": c.f.actor("eve"),
		"object": obj{"id": c.eveNote, "type": "Note", "attributedTo": c.f.actor("eve"), "inReplyTo": c.note,
			"content": "<p>Nice</p>", "replies": replies}}, nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("eve's comment: status %d", resp.StatusCode)
	}
	c.settle(t)
	if c.find(c.eveNote) == nil {
		t.Fatal("eve's own comment was not stored")
	}
}

// settle waits until the bridge's background reads of replies are done.
func (c *commentThread) settle(t *testing.T) {
	t.Helper()
	eventually(t, "the replies collection read", func() bool { return len(c.s.bridge.repliesSem) == 0 })
}

// find returns the stored interaction with that ID, or nil.
func (c *commentThread) find(id string) *Interaction {
	its, _ := c.s.bridge.Interactions(context.Background(), c.resource)
	for _, it := range its {
		if it.ID == id {
			return &it
		}
	}
	return nil
}

// Finding 6: a note embedded in a reply's replies collection is the
// sender's word, not its author's: the bridge asks the author's server,
// and stores what that server says, or nothing.
func TestNotesInARepliesCollectionAreFetchedFromTheirAuthorsServer(t *testing.T) {
	c := newCommentThread(t)
	f, g := c.f, c.g
	missing := g.url + "/docs/notes/frank-missing"
	real := g.serve("/docs/notes/frank-real", obj{"id": g.url + "/docs/notes/frank-real", "type": "Note", "attributedTo": g.actor("frank"),
		"inReplyTo": c.eveNote, "content": "<p>What frank wrote</p>"})
	// Served by eve's server, claiming to be a note of frank's on his.
	impostor := f.serve("/docs/impostor", obj{"id": g.url + "/docs/notes/frank-impostor", "type": "Note", "attributedTo": g.actor("frank"),
		"inReplyTo": c.eveNote, "content": "<p>Forged</p>"})
	c.comment(t, obj{"type": "Collection", "first": obj{"type": "CollectionPage", "items": []any{
		obj{"id": missing, "type": "Note", "attributedTo": g.actor("frank"), "inReplyTo": c.eveNote, "content": "<p>Forged</p>"},
		obj{"id": real, "type": "Note", "attributedTo": g.actor("frank"), "inReplyTo": c.eveNote, "content": "<p>Forged</p>"},
		impostor,
	}}})
	if it := c.find(missing); it != nil {
		t.Errorf("a note frank's server does not have was stored: %+v", *it)
	}
	if it := c.find(g.url + "/docs/notes/frank-impostor"); it != nil {
		t.Errorf("a note served by another server than its author's was stored: %+v", *it)
	}
	it := c.find(real)
	if it == nil {
		t.Fatal("frank's real reply was not stored")
	}
	if it.Content != "<p>What frank wrote</p>" || it.Actor != g.actor("frank") {
		t.Fatalf("stored %+v, want the note as frank's server serves it", *it)
	}
}

// Finding 6: a forged copy cannot take a real note's ID first: what its
// author's server vouches for wins over a row of unknown origin (stored
// before the bridge checked origins).
func TestTheAuthenticNoteWinsOverAStoredForgery(t *testing.T) {
	c := newCommentThread(t)
	g := c.g
	ctx := context.Background()
	id := g.serve("/docs/notes/frank-2", obj{"id": g.url + "/docs/notes/frank-2", "type": "Note", "attributedTo": g.actor("frank"),
		"inReplyTo": c.note, "content": "<p>Words of frank</p>"})
	// A forgery stored by an older bridge, "by" mallory under frank's ID.
	if _, err := c.s.bridge.db.db.Exec(ctx, `INSERT INTO interactions (id, kind, actor, object, content, published) VALUES (?, ?, ?, ?, ?, ?)`,
		id, KindComment, g.actor("mallory"), c.resource, "<p>Forged</p>", now()); err != nil {
		t.Fatal(err)
	}
	resp := g.post(t, c.s.url+"/ap/inbox", "frank", obj{"id": id + "/activity", "type": "Create", "actor": g.actor("frank"),
		"object": obj{"id": id, "type": "Note", "attributedTo": g.actor("frank"), "inReplyTo": c.note, "content": "<p>Words of frank</p>"}}, nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d", resp.StatusCode)
	}
	c.settle(t)
	it := c.find(id)
	if it == nil || it.Actor != g.actor("frank") || it.Content != "<p>Words of frank</p>" {
		t.Fatalf("stored %+v, want frank's authentic note", it)
	}
}

// Only a note's author changes or deletes it: another actor, even on the
// same server, cannot, and neither can the same ID claimed from elsewhere.
func TestOnlyANotesAuthorChangesOrDeletesIt(t *testing.T) {
	c := newCommentThread(t)
	f, g := c.f, c.g
	id := g.serve("/docs/notes/frank-3", obj{"id": g.url + "/docs/notes/frank-3", "type": "Note", "attributedTo": g.actor("frank"),
		"inReplyTo": c.note, "content": "<p>Original</p>"})
	g.post(t, c.s.url+"/ap/inbox", "frank", obj{"id": id + "/activity", "type": "Create", "actor": g.actor("frank"),
		"object": obj{"id": id, "type": "Note", "attributedTo": g.actor("frank"), "inReplyTo": c.note, "content": "<p>Original</p>"}}, nil)
	c.settle(t)
	if it := c.find(id); it == nil {
		t.Fatal("frank's comment was not stored")
	}
	for _, tc := range []struct {
		name string
		srv  *fakeServer
		as   string
		act  obj
	}{
		{"an Update by another actor of the same server", g, "mallory", obj{"id": g.url + "/u/1", "type": "Update", "actor": g.actor("mallory"),
			"object": obj{"id": id, "type": "Note", "attributedTo": g.actor("mallory"), "inReplyTo": c.note, "content": "<p>Defaced</p>"}}},
		{"an Update claiming the author from another server", f, "eve", obj{"id": f.url + "/u/2", "type": "Update", "actor": f.actor("eve"),
			"object": obj{"id": id, "type": "Note", "attributedTo": f.actor("eve"), "inReplyTo": c.note, "content": "<p>Defaced</p>"}}},
		{"a Create reusing the ID by another actor of the same server", g, "mallory", obj{"id": g.url + "/c/3", "type": "Create", "actor": g.actor("mallory"),
			"object": obj{"id": id, "type": "Note", "attributedTo": g.actor("mallory"), "inReplyTo": c.note, "content": "<p>Defaced</p>"}}},
		{"a Delete by another actor of the same server", g, "mallory", obj{"id": g.url + "/d/4", "type": "Delete", "actor": g.actor("mallory"), "object": id}},
		{"a Delete from another server", f, "eve", obj{"id": f.url + "/d/5", "type": "Delete", "actor": f.actor("eve"), "object": obj{"id": id, "type": "Tombstone"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if resp := tc.srv.post(t, c.s.url+"/ap/inbox", tc.as, tc.act, nil); resp.StatusCode != http.StatusAccepted {
				t.Fatalf("status %d", resp.StatusCode)
			}
			c.settle(t)
			it := c.find(id)
			if it == nil || it.Actor != g.actor("frank") || it.Content != "<p>Original</p>" {
				t.Fatalf("frank's comment is now %+v", it)
			}
		})
	}
	t.Run("frank deletes his comment", func(t *testing.T) {
		g.post(t, c.s.url+"/ap/inbox", "frank", obj{"id": g.url + "/d/6", "type": "Delete", "actor": g.actor("frank"), "object": id}, nil)
		if it := c.find(id); it != nil {
			t.Fatalf("the comment survived its author's Delete: %+v", *it)
		}
	})
}
