package content_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"

	"github.com/lyceum-oer/lyceum/ipfs"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/content"
)

// mustContent is the content room of an offline node over a store in
// memory.
func mustContent(tb testing.TB) (*content.Service, *ipfs.Content) {
	tb.Helper()
	store := ipfs.NewMemStore()
	tb.Cleanup(func() { store.Close() })
	c := ipfs.New(store, nil)
	return content.New(c, "", false), c
}

func TestHoldsAndProvidersTellWhetherTheWholeFileIsHere(t *testing.T) {
	ctx := context.Background()
	s, raw := mustContent(t)
	add := func(o api.AddOptions, seed byte) cid.Cid {
		t.Helper()
		o.Chunker = "size-1024" // many blocks
		c, err := s.Add(ctx, "sheet.txt", files.NewBytesFile(bytes.Repeat([]byte{seed, 'x'}, 8000)), o, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	pinned := add(api.AddOptions{}, 'a')
	unpinned := add(api.AddOptions{NoPin: true}, 'b')
	rawLeaves := add(api.AddOptions{NoPin: true, CIDVersion: 1}, 'c')
	// An inner node whose leaf the node does not have.
	sum, _ := mh.Sum([]byte("a block nobody stored"), mh.SHA2_256, -1)
	missing := cid.NewCidV1(cid.Raw, sum)
	inner := merkledag.NodeWithData([]byte{0x08, 0x02})
	if err := inner.AddRawLink("0", &ipld.Link{Cid: missing, Size: 21}); err != nil {
		t.Fatal(err)
	}
	if err := raw.PutBlock(ctx, inner.Cid(), inner.RawData()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		c           cid.Cid
		holds, kept bool
	}{
		{"a pinned file is held and kept", pinned, true, true},
		{"an unpinned file whose blocks are all here is held, not kept", unpinned, true, false},
		{"so is one with raw leaves", rawLeaves, true, false},
		{"a DAG missing a leaf is not held", inner.Cid(), false, false},
		{"a block never seen is not held", missing, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			held, err := s.Holds(ctx, tc.c)
			if err != nil || held != tc.holds {
				t.Fatalf("Holds = %v, %v; want %v", held, err, tc.holds)
			}
			p, err := s.Providers(ctx, tc.c, 0)
			if err != nil || p.Local != tc.kept || p.Peers != 0 || p.CID != tc.c.String() {
				t.Fatalf("Providers = %+v, %v; want local %v and no peers (offline)", p, err, tc.kept)
			}
		})
	}
}
