package node_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/logsync"
	"github.com/lyceum-oer/lyceum/node/nodetest"
	"github.com/lyceum-oer/lyceum/p2p"
)

// These tests run several real nodes on loopback and check what their
// people see.

var (
	mustNode    = nodetest.MustNode
	mustPerson  = nodetest.MustPerson
	mustPublish = nodetest.MustPublish
	waitFor     = nodetest.WaitFor
	feedTitles  = nodetest.FeedTitles
	handleOf    = nodetest.HandleOf
	addr        = nodetest.Addr
)

// joined starts a node that joins the network through boot.
func joined(tb testing.TB, boot *node.Node) *node.Node {
	return mustNode(tb, nodetest.Options{Bootstrap: []string{addr(boot)}})
}

func follow(tb testing.TB, n *node.Node, as, ref string) api.Actor {
	tb.Helper()
	a, err := n.Social().Follow(context.Background(), api.FollowRequest{As: as, Actor: ref})
	if err != nil {
		tb.Fatalf("follow %s: %v", ref, err)
	}
	return a
}

func topicPeers(n *node.Node, topic string) []peer.ID { return n.Sync().Gossip().TopicPeers(topic) }

func TestPublishedResourceReachesEveryFollower(t *testing.T) {
	origin := mustNode(t, nodetest.Options{})
	alice := mustPerson(t, origin, "alice")
	var followers []*node.Node
	for i := range 9 {
		f := joined(t, origin)
		mustPerson(t, f, fmt.Sprintf("reader%d", i))
		follow(t, f, "", handleOf(origin, alice))
		followers = append(followers, f)
	}
	// Let the topic meshes form before publishing.
	waitFor(t, "the followers in alice's topic", 20*time.Second, func() bool {
		return len(topicPeers(origin, logsync.TopicOfActor(alice.DID))) >= 1
	})
	res := mustPublish(t, origin, "alice", "Fractions worksheet")
	for i, f := range followers {
		waitFor(t, fmt.Sprintf("follower %d's feed", i), 20*time.Second, func() bool {
			items, _ := f.Social().Feed(context.Background(), 10)
			return len(items) == 1 && items[0].ResourceID == res.ID && items[0].AuthorHandle == handleOf(origin, alice)
		})
	}
}

