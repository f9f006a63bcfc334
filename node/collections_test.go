package node

import (
	"context"
	"database/sql"
	"reflect"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"
)

func itemIDs(v CollectionView) []string {
	var out []string
	for _, it := range v.Entries {
		out = append(out, it.ResourceID)
	}
	return out
}

func TestCollectionKeepsItsItemsInOrder(t *testing.T) {
	n := mustSocialNode(t)
	ctx := context.Background()
	mustPerson(t, n, "alice")
	a := mustPublish(t, n, "alice", "Fractions")
	b := mustPublish(t, n, "alice", "Decimals")
	c := mustPublish(t, n, "alice", "Percentages")
	col, err := n.CreateCollection(ctx, "", "Number sense", "Year 6, autumn term")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Published{b, a, c} {
		if res, err := n.AddToCollection(ctx, "alice", col.ID, r.ID); err != nil || !res.Changed {
			t.Fatalf("add %s: %+v %v", r.ID, res, err)
		}
	}
	// Adding again changes nothing and signs nothing.
	if res, err := n.AddToCollection(ctx, "", col.ID, a.ID); err != nil || res.Changed {
		t.Fatalf("second add: %+v %v", res, err)
	}
	if _, err := n.RemoveFromCollection(ctx, "", col.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := n.RemoveFromCollection(ctx, "", col.ID, a.ID); KindOf(err) != KindNotFound {
		t.Fatalf("removing an absent item: %v, want not_found", err)
	}
	v, err := n.ShowCollection(ctx, col.ID)
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
	if _, err := n.AddToCollection(ctx, "", col.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	v, _ = n.ShowCollection(ctx, col.ID)
	if got, want := itemIDs(v), []string{b.ID, c.ID, a.ID}; !reflect.DeepEqual(got, want) {
		t.Fatalf("items %v, want %v", got, want)
	}
	if _, err := n.UpdateCollection(ctx, "", col.ID, "Number sense (Y6)", ""); err != nil {
		t.Fatal(err)
	}
	ls, err := n.Collections(ctx, "alice")
	if err != nil || len(ls) != 1 || ls[0].Title != "Number sense (Y6)" || ls[0].Summary != "Year 6, autumn term" || ls[0].Items != 3 {
		t.Fatalf("collections %+v %v", ls, err)
	}
	// Errors: unknown resource, not a CID, someone else's collection.
	if _, err := n.AddToCollection(ctx, "", col.ID, "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"); KindOf(err) != KindNotFound {
		t.Fatalf("unknown resource: %v", err)
	}
	if _, err := n.AddToCollection(ctx, "", col.ID, "nope"); KindOf(err) != KindInvalid {
		t.Fatalf("bad id: %v", err)
	}
	mustPerson(t, n, "bob")
	if _, err := n.AddToCollection(ctx, "bob", col.ID, a.ID); KindOf(err) != KindInvalid {
		t.Fatalf("bob adding to alice's collection: %v", err)
	}
	if _, err := n.CreateCollection(ctx, "alice", "", ""); KindOf(err) != KindInvalid {
		t.Fatalf("no title: %v", err)
	}
	if _, err := n.DeleteCollection(ctx, "bob", col.ID); KindOf(err) != KindInvalid {
		t.Fatalf("bob deleting alice's collection: %v", err)
	}
	if _, err := n.DeleteCollection(ctx, "", col.ID); err != nil {
		t.Fatal(err)
	}
	ls, _ = n.Collections(ctx, "alice")
	if len(ls) != 0 {
		t.Fatalf("a deleted collection is listed: %+v", ls)
	}
	if v, err := n.ShowCollection(ctx, col.ID); err != nil || !v.Deleted {
		t.Fatalf("show deleted: %+v %v", v, err)
	}
	if _, err := n.AddToCollection(ctx, "", col.ID, a.ID); KindOf(err) != KindNotFound {
		t.Fatalf("add to a deleted collection: %v", err)
	}
}

// The views do not depend on the order activities arrive in: applying an
// owner's log backwards gives what applying it forwards gives.
func TestCollectionViewsIgnoreArrivalOrder(t *testing.T) {
	n := mustSocialNode(t)
	ctx := context.Background()
	alice := mustPerson(t, n, "alice")
	a := mustPublish(t, n, "alice", "Fractions")
	b := mustPublish(t, n, "alice", "Decimals")
	col, err := n.CreateCollection(ctx, "", "List", "")
	if err != nil {
		t.Fatal(err)
	}
	n.AddToCollection(ctx, "", col.ID, a.ID)
	n.AddToCollection(ctx, "", col.ID, b.ID)
	n.RemoveFromCollection(ctx, "", col.ID, a.ID)
	n.UpdateCollection(ctx, "", col.ID, "List 2", "")
	n.AddToCollection(ctx, "", col.ID, a.ID)
	want, _ := n.ShowCollection(ctx, col.ID)
	es, err := n.LocalEntries(ctx, 0, alice.DID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var entries []entry
	for i := len(es) - 1; i >= 0; i-- {
		e, err := n.loadEntry(ctx, mustCID(t, es[i].CID))
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	err = n.db.tx(ctx, func(tx *sql.Tx) error {
		for _, table := range collectionViewTables {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+table); err != nil {
				return err
			}
		}
		for _, e := range entries {
			if err := n.db.applyToViews(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := n.ShowCollection(ctx, col.ID)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("backwards %+v\nforwards %+v", got, want)
	}
	if got.Title != "List 2" || !reflect.DeepEqual(itemIDs(got), []string{b.ID, a.ID}) {
		t.Fatalf("view %+v", got)
	}
}

// A follower's node receives the owner's collection and its changes
// through gossip and backfill, and cannot change it.
func TestFollowerSeesCollection(t *testing.T) {
	origin := mustSocialNode(t)
	ctx := context.Background()
	alice := mustPerson(t, origin, "alice")
	f := mustSocialNode(t, origin.ID().Addrs[0])
	mustPerson(t, f, "bob")
	r := mustPublish(t, origin, "alice", "Fractions")
	col, err := origin.CreateCollection(ctx, "", "Starter pack", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := origin.AddToCollection(ctx, "", col.ID, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Follow(ctx, "", handleOf(origin, alice)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the follower's copy", 20*time.Second, func() bool {
		v, err := f.ShowCollection(ctx, col.ID)
		return err == nil && len(v.Entries) == 1 && v.Entries[0].Title == "Fractions"
	})
	waitFor(t, "the topic mesh", 20*time.Second, func() bool {
		return len(origin.gossip.TopicPeers(TopicOfActor(alice.DID))) >= 1
	})
	r2 := mustPublish(t, origin, "alice", "Decimals")
	if _, err := origin.AddToCollection(ctx, "", col.ID, r2.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new item on the follower", 20*time.Second, func() bool {
		v, err := f.ShowCollection(ctx, col.ID)
		return err == nil && reflect.DeepEqual(itemIDs(v), []string{r.ID, r2.ID})
	})
	v, _ := f.ShowCollection(ctx, col.ID)
	if v.Local || v.Owner != alice.DID || v.OwnerHandle != handleOf(origin, alice) {
		t.Fatalf("follower's view %+v", v.CollectionInfo)
	}
	ls, err := f.Collections(ctx, handleOf(origin, alice))
	if err != nil || len(ls) != 1 {
		t.Fatalf("follower lists %+v %v", ls, err)
	}
	if _, err := f.AddToCollection(ctx, "", col.ID, r.ID); KindOf(err) != KindInvalid {
		t.Fatalf("a follower changing the collection: %v", err)
	}
}

func mustCID(tb testing.TB, s string) cid.Cid {
	tb.Helper()
	c, err := cid.Decode(s)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// Only the collection's creator changes it: another actor's signed Add or
// Update naming it is stored but changes nothing.
func TestOthersCannotChangeACollection(t *testing.T) {
	n := mustSocialNode(t)
	ctx := context.Background()
	mustPerson(t, n, "alice")
	bob := mustPerson(t, n, "bob")
	r := mustPublish(t, n, "bob", "Spam")
	col, err := n.CreateCollection(ctx, "alice", "Alice's list", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.appendActivity(ctx, bob.DID, &activity.Activity{Type: activity.TypeAdd, Object: activity.Object{Ref: r.ID}, Target: col.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.appendActivity(ctx, bob.DID, &activity.Activity{Type: activity.TypeUpdate, Object: activity.Object{Collection: &activity.Collection{
		ID: col.ID, Title: "Bob's now", Owner: bob.DID}}}); err != nil {
		t.Fatal(err)
	}
	v, err := n.ShowCollection(ctx, col.ID)
	if err != nil || v.Title != "Alice's list" || len(v.Entries) != 0 || v.Owner == bob.DID {
		t.Fatalf("view %+v %v", v, err)
	}
}
