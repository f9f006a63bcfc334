package node_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"

	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/nodetest"
)

// In a five-node loopback network, B fetches what A added without ever
// being told about A: bitswap finds A through A's provider record in the
// LAN DHT.
func TestNodeFindsContentThroughTheDHT(t *testing.T) {
	boot := mustNode(t, nodetest.Options{})
	var nodes []*node.Node
	for range 4 {
		nodes = append(nodes, joined(t, boot))
	}
	a, b := nodes[0], nodes[3]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, n := range append(nodes, boot) {
		for n.Host().DHT().LAN.RoutingTable().Size() == 0 {
			if ctx.Err() != nil {
				t.Fatal("a LAN routing table stayed empty")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	data := bytes.Repeat([]byte("a worksheet on fractions\n"), 40000)
	c, err := a.Content().Add(ctx, "sheet.txt", files.NewBytesFile(data), api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A announced the root in the background; B finds the record.
	found := false
	for !found {
		if ctx.Err() != nil {
			t.Fatal("B never found A's provider record for the root")
		}
		for info := range b.Host().Routing().FindProvidersAsync(ctx, c, 1) {
			found = info.ID == a.Host().ID()
		}
		time.Sleep(100 * time.Millisecond)
	}
	// B and A must not know each other directly.
	b.Host().Libp2p().Network().ClosePeer(a.Host().ID())
	b.Host().Libp2p().Peerstore().ClearAddrs(a.Host().ID())
	a.Host().Libp2p().Network().ClosePeer(b.Host().ID())

	r, _, err := b.Content().Cat(ctx, c)
	if err != nil {
		t.Fatalf("B could not find %s: %v", c, err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("B read %d bytes (%v), want %d", len(got), err, len(data))
	}
}
