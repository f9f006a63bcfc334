package nodetest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
)

// MustRepo creates a repo of the test profile in a temporary folder and
// returns its path.
func MustRepo(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "repo")
	if err := node.InitRepo(path, node.ProfileTest); err != nil {
		tb.Fatal(err)
	}
	return path
}

// Options are how MustOpen starts a node.
type Options struct {
	// Bootstrap are full multiaddrs of peers to join through.
	Bootstrap []string
	// HQ makes the node an indexer (search.indexer).
	HQ bool
	// Offline starts it without networking.
	Offline bool
	// Config, if set, changes the configuration before the node starts.
	Config func(*node.Config)
	// Node are more options of node.New.
	Node []node.Option
}

// MustNode starts an online node in a new repo, on loopback TCP, that
// syncs followed logs every half second. Cleanup closes it.
func MustNode(tb testing.TB, o Options) *node.Node {
	tb.Helper()
	return MustOpen(tb, MustRepo(tb), o)
}

// MustOpen starts a node on the repo at path; Cleanup closes it if the
// test has not.
func MustOpen(tb testing.TB, path string, o Options) *node.Node {
	tb.Helper()
	repo, err := node.OpenRepo(path)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := repo.Config()
	cfg.Swarm.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Swarm.Bootstrap = o.Bootstrap
	if o.HQ {
		cfg.Search.Indexer = true
		cfg.Search.RateLimit = 1000
	}
	if o.Config != nil {
		o.Config(&cfg)
	}
	repo.SetConfig(cfg)
	opts := append([]node.Option{node.WithSyncInterval(500 * time.Millisecond)}, o.Node...)
	if o.Offline {
		opts = append(opts, node.WithOffline())
	}
	n, err := node.New(repo, opts...)
	if err != nil {
		repo.Close()
		tb.Fatal(err)
	}
	var once sync.Once
	tb.Cleanup(func() { once.Do(func() { n.Close() }) })
	return n
}

// Addr is the node's first swarm address, with its peer ID.
func Addr(n *node.Node) string { return n.Swarm().ID().Addrs[0] }

// MustPerson creates a local person named name (display name
// capitalised).
func MustPerson(tb testing.TB, n *node.Node, name string) api.Actor {
	tb.Helper()
	a, err := n.Social().CreateActor(context.Background(), api.CreateActorRequest{Username: name, Name: strings.ToUpper(name[:1]) + name[1:]})
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// MustCommunity creates a local community.
func MustCommunity(tb testing.TB, n *node.Node, name string) api.Actor {
	tb.Helper()
	g, err := n.Social().CreateActor(context.Background(), api.CreateActorRequest{Username: name, Name: "Community " + name, Type: string(activity.Group)})
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// MustPublish publishes a small file as a local person (as "" = the only
// one), with full metadata.
func MustPublish(tb testing.TB, n *node.Node, as, title string) api.Published {
	tb.Helper()
	ctx := context.Background()
	p := filepath.Join(tb.TempDir(), "sheet.txt")
	if err := os.WriteFile(p, []byte("content of "+title), 0o644); err != nil {
		tb.Fatal(err)
	}
	c, err := n.Content().AddPath(ctx, p, api.AddOptions{CIDVersion: 1}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := n.Social().Publish(ctx, api.PublishRequest{
		As: as, FileCID: c.String(), Filename: "sheet.txt", Title: title, Summary: "A worksheet.", License: "CC-BY-4.0",
		Language: "fr", Subjects: []string{"0541"}, Level: "2", Type: "assessment",
	})
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// WaitFor polls cond until it holds or d has passed.
func WaitFor(tb testing.TB, what string, d time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FeedTitles are the titles of the node's feed, newest first.
func FeedTitles(tb testing.TB, n *node.Node) []string {
	tb.Helper()
	items, err := n.Social().Feed(context.Background(), 1000)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, it := range items {
		out = append(out, it.Title)
	}
	return out
}

// HandleOf is a's handle name@peerID, by which other nodes find it.
func HandleOf(n *node.Node, a api.Actor) string { return a.Username + "@" + n.Repo().PeerID().String() }
