package ipfs

import (
	"context"
	"testing"
)

// pendingBlocks is how many blocks of s are written but not yet synced.
func pendingBlocks(tb testing.TB, s *Store) int64 {
	tb.Helper()
	if s.blocks == nil {
		tb.Fatal("the store has no block folder to sync")
	}
	return s.blocks.pending()
}

// An add writes its blocks without waiting for the disk, and syncs them
// all before it pins and before it returns the CID: every block and the
// pin are on stable storage when the CID is printed.
func TestAddSyncsEveryBlockBeforeThePinAndTheCID(t *testing.T) {
	s := MustOpenStore(t, t.TempDir())
	c := New(s, nil, WithLogger(quietLogger()))
	var atPin []int64
	s.beforePin = func() { atPin = append(atPin, pendingBlocks(t, s)) }
	for _, o := range []ImportOptions{{Pin: true}, {}} {
		MustAddBytes(t, c, randomBytes(80, 9<<20), o)
		if n := pendingBlocks(t, s); n != 0 {
			t.Errorf("%d blocks not synced when the add returned (pin %v)", n, o.Pin)
		}
	}
	if len(atPin) != 1 || atPin[0] != 0 {
		t.Errorf("blocks not synced when the pin was written: %v", atPin)
	}
}

// Fetched blocks are a cache: they are written without a sync, and a pin
// syncs them before it is recorded.
func TestFetchedBlocksAreSyncedBeforeTheirPin(t *testing.T) {
	a := MustOnline(t, NewMemStore(WithStoreLogger(quietLogger())))
	bs := MustOpenStore(t, t.TempDir())
	b := MustOnline(t, bs)
	connectTo(t, b, a)
	data := randomBytes(81, 3<<20)
	root := MustAddBytes(t, a, data, ImportOptions{})
	equalBytes(t, MustCat(t, b, root), data)
	if pendingBlocks(t, bs) == 0 {
		t.Fatal("fetched blocks were synced one by one")
	}
	var atPin int64 = -1
	bs.beforePin = func() { atPin = pendingBlocks(t, bs) }
	if err := b.Pin(context.Background(), root); err != nil {
		t.Fatal(err)
	}
	if atPin != 0 {
		t.Errorf("%d fetched blocks not synced when the pin was written", atPin)
	}
}
