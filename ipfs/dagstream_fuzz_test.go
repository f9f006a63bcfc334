package ipfs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
)

// dagStreamSeed is a valid DAG stream of a small two-level file, and its
// root.
func dagStreamSeed(tb testing.TB) (cid.Cid, []byte) {
	tb.Helper()
	c := MustMemContent(tb)
	root := MustAddBytes(tb, c, randomBytes(46, 5000), ImportOptions{Chunker: "size-1024"})
	var out bytes.Buffer
	walk := newDAGWalk(root)
	for {
		k, ok := walk.next()
		if !ok {
			return root, out.Bytes()
		}
		b, err := c.store.base.Get(context.Background(), k)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := walk.visit(k, b.RawData()); err != nil {
			tb.Fatal(err)
		}
		out.Write(binary.AppendUvarint(nil, uint64(len(b.RawData()))))
		out.Write(b.RawData())
	}
}

// FuzzDAGStreamReceive feeds a receiver arbitrary stream bytes for a known
// root: it must never panic, and whatever it stores must be the blocks of
// the CIDs they are stored under.
func FuzzDAGStreamReceive(f *testing.F) {
	root, valid := dagStreamSeed(f)
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{0x05, 1, 2, 3, 4, 5})
	f.Fuzz(func(t *testing.T, stream []byte) {
		e := &Exchange{store: NewMemStore(WithStoreLogger(quietLogger())), log: quietLogger()}
		fetch := &dagFetch{root: root, want: map[cid.Cid]*dagWaiter{}}
		_, _, _ = e.receiveDAG(context.Background(), bytes.NewReader(stream), func(time.Time) error { return nil }, fetch)
		err := e.store.forEachBlock(context.Background(), func(k cid.Cid) error {
			b, err := e.store.base.Get(context.Background(), k)
			if err != nil {
				return err
			}
			sum, err := k.Prefix().Sum(b.RawData())
			if err != nil || !sum.Equals(k) {
				t.Fatalf("stored block %s does not hash to its CID", k)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDAGStreamRequest feeds the server's request reader arbitrary bytes.
func FuzzDAGStreamRequest(f *testing.F) {
	root, _ := dagStreamSeed(f)
	f.Add(append(binary.AppendUvarint(nil, uint64(len(root.Bytes()))), root.Bytes()...))
	f.Add([]byte{0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, req []byte) {
		c, err := readCIDRequest(bufio.NewReader(bytes.NewReader(req)))
		if err == nil && len(c.Bytes()) > dagMaxCID {
			t.Fatalf("accepted a CID of %d bytes", len(c.Bytes()))
		}
	})
}
