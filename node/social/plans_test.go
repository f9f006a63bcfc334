package social_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/social"
)

// listQuery is one query a page runs, with arguments.
type listQuery struct {
	name string
	sql  string
	args []any
	// sorts says the query may sort what it read: a feed sorts its
	// followees' versions, the adaptations of a resource are sorted, and
	// so are the 500 latest comments, oldest first.
	sorts bool
}

// listQueries are the queries of the lists and pages, over room r in
// which alice follows and posts.
func listQueries(alice, resource string) []listQuery {
	const before = "2026-01-01T00:00:00.000000000Z"
	return []listQuery{
		{name: "the newest resources", sql: social.ResourcesSQL(nil), args: []any{20}},
		{name: "the next page of the newest", sql: social.ResourcesSQL([]string{"r.updated < ?"}), args: []any{before, 20}},
		{name: "an author's resources", sql: social.ResourcesSQL([]string{"r.actor = ?"}), args: []any{alice, 20}},
		{name: "an author's next page", sql: social.ResourcesSQL([]string{"r.actor = ?", "r.updated < ?"}), args: []any{alice, before, 20}},
		{name: "a community's resources", sql: social.ResourcesSQL([]string{"r.community = ?"}), args: []any{alice, 20}},
		{name: "an actor's feed", sql: social.FeedSQL(social.ActorFollows), args: []any{alice, before, 20}, sorts: true},
		{name: "the node's feed", sql: social.FeedSQL(social.NodeFollows), args: []any{"", before, 20}, sorts: true},
		{name: "the adaptations of a resource", sql: social.AdaptedBySQL, args: []any{resource, 50}, sorts: true},
		{name: "the comments on a resource", sql: social.CommentsSQL, args: []any{resource, 500}, sorts: true},
		{name: "a profile's counts", sql: social.ProfileSQL, args: []any{alice}},
	}
}

// fullScan is a step of a query plan that reads a whole table (a SCAN
// without an index), or the whole of a table by an index in an order
// other than the list's (SCAN … USING INDEX of another index).
var fullScan = regexp.MustCompile(`^SCAN (\w+)( USING (COVERING )?INDEX (\w+))?`)

// small are the tables a query may read whole: those it makes for itself,
// small by design, SQLite's one-row table of constants, and the node's own
// actors (l, local_actors).
var small = map[string]bool{"fd": true, "p": true, "picked": true, "sources": true, "CONSTANT": true, "l": true}

// checkPlan fails when q's plan reads a whole view or sorts a list it
// should read in order.
func checkPlan(tb testing.TB, r room, q listQuery) {
	tb.Helper()
	rows, err := r.db.SQL().Query("EXPLAIN QUERY PLAN "+q.sql, q.args...)
	if err != nil {
		tb.Fatalf("%s: %v", q.name, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			tb.Fatal(err)
		}
		plan = append(plan, detail)
	}
	for _, step := range plan {
		m := fullScan.FindStringSubmatch(step)
		switch {
		case m != nil && !small[m[1]] && m[4] != "resources_updated":
			tb.Errorf("%s reads a whole table: %q\nplan: %s", q.name, step, strings.Join(plan, "; "))
		case strings.Contains(step, "TEMP B-TREE FOR ORDER BY") && !q.sorts:
			tb.Errorf("%s sorts what it should read in order: %q\nplan: %s", q.name, step, strings.Join(plan, "; "))
		}
	}
	tb.Logf("%s: %s", q.name, strings.Join(plan, "; "))
}

// Every list reads the views through their indexes: a page costs what it
// shows, not what the node knows (SQLite's plans do not depend on the
// data here: the node never runs ANALYZE).
func TestListsUseTheirIndexes(t *testing.T) {
	ctx := context.Background()
	r := mustRoom(t)
	alice := r.actor(t, "alice", activity.Person)
	r.actor(t, "bob", activity.Person)
	r.actor(t, "maths", activity.Group)
	r.follow(t, "alice", "bob")
	a := r.post(t, "bob", "Fractions", "maths")
	r.post(t, "alice", "Fractions again", "", a.ID)
	if _, err := r.svc.Comment(ctx, api.CommentRequest{As: "alice", Resource: a.ID, Content: "Nice"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range listQueries(alice.DID, a.ID) {
		t.Run(q.name, func(t *testing.T) { checkPlan(t, r, q) })
	}
}
