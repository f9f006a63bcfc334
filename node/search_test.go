package node

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// mustHQ starts an indexing peer on loopback.
func mustHQ(tb testing.TB, opts ...Option) *Node {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "hq")
	if err := InitRepo(path, ProfileTest); err != nil {
		tb.Fatal(err)
	}
	repo, err := OpenRepo(path)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := repo.Config()
	cfg.Swarm.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Search.Indexer = true
	cfg.Search.RateLimit = 1000
	repo.SetConfig(cfg)
	n, err := New(repo, append([]Option{WithSyncInterval(500 * time.Millisecond)}, opts...)...)
	if err != nil {
		repo.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() { n.Close() })
	return n
}

// indexedResources counts the resources in n's index.
func indexedResources(tb testing.TB, n *Node) int {
	tb.Helper()
	r, err := n.searchLocal(context.Background(), SearchQuery{Kind: "resource", Size: 1})
	if err != nil {
		tb.Fatal(err)
	}
	return int(r.Total)
}

// withHQ points a node's searches at hq.
func withHQ(n *Node, hq *Node) { n.cfg.Search.HQs = []string{hq.ID().Addrs[0]} }

var phrases = map[string]string{
	"en": "fractions worksheet for young learners",
	"fr": "fiche d'exercices sur les fractions",
	"es": "hoja de ejercicios de fracciones",
	"de": "Arbeitsblatt über Brüche für die Grundschule",
	"it": "scheda di esercizi sulle frazioni",
	"pt": "folha de exercícios de frações",
}

var languages = []string{"en", "fr", "es", "de", "it", "pt"}

