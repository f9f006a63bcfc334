package ipfs

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// fetchSize is the file moved between two hosts: 256 MiB for a full run,
// 16 MiB with -short or the race detector.
func fetchSize() int {
	if testing.Short() || raceEnabled {
		return 16 << 20
	}
	return 256 << 20
}

func TestFileAddedOnAIsFetchedByB(t *testing.T) {
	p := MustPeerPair(t)
	data := randomBytes(2, fetchSize())
	root := MustAddBytes(t, p.a, data, ImportOptions{Pin: true})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("by Cat", func(t *testing.T) {
		equalBytes(t, MustCat(t, p.b, root), data)
	})
	t.Run("by Get", func(t *testing.T) {
		out := t.TempDir() + "/file"
		var last int64
		if err := p.b.Get(ctx, root, out, func(n int64) { last = n }); err != nil {
			t.Fatal(err)
		}
		if last != int64(len(data)) {
			t.Errorf("progress ended at %d, want %d", last, len(data))
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		equalBytes(t, got, data)
	})
}

func TestPinOnBFetchesWhatOnlyAHas(t *testing.T) {
	p := MustPeerPair(t)
	data := randomBytes(3, 3<<20)
	root := MustAddBytes(t, p.a, data, ImportOptions{CIDVersion: 1})

	if has, _ := p.b.Has(context.Background(), root); has {
		t.Fatal("B has the root before pinning")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.b.Pin(ctx, root); err != nil {
		t.Fatal(err)
	}
	pins, err := p.b.Pins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(pins, root.Equals) {
		t.Fatalf("pins %v do not include %s", pins, root)
	}
	// The DAG is complete on B: it survives GC and reads offline.
	if _, err := p.b.GC(ctx); err != nil {
		t.Fatal(err)
	}
	offline := New(p.b.store, nil, WithLogger(quietLogger()))
	equalBytes(t, MustCat(t, offline, root), data)
}

func TestOfflineMissIsErrNotFound(t *testing.T) {
	c := MustMemContent(t)
	other := MustMemContent(t)
	root := MustAddBytes(t, other, []byte("only elsewhere"), ImportOptions{})
	ctx := context.Background()
	if _, _, err := c.Cat(ctx, root); !errors.Is(err, ErrNotFound) {
		t.Errorf("Cat: got %v, want ErrNotFound", err)
	}
	if err := c.Pin(ctx, root); !errors.Is(err, ErrNotFound) {
		t.Errorf("Pin: got %v, want ErrNotFound", err)
	}
	if err := c.Get(ctx, root, t.TempDir()+"/x", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get: got %v, want ErrNotFound", err)
	}
	if _, err := c.Size(ctx, root); !errors.Is(err, ErrNotFound) {
		t.Errorf("Size: got %v, want ErrNotFound", err)
	}
	var missing cid.Cid = root
	if has, err := c.Has(ctx, missing); err != nil || has {
		t.Errorf("Has: %v, %v", has, err)
	}
}

// A connection opened before the exchange starts (a bootstrap dial racing
// with start-up) produces no connection event for bitswap; the exchange
// must still ask that peer for blocks.
func TestPeerConnectedBeforeTheExchangeStartedIsAsked(t *testing.T) {
	a := MustOnline(t, NewMemStore(WithStoreLogger(quietLogger())))
	data := randomBytes(3, 64<<10)
	root := MustAddBytes(t, a, data, ImportOptions{Pin: true})

	hb := MustHost(t)
	ha := hostOf(a)
	if err := hb.Connect(context.Background(), peer.AddrInfo{ID: ha.ID(), Addrs: ha.Addrs()}); err != nil {
		t.Fatalf("connect: %v", err)
	}
	s := NewMemStore(WithStoreLogger(quietLogger()))
	e, err := NewExchange(hb, nil, s, ExchangeConfig{}, WithExchangeLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = e.Close()
		_ = s.Close()
	})
	b := New(s, e, WithLogger(quietLogger()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, _, err := b.Cat(ctx, root)
	if err != nil {
		t.Fatalf("bitswap never asked the early peer: %v", err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("bitswap never asked the early peer: %v", err)
	}
	equalBytes(t, got, data)
}

func TestCatOfACIDNoPeerHasSaysSoInBoundedTime(t *testing.T) {
	p := MustPeerPair(t)
	b := New(p.b.store, p.b.exch, WithLogger(quietLogger()), WithFindTimeout(300*time.Millisecond))
	missing := MustAddBytes(t, MustMemContent(t), randomBytes(47, 1000), ImportOptions{})
	start := time.Now()
	_, _, err := b.Cat(context.Background(), missing)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Cat of a CID nobody has: %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "no provider found for "+missing.String()+" after 300ms") {
		t.Errorf("error %q does not say that no provider was found", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %s", took)
	}
	if err := b.Pin(context.Background(), missing); !errors.Is(err, ErrNotFound) {
		t.Errorf("Pin: %v, want ErrNotFound", err)
	}
	// A context that ends first is the caller's doing, not a missing provider.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := b.Cat(ctx, missing); err == nil || strings.Contains(err.Error(), "no provider") {
		t.Errorf("Cat with a cancelled context: %v", err)
	}
}
