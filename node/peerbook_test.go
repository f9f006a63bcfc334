package node_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/nodetest"
	"github.com/lyceum-oer/lyceum/node/swarm"
)

// Nodes on random loopback ports, without bootstrap peers or mDNS, find
// each other again after a restart: B, restarted on a new port, redials A
// from its peer book; A, restarted on the address it listened on, is
// connected to B again without anyone calling connect.
func TestRestartedNodesRedialTheirRecentPeers(t *testing.T) {
	pathA, pathB := nodetest.MustRepo(t), nodetest.MustRepo(t)
	a := nodetest.MustOpen(t, pathA, nodetest.Options{})
	b := nodetest.MustOpen(t, pathB, nodetest.Options{})
	if _, err := b.Host().Connect(t.Context(), ma.StringCast(nodetest.Addr(a))); err != nil {
		t.Fatal(err)
	}
	waitConnected(t, "A and B, connected by hand", a, b)
	// A keeps its port across its own restart below.
	listenA := strings.Split(nodetest.Addr(a), "/p2p/")[0]
	peerA, peerB := a.Host().ID(), b.Host().ID()

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(pathB, swarm.PeerBookFile)); err != nil || !strings.Contains(string(data), peerA.String()) {
		t.Fatalf("B's peer book after Close (%v): %s", err, data)
	}
	b = nodetest.MustOpen(t, pathB, nodetest.Options{})
	waitConnected(t, "B, restarted, redials A", a, b)

	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a = nodetest.MustOpen(t, pathA, nodetest.Options{Config: func(c *node.Config) { c.Swarm.Listen = []string{listenA} }})
	if a.Host().ID() != peerA || b.Host().ID() != peerB {
		t.Fatal("a restarted node changed identity")
	}
	waitConnected(t, "A, restarted on its address, is found again", a, b)
}

func waitConnected(t *testing.T, what string, a, b *node.Node) {
	t.Helper()
	nodetest.WaitFor(t, what, 20*time.Second, func() bool {
		return a.Host().Libp2p().Network().Connectedness(b.Host().ID()) == network.Connected &&
			b.Host().Libp2p().Network().Connectedness(a.Host().ID()) == network.Connected
	})
}
