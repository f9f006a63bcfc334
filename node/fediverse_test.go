package node

import (
	"context"
	"testing"

	"github.com/lyceum-oer/lyceum/activity"
)

// The bridge follows local actors' activities from a cursor: in the order
// they were stored, per actor if asked, never those of remote actors.
func TestLocalEntriesFollowTheLogFromACursor(t *testing.T) {
	ctx := context.Background()
	n := mustSocialNode(t)
	start, err := n.LastCursor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	alice := mustPerson(t, n, "alice")
	g, err := n.CreateActor(ctx, "maths", "Maths", "", activity.Group)
	if err != nil {
		t.Fatal(err)
	}
	pub := mustPublish(t, n, "alice", "Fractions")
	es, err := n.LocalEntries(ctx, start, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 || es[0].Activity.Actor != alice.DID || es[1].Activity.Actor != g.DID || es[2].CID != pub.ActivityCID {
		t.Fatalf("entries = %+v", es)
	}
	for i := 1; i < len(es); i++ {
		if es[i].Cursor <= es[i-1].Cursor {
			t.Fatal("cursors do not grow")
		}
	}
	rest, _ := n.LocalEntries(ctx, es[1].Cursor, "", 100)
	if len(rest) != 1 || rest[0].CID != pub.ActivityCID {
		t.Fatalf("after the second cursor: %+v", rest)
	}
	mine, _ := n.LocalEntries(ctx, start, g.DID, 100)
	if len(mine) != 1 || mine[0].Activity.Actor != g.DID {
		t.Fatalf("the group's entries: %+v", mine)
	}
	if last, _ := n.LastCursor(ctx); last != es[2].Cursor {
		t.Fatalf("last cursor %d, want %d", last, es[2].Cursor)
	}
	if _, err := n.Entry(ctx, pub.ActivityCID); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Entry(ctx, "bafkqaaa"); KindOf(err) != KindNotFound {
		t.Fatalf("unknown entry: %v", err)
	}
	la, err := n.LocalActorByName(ctx, "alice")
	if err != nil || la.DID != alice.DID || la.Created.IsZero() {
		t.Fatalf("local actor = %+v, %v", la, err)
	}
	if ids, _ := n.ResourceIDs(ctx, alice.DID, 10); len(ids) != 1 || ids[0] != pub.ID {
		t.Fatalf("resources = %v", ids)
	}
}
