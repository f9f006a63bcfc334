package social_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/actorlog"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/social"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// dumpViews reads every row of every view, sorted.
func dumpViews(tb testing.TB, r room) map[string][]string {
	tb.Helper()
	out := map[string][]string{}
	for _, table := range social.ViewTables {
		rows, err := r.db.SQL().Query("SELECT * FROM " + table)
		if err != nil {
			tb.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				tb.Fatal(err)
			}
			out[table] = append(out[table], fmt.Sprint(vals...))
		}
		rows.Close()
		slices.Sort(out[table])
	}
	return out
}

// The views do not depend on the order activities arrive in: the logs
// applied backwards, one entry at a time, give what they gave forwards —
// profiles, resources and their latest versions, derivations, comments
// and their deletions.
func TestViewsIgnoreArrivalOrder(t *testing.T) {
	ctx := context.Background()
	r := mustRoomWith(t, &heldFiles{held: []string{iconCID}})
	r.actor(t, "alice", activity.Person)
	r.actor(t, "bob", activity.Person)
	r.actor(t, "maths", activity.Group)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.svc.UpdateActor(ctx, api.ActorUpdate{As: "alice", Name: "Alice 1", IconCID: iconCID, IconType: "image/webp"}))
	must(r.svc.UpdateActor(ctx, api.ActorUpdate{As: "alice", Name: "Alice 2"}))
	a := r.post(t, "alice", "Fractions", "maths")
	must(r.svc.UpdateResource(ctx, a.ID, api.PublishRequest{Title: "Fractions, revised"}))
	r.post(t, "bob", "Fractions for adults", "", a.ID)
	withdrawn, err := r.svc.Comment(ctx, api.CommentRequest{As: "bob", Resource: a.ID, Content: "Withdrawn"})
	must(withdrawn, err)
	must(r.svc.Comment(ctx, api.CommentRequest{As: "bob", Resource: a.ID, Content: "Kept"}))
	must(nil, r.svc.DeleteComment(ctx, "bob", withdrawn.ID))
	must(r.svc.Like(ctx, api.LikeRequest{As: "bob", ID: a.ID}))
	forwards := dumpViews(t, r)
	es, err := r.log.After(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.db.Tx(ctx, func(tx *sqlitedb.Tx) error {
		if err := r.views.Clear(ctx, tx); err != nil {
			return err
		}
		for i := len(es) - 1; i >= 0; i-- {
			if err := r.views.Apply(ctx, tx, []actorlog.Entry{es[i]}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if backwards := dumpViews(t, r); !reflect.DeepEqual(backwards, forwards) {
		t.Fatalf("backwards %v\nforwards %v", backwards, forwards)
	}
	p, err := r.svc.Profile(ctx, "alice", "")
	if err != nil || p.Name != "Alice 2" || p.IconCID != iconCID {
		t.Fatalf("profile %+v, %v", p, err)
	}
	if cs, _ := r.svc.Comments(ctx, a.ID); len(cs) != 1 || cs[0].Content != "Kept" {
		t.Fatalf("comments %+v", cs)
	}
}
