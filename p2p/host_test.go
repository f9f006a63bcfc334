package p2p

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	mh "github.com/multiformats/go-multihash"
)

// MustNewLoopbackHost starts a host that listens on a random loopback TCP
// port and dials nothing but what the test tells it.
func MustNewLoopbackHost(tb testing.TB, bootstrap ...peer.AddrInfo) *Host {
	tb.Helper()
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		tb.Fatal(err)
	}
	h, err := New(Config{
		Identity:         key,
		ListenAddrs:      []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")},
		Bootstrap:        bootstrap,
		LoopbackOnLANDHT: true,
		MaxMemory:        256 << 20,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := h.Close(); err != nil {
			tb.Errorf("close host: %v", err)
		}
	})
	return h
}

func TestConnectByFullMultiaddr(t *testing.T) {
	a := MustNewLoopbackHost(t)
	b := MustNewLoopbackHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, err := b.Connect(ctx, a.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	if id != a.ID() {
		t.Fatalf("connected to %s, want %s", id, a.ID())
	}
	found := false
	for _, p := range b.Peers() {
		found = found || p.ID == a.ID()
	}
	if !found {
		t.Fatalf("peers of b do not list a: %v", b.Peers())
	}
}

func TestConnectRejectsAddressWithoutPeerID(t *testing.T) {
	a := MustNewLoopbackHost(t)
	_, err := a.Connect(context.Background(), ma.StringCast("/ip4/127.0.0.1/tcp/4001"))
	if err == nil {
		t.Fatal("connect accepted an address without /p2p/")
	}
}

func TestListenOnTakenPortSaysSo(t *testing.T) {
	a := MustNewLoopbackHost(t)
	key, _, _ := crypto.GenerateEd25519Key(nil)
	_, err := New(Config{Identity: key, ListenAddrs: a.Libp2p().Addrs()[:1]})
	if !errors.Is(err, ErrAddrInUse) {
		t.Fatalf("err = %v, want ErrAddrInUse", err)
	}
}

// In a five-node loopback network, a node finds another's content through
// provider records in the LAN DHT, without having been connected to it.
func TestFindProviderThroughLANDHT(t *testing.T) {
	boot := MustNewLoopbackHost(t)
	bootInfo := peer.AddrInfo{ID: boot.ID(), Addrs: boot.Libp2p().Addrs()}
	hosts := []*Host{boot}
	for range 4 {
		hosts = append(hosts, MustNewLoopbackHost(t, bootInfo))
	}
	a, b := hosts[1], hosts[4]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Wait until every routing table has filled from the bootstrap peer.
	for _, h := range hosts {
		for h.DHT().LAN.RoutingTable().Size() == 0 {
			if ctx.Err() != nil {
				t.Fatalf("LAN routing table of %s stayed empty", h.ID())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	sum, _ := mh.Sum([]byte("a resource only A has"), mh.SHA2_256, -1)
	key := cid.NewCidV1(cid.Raw, sum)
	if err := a.Routing().Provide(ctx, key, true); err != nil {
		t.Fatalf("provide: %v", err)
	}
	b.Libp2p().Network().ClosePeer(a.ID())
	for info := range b.Routing().FindProvidersAsync(ctx, key, 1) {
		if info.ID != a.ID() {
			t.Fatalf("provider %s, want %s", info.ID, a.ID())
		}
		if err := b.Libp2p().Connect(ctx, info); err != nil {
			t.Fatalf("dial provider found in DHT: %v", err)
		}
		return
	}
	t.Fatal("no provider found")
}