func TestOfflineFollowerGetsEverythingInOrderAfterReconnecting(t *testing.T) {
	ctx := context.Background()
	origin := mustNode(t, nodetest.Options{})
	alice := mustPerson(t, origin, "alice")
	path := nodetest.MustRepo(t)
	f := nodetest.MustOpen(t, path, nodetest.Options{})
	mustPerson(t, f, "bob")
	follow(t, f, "", "alice@"+addr(origin))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 20 {
		title := fmt.Sprintf("Worksheet %02d", i)
		mustPublish(t, origin, "alice", title)
		want = append([]string{title}, want...) // newest first
	}
	f = nodetest.MustOpen(t, path, nodetest.Options{})
	if _, err := f.Swarm().Connect(ctx, api.ConnectRequest{Addr: addr(origin)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the 20 resources", 30*time.Second, func() bool { return len(feedTitles(t, f)) == 20 })
	if got := feedTitles(t, f); !reflect.DeepEqual(got, want) {
		t.Fatalf("feed %v, want %v", got, want)
	}
	// Entries were applied in log order: seq 1..21 all there.
	if k, _ := f.Log().Contiguous(ctx, alice.DID); k != 21 {
		t.Fatalf("follower has alice's log up to %d, want 21 (profile + 20)", k)
	}
}

func TestGossipRejectsForgedReplayedAndOversizedButNotTheHonest(t *testing.T) {
	ctx := context.Background()
	origin := mustNode(t, nodetest.Options{})
	alice := mustPerson(t, origin, "alice")
	f := joined(t, origin)
	mustPerson(t, f, "bob")
	follow(t, f, "", handleOf(origin, alice))
	topic := logsync.TopicOfActor(alice.DID)
	waitFor(t, "topic mesh", 20*time.Second, func() bool { return len(topicPeers(origin, topic)) >= 1 })

	// An activity signed an hour ago reaches the follower once.
	first := mustPublish(t, origin, "alice", "Old sheet")
	old, err := origin.Log().Append(ctx, alice.DID, &activity.Activity{
		Type: activity.TypeLike, Object: activity.Object{Ref: first.ID}, Published: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the old like", 20*time.Second, func() bool {
		have, _, _ := f.Log().Has(ctx, old.Act, old.CID, false)
		return have
	})

	// The attacker is another node in the mesh. Its own validator waves
	// through what it publishes itself, so it can send anything.
	attacker := joined(t, origin)
	if _, err := attacker.Swarm().Connect(ctx, api.ConnectRequest{Addr: addr(f)}); err != nil {
		t.Fatal(err)
	}
	if err := attacker.Sync().Gossip().Join(topic, func(string, peer.ID, []byte, any) {}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the attacker in the follower's mesh", 20*time.Second, func() bool {
		in := func(ps []peer.ID, id peer.ID) bool {
			for _, p := range ps {
				if p == id {
					return true
				}
			}
			return false
		}
		return in(topicPeers(f, topic), attacker.Host().ID()) && in(topicPeers(attacker, topic), f.Host().ID())
	})
	forged := strings.Replace(string(old.Data), first.ID, "bafkreihodxmdpyba3sno7hecojcxqyiwmn546pmz3uz55txpwgbgrvnhr4", 1)
	oversized := `{"pad":"` + strings.Repeat("x", activity.DefaultMaxSize) + `"}`
	for _, msg := range []string{forged, oversized, "not json"} {
		if err := attacker.Sync().Gossip().Publish(ctx, topic, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	// A replay of the hour-old like: gossip's seen-cache drops a payload it
	// saw in the last ten minutes before validation; past that, the
	// validator itself refuses what is stored and old.
	if v, _ := f.Sync().Validate(ctx, attacker.Host().ID(), topic, old.Data); v != p2p.Reject {
		t.Fatalf("replay verdict %v, want reject", v)
	}

	honest := mustPublish(t, origin, "alice", "Honest sheet")
	waitFor(t, "the honest sheet", 20*time.Second, func() bool {
		items, _ := f.Social().Feed(ctx, 10)
		return len(items) == 2 && items[0].ResourceID == honest.ID
	})
	defer func() { t.Logf("follower gossip stats: %v", f.Sync().Stats()) }()
	waitFor(t, "the rejections to be counted", 10*time.Second, func() bool {
		st := f.Sync().Stats()
		return st[logsync.ReasonBadSig] > 0 && st[logsync.ReasonOversized] > 0 && st[logsync.ReasonReplayed] > 0
	})
	// Peer scoring holds the rejections against the attacker.
	waitFor(t, "the attacker's score to fall", 10*time.Second, func() bool {
		return f.Sync().Gossip().PeerScores()[attacker.Host().ID()] < 0
	})
	v, err := f.Social().ShowResource(ctx, first.ID)
	if err != nil || v.Likes != 1 {
		t.Fatalf("%d likes stored (%v), want only the honest one", v.Likes, err)
	}
}

func TestValidatorRejectsBlockedActors(t *testing.T) {
	ctx := context.Background()
	n := mustNode(t, nodetest.Options{})
	e := nodetest.SignedLog(t, 1)[0]
	if v, _ := n.Sync().Validate(ctx, "someone", logsync.TopicIndex, e.Data); v != p2p.Accept {
		t.Fatalf("verdict %v before the block, want accept", v)
	}
	if err := n.Blocklist().Block(ctx, api.BlockRequest{Actor: e.Act.Actor, Reason: "spam"}); err != nil {
		t.Fatal(err)
	}
	if v, _ := n.Sync().Validate(ctx, "someone", logsync.TopicIndex, e.Data); v != p2p.Reject {
		t.Fatalf("verdict %v after the block, want reject", v)
	}
	if n.Sync().Stats()[logsync.ReasonBlocked] != 1 {
		t.Fatalf("not counted: %v", n.Sync().Stats())
	}
}

func TestDeleteLeavesFeedsButNotPins(t *testing.T) {
	ctx := context.Background()
	origin := mustNode(t, nodetest.Options{})
	alice := mustPerson(t, origin, "alice")
	f := joined(t, origin)
	mustPerson(t, f, "bob")
	follow(t, f, "", handleOf(origin, alice))
	waitFor(t, "topic mesh", 20*time.Second, func() bool { return len(topicPeers(origin, logsync.TopicOfActor(alice.DID))) >= 1 })
	res := mustPublish(t, origin, "alice", "To be deleted")
	waitFor(t, "the resource", 20*time.Second, func() bool { return len(feedTitles(t, f)) == 1 })
	fileCID, _ := api.ParseCID(res.FileCID)
	// The follower keeps a pinned copy, fetched from the origin over bitswap.
	pinCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := f.Content().Pin(pinCtx, fileCID); err != nil {
		t.Fatalf("pin the origin's file: %v", err)
	}
	if _, err := origin.Social().DeleteResource(ctx, res.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delete", 20*time.Second, func() bool { return len(feedTitles(t, f)) == 0 })
	if _, err := f.Content().GC(ctx); err != nil {
		t.Fatal(err)
	}
	r, _, err := f.Content().Cat(ctx, fileCID)
	if err != nil {
		t.Fatalf("pinned copy gone after delete: %v", err)
	}
	r.Close()
	v, err := f.Social().ShowResource(ctx, res.ID)
	if err != nil || !v.Deleted {
		t.Fatalf("show after delete: %+v, %v", v, err)
	}
}

func TestRebuildViewsGivesTheSameState(t *testing.T) {
	ctx := context.Background()
	n := mustNode(t, nodetest.Options{})
	s := n.Social()
	mustPerson(t, n, "alice")
	nodetest.MustCommunity(t, n, "maths")
	r1 := mustPublish(t, n, "alice", "First")
	if _, err := s.UpdateResource(ctx, r1.ID, api.PublishRequest{Title: "First, revised"}); err != nil {
		t.Fatal(err)
	}
	r2, err := s.Publish(ctx, api.PublishRequest{As: "alice", URL: "https://example.org/fractions", Title: "A link", License: "CC0-1.0", Language: "en", Community: "maths"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Like(ctx, api.LikeRequest{As: "alice", ID: r2.ID}); err != nil {
		t.Fatal(err)
	}
	// A profile, an adaptation and comments, one of them withdrawn.
	if _, err := s.UpdateActor(ctx, api.ActorUpdate{As: "alice", Name: "Alice Martin", Summary: "Maths teacher"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Publish(ctx, api.PublishRequest{As: "alice", URL: "https://example.org/fractions-2", Title: "An adaptation",
		License: "CC0-1.0", Language: "en", DerivedFrom: []string{r2.ID}}); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"Withdrawn", "Kept"} {
		c, err := s.Comment(ctx, api.CommentRequest{As: "alice", Resource: r2.ID, Content: text})
		if err != nil {
			t.Fatal(err)
		}
		if text == "Withdrawn" {
			if err := s.DeleteComment(ctx, "alice", c.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Collections: created, renamed, filled, emptied and deleted.
	col, err := s.CreateCollection(ctx, api.CollectionRequest{As: "alice", Title: "Reading list"})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{r2.ID, r1.ID} {
		if _, err := s.AddToCollection(ctx, col.ID, api.CollectionItemRequest{As: "alice", Resource: id}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.RemoveFromCollection(ctx, col.ID, api.CollectionItemRequest{As: "alice", Resource: r2.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateCollection(ctx, col.ID, api.CollectionRequest{As: "alice", Title: "Reading list, autumn"}); err != nil {
		t.Fatal(err)
	}
	gone, err := s.CreateCollection(ctx, api.CollectionRequest{As: "maths", Title: "Old list"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteCollection(ctx, "", gone.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteResource(ctx, r1.ID); err != nil {
		t.Fatal(err)
	}
	before := dumpViews(t, n)
	if len(before["comments"]) != 1 || len(before["derivations"]) != 1 {
		t.Fatalf("comment and derivation views before the rebuild: %v", before)
	}
	if len(before["collections"]) != 2 || len(before["collection_items"]) != 2 {
		t.Fatalf("collection views before the rebuild: %v", before)
	}
	owned := dumpTables(t, n, "local_actors", "log_entries", "blocked", "delisted", "pending_deliveries")
	// GC keeps the log entries: the rebuild reads every one of them.
	if _, err := n.Content().GC(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	if after := dumpViews(t, n); !reflect.DeepEqual(before, after) {
		t.Fatalf("views differ after rebuild:\nbefore %v\nafter  %v", before, after)
	}
	// A rebuild never touches owned state.
	if after := dumpTables(t, n, "local_actors", "log_entries", "blocked", "delisted", "pending_deliveries"); !reflect.DeepEqual(owned, after) {
		t.Fatalf("owned state changed in a rebuild:\nbefore %v\nafter  %v", owned, after)
	}
	v, err := s.ShowResource(ctx, r1.ID)
	if err != nil || len(v.Versions) != 2 || !v.Deleted {
		t.Fatalf("show: %+v %v", v, err)
	}
}

// viewTables are the social views (social/views.go).
var viewTables = []string{"actors", "resources", "versions", "follows", "likes", "deletions", "announces", "derivations", "comments", "collections", "collection_items"}

func dumpViews(t *testing.T, n *node.Node) map[string][]string {
	return dumpTables(t, n, viewTables...)
}

// dumpTables reads whole tables of lyceum.db, in a second connection.
func dumpTables(t *testing.T, n *node.Node, tables ...string) map[string][]string {
	t.Helper()
	db := node.OpenDBForTest(t, filepath.Join(n.Repo().Path(), "lyceum.db"))
	out := map[string][]string{}
	for _, table := range tables {
		rows, err := db.Query("SELECT * FROM " + table + " ORDER BY 1, 2")
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			rows.Scan(ptrs...)
			out[table] = append(out[table], fmt.Sprint(vals...))
		}
		rows.Close()
	}
	return out
}
