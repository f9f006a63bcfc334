package p2p

import (
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
)

// An attached host with bootstrap peers and no connections dials them
// again by itself, as a started host's bootstrap loop does.
func TestAttachedHostRedialsItsBootstrapPeers(t *testing.T) {
	other := MustNewLoopbackHost(t)
	lh, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.NoTransports, libp2p.DefaultTransports, libp2p.DefaultMuxers, libp2p.DefaultSecurity)
	if err != nil {
		t.Fatal(err)
	}
	asked := make(chan struct{}, 100)
	h, err := Attach(lh, nil, WithRepairInterval(50*time.Millisecond), WithBootstrapFunc(func() []peer.AddrInfo {
		asked <- struct{}{}
		return []peer.AddrInfo{{ID: other.ID(), Addrs: other.Libp2p().Addrs()}}
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	deadline := time.After(30 * time.Second)
	for len(lh.Network().ConnsToPeer(other.ID())) == 0 {
		select {
		case <-deadline:
			t.Fatal("the attached host never dialled its bootstrap peer")
		case <-time.After(20 * time.Millisecond):
		}
	}
	if len(asked) == 0 {
		t.Fatal("the bootstrap peers were not asked for")
	}
}
