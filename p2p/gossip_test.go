package p2p

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// gossipNet is a line of hosts, each connected to the next, all running
// Gossip with a validator that rejects payloads starting with "bad".
type gossipNet struct {
	hosts    []*Host
	gossip   []*Gossip
	rejected atomic.Int64
}

func mustGossipNet(t *testing.T, n int) *gossipNet {
	t.Helper()
	gn := &gossipNet{}
	v := func(_ context.Context, _ peer.ID, _ string, data []byte) (Verdict, any) {
		if strings.HasPrefix(string(data), "bad") {
			gn.rejected.Add(1)
			return Reject, nil
		}
		return Accept, strings.ToUpper(string(data))
	}
	for i := range n {
		h := MustNewLoopbackHost(t)
		g, err := NewGossip(h.Libp2p(), v, GossipConfig{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g.Close() })
		gn.hosts = append(gn.hosts, h)
		gn.gossip = append(gn.gossip, g)
		if i > 0 {
			if _, err := h.Connect(context.Background(), gn.hosts[i-1].Addrs()[0]); err != nil {
				t.Fatal(err)
			}
		}
	}
	return gn
}

func TestGossipReachesEveryHostAndRejectsWhatTheValidatorRefuses(t *testing.T) {
	gn := mustGossipNet(t, 4)
	const topic = "lyceum/1/test"
	var mu sync.Mutex
	got := map[int][]string{}
	probed := map[int]bool{}
	for i, g := range gn.gossip {
		if err := g.Join(topic, func(_ string, _ peer.ID, data []byte, decoded any) {
			mu.Lock()
			defer mu.Unlock()
			if strings.HasPrefix(string(data), "probe") {
				probed[i] = true
				return
			}
			got[i] = append(got[i], decoded.(string))
		}); err != nil {
			t.Fatal(err)
		}
	}
	// A message forwarded before a host has grafted its neighbour never
	// reaches that neighbour (gossip goes only to peers outside the mesh,
	// and the graft comes with the same heartbeat): Lyceum's backfill
	// covers that, this test does not. Probe until the line carries a
	// message end to end, so the meshes are formed.
	deadline := time.Now().Add(20 * time.Second)
	for n := 0; ; n++ {
		mu.Lock()
		reached := len(probed)
		mu.Unlock()
		if reached == len(gn.gossip) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("probes reached only %d of %d hosts", reached, len(gn.gossip))
		}
		if len(gn.gossip[0].TopicPeers(topic)) > 0 {
			if err := gn.gossip[0].Publish(context.Background(), topic, []byte(fmt.Sprintf("probe %d", n))); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	ctx := context.Background()
	if err := gn.gossip[0].Publish(ctx, topic, []byte("bad forged")); err == nil {
		t.Log("local publish of a rejected message was not refused")
	}
	if err := gn.gossip[0].Publish(ctx, topic, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	// Every host hands the message to its subscriber on its own goroutine,
	// possibly after forwarding it: the far end may see it before a host
	// in the middle does, so wait for all of them.
	for {
		mu.Lock()
		reached := 0
		for i := range gn.gossip {
			if len(got[i]) > 0 {
				reached++
			}
		}
		mu.Unlock()
		if reached == len(gn.gossip) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the honest message reached %d of %d hosts: %v", reached, len(gn.gossip), got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range gn.gossip {
		if len(got[i]) != 1 || got[i][0] != "HELLO" {
			t.Errorf("host %d got %v, want [HELLO] decoded once by the validator", i, got[i])
		}
	}
	if gn.rejected.Load() == 0 {
		t.Error("the validator never saw the bad message")
	}
}

func TestLeaveStopsDelivery(t *testing.T) {
	gn := mustGossipNet(t, 2)
	const topic = "lyceum/1/leave"
	if err := gn.gossip[1].Join(topic, func(string, peer.ID, []byte, any) {}); err != nil {
		t.Fatal(err)
	}
	if err := gn.gossip[1].Leave(topic); err != nil {
		t.Fatal(err)
	}
	for _, tp := range gn.gossip[1].Topics() {
		if tp == topic {
			t.Fatal("still subscribed after Leave")
		}
	}
}

// An activity goes to its actor's, its community's and the index topic
// with the same payload: each topic's subscribers must get it.
func TestSamePayloadOnTwoTopicsReachesBoth(t *testing.T) {
	gn := mustGossipNet(t, 2)
	topics := []string{"lyceum/1/actor/a", "lyceum/1/group/g"}
	got := make(chan string, 4)
	for _, tp := range topics {
		if err := gn.gossip[1].Join(tp, func(topic string, _ peer.ID, _ []byte, _ any) { got <- topic }); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(gn.gossip[0].TopicPeers(topics[1])) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no topic peers")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, tp := range topics {
		if err := gn.gossip[0].Publish(context.Background(), tp, []byte("same payload")); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for len(seen) < 2 {
		select {
		case tp := <-got:
			seen[tp] = true
		case <-time.After(time.Until(deadline)):
			t.Fatalf("got the payload only on %v", seen)
		}
	}
}
