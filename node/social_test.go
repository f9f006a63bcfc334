package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/p2p"
)

// mustSocialNode starts an online node that syncs followed logs often.
func mustSocialNode(tb testing.TB, bootstrap ...string) *Node {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "repo")
	if err := InitRepo(path, ProfileTest); err != nil {
		tb.Fatal(err)
	}
	return mustOpenNode(tb, path, bootstrap...)
}

func mustOpenNode(tb testing.TB, path string, bootstrap ...string) *Node {
	tb.Helper()
	repo, err := OpenRepo(path)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := repo.Config()
	cfg.Swarm.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Swarm.Bootstrap = bootstrap
	repo.SetConfig(cfg)
	n, err := New(repo, WithSyncInterval(500*time.Millisecond))
	if err != nil {
		repo.Close()
		tb.Fatal(err)
	}
	var once sync.Once
	tb.Cleanup(func() { once.Do(func() { n.Close() }) })
	return n
}

func mustPerson(tb testing.TB, n *Node, name string) ActorInfo {
	tb.Helper()
	a, err := n.CreateActor(context.Background(), name, strings.ToUpper(name[:1])+name[1:], "", activity.Person)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func mustPublish(tb testing.TB, n *Node, as, title string) Published {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "sheet.txt")
	os.WriteFile(p, []byte("content of "+title), 0o644)
	res, err := n.Publish(context.Background(), PublishRequest{
		As: as, Path: p, Title: title, Summary: "A worksheet.", License: "CC-BY-4.0",
		Language: "fr", Subjects: []string{"0541"}, Level: "2", Type: "assessment",
	})
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, what string, d time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func feedTitles(tb testing.TB, n *Node) []string {
	tb.Helper()
	items, err := n.Feed(context.Background(), 1000)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, it := range items {
		out = append(out, it.Title)
	}
	return out
}

func handleOf(n *Node, a ActorInfo) string { return a.Username + "@" + n.repo.PeerID().String() }

func TestPublishedResourceReachesEveryFollower(t *testing.T) {
	origin := mustSocialNode(t)
	boot := origin.ID().Addrs[0]
	alice := mustPerson(t, origin, "alice")
	var followers []*Node
	for i := range 9 {
		f := mustSocialNode(t, boot)
		mustPerson(t, f, fmt.Sprintf("reader%d", i))
		if _, err := f.Follow(context.Background(), "", handleOf(origin, alice)); err != nil {
			t.Fatalf("follower %d: %v", i, err)
		}
		followers = append(followers, f)
	}
	// Let the topic meshes form before publishing.
	waitFor(t, "the followers in alice's topic", 20*time.Second, func() bool {
		return len(origin.gossip.TopicPeers(TopicOfActor(alice.DID))) >= 1
	})
	res := mustPublish(t, origin, "alice", "Fractions worksheet")
	for i, f := range followers {
		waitFor(t, fmt.Sprintf("follower %d's feed", i), 20*time.Second, func() bool {
			items, _ := f.Feed(context.Background(), 10)
			return len(items) == 1 && items[0].ResourceID == res.ID && items[0].AuthorName == handleOf(origin, alice)
		})
	}
}

func TestOfflineFollowerGetsEverythingInOrderAfterReconnecting(t *testing.T) {
	origin := mustSocialNode(t)
	alice := mustPerson(t, origin, "alice")
	path := filepath.Join(t.TempDir(), "follower")
	if err := InitRepo(path, ProfileTest); err != nil {
		t.Fatal(err)
	}
	f := mustOpenNode(t, path)
	mustPerson(t, f, "bob")
	addr := origin.ID().Addrs[0]
	if _, err := f.Follow(context.Background(), "", "alice@"+addr); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 20 {
		title := fmt.Sprintf("Worksheet %02d", i)
		mustPublish(t, origin, "alice", title)
		want = append([]string{title}, want...) // newest first
	}
	f = mustOpenNode(t, path)
	if _, err := f.Connect(context.Background(), addr); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the 20 resources", 30*time.Second, func() bool { return len(feedTitles(t, f)) == 20 })
	if got := feedTitles(t, f); !reflect.DeepEqual(got, want) {
		t.Fatalf("feed %v, want %v", got, want)
	}
	// Entries were applied in log order: seq 1..22 all there.
	if k, _ := f.contiguous(context.Background(), alice.DID); k != 21 {
		t.Fatalf("follower has alice's log up to %d, want 21 (profile + 20)", k)
	}
}

func TestGossipRejectsForgedReplayedAndOversizedButNotTheHonest(t *testing.T) {
	origin := mustSocialNode(t)
	alice := mustPerson(t, origin, "alice")
	f := mustSocialNode(t, origin.ID().Addrs[0])
	mustPerson(t, f, "bob")
	ctx := context.Background()
	if _, err := f.Follow(ctx, "", handleOf(origin, alice)); err != nil {
		t.Fatal(err)
	}
	topic := TopicOfActor(alice.DID)
	waitFor(t, "topic mesh", 20*time.Second, func() bool { return len(origin.gossip.TopicPeers(topic)) >= 1 })

	// An activity signed an hour ago reaches the follower once.
	first := mustPublish(t, origin, "alice", "Old sheet")
	oldCID, err := origin.appendActivity(ctx, alice.DID, &activity.Activity{
		Type: activity.TypeLike, Object: activity.Object{Ref: first.ID}, Published: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the old like", 20*time.Second, func() bool {
		have, _, _ := f.hasEntry(ctx, &activity.Activity{Actor: alice.DID, Seq: 3}, oldCID)
		return have
	})
	old, err := origin.loadEntry(ctx, oldCID)
	if err != nil {
		t.Fatal(err)
	}

	// The attacker is another node in the mesh. Its own validator waves
	// through what it publishes itself, so it can send anything.
	attacker := mustSocialNode(t, origin.ID().Addrs[0])
	if _, err := attacker.Connect(ctx, f.ID().Addrs[0]); err != nil {
		t.Fatal(err)
	}
	if err := attacker.gossip.Join(topic, func(string, peer.ID, []byte, any) {}); err != nil {
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
		return in(f.gossip.TopicPeers(topic), attacker.host.ID()) && in(attacker.gossip.TopicPeers(topic), f.host.ID())
	})
	forged := strings.Replace(string(old.data), first.ID, "bafkreihodxmdpyba3sno7hecojcxqyiwmn546pmz3uz55txpwgbgrvnhr4", 1)
	oversized := `{"pad":"` + strings.Repeat("x", activity.DefaultMaxSize) + `"}`
	for _, msg := range []string{forged, oversized, "not json"} {
		if err := attacker.gossip.Publish(ctx, topic, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	// A replay of the hour-old like: gossip's seen-cache drops a payload it
	// saw in the last ten minutes before validation; past that, the
	// validator itself refuses what is stored and old.
	if v, _ := f.validate(ctx, attacker.host.ID(), topic, old.data); v != p2p.Reject {
		t.Fatalf("replay verdict %v, want reject", v)
	}

	honest := mustPublish(t, origin, "alice", "Honest sheet")
	waitFor(t, "the honest sheet", 20*time.Second, func() bool {
		items, _ := f.Feed(ctx, 10)
		return len(items) == 2 && items[0].ResourceID == honest.ID
	})
	defer func() { t.Logf("follower gossip stats: %v", f.GossipStats()) }()
	waitFor(t, "the rejections to be counted", 10*time.Second, func() bool {
		st := f.GossipStats()
		return st[ReasonBadSig] > 0 && st[ReasonOversized] > 0 && st[ReasonReplayed] > 0
	})
	// Peer scoring holds the rejections against the attacker.
	waitFor(t, "the attacker's score to fall", 10*time.Second, func() bool {
		return f.gossip.PeerScores()[attacker.host.ID()] < 0
	})
	likes := 0
	_ = f.db.db.QueryRow(`SELECT count(*) FROM likes`).Scan(&likes)
	if likes != 1 {
		t.Fatalf("%d likes stored, want only the honest one", likes)
	}
}

func TestValidatorRejectsBlockedActors(t *testing.T) {
	n := mustSocialNode(t)
	ctx := context.Background()
	e := signedLog(t, 1)[0]
	if v, _ := n.validate(ctx, "someone", TopicIndex, e.data); v != p2p.Accept {
		t.Fatalf("verdict %v before the block, want accept", v)
	}
	if err := n.BlockActor(ctx, e.act.Actor, "spam"); err != nil {
		t.Fatal(err)
	}
	if v, _ := n.validate(ctx, "someone", TopicIndex, e.data); v != p2p.Reject {
		t.Fatalf("verdict %v after the block, want reject", v)
	}
	if n.GossipStats()[ReasonBlocked] != 1 {
		t.Fatalf("not counted: %v", n.GossipStats())
	}
}

func TestDeleteLeavesFeedsButNotPins(t *testing.T) {
	origin := mustSocialNode(t)
	alice := mustPerson(t, origin, "alice")
	f := mustSocialNode(t, origin.ID().Addrs[0])
	mustPerson(t, f, "bob")
	if _, err := f.Follow(context.Background(), "", handleOf(origin, alice)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "topic mesh", 20*time.Second, func() bool { return len(origin.gossip.TopicPeers(TopicOfActor(alice.DID))) >= 1 })
	ctx := context.Background()
	res := mustPublish(t, origin, "alice", "To be deleted")
	waitFor(t, "the resource", 20*time.Second, func() bool { return len(feedTitles(t, f)) == 1 })
	fileCID, _ := ParseCID(res.FileCID)
	// The follower keeps a pinned copy, fetched from the origin over bitswap.
	pinCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := f.Pin(pinCtx, fileCID); err != nil {
		t.Fatalf("pin the origin's file: %v", err)
	}
	var err error
	if _, err = origin.DeleteResource(ctx, res.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delete", 20*time.Second, func() bool { return len(feedTitles(t, f)) == 0 })
	if _, err := f.GC(ctx); err != nil {
		t.Fatal(err)
	}
	r, _, err := f.Cat(ctx, fileCID)
	if err != nil {
		t.Fatalf("pinned copy gone after delete: %v", err)
	}
	r.Close()
	v, err := f.ShowResource(ctx, res.ID)
	if err != nil || !v.Deleted {
		t.Fatalf("show after delete: %+v, %v", v, err)
	}
}

func TestRebuildViewsGivesTheSameState(t *testing.T) {
	n := mustSocialNode(t)
	ctx := context.Background()
	mustPerson(t, n, "alice")
	if _, err := n.CreateActor(ctx, "maths", "Maths teachers", "", activity.Group); err != nil {
		t.Fatal(err)
	}
	r1 := mustPublish(t, n, "alice", "First")
	if _, err := n.UpdateResource(ctx, r1.ID, PublishRequest{Title: "First, revised"}); err != nil {
		t.Fatal(err)
	}
	r2, err := n.Publish(ctx, PublishRequest{As: "alice", URL: "https://example.org/fractions", Title: "A link", License: "CC0-1.0", Language: "en", Community: "maths"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Like(ctx, "alice", r2.ID); err != nil {
		t.Fatal(err)
	}
	// Collections: created, renamed, filled, emptied and deleted.
	col, err := n.CreateCollection(ctx, "alice", "Reading list", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{r2.ID, r1.ID} {
		if _, err := n.AddToCollection(ctx, "alice", col.ID, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.RemoveFromCollection(ctx, "alice", col.ID, r2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := n.UpdateCollection(ctx, "alice", col.ID, "Reading list, autumn", ""); err != nil {
		t.Fatal(err)
	}
	gone, err := n.CreateCollection(ctx, "maths", "Old list", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.DeleteCollection(ctx, "", gone.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := n.DeleteResource(ctx, r1.ID); err != nil {
		t.Fatal(err)
	}
	before := dumpViews(t, n)
	if len(before["collections"]) != 2 || len(before["collection_items"]) != 2 {
		t.Fatalf("collection views before the rebuild: %v", before)
	}
	// GC keeps the log entries: the rebuild reads every one of them.
	if _, err := n.GC(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := n.RebuildViews(ctx); err != nil {
		t.Fatal(err)
	}
	if after := dumpViews(t, n); !reflect.DeepEqual(before, after) {
		t.Fatalf("views differ after rebuild:\nbefore %v\nafter  %v", before, after)
	}
	v, err := n.ShowResource(ctx, r1.ID)
	if err != nil || len(v.Versions) != 2 || !v.Deleted {
		t.Fatalf("show: %+v %v", v, err)
	}
}

func dumpViews(t *testing.T, n *Node) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range viewTables {
		rows, err := n.db.db.Query("SELECT * FROM " + table + " ORDER BY 1, 2")
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
