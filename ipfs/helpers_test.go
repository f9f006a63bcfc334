package ipfs

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// quietLogger drops everything below warnings, so test output stays short.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// MustMemContent returns offline Content over a fresh memory store.
func MustMemContent(tb testing.TB) *Content {
	tb.Helper()
	s := NewMemStore(WithStoreLogger(quietLogger()))
	tb.Cleanup(func() { _ = s.Close() })
	return New(s, nil, WithLogger(quietLogger()))
}

// MustOpenStore opens an on-disk store in dir and closes it at cleanup.
func MustOpenStore(tb testing.TB, dir string) *Store {
	tb.Helper()
	s, err := OpenStore(dir, WithStoreLogger(quietLogger()))
	if err != nil {
		tb.Fatalf("OpenStore: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// MustAddBytes adds data as a file and returns its CID.
func MustAddBytes(tb testing.TB, c *Content, data []byte, o ImportOptions) cid.Cid {
	tb.Helper()
	root, err := c.Add(context.Background(), "test", files.NewBytesFile(data), o, nil)
	if err != nil {
		tb.Fatalf("Add: %v", err)
	}
	return root
}

// MustCat reads the whole file root.
func MustCat(tb testing.TB, c *Content, root cid.Cid) []byte {
	tb.Helper()
	r, size, err := c.Cat(context.Background(), root)
	if err != nil {
		tb.Fatalf("Cat %s: %v", root, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		tb.Fatalf("Cat %s: read: %v", root, err)
	}
	if int64(len(data)) != size {
		tb.Fatalf("Cat %s: read %d bytes, size says %d", root, len(data), size)
	}
	return data
}

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// MustHost starts a libp2p host on loopback TCP.
func MustHost(tb testing.TB) host.Host {
	tb.Helper()
	h, err := libp2p.New(
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.DisableRelay(),
	)
	if err != nil {
		tb.Fatalf("libp2p.New: %v", err)
	}
	tb.Cleanup(func() { _ = h.Close() })
	return h
}

// peerPair is two online nodes on loopback, connected directly.
type peerPair struct {
	a, b *Content
}

// MustPeerPair starts two hosts with memory stores and bitswap, and
// connects them.
func MustPeerPair(tb testing.TB) peerPair {
	tb.Helper()
	return peerPair{a: MustOnline(tb, NewMemStore(WithStoreLogger(quietLogger()))), b: nil}.connect(tb)
}

// MustOnline returns Content over s with bitswap on a new loopback host.
func MustOnline(tb testing.TB, s *Store) *Content {
	tb.Helper()
	h := MustHost(tb)
	e, err := NewExchange(h, nil, s, ExchangeConfig{}, WithExchangeLogger(quietLogger()))
	if err != nil {
		tb.Fatalf("NewExchange: %v", err)
	}
	tb.Cleanup(func() {
		_ = e.Close()
		_ = s.Close()
	})
	c := New(s, e, WithLogger(quietLogger()))
	return c
}

func (p peerPair) connect(tb testing.TB) peerPair {
	tb.Helper()
	if p.b == nil {
		p.b = MustOnline(tb, NewMemStore(WithStoreLogger(quietLogger())))
	}
	ha, hb := hostOf(p.a), hostOf(p.b)
	if err := hb.Connect(context.Background(), peer.AddrInfo{ID: ha.ID(), Addrs: ha.Addrs()}); err != nil {
		tb.Fatalf("connect: %v", err)
	}
	return p
}

func hostOf(c *Content) host.Host { return c.exch.host }

func equalBytes(tb testing.TB, got, want []byte) {
	tb.Helper()
	if !bytes.Equal(got, want) {
		tb.Fatalf("content differs: got %d bytes, want %d", len(got), len(want))
	}
}

func mustWrite(tb testing.TB, path string, data []byte) {
	tb.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
