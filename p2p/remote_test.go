package p2p

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// A message that the sender lets through but the receiver refuses is
// rejected at the receiver, and counted there; it is sent at once, before
// any heartbeat has built a mesh (flood publishing).
func TestRemoteRejectionIsSeenByTheReceiver(t *testing.T) {
	a, b := MustNewLoopbackHost(t), MustNewLoopbackHost(t)
	var rejected atomic.Int64
	ga, err := NewGossip(a.Libp2p(), func(context.Context, peer.ID, string, []byte) (Verdict, any) { return Accept, nil }, GossipConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer ga.Close()
	gb, err := NewGossip(b.Libp2p(), func(_ context.Context, _ peer.ID, _ string, data []byte) (Verdict, any) {
		if string(data) == "bad" {
			rejected.Add(1)
			return Reject, nil
		}
		return Accept, nil
	}, GossipConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer gb.Close()
	if _, err := b.Connect(context.Background(), a.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	const topic = "lyceum/1/remote"
	gb.Join(topic, func(string, peer.ID, []byte, any) {})
	ga.Join(topic, func(string, peer.ID, []byte, any) {})
	deadline := time.Now().Add(10 * time.Second)
	for len(ga.TopicPeers(topic)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no topic peer")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := ga.Publish(context.Background(), topic, []byte("bad")); err != nil {
		t.Fatal(err)
	}
	for rejected.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the receiver never saw the bad message")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
