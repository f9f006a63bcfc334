package ipfs

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sync"
	"time"

	"github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	mh "github.com/multiformats/go-multihash"
)

// DAGProtocol streams a whole DAG from a peer that holds it: the caller
// sends a root CID, the peer answers with every block of the DAG in
// depth-first order, and the caller checks each block against the CID it
// expects next, as a trustless gateway's CAR response is checked. Bitswap
// asks for each layer of a DAG only once it has the layer above, so it
// waits one round trip per layer and per window of wants; a stream waits
// one round trip in all.
//
// On the wire the request is uvarint(len) ‖ CID bytes; the answer is one
// status byte (dagHave or dagMissing), then for each block uvarint(len) ‖
// bytes, in the order both sides derive from the DAG: pre-order, links in
// their order, a CID seen before in the stream skipped, identity CIDs
// skipped, links followed in dag-pb blocks only. A peer that finds a
// block missing part way ends the stream; the caller gets the rest over
// bitswap.
const DAGProtocol protocol.ID = "/lyceum/dag/1.0.0"

// Answer statuses of DAGProtocol.
const (
	dagHave    byte = 0
	dagMissing byte = 1 // the peer lacks the root, or is busy
)

// Bounds of DAGProtocol.
const (
	dagMaxCID          = 256              // bytes of the requested CID
	dagMaxBlocks       = 1 << 20          // blocks in one stream (256 GiB of 256 KiB chunks)
	dagFrameTimeout    = 20 * time.Second // for each read or write of a frame
	dagServedPerPeer   = 2                // streams one peer may have open at once
	dagServedAll       = 16               // streams this node serves at once
	dagAskPeers        = 8                // peers asked for one root at once
	dagWriteBatchBytes = 8 << 20          // received bytes written to the store at once
)

// dagServer answers DAGProtocol from the local store only.
type dagServer struct {
	e       *Exchange
	all     chan struct{} // one slot per stream served
	mu      sync.Mutex
	perPeer map[peer.ID]int
}

func newDAGServer(e *Exchange) *dagServer {
	return &dagServer{e: e, all: make(chan struct{}, dagServedAll), perPeer: map[peer.ID]int{}}
}

// acquire takes a slot for a stream from p, or reports that none is free.
func (s *dagServer) acquire(p peer.ID) bool {
	select {
	case s.all <- struct{}{}:
	default:
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perPeer[p] >= dagServedPerPeer {
		<-s.all
		return false
	}
	s.perPeer[p]++
	return true
}

func (s *dagServer) release(p peer.ID) {
	s.mu.Lock()
	if s.perPeer[p]--; s.perPeer[p] <= 0 {
		delete(s.perPeer, p)
	}
	s.mu.Unlock()
	<-s.all
}

// handle serves one stream. Peers' input never panics the node: a panic
// is logged and the stream reset.
func (s *dagServer) handle(st network.Stream) {
	from := st.Conn().RemotePeer()
	defer func() {
		if r := recover(); r != nil {
			s.e.log.Error("ipfs: panic serving a DAG stream", "peer", from, "panic", r, "stack", string(debug.Stack()))
			_ = st.Reset()
		}
	}()
	_ = st.SetReadDeadline(time.Now().Add(dagFrameTimeout))
	root, err := readCIDRequest(bufio.NewReaderSize(st, dagMaxCID+binary.MaxVarintLen64))
	if err != nil {
		s.e.log.Debug("ipfs: bad DAG stream request", "peer", from, "err", err)
		_ = st.Reset()
		return
	}
	if !s.acquire(from) {
		s.refuse(st)
		return
	}
	defer s.release(from)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // the stream ends with the node
		select {
		case <-s.e.done:
			_ = st.Reset()
		case <-ctx.Done():
		}
	}()
	if has, err := s.e.store.base.Has(ctx, root); err != nil || !has {
		s.refuse(st)
		return
	}
	w := bufio.NewWriterSize(st, 256<<10)
	_ = st.SetWriteDeadline(time.Now().Add(dagFrameTimeout))
	if err := w.WriteByte(dagHave); err != nil {
		_ = st.Reset()
		return
	}
	sent, err := s.send(ctx, st, w, root)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		s.e.log.Debug("ipfs: DAG stream ended early", "peer", from, "root", root, "blocks", sent, "err", err)
		_ = st.Reset()
		return
	}
	_ = st.Close()
}

// refuse tells the caller this node will not stream the DAG.
func (s *dagServer) refuse(st network.Stream) {
	_ = st.SetWriteDeadline(time.Now().Add(dagFrameTimeout))
	_, _ = st.Write([]byte{dagMissing})
	_ = st.Close()
}

