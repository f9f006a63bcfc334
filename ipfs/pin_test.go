package ipfs

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
)

func TestGCKeepsPinnedAndRemovesUnpinned(t *testing.T) {
	c := MustMemContent(t)
	ctx := context.Background()
	kept := randomBytes(10, 1<<20)
	pinned := MustAddBytes(t, c, kept, ImportOptions{Pin: true})
	loose := MustAddBytes(t, c, randomBytes(11, 1<<20), ImportOptions{})

	removed, err := c.GC(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if removed != 5 { // a root and four 256 KiB leaves
		t.Errorf("removed %d blocks, want 5", removed)
	}
	if has, _ := c.Has(ctx, loose); has {
		t.Error("unpinned root survived GC")
	}
	equalBytes(t, MustCat(t, c, pinned), kept)

	t.Run("unpinning lets the next GC take it", func(t *testing.T) {
		if err := c.Unpin(ctx, pinned); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GC(ctx); err != nil {
			t.Fatal(err)
		}
		st, err := c.Stat(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Blocks != 0 || st.Pins != 0 {
			t.Errorf("stat after GC: %+v, want empty", st)
		}
	})
	t.Run("unpinning twice is ErrNotPinned", func(t *testing.T) {
		if err := c.Unpin(ctx, pinned); !errors.Is(err, ErrNotPinned) {
			t.Fatalf("got %v, want ErrNotPinned", err)
		}
	})
}

func TestGCDuringAddNeverDeletesTheAddsBlocks(t *testing.T) {
	c := MustMemContent(t)
	ctx := context.Background()
	const adds = 8
	var wg sync.WaitGroup
	roots := make([]cid.Cid, adds)
	data := make([][]byte, adds)
	errs := make(chan error, 2*adds)
	for i := range adds {
		data[i] = randomBytes(uint64(100+i), 2<<20)
		wg.Go(func() {
			r, err := c.Add(ctx, "f", files.NewBytesFile(data[i]), ImportOptions{Pin: true, Chunker: "size-65536"}, nil)
			roots[i] = r
			if err != nil {
				errs <- err
			}
		})
		wg.Go(func() {
			if _, err := c.GC(ctx); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if _, err := c.GC(ctx); err != nil {
		t.Fatal(err)
	}
	for i, r := range roots {
		equalBytes(t, MustCat(t, c, r), data[i])
	}
}
