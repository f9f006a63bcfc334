package ipfs

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// connectTo connects b to a and waits until b knows which protocols a
// speaks (identify), as a node that has been connected a while does.
func connectTo(tb testing.TB, b, a *Content) {
	tb.Helper()
	ha, hb := hostOf(a), hostOf(b)
	if err := hb.Connect(context.Background(), peer.AddrInfo{ID: ha.ID(), Addrs: ha.Addrs()}); err != nil {
		tb.Fatalf("connect: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if protos, _ := hb.Peerstore().GetProtocols(ha.ID()); len(protos) > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatal("identify did not complete")
}

func mustStat(tb testing.TB, c *Content) ExchangeStat {
	tb.Helper()
	st, err := c.exch.Stat()
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// countBlocks counts the blocks of root's DAG in c's store.
func countBlocks(tb testing.TB, c *Content, root cid.Cid) int {
	tb.Helper()
	set := cid.NewSet()
	if err := c.store.walk(context.Background(), root, set, false); err != nil {
		tb.Fatal(err)
	}
	return set.Len()
}

func TestDAGStreamBringsTheWholeDAGInOneStream(t *testing.T) {
	for _, o := range []ImportOptions{{Pin: true}, {Pin: true, CIDVersion: 1}} {
		a := MustOnline(t, NewMemStore(WithStoreLogger(quietLogger())))
		b := MustOnline(t, NewMemStore(WithStoreLogger(quietLogger())))
		connectTo(t, b, a)
		data := randomBytes(40, 8<<20+123)
		root := MustAddBytes(t, a, data, o)

		equalBytes(t, MustCat(t, b, root), data)
		st := mustStat(t, b)
		if want := countBlocks(t, a, root); st.StreamBlocksReceived != uint64(want) {
			t.Errorf("CIDv%d: %d blocks came in the stream, want all %d", o.CIDVersion, st.StreamBlocksReceived, want)
		}
		if st.BlocksReceived != 0 {
			t.Errorf("CIDv%d: bitswap brought %d blocks, want none", o.CIDVersion, st.BlocksReceived)
		}
		if sent := mustStat(t, a).StreamBlocksSent; sent != st.StreamBlocksReceived {
			t.Errorf("A sent %d blocks, B received %d", sent, st.StreamBlocksReceived)
		}
	}
}

func TestPinFetchesByDAGStream(t *testing.T) {
	a := MustOnline(t, NewMemStore(WithStoreLogger(quietLogger())))
	b := MustOnline(t, NewMemStore(WithStoreLogger(quietLogger())))
	connectTo(t, b, a)
	root := MustAddBytes(t, a, randomBytes(41, 3<<20), ImportOptions{})
	if err := b.Pin(context.Background(), root); err != nil {
		t.Fatal(err)
	}
	if got, want := countBlocks(t, b, root), countBlocks(t, a, root); got != want {
		t.Fatalf("B holds %d blocks of the pinned DAG, want %d", got, want)
	}
	if mustStat(t, b).StreamBlocksReceived == 0 {
		t.Error("no block came by DAG stream")
	}
}

// withoutDAGProtocol makes c a peer that speaks bitswap only, as Kubo.
func withoutDAGProtocol(c *Content) { hostOf(c).RemoveStreamHandler(DAGProtocol) }

func TestDAGStreamThatEndsEarlyLeavesTheRestToBitswap(t *testing.T) {
	full := MustOnline(t, NewMemStore(WithStoreLogger(quietLogger())))
	withoutDAGProtocol(full)
	partial := MustOnline(t, NewMemStore(WithStoreLogger(quietLogger())))
	b := MustOnline(t, NewMemStore(WithStoreLogger(quietLogger())))
	data := randomBytes(42, 4<<20)
	root := MustAddBytes(t, full, data, ImportOptions{Pin: true})
	MustAddBytes(t, partial, data, ImportOptions{})
	// partial loses a leaf in the middle of the file.
	nd, err := partial.dag.Get(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	if err := partial.store.base.DeleteBlock(context.Background(), nd.Links()[len(nd.Links())/2].Cid); err != nil {
		t.Fatal(err)
	}
	connectTo(t, b, full)
	connectTo(t, b, partial)

	equalBytes(t, MustCat(t, b, root), data)
	st := mustStat(t, b)
	if st.StreamsIncomplete != 1 || st.StreamBlocksReceived == 0 {
		t.Errorf("streams incomplete %d, blocks streamed %d: want one incomplete stream that brought some", st.StreamsIncomplete, st.StreamBlocksReceived)
	}
	if st.BlocksReceived == 0 {
		t.Error("bitswap brought nothing: the missing leaf came from nowhere")
	}
}

func TestDAGStreamOfWrongBytesIsRefusedAndBitswapServes(t *testing.T) {
	a := MustOnline(t, NewMemStore(WithStoreLogger(quietLogger())))
	b := MustOnline(t, NewMemStore(WithStoreLogger(quietLogger())))
	data := randomBytes(43, 1<<20)
	root := MustAddBytes(t, a, data, ImportOptions{Pin: true})
	// A lies in its DAG streams: the root's bytes, one bit flipped.
	rootBlock, err := a.store.base.Get(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	lie := bytes.Clone(rootBlock.RawData())
	lie[len(lie)/2] ^= 1
	hostOf(a).SetStreamHandler(DAGProtocol, func(st network.Stream) {
		defer st.Close()
		frame := append([]byte{dagHave}, binary.AppendUvarint(nil, uint64(len(lie)))...)
		_, _ = st.Write(append(frame, lie...))
	})
	connectTo(t, b, a)

	equalBytes(t, MustCat(t, b, root), data)
	if st := mustStat(t, b); st.StreamsIncomplete != 1 || st.StreamBlocksReceived != 0 {
		t.Errorf("streams incomplete %d, blocks accepted from the liar %d: want 1 and 0", st.StreamsIncomplete, st.StreamBlocksReceived)
	}
}

func TestDAGStreamServerLimitsStreamsPerPeer(t *testing.T) {
	a := MustOnline(t, NewMemStore(WithStoreLogger(quietLogger())))
	b := MustHost(t)
	root := MustAddBytes(t, a, randomBytes(44, 64<<20), ImportOptions{})
	ha := hostOf(a)
	if err := b.Connect(context.Background(), peer.AddrInfo{ID: ha.ID(), Addrs: ha.Addrs()}); err != nil {
		t.Fatal(err)
	}
	req := binary.AppendUvarint(nil, uint64(len(root.Bytes())))
	req = append(req, root.Bytes()...)
	status := func() byte {
		st, err := b.NewStream(context.Background(), ha.ID(), DAGProtocol)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Reset() })
		if _, err := st.Write(req); err != nil {
			t.Fatal(err)
		}
		var s [1]byte
		if _, err := io.ReadFull(st, s[:]); err != nil {
			t.Fatal(err)
		}
		return s[0]
	}
	// Two streams that never read hold their slots; the third is told no.
	for i, want := range []byte{dagHave, dagHave, dagMissing} {
		if got := status(); got != want {
			t.Fatalf("stream %d: status %d, want %d", i+1, got, want)
		}
	}
}

func TestDAGStreamIsNotStartedForALocalDAG(t *testing.T) {
	p := MustPeerPair(t)
	root := MustAddBytes(t, p.b, randomBytes(45, 2<<20), ImportOptions{})
	MustAddBytes(t, p.a, randomBytes(45, 2<<20), ImportOptions{})
	MustCat(t, p.b, root)
	if st := mustStat(t, p.a); st.StreamBlocksSent != 0 {
		t.Errorf("A streamed %d blocks of a DAG B had", st.StreamBlocksSent)
	}
}
