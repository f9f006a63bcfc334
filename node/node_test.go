package node

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
)

// MustStartNode starts an online test-profile node in a temporary repo;
// bootstrap lists full multiaddrs of peers to join through.
func MustStartNode(tb testing.TB, bootstrap ...string) *Node {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "repo")
	if err := InitRepo(path, ProfileTest); err != nil {
		tb.Fatal(err)
	}
	repo, err := OpenRepo(path)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := repo.Config()
	cfg.Swarm.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Swarm.Bootstrap = bootstrap
	repo.SetConfig(cfg)
	n, err := New(repo)
	if err != nil {
		repo.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := n.Close(); err != nil {
			tb.Errorf("close node: %v", err)
		}
	})
	return n
}

// In a five-node loopback network, B fetches what A added without ever
// being told about A: bitswap finds A through A's provider record in the
// LAN DHT.
func TestNodeFindsContentThroughTheDHT(t *testing.T) {
	boot := MustStartNode(t)
	bootAddr := boot.ID().Addrs[0]
	var nodes []*Node
	for range 4 {
		nodes = append(nodes, MustStartNode(t, bootAddr))
	}
	a, b := nodes[0], nodes[3]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, n := range append(nodes, boot) {
		for n.host.DHT().LAN.RoutingTable().Size() == 0 {
			if ctx.Err() != nil {
				t.Fatal("a LAN routing table stayed empty")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	data := bytes.Repeat([]byte("a worksheet on fractions\n"), 40000)
	c, err := a.AddFiles(ctx, "sheet.txt", files.NewBytesFile(data), AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A announced the root in the background; B finds the record.
	found := false
	for !found {
		if ctx.Err() != nil {
			t.Fatal("B never found A's provider record for the root")
		}
		for info := range b.host.Routing().FindProvidersAsync(ctx, c, 1) {
			found = info.ID == a.host.ID()
		}
		time.Sleep(100 * time.Millisecond)
	}
	// B and A must not know each other directly.
	b.host.Libp2p().Network().ClosePeer(a.host.ID())
	b.host.Libp2p().Peerstore().ClearAddrs(a.host.ID())
	a.host.Libp2p().Network().ClosePeer(b.host.ID())

	r, _, err := b.Cat(ctx, c)
	if err != nil {
		t.Fatalf("B could not find %s: %v", c, err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("B read %d bytes (%v), want %d", len(got), err, len(data))
	}
}
