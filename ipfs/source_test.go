package ipfs

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// mapSource is a BlockSource over a map, standing in for the node's
// SQLite log.
type mapSource struct {
	mu     sync.Mutex
	blocks map[cid.Cid][]byte
}

func (m *mapSource) LookupBlock(_ context.Context, c cid.Cid) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.blocks[c]
	return d, ok, nil
}

func jsonBlock(t *testing.T, s string) (cid.Cid, []byte) {
	t.Helper()
	h, err := mh.Sum([]byte(s), mh.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(codecJSON, h), []byte(s)
}

func TestSourceBlocksAreServedLocallyAndByBitswapButNeverCollected(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k, data := jsonBlock(t, `{"type":"Create","seq":1}`)
	src := &mapSource{blocks: map[cid.Cid][]byte{k: data}}
	a := MustOnline(t, NewMemStore(WithStoreLogger(quietLogger()), WithBlockSource(src)))

	got, err := a.GetBlock(ctx, k)
	if err != nil {
		t.Fatalf("local GetBlock: %v", err)
	}
	equalBytes(t, got, data)
	if has, err := a.HasBlock(ctx, k); err != nil || !has {
		t.Fatalf("HasBlock = %v, %v; want true", has, err)
	}
	if n, err := a.store.bs.GetSize(ctx, k); err != nil || n != len(data) {
		t.Fatalf("GetSize = %d, %v; want %d", n, err, len(data))
	}

	// GC lists and collects only the blockstore's own blocks.
	other := MustAddBytes(t, a, []byte("not pinned"), ImportOptions{})
	removed, err := a.GC(ctx)
	if err != nil {
		t.Fatalf("GC: %v", err)
	}
	if removed != 1 {
		t.Errorf("GC removed %d blocks, want 1 (%s)", removed, other)
	}
	if has, _ := a.HasBlock(ctx, k); !has {
		t.Fatal("GC removed a block of the source")
	}

	// Another node fetches it over bitswap, verified against its CID.
	p := peerPair{a: a}.connect(t)
	got, err = p.b.GetBlock(ctx, k)
	if err != nil {
		t.Fatalf("GetBlock over bitswap: %v", err)
	}
	equalBytes(t, got, data)
}