// send writes the DAG's blocks in stream order.
func (s *dagServer) send(ctx context.Context, st network.Stream, w *bufio.Writer, root cid.Cid) (int, error) {
	var lenBuf [binary.MaxVarintLen64]byte
	walk := newDAGWalk(root)
	for n := 0; ; n++ {
		c, ok := walk.next()
		if !ok {
			return n, nil
		}
		if n >= dagMaxBlocks {
			return n, fmt.Errorf("more than %d blocks", dagMaxBlocks)
		}
		b, err := s.e.store.base.Get(ctx, c)
		if err != nil {
			return n, fmt.Errorf("block %s: %w", c, err)
		}
		data := b.RawData()
		if _, err := walk.visit(c, data); err != nil {
			return n, err
		}
		_ = st.SetWriteDeadline(time.Now().Add(dagFrameTimeout))
		k := binary.PutUvarint(lenBuf[:], uint64(len(data)))
		if _, err := w.Write(lenBuf[:k]); err != nil {
			return n, err
		}
		if _, err := w.Write(data); err != nil {
			return n, err
		}
		s.e.counts.blocksOut.Add(1)
		s.e.counts.bytesOut.Add(uint64(len(data)))
	}
}

// readCIDRequest reads uvarint(len) ‖ CID.
func readCIDRequest(r *bufio.Reader) (cid.Cid, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return cid.Undef, fmt.Errorf("read request: %w", err)
	}
	if n == 0 || n > dagMaxCID {
		return cid.Undef, fmt.Errorf("request of %d bytes", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return cid.Undef, fmt.Errorf("read request: %w", err)
	}
	c, err := cid.Cast(buf)
	if err != nil {
		return cid.Undef, fmt.Errorf("request: %w", err)
	}
	return c, nil
}

// dagWalk is the order both sides of DAGProtocol agree on.
type dagWalk struct {
	stack []cid.Cid
	seen  *cid.Set
}

func newDAGWalk(root cid.Cid) *dagWalk {
	return &dagWalk{stack: []cid.Cid{root}, seen: cid.NewSet()}
}

// next returns the CID of the next block in the stream.
func (w *dagWalk) next() (cid.Cid, bool) {
	for len(w.stack) > 0 {
		c := w.stack[len(w.stack)-1]
		w.stack = w.stack[:len(w.stack)-1]
		if c.Prefix().MhType == mh.IDENTITY || !w.seen.Visit(c) {
			continue
		}
		return c, true
	}
	return cid.Undef, false
}

// visit takes the block of c, just returned by next, queues its links and
// returns them.
func (w *dagWalk) visit(c cid.Cid, data []byte) ([]cid.Cid, error) {
	if c.Type() != cid.DagProtobuf {
		return nil, nil
	}
	nd, err := merkledag.DecodeProtobuf(data)
	if err != nil {
		return nil, fmt.Errorf("block %s: %w", c, err)
	}
	links := nd.Links()
	for i := len(links) - 1; i >= 0; i-- {
		w.stack = append(w.stack, links[i].Cid)
	}
	return w.stack[len(w.stack)-len(links):], nil
}

// errStreamEnded is what a waiter gets when its block will not come over
// the stream; it then asks bitswap.
var errStreamEnded = errors.New("DAG stream ended before the block")

// dagFetch receives one DAG stream and hands its blocks to whoever waits
// for them. Blocks are verified against the CIDs the walk expects before
// anyone sees them.
type dagFetch struct {
	root cid.Cid
	mu   sync.Mutex
	// want holds the CIDs the stream will still deliver, each with the
	// channel closed when it arrives or will not.
	want map[cid.Cid]*dagWaiter
	// got holds the blocks that arrived and are not in the store yet (the
	// batch being gathered): a reader that asks for one then has it at
	// once, instead of asking bitswap for a block it already has.
	got   map[cid.Cid]blocks.Block
	ended bool
	// finished is closed once the receiver has stopped and written what
	// it received.
	finished chan struct{}
}

type dagWaiter struct {
	done chan struct{}
	blk  blocks.Block // set before done is closed; nil if it will not come
}

// expect registers c as coming; it returns the waiter.
func (f *dagFetch) expect(c cid.Cid) *dagWaiter {
	f.mu.Lock()
	defer f.mu.Unlock()
	if w, ok := f.want[c]; ok {
		return w
	}
	w := &dagWaiter{done: make(chan struct{})}
	if f.ended {
		close(w.done)
		return w
	}
	f.want[c] = w
	return w
}

// waiter returns the waiter of c if the stream is to deliver it or has
// delivered it and not stored it yet.
func (f *dagFetch) waiter(c cid.Cid) (*dagWaiter, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if w, ok := f.want[c]; ok {
		return w, true
	}
	if b, ok := f.got[c]; ok {
		w := &dagWaiter{done: make(chan struct{}), blk: b}
		close(w.done)
		return w, true
	}
	return nil, false
}

// arrived hands b to its waiter and keeps it until stored.
func (f *dagFetch) arrived(b blocks.Block) {
	f.mu.Lock()
	w, ok := f.want[b.Cid()]
	delete(f.want, b.Cid())
	if f.got == nil {
		f.got = map[cid.Cid]blocks.Block{}
	}
	f.got[b.Cid()] = b
	f.mu.Unlock()
	if ok {
		w.blk = b
		close(w.done)
	}
}

// stored forgets blocks the store now holds.
func (f *dagFetch) stored(bs []blocks.Block) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range bs {
		delete(f.got, b.Cid())
	}
}

// end releases every waiter still waiting: their blocks come from bitswap.
func (f *dagFetch) end() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ended = true
	for c, w := range f.want {
		close(w.done)
		delete(f.want, c)
	}
}
