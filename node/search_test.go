package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/logsync"
	"github.com/lyceum-oer/lyceum/node/nodetest"
	"github.com/lyceum-oer/lyceum/node/search"
	"github.com/lyceum-oer/lyceum/p2p"
)

// mustHQ starts an indexing peer on loopback.
func mustHQ(tb testing.TB, opts ...node.Option) *node.Node {
	return mustNode(tb, nodetest.Options{HQ: true, Node: opts})
}

// searching starts a node that joins through hq and searches it.
func searching(tb testing.TB, hq *node.Node) *node.Node {
	return mustNode(tb, nodetest.Options{Bootstrap: []string{addr(hq)}, Config: func(c *node.Config) { c.Search.HQs = []string{addr(hq)} }})
}

// localSearch asks a node's search, which is its index alone when it names
// no HQ.
func localSearch(tb testing.TB, n *node.Node, q api.SearchQuery) api.SearchResult {
	tb.Helper()
	if err := n.Search().WaitIndexed(context.Background()); err != nil {
		tb.Fatal(err)
	}
	r, err := n.Search().Search(context.Background(), q)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// indexedResources counts the resources in n's index.
func indexedResources(tb testing.TB, n *node.Node) int {
	return int(localSearch(tb, n, api.SearchQuery{Kind: "resource", Size: 1}).Total)
}

var phrases = map[string]string{
	"en": "fractions worksheet for young learners",
	"fr": "fiche d'exercices sur les fractions",
	"es": "hoja de ejercicios de fracciones",
	"de": "Arbeitsblatt über Brüche für die Grundschule",
	"it": "scheda di esercizi sulle frazioni",
	"pt": "folha de exercícios de frações",
}

var languages = []string{"en", "fr", "es", "de", "it", "pt"}

func publishLink(tb testing.TB, n *node.Node, as string, i int) api.Published {
	tb.Helper()
	lang := languages[i%len(languages)]
	license := "CC-BY-4.0"
	if i%3 == 0 {
		license = "CC0-1.0"
	}
	res, err := n.Social().Publish(context.Background(), api.PublishRequest{
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
	var nodes []*node.Node
	for i := range 10 {
		n := searching(t, hq)
		mustPerson(t, n, fmt.Sprintf("teacher%d", i))
		nodes = append(nodes, n)
	}
	waitFor(t, "every node to see the HQ in the index topic", 20*time.Second, func() bool {
		for _, n := range nodes {
			seen := false
			for _, p := range topicPeers(n, logsync.TopicIndex) {
				seen = seen || p == hq.Host().ID()
			}
			if !seen {
				return false
			}
		}
		return true
	})
	// 500 resources across the ten nodes, in six languages.
	const total = 500
	for i := range total {
		publishLink(t, nodes[i%len(nodes)], "", i)
	}
	waitFor(t, "the HQ to index all 500", 60*time.Second, func() bool { return indexedResources(t, hq) >= total })
	// Persons are indexed too, and found by kind.
	waitFor(t, "the HQ to index the teachers", 30*time.Second, func() bool {
		hq.Search().WaitIndexed(ctx)
		r, err := nodes[1].Search().Search(ctx, api.SearchQuery{Text: "teacher3", Kind: "person"})
		// The node's own index knows only teacher1, which it offers as a
		// one-typo match; the HQ's exact match ranks first.
		return err == nil && len(r.Hits) > 0 && r.Hits[0].Title == "Teacher3" && r.Hits[0].Kind == "person" && len(r.Answered) == 1
	})

	// A node that published while apart from the HQ is backfilled later.
	lone := mustNode(t, nodetest.Options{})
	mustPerson(t, lone, "hermit")
	for i := total; i < total+5; i++ {
		publishLink(t, lone, "", i)
	}
	if _, err := lone.Swarm().Connect(ctx, api.ConnectRequest{Addr: addr(hq)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the HQ to backfill the lone node", 30*time.Second, func() bool { return indexedResources(t, hq) >= total+5 })
	if n := indexedResources(t, hq); n != total+5 {
		t.Fatalf("the HQ indexed %d resources, want %d", n, total+5)
	}

	// Filters return exactly the expected hits, HQ and local merged.
	searcher := nodes[0].Search()
	want := 0
	for i := range total + 5 {
		if languages[i%len(languages)] == "fr" && i%3 == 0 {
			want++
		}
	}
	res, err := searcher.Search(ctx, api.SearchQuery{Language: "fr", License: "CC0-1.0", Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	if int(res.Total) != want || len(res.Failed) != 0 {
		t.Fatalf("fr + CC0: total %d, want %d (failed %v)", res.Total, want, res.Failed)
	}
	res, err = searcher.Search(ctx, api.SearchQuery{Text: "fractions", Language: "en", Size: 5})
	if err != nil || res.Total == 0 || res.Hits[0].Language != "en" {
		t.Fatalf("text search: %+v, %v", res, err)
	}

	// Delisting hides an item from the HQ's results only.
	victim := res.Hits[0].ID
	if err := hq.Search().Delist(ctx, api.DelistRequest{ID: victim, Reason: "spam"}); err != nil {
		t.Fatal(err)
	}
	for _, h := range localSearch(t, hq, api.SearchQuery{Text: "fractions", Language: "en", Size: 100}).Hits {
		if h.ID == victim {
			t.Fatal("delisted item still in the HQ's results")
		}
	}
	var origin *node.Node
	for _, n := range append(nodes, lone) {
		if v, err := n.Social().ShowResource(ctx, victim); err == nil && n.Log().IsLocal(ctx, v.Author) {
			origin = n
			break
		}
	}
	if origin == nil {
		t.Fatalf("no node is the origin of %s", victim)
	}
	found := false
	for _, h := range localSearch(t, origin, api.SearchQuery{Text: "fractions", Language: "en", Size: 100}).Hits {
		found = found || (h.ID == victim && h.Sources[0] == "local")
	}
	if !found {
		t.Fatal("delisting on the HQ hid the item at its origin")
	}

	// With the HQ gone, search still answers from the local index and says
	// the HQ did not answer.
	hq.Close()
	res, err = searcher.Search(ctx, api.SearchQuery{Text: "fractions"})
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
	ctx := context.Background()
	n := mustNode(t, nodetest.Options{Offline: true, Node: []node.Option{node.WithoutLocalIndex()}})
	if _, err := n.Search().Search(ctx, api.SearchQuery{}); api.KindOf(err) != api.KindUnavailable {
		t.Errorf("search: %v, want unavailable", err)
	}
	if err := n.Search().Delist(ctx, api.DelistRequest{ID: "x", Reason: "spam"}); api.KindOf(err) != api.KindUnavailable {
		t.Errorf("delist: %v, want unavailable", err)
	}
	if _, err := n.Search().Rebuild(ctx); api.KindOf(err) != api.KindUnavailable {
		t.Errorf("rebuild: %v, want unavailable", err)
	}
}

// A page number whose offset overflows once crashed any node: bleve
// panicked on the negative offset in a goroutine nobody recovered. Over
// libp2p it is refused, and the node answers the next search.
func TestHugePageOverLibp2pIsRefusedAndTheNodeLives(t *testing.T) {
	ctx := context.Background()
	hq := mustHQ(t)
	client := joined(t, hq)
	ask := func(q api.SearchQuery) error {
		body, err := json.Marshal(q)
		if err != nil {
			t.Fatal(err)
		}
		_, err = p2p.Request(ctx, client.Host().Libp2p(), hq.Host().ID(), search.ProtocolSearch, body, 0)
		return err
	}
	for _, q := range []api.SearchQuery{
		{Text: "x", Page: 4611686018427387905, Size: 2},
		{Text: "x", Page: math.MaxInt, Size: math.MaxInt},
		{Text: "x", Page: -1},
		{Text: "x", Size: -5},
		{Text: "x", Page: 5001, Size: 2},
	} {
		var re *p2p.RemoteError
		if err := ask(q); !errors.As(err, &re) || !re.Refused {
			t.Errorf("page %d size %d: %v, want a refusal", q.Page, q.Size, err)
		}
	}
	if err := ask(api.SearchQuery{Text: "fractions"}); err != nil {
		t.Fatalf("the node no longer answers: %v", err)
	}
}

// An HQ that cannot be reached is named in the answer with a reason that
// tells nothing of the node's network, and the answer keeps the API's
// shape ({} facets, [] lists).
func TestUnreachableHQIsNamedWithoutItsAddress(t *testing.T) {
	ctx := context.Background()
	gone := mustNode(t, nodetest.Options{})
	hq := addr(gone) // its port closes with it
	gone.Close()
	n := mustNode(t, nodetest.Options{Config: func(c *node.Config) { c.Search.HQs = []string{hq}; c.Search.Timeout = node.Duration(2 * time.Second) }})
	res, err := n.Search().Search(ctx, api.SearchQuery{Text: "fractions", Facets: false})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 1 || res.Facets == nil || res.Hits == nil || res.Answered == nil {
		t.Fatalf("answer %+v", res)
	}
	why := res.Errors[res.Failed[0]]
	if why == "" || strings.Contains(why, "127.0.0.1") || strings.Contains(why, "dial") {
		t.Fatalf("reason %q", why)
	}
}
