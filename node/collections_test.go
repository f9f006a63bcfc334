package node_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/logsync"
	"github.com/lyceum-oer/lyceum/node/nodetest"
)

func itemIDs(v api.CollectionView) []string {
	var out []string
	for _, it := range v.Entries {
		out = append(out, it.ResourceID)
	}
	return out
}

func TestCollectionKeepsItsItemsInOrder(t *testing.T) {
	n := mustNode(t, nodetest.Options{})
	ctx := context.Background()
	mustPerson(t, n, "alice")
	a := mustPublish(t, n, "alice", "Fractions")
	b := mustPublish(t, n, "alice", "Decimals")
	c := mustPublish(t, n, "alice", "Percentages")
	col, err := n.Social().CreateCollection(ctx, api.CollectionRequest{As: "", Title: "Number sense", Summary: "Year 6, autumn term"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []api.Published{b, a, c} {
		if res, err := n.Social().AddToCollection(ctx, col.ID, api.CollectionItemRequest{As: "alice", Resource: r.ID}); err != nil || !res.Changed {
			t.Fatalf("add %s: %+v %v", r.ID, res, err)
		}
	}
	// Adding again changes nothing and signs nothing.
	if res, err := n.Social().AddToCollection(ctx, col.ID, api.CollectionItemRequest{As: "", Resource: a.ID}); err != nil || res.Changed {
		t.Fatalf("second add: %+v %v", res, err)
	}
	if _, err := n.Social().RemoveFromCollection(ctx, col.ID, api.CollectionItemRequest{As: "", Resource: a.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Social().RemoveFromCollection(ctx, col.ID, api.CollectionItemRequest{As: "", Resource: a.ID}); api.KindOf(err) != api.KindNotFound {
		t.Fatalf("removing an absent item: %v, want not_found", err)
	}
	v, err := n.Social().ShowCollection(ctx, col.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := itemIDs(v), []string{b.ID, c.ID}; !reflect.DeepEqual(got, want) {
		t.Fatalf("items %v, want %v", got, want)
	}
	if v.Entries[0].Title != "Decimals" || v.Entries[1].Position != 2 || v.Items != 2 || !v.Local || v.Title != "Number sense" {
		t.Fatalf("view %+v", v)
	}
	// Re-adding puts it at the end.
	if _, err := n.Social().AddToCollection(ctx, col.ID, api.CollectionItemRequest{As: "", Resource: a.ID}); err != nil {
		t.Fatal(err)
	}
	v, _ = n.Social().ShowCollection(ctx, col.ID)
	if got, want := itemIDs(v), []string{b.ID, c.ID, a.ID}; !reflect.DeepEqual(got, want) {
		t.Fatalf("items %v, want %v", got, want)
	}
	if _, err := n.Social().UpdateCollection(ctx, col.ID, api.CollectionRequest{As: "", Title: "Number sense (Y6)", Summary: ""}); err != nil {
		t.Fatal(err)
	}
	ls, err := n.Social().Collections(ctx, "alice")
	if err != nil || len(ls) != 1 || ls[0].Title != "Number sense (Y6)" || ls[0].Summary != "Year 6, autumn term" || ls[0].Items != 3 {
		t.Fatalf("collections %+v %v", ls, err)
	}
	// Errors: unknown resource, not a CID, someone else's collection.
	if _, err := n.Social().AddToCollection(ctx, col.ID, api.CollectionItemRequest{As: "", Resource: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"}); api.KindOf(err) != api.KindNotFound {
		t.Fatalf("unknown resource: %v", err)
	}
	if _, err := n.Social().AddToCollection(ctx, col.ID, api.CollectionItemRequest{As: "", Resource: "nope"}); api.KindOf(err) != api.KindInvalid {
		t.Fatalf("bad id: %v", err)
	}
	mustPerson(t, n, "bob")
	if _, err := n.Social().AddToCollection(ctx, col.ID, api.CollectionItemRequest{As: "bob", Resource: a.ID}); api.KindOf(err) != api.KindInvalid {
		t.Fatalf("bob adding to alice's collection: %v", err)
	}
	if _, err := n.Social().CreateCollection(ctx, api.CollectionRequest{As: "alice", Title: "", Summary: ""}); api.KindOf(err) != api.KindInvalid {
		t.Fatalf("no title: %v", err)
	}
	if _, err := n.Social().DeleteCollection(ctx, "bob", col.ID); api.KindOf(err) != api.KindInvalid {
		t.Fatalf("bob deleting alice's collection: %v", err)
	}
	if _, err := n.Social().DeleteCollection(ctx, "", col.ID); err != nil {
		t.Fatal(err)
	}
	ls, _ = n.Social().Collections(ctx, "alice")
	if len(ls) != 0 {
		t.Fatalf("a deleted collection is listed: %+v", ls)
	}
	if v, err := n.Social().ShowCollection(ctx, col.ID); err != nil || !v.Deleted {
		t.Fatalf("show deleted: %+v %v", v, err)
	}
	if _, err := n.Social().AddToCollection(ctx, col.ID, api.CollectionItemRequest{As: "", Resource: a.ID}); api.KindOf(err) != api.KindNotFound {
		t.Fatalf("add to a deleted collection: %v", err)
	}
}

// A follower's node receives the owner's collection and its changes
// through gossip and backfill, and cannot change it.
func TestFollowerSeesCollection(t *testing.T) {
	origin := mustNode(t, nodetest.Options{})
	ctx := context.Background()
	alice := mustPerson(t, origin, "alice")
	f := joined(t, origin)
	mustPerson(t, f, "bob")
	r := mustPublish(t, origin, "alice", "Fractions")
	col, err := origin.Social().CreateCollection(ctx, api.CollectionRequest{As: "", Title: "Starter pack", Summary: ""})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := origin.Social().AddToCollection(ctx, col.ID, api.CollectionItemRequest{As: "", Resource: r.ID}); err != nil {
		t.Fatal(err)
	}
	follow(t, f, "", handleOf(origin, alice))
	waitFor(t, "the follower's copy", 20*time.Second, func() bool {
		v, err := f.Social().ShowCollection(ctx, col.ID)
		return err == nil && len(v.Entries) == 1 && v.Entries[0].Title == "Fractions"
	})
	waitFor(t, "the topic mesh", 20*time.Second, func() bool {
		return len(topicPeers(origin, logsync.TopicOfActor(alice.DID))) >= 1
	})
	r2 := mustPublish(t, origin, "alice", "Decimals")
	if _, err := origin.Social().AddToCollection(ctx, col.ID, api.CollectionItemRequest{As: "", Resource: r2.ID}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new item on the follower", 20*time.Second, func() bool {
		v, err := f.Social().ShowCollection(ctx, col.ID)
		return err == nil && reflect.DeepEqual(itemIDs(v), []string{r.ID, r2.ID})
	})
	v, _ := f.Social().ShowCollection(ctx, col.ID)
	if v.Local || v.Owner != alice.DID || v.OwnerHandle != handleOf(origin, alice) {
		t.Fatalf("follower's view %+v", v.Collection)
	}
	ls, err := f.Social().Collections(ctx, handleOf(origin, alice))
	if err != nil || len(ls) != 1 {
		t.Fatalf("follower lists %+v %v", ls, err)
	}
	if _, err := f.Social().AddToCollection(ctx, col.ID, api.CollectionItemRequest{As: "", Resource: r.ID}); api.KindOf(err) != api.KindInvalid {
		t.Fatalf("a follower changing the collection: %v", err)
	}
}

// Only the collection's creator changes it: another actor's signed Add or
// Update naming it is stored but changes nothing.
func TestOthersCannotChangeACollection(t *testing.T) {
	n := mustNode(t, nodetest.Options{})
	ctx := context.Background()
	mustPerson(t, n, "alice")
	bob := mustPerson(t, n, "bob")
	r := mustPublish(t, n, "bob", "Spam")
	col, err := n.Social().CreateCollection(ctx, api.CollectionRequest{As: "alice", Title: "Alice's list", Summary: ""})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Log().Append(ctx, bob.DID, &activity.Activity{Type: activity.TypeAdd, Object: activity.Object{Ref: r.ID}, Target: col.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Log().Append(ctx, bob.DID, &activity.Activity{Type: activity.TypeUpdate, Object: activity.Object{Collection: &activity.Collection{
		ID: col.ID, Title: "Bob's now", Owner: bob.DID}}}); err != nil {
		t.Fatal(err)
	}
	v, err := n.Social().ShowCollection(ctx, col.ID)
	if err != nil || v.Title != "Alice's list" || len(v.Entries) != 0 || v.Owner == bob.DID {
		t.Fatalf("view %+v %v", v, err)
	}
}
