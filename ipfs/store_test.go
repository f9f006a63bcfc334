package ipfs

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/ipfs/go-datastore"
	dsq "github.com/ipfs/go-datastore/query"
)

func TestReopenedStoreKeepsPinsBlocksAndRecords(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	data := randomBytes(20, 600<<10)

	s, err := OpenStore(dir, WithStoreLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	c := New(s, nil, WithLogger(quietLogger()))
	root := MustAddBytes(t, c, data, ImportOptions{Pin: true})
	key := datastore.NewKey("/feed/last")
	if err := s.Datastore().Put(ctx, key, []byte("42")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	s = MustOpenStore(t, dir)
	c = New(s, nil, WithLogger(quietLogger()))
	pins, err := c.Pins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(pins, root.Equals) {
		t.Fatalf("pins after reopen %v, want %s", pins, root)
	}
	if _, err := c.GC(ctx); err != nil {
		t.Fatal(err)
	}
	equalBytes(t, MustCat(t, c, root), data)
	got, err := s.Datastore().Get(ctx, key)
	if err != nil || !bytes.Equal(got, []byte("42")) {
		t.Fatalf("record after reopen: %q, %v", got, err)
	}
	st, err := c.Stat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Blocks != 4 || st.Pins != 1 || st.SizeBytes < int64(len(data)) {
		t.Fatalf("stat %+v: want 4 blocks, 1 pin, at least %d bytes", st, len(data))
	}
}

func TestNodeRecordsDoNotSeePinsOrBlocks(t *testing.T) {
	s := MustOpenStore(t, t.TempDir())
	c := New(s, nil, WithLogger(quietLogger()))
	MustAddBytes(t, c, []byte("x"), ImportOptions{Pin: true})
	res, err := s.Datastore().Query(context.Background(), dsq.Query{})
	if err != nil {
		t.Fatal(err)
	}
	all, err := res.Rest()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 0 {
		t.Fatalf("node datastore sees %d foreign keys, first %q", len(all), all[0].Key)
	}
}
