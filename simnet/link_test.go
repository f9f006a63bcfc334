package simnet

import (
	"context"
	"crypto/rand"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

func mustHost(tb testing.TB, f *Fabric, i int) host.Host {
	tb.Helper()
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	h, err := f.NewHost(i, k)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.Close() })
	return h
}

// TestBurstArrivesInOneLatency is the property mocknet lacks: a burst of
// N writes on one stream over a link of latency L arrives after about L,
// not N×L. It asserts a ratio with a wide margin, not a wall time.
func TestBurstArrivesInOneLatency(t *testing.T) {
	const (
		lat = 100 * time.Millisecond
		n   = 50
	)
	f := NewFabric(func(a, b int) LinkParams { return LinkParams{Latency: lat} }, 0, 1)
	a, b := mustHost(t, f, 1), mustHost(t, f, 2)
	got := make(chan time.Time, 1)
	b.SetStreamHandler("/burst", func(s network.Stream) {
		defer s.Close()
		buf := make([]byte, 1024)
		for i := 0; i < n; i++ {
			if _, err := io.ReadFull(s, buf); err != nil {
				t.Error(err)
				return
			}
		}
		got <- time.Now()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		t.Fatal(err)
	}
	s, err := a.NewStream(ctx, b.ID(), "/burst")
	if err != nil {
		t.Fatal(err)
	}
	// One message first so that protocol negotiation is over.
	start := time.Now()
	msg := make([]byte, 1024)
	for i := 0; i < n; i++ {
		if _, err := s.Write(msg); err != nil {
			t.Fatal(err)
		}
	}
	var end time.Time
	select {
	case end = <-got:
	case <-ctx.Done():
		t.Fatal("burst never arrived")
	}
	took := end.Sub(start)
	// Stream opening costs a round trip for multistream (lazy negotiation
	// sends it with the data), so allow a few latencies; stop-and-wait
	// would take n latencies.
	if ratio := float64(took) / float64(lat); ratio > 6 {
		t.Fatalf("a burst of %d writes took %v = %.1f latencies; want about 1 (stop-and-wait would be %d)", n, took, ratio, n)
	} else {
		t.Logf("a burst of %d writes took %v = %.1f latencies", n, took, ratio)
	}
	if ratio := float64(took) / float64(lat); ratio < 0.9 {
		t.Fatalf("the burst arrived in %v, before one latency (%v)", took, lat)
	}
}

// TestUplinkSerialises checks the bandwidth model: 1 MB through a 1 MB/s
// uplink arrives after about a second plus latency.
func TestUplinkSerialises(t *testing.T) {
	const lat = 10 * time.Millisecond
	f := NewFabric(func(a, b int) LinkParams { return LinkParams{Latency: lat} }, 1<<20, 1)
	a, b := f.pipe(1, 2, Addr(1), Addr(2))
	defer a.Close()
	defer b.Close()
	start := time.Now()
	for i := 0; i < 16; i++ {
		if _, err := a.Write(make([]byte, 64<<10)); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 1<<20)
	if _, err := io.ReadFull(b, buf); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if took < 900*time.Millisecond || took > 5*time.Second {
		t.Fatalf("1 MiB at 1 MiB/s took %v; want about 1 s", took)
	}
	if got := f.BytesSent(1); got != 1<<20 {
		t.Fatalf("counted %d bytes sent, want %d", got, 1<<20)
	}
}

// TestPartitionCutsAndRefuses: a partition breaks open connections and
// refuses new dials across it; healing allows them again.
func TestPartitionCutsAndRefuses(t *testing.T) {
	f := NewFabric(func(a, b int) LinkParams { return LinkParams{Latency: time.Millisecond} }, 0, 1)
	a, b := mustHost(t, f, 1), mustHost(t, f, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info := peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}
	if err := a.Connect(ctx, info); err != nil {
		t.Fatal(err)
	}
	f.Partition(map[int]int{1: 0, 2: 1})
	deadline := time.Now().Add(5 * time.Second)
	for a.Network().Connectedness(b.ID()) == network.Connected && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if a.Network().Connectedness(b.ID()) == network.Connected {
		t.Fatal("still connected across the partition")
	}
	if err := a.Connect(network.WithForceDirectDial(ctx, "test"), info); err == nil {
		t.Fatal("dialled across the partition")
	}
	f.Partition(nil)
	if err := a.Connect(network.WithForceDirectDial(ctx, "test"), info); err != nil {
		t.Fatalf("after healing: %v", err)
	}
}
