package fediverse

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// count counts what a fake server received of a type.
func (f *fakeServer) count(typ string) int {
	n := 0
	for _, r := range f.got() {
		if r.doc["type"] == typ {
			n++
		}
	}
	return n
}

// waitForObject waits for an activity of type typ whose embedded object
// is of type objType.
func (f *fakeServer) waitForObject(tb testing.TB, typ, objType string) received {
	tb.Helper()
	var out received
	eventually(tb, typ+"{"+objType+"} received by the fake server", func() bool {
		for _, r := range f.got() {
			if o, _ := r.doc["object"].(map[string]any); r.doc["type"] == typ && o["type"] == objType {
				out = r
				return true
			}
		}
		return false
	})
	if out.err != nil {
		tb.Fatalf("%s: signature refused by the receiver: %v", typ, out.err)
	}
	return out
}

func actorDoc(tb testing.TB, s *site, u string) (int, map[string]any) {
	tb.Helper()
	st, _, body := getDoc(tb, s, u, apType)
	var doc map[string]any
	_ = json.Unmarshal(body, &doc)
	return st, doc
}

// A collection is a followable Group with a unique username; each resource
// added to it is boosted once, per the follower's software.
func TestCollectionIsAGroupThatBoostsEachAddedResourceOnce(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	s.actor(t, "alice", activity.Person)
	s.actor(t, "number-sense", activity.Person) // takes the collection's first choice
	pub, err := s.node.Social().Publish(ctx, api.PublishRequest{As: "alice", URL: "https://example.org/f", Title: "Fractions",
		License: "CC-BY-4.0", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	col, err := s.node.Social().CreateCollection(ctx, api.CollectionRequest{As: "alice", Title: "Number sense!", Summary: "Year 6"})
	if err != nil {
		t.Fatal(err)
	}
	group := s.url + "/ap/users/number-sense-2"
	eventually(t, "the collection's actor", func() bool { st, _ := actorDoc(t, s, group); return st == 200 })

	st, _, body := getDoc(t, s, s.url+"/.well-known/webfinger?resource=acct:number-sense-2@"+s.host, "")
	if st != 200 || !strings.Contains(string(body), group) {
		t.Fatalf("webfinger: %d %s", st, body)
	}
	_, doc := actorDoc(t, s, group)
	if doc["type"] != "Group" || doc["preferredUsername"] != "number-sense-2" || doc["name"] != "Number sense!" ||
		doc["manuallyApprovesFollowers"] != false || doc["inbox"] != group+"/inbox" || doc["followers"] != group+"/followers" {
		t.Fatalf("collection actor = %v", doc)
	}
	if _, person := actorDoc(t, s, s.url+"/ap/users/number-sense"); person["type"] != "Person" {
		t.Fatalf("the person lost its name: %v", person)
	}

	masto := newFakeServer(t, "mastodon", "eve")
	lemmy := newFakeServer(t, "lemmy", "lena")
	if resp := masto.post(t, group+"/inbox", "eve", obj{"id": masto.url + "/f/1", "type": "Follow", "actor": masto.actor("eve"), "object": group}, nil); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("follow: %d", resp.StatusCode)
	}
	lemmy.post(t, group+"/inbox", "lena", obj{"id": lemmy.url + "/f/1", "type": "Follow", "actor": lemmy.actor("lena"), "object": group}, nil)
	if acc := masto.waitFor(t, "Accept"); acc.keyID != group+"#main-key" {
		t.Fatalf("accept signed by %s", acc.keyID)
	}
	lemmy.waitFor(t, "Accept")

	if _, err := s.node.Social().AddToCollection(ctx, col.ID, api.CollectionItemRequest{Resource: pub.ID}); err != nil {
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
	if note, _ := inner["object"].(map[string]any); note["id"] != noteURL || note["name"] != "Fractions" {
		t.Fatalf("lemmy announce's note = %v", inner["object"])
	}
	// The boost dereferences, and the outbox lists it.
	if st, d := actorDoc(t, s, ann.doc["id"].(string)[:len(ann.doc["id"].(string))-len("/1b12")]); st != 200 || d["type"] != "Announce" || d["actor"] != group {
		t.Fatalf("boost document: %d %v", st, d)
	}
	_, outbox := actorDoc(t, s, group+"/outbox")
	if items, _ := outbox["orderedItems"].([]any); outbox["totalItems"] != 1.0 || len(items) != 1 || items[0].(map[string]any)["object"] != noteURL {
		t.Fatalf("outbox = %v", outbox)
	}
	// Browsers get the list.
	if st, _, page := getDoc(t, s, group, "text/html"); st != 200 || !strings.Contains(string(page), "<li><a href=\""+s.url+"/ap/resources/"+pub.ID+"\">Fractions</a></li>") {
		t.Fatalf("collection page: %d %s", st, page)
	}
	// Removed and added again: not boosted a second time.
	if _, err := s.node.Social().RemoveFromCollection(ctx, col.ID, api.CollectionItemRequest{Resource: pub.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.node.Social().AddToCollection(ctx, col.ID, api.CollectionItemRequest{Resource: pub.ID}); err != nil {
		t.Fatal(err)
	}
	// An edit of the resource reaches those who saw the boost.
	if _, err := s.node.Social().UpdateResource(ctx, pub.ID, api.PublishRequest{Title: "Fractions, revised"}); err != nil {
		t.Fatal(err)
	}
	masto.waitForObject(t, "Update", "Note")
	// A rename reaches the followers as an Update of the Group.
	if _, err := s.node.Social().UpdateCollection(ctx, col.ID, api.CollectionRequest{Title: "Number sense (Y6)"}); err != nil {
		t.Fatal(err)
	}
	upd := masto.waitForObject(t, "Update", "Group")
	if o, _ := upd.doc["object"].(map[string]any); o["name"] != "Number sense (Y6)" || o["preferredUsername"] != "number-sense-2" {
		t.Fatalf("update = %v", upd.doc)
	}
	if n := masto.count("Announce"); n != 1 {
		t.Fatalf("%d boosts of one resource, want 1", n)
	}
	// Deleted: the actor answers 410 and its followers get Delete{actor}.
	if _, err := s.node.Social().DeleteCollection(ctx, "", col.ID); err != nil {
		t.Fatal(err)
	}
	del := masto.waitFor(t, "Delete")
	if del.doc["object"] != group || del.doc["actor"] != group {
		t.Fatalf("delete = %v", del.doc)
	}
	if st, _ := actorDoc(t, s, group); st != http.StatusGone {
		t.Fatalf("deleted collection's actor: %d, want 410", st)
	}
}

// A locked actor says so; a Follow of it waits until approved (Accept) or
// rejected (Reject); unlocking approves what still waits.
func TestLockedActorsApproveFollowers(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	s.actor(t, "alice", activity.Person)
	alice := s.url + "/ap/users/alice"
	if err := s.bridge.SetLocked(ctx, "alice", true); err != nil {
		t.Fatal(err)
	}
	if _, doc := actorDoc(t, s, alice); doc["manuallyApprovesFollowers"] != true {
		t.Fatalf("locked actor = %v", doc)
	}
	f := newFakeServer(t, "mastodon", "eve", "frank", "grace")
	for _, u := range []string{"eve", "frank", "grace"} {
		if resp := f.post(t, alice+"/inbox", u, obj{"id": f.url + "/follows/" + u, "type": "Follow", "actor": f.actor(u), "object": alice}, nil); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("follow: %d", resp.StatusCode)
		}
	}
	var reqs []FollowRequest
	eventually(t, "three requests", func() bool {
		reqs, _ = s.bridge.Requests(ctx, "alice")
		return len(reqs) == 3
	})
	if reqs[0].FollowID == "" || !strings.HasPrefix(reqs[0].ID, f.url) {
		t.Fatalf("requests = %+v", reqs)
	}
	time.Sleep(200 * time.Millisecond) // let a wrong Accept show up
	if n := f.count("Accept"); n != 0 {
		t.Fatalf("%d Accepts sent for a locked actor", n)
	}
	if fs, _ := s.bridge.Followers(ctx, "alice"); len(fs) != 0 {
		t.Fatalf("followers before approval: %v", fs)
	}
	if err := s.bridge.Approve(ctx, "alice", f.actor("eve")); err != nil {
		t.Fatal(err)
	}
	acc := f.waitFor(t, "Accept")
	if inner, _ := acc.doc["object"].(map[string]any); inner["id"] != f.url+"/follows/eve" || inner["type"] != "Follow" || acc.path != "/users/eve/inbox" {
		t.Fatalf("accept = %v to %s", acc.doc, acc.path)
	}
	if err := s.bridge.Reject(ctx, "alice", f.actor("frank")); err != nil {
		t.Fatal(err)
	}
	rej := f.waitFor(t, "Reject")
	if inner, _ := rej.doc["object"].(map[string]any); inner["id"] != f.url+"/follows/frank" || rej.path != "/users/frank/inbox" {
		t.Fatalf("reject = %v to %s", rej.doc, rej.path)
	}
	if err := s.bridge.Approve(ctx, "alice", f.actor("frank")); api.KindOf(err) != api.KindNotFound {
		t.Fatalf("approving a rejected request: %v", err)
	}
	if fs, _ := s.bridge.Followers(ctx, "alice"); len(fs) != 1 || fs[0].ID != f.actor("eve") {
		t.Fatalf("followers = %v", fs)
	}
	// Unlocking approves grace and tells the followers.
	if err := s.bridge.SetLocked(ctx, "alice", false); err != nil {
		t.Fatal(err)
	}
	eventually(t, "grace's Accept", func() bool { return f.count("Accept") == 2 })
	upd := f.waitForObject(t, "Update", "Person")
	if o, _ := upd.doc["object"].(map[string]any); o["manuallyApprovesFollowers"] != false {
		t.Fatalf("update = %v", upd.doc)
	}
	if st, d := actorDoc(t, s, upd.doc["id"].(string)); st != 200 || d["type"] != "Update" {
		t.Fatalf("the Update does not dereference: %d %v", st, d)
	}
	if reqs, _ := s.bridge.Requests(ctx, "alice"); len(reqs) != 0 {
		t.Fatalf("requests after unlock: %v", reqs)
	}
	if err := s.bridge.SetLocked(ctx, "nobody", true); api.KindOf(err) != api.KindNotFound {
		t.Fatalf("locking a stranger: %v", err)
	}
}
