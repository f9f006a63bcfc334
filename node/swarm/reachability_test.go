package swarm

import (
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"

	"github.com/lyceum-oer/lyceum/p2p"
)

// A Reachability says what AutoNAT last emitted, unknown before, and
// nothing offline.
func TestReachabilityIsWhatAutoNATLastSaid(t *testing.T) {
	off, err := New(nil, "", "test").FollowReachability()
	if err != nil || off.String() != "" || off.Close() != nil {
		t.Fatalf("offline: %q (%v)", off.String(), err)
	}
	h, err := libp2p.New(libp2p.NoListenAddrs)
	if err != nil {
		t.Fatal(err)
	}
	ph, err := p2p.Attach(h, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ph.Close()
	emit, err := h.EventBus().Emitter(new(event.EvtLocalReachabilityChanged), eventbus.Stateful)
	if err != nil {
		t.Fatal(err)
	}
	defer emit.Close()
	if err := emit.Emit(event.EvtLocalReachabilityChanged{Reachability: network.ReachabilityPrivate}); err != nil {
		t.Fatal(err)
	}
	// Started after the event: it gets the last one all the same.
	r, err := New(ph, h.ID().String(), "test").FollowReachability()
	if err != nil {
		t.Fatal(err)
	}
	wait := func(want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for r.String() != want {
			if time.Now().After(deadline) {
				t.Fatalf("reachability %q, want %q", r.String(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	wait("private")
	if err := emit.Emit(event.EvtLocalReachabilityChanged{Reachability: network.ReachabilityPublic}); err != nil {
		t.Fatal(err)
	}
	wait("public")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
}