func publishLink(tb testing.TB, n *Node, as string, i int) Published {
	tb.Helper()
	lang := languages[i%len(languages)]
	license := "CC-BY-4.0"
	if i%3 == 0 {
		license = "CC0-1.0"
	}
	res, err := n.Publish(context.Background(), PublishRequest{
		As: as, URL: fmt.Sprintf("https://example.org/oer/%d", i),
		Title: fmt.Sprintf("%s %d", phrases[lang], i), Summary: "Practice for the classroom.",
		License: license, Language: lang, Subjects: []string{"0541"}, Level: "1", Type: "assessment",
	})
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

func TestHQIndexesTheNetworkAndNodesSearchIt(t *testing.T) {
	ctx := context.Background()
	hq := mustHQ(t)
	hqAddr := hq.ID().Addrs[0]
	var nodes []*Node
	for i := range 10 {
		n := mustSocialNode(t, hqAddr)
		mustPerson(t, n, fmt.Sprintf("teacher%d", i))
		withHQ(n, hq)
		nodes = append(nodes, n)
	}
	waitFor(t, "every node to see the HQ in the index topic", 20*time.Second, func() bool {
		for _, n := range nodes {
			seen := false
			for _, p := range n.gossip.TopicPeers(TopicIndex) {
				seen = seen || p == hq.host.ID()
			}
			if !seen {
				return false
			}
		}
		return true
	})
	// 500 resources across the ten nodes, in six languages.
	const total = 500
	ids := map[string]bool{}
	for i := range total {
		res := publishLink(t, nodes[i%len(nodes)], "", i)
		ids[res.ID] = true
	}
	waitFor(t, "the HQ to index all 500", 60*time.Second, func() bool {
		hq.WaitIndexed(ctx)
		return indexedResources(t, hq) >= total
	})
	// Persons are indexed too, and found by kind.
	waitFor(t, "the HQ to index the teachers", 30*time.Second, func() bool {
		hq.WaitIndexed(ctx)
		r, err := nodes[1].Search(ctx, SearchQuery{Text: "teacher3", Kind: "person"})
		// The node's own index knows only teacher1, which it offers as a
		// one-typo match; the HQ's exact match ranks first.
		return err == nil && len(r.Hits) > 0 && r.Hits[0].Title == "Teacher3" && r.Hits[0].Kind == "person" && len(r.Answered) == 1
	})

	// A node that published while apart from the HQ is backfilled later.
	lone := mustSocialNode(t)
	mustPerson(t, lone, "hermit")
	for i := total; i < total+5; i++ {
		publishLink(t, lone, "", i)
	}
	if _, err := lone.Connect(ctx, hqAddr); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the HQ to backfill the lone node", 30*time.Second, func() bool {
		hq.WaitIndexed(ctx)
		return indexedResources(t, hq) >= total+5
	})
	if n := indexedResources(t, hq); n != total+5 {
		t.Fatalf("the HQ indexed %d resources, want %d", n, total+5)
	}

	// Filters return exactly the expected hits, HQ and local merged.
	searcher := nodes[0]
	want := 0
	for i := range total + 5 {
		if languages[i%len(languages)] == "fr" && i%3 == 0 {
			want++
		}
	}
	res, err := searcher.Search(ctx, SearchQuery{Language: "fr", License: "CC0-1.0", Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	if int(res.Total) != want || len(res.Failed) != 0 {
		t.Fatalf("fr + CC0: total %d, want %d (failed %v)", res.Total, want, res.Failed)
	}
	res, err = searcher.Search(ctx, SearchQuery{Text: "fractions", Language: "en", Size: 5})
	if err != nil || res.Total == 0 || res.Hits[0].Language != "en" {
		t.Fatalf("text search: %+v, %v", res, err)
	}

	// Delisting hides an item from the HQ's results only.
	victim := res.Hits[0].ID
	if err := hq.Delist(ctx, victim, "spam"); err != nil {
		t.Fatal(err)
	}
	hqRes, _ := hq.searchLocal(ctx, SearchQuery{Text: "fractions", Language: "en", Size: 100})
	for _, h := range hqRes.Hits {
		if h.ID == victim {
			t.Fatal("delisted item still in the HQ's results")
		}
	}
	var origin *Node
	for _, n := range append(nodes, lone) {
		if v, err := n.ShowResource(ctx, victim); err == nil && v.Author != "" {
			origin = n
			break
		}
	}
	if origin == nil {
		t.Fatalf("no node is the origin of %s", victim)
	}
	origin.WaitIndexed(ctx)
	loc, _ := origin.searchLocal(ctx, SearchQuery{Text: "fractions", Language: "en", Size: 100})
	found := false
	for _, h := range loc.Hits {
		found = found || h.ID == victim
	}
	if !found {
		t.Fatal("delisting on the HQ hid the item at its origin")
	}

	// With the HQ gone, search still answers from the local index and says
	// the HQ did not answer.
	hq.Close()
	res, err = searcher.Search(ctx, SearchQuery{Text: "fractions"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 1 || res.Total == 0 {
		t.Fatalf("after HQ stop: total %d, failed %v", res.Total, res.Failed)
	}
}

// A node started without its local index refuses searches and moderation
// with KindUnavailable instead of crashing (peers may still ask it).
func TestNodeWithoutIndexRefusesSearch(t *testing.T) {
	path := t.TempDir() + "/repo"
	if err := InitRepo(path, ProfileTest); err != nil {
		t.Fatal(err)
	}
	repo, err := OpenRepo(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(repo, WithOffline(), WithoutLocalIndex())
	if err != nil {
		repo.Close()
		t.Fatal(err)
	}
	defer n.Close()
	ctx := context.Background()
	if _, err := n.searchLocal(ctx, SearchQuery{}); KindOf(err) != KindUnavailable {
		t.Errorf("search: %v, want unavailable", err)
	}
	if err := n.Delist(ctx, "x", "spam"); KindOf(err) != KindUnavailable {
		t.Errorf("delist: %v, want unavailable", err)
	}
	if _, err := n.RebuildIndex(ctx); KindOf(err) != KindUnavailable {
		t.Errorf("rebuild: %v, want unavailable", err)
	}
}
