package ipfs

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ipfs/boxo/exchange"
	"github.com/ipfs/boxo/verifcid"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// dagFetches are the DAG streams this node is receiving.
type dagFetches struct {
	mu     sync.Mutex
	byRoot map[cid.Cid]*dagFetch
}

// waiter finds the stream that is to deliver c.
func (fs *dagFetches) waiter(c cid.Cid) (*dagWaiter, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range fs.byRoot {
		if w, ok := f.waiter(c); ok {
			return w, true
		}
	}
	return nil, false
}

// StreamDAG starts receiving the DAG of root over DAGProtocol from a
// connected peer that holds it, in the background, and returns at once.
// Reads of the DAG's blocks through the Content then wait for the stream
// instead of asking bitswap, and fall back to bitswap for any block the
// stream does not bring. It does nothing when the DAG looks local, when a
// stream for root runs already, or when no connected peer speaks the
// protocol (Kubo, say). The stream stops when ctx ends.
func (e *Exchange) StreamDAG(ctx context.Context, root cid.Cid) {
	if e.looksLocal(ctx, root) {
		return
	}
	peers := e.dagPeers()
	if len(peers) == 0 {
		return
	}
	e.fetches.mu.Lock()
	if _, ok := e.fetches.byRoot[root]; ok {
		e.fetches.mu.Unlock()
		return
	}
	f := &dagFetch{root: root, want: map[cid.Cid]*dagWaiter{}, finished: make(chan struct{})}
	f.expect(root)
	e.fetches.byRoot[root] = f
	e.fetches.mu.Unlock()

	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() { // stop with the Exchange too
			select {
			case <-e.done:
				cancel()
			case <-ctx.Done():
			}
		}()
		defer func() {
			f.end()
			e.fetches.mu.Lock()
			delete(e.fetches.byRoot, root)
			e.fetches.mu.Unlock()
			close(f.finished)
		}()
		st, from := e.askDAG(ctx, root, peers)
		if st == nil {
			return
		}
		defer st.Close()
		start := time.Now()
		n, bytes, err := e.receiveDAG(ctx, st, st.SetReadDeadline, f)
		if err != nil {
			_ = st.Reset()
			e.counts.incomplete.Add(1)
			e.log.Debug("ipfs: DAG stream incomplete, bitswap brings the rest", "root", root, "peer", from, "blocks", n, "err", err)
			return
		}
		e.log.Debug("ipfs: DAG streamed", "root", root, "peer", from, "blocks", n, "bytes", bytes, "took", time.Since(start))
	}()
}

// waitDAG waits until the stream of root, if one runs, has written all it
// received: a pin syncs the blocks before it is recorded, and a stream
// still writing could replace a synced block file with an unsynced copy.
func (e *Exchange) waitDAG(ctx context.Context, root cid.Cid) {
	e.fetches.mu.Lock()
	f, ok := e.fetches.byRoot[root]
	e.fetches.mu.Unlock()
	if !ok {
		return
	}
	select {
	case <-f.finished:
	case <-ctx.Done():
	}
}

// looksLocal reports whether root and its first level of links are in the
// store: then the DAG was most likely added or fetched whole before.
func (e *Exchange) looksLocal(ctx context.Context, root cid.Cid) bool {
	b, err := e.store.base.Get(ctx, root)
	if err != nil {
		return false
	}
	w := newDAGWalk(root)
	w.next()
	links, err := w.visit(root, b.RawData())
	if err != nil {
		return true // not ours to stream
	}
	for _, c := range links {
		if has, err := e.store.base.Has(ctx, c); err != nil || !has {
			return false
		}
	}
	return true
}

// dagPeers lists up to dagAskPeers connected peers that speak DAGProtocol.
func (e *Exchange) dagPeers() []peer.ID {
	var out []peer.ID
	for _, p := range e.host.Network().Peers() {
		if protos, err := e.host.Peerstore().SupportsProtocols(p, DAGProtocol); err == nil && len(protos) > 0 {
			out = append(out, p)
			if len(out) == dagAskPeers {
				break
			}
		}
	}
	return out
}

// askDAG asks the peers for root at once and keeps the stream of the first
// that has it; it returns nil when none has.
func (e *Exchange) askDAG(ctx context.Context, root cid.Cid, peers []peer.ID) (network.Stream, peer.ID) {
	type answer struct {
		st network.Stream
		p  peer.ID
	}
	answers := make(chan answer, len(peers))
	req := binary.AppendUvarint(nil, uint64(len(root.Bytes())))
	req = append(req, root.Bytes()...)
	for _, p := range peers {
		go func() {
			st, err := e.host.NewStream(ctx, p, DAGProtocol)
			if err != nil {
				answers <- answer{}
				return
			}
			_ = st.SetDeadline(time.Now().Add(dagFrameTimeout))
			var status [1]byte
			if _, err := st.Write(req); err == nil {
				_ = st.CloseWrite()
				_, err = io.ReadFull(st, status[:])
			}
			if err != nil || status[0] != dagHave {
				_ = st.Reset()
				answers <- answer{}
				return
			}
			answers <- answer{st, p}
		}()
	}
	var won answer
	for range peers {
		a := <-answers
		if a.st == nil {
			continue
		}
		if won.st == nil {
			won = a
			continue
		}
		_ = a.st.Reset() // a second peer that has it
	}
	return won.st, won.p
}

// receiveDAG reads the blocks in walk order, checks each against the CID
// expected, hands it to its waiter and writes it to the store in batches.
func (e *Exchange) receiveDAG(ctx context.Context, st io.Reader, setDeadline func(time.Time) error, f *dagFetch) (n int, total int64, err error) {
	r := bufio.NewReaderSize(st, 256<<10)
	store := cacheBlockstore{e.store.bs}
	var batch []blocks.Block
	var batchBytes int
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := store.PutMany(ctx, batch); err != nil {
			return fmt.Errorf("store blocks: %w", err)
		}
		if e.bs != nil {
			_ = e.bs.NotifyNewBlocks(ctx, batch...)
		}
		f.stored(batch)
		batch, batchBytes = nil, 0
		return nil
	}
	defer func() {
		if err != nil {
			_ = flush() // what arrived was verified: keep it
		}
	}()
	walk := newDAGWalk(f.root)
	for {
		c, ok := walk.next()
		if !ok {
			return n, total, flush()
		}
		if n >= dagMaxBlocks {
			return n, total, fmt.Errorf("more than %d blocks", dagMaxBlocks)
		}
		_ = setDeadline(time.Now().Add(dagFrameTimeout))
		b, err := readDAGBlock(r, c)
		if err != nil {
			return n, total, err
		}
		links, err := walk.visit(c, b.RawData())
		if err != nil {
			return n, total, err
		}
		for _, l := range links {
			if !walk.seen.Has(l) {
				f.expect(l)
			}
		}
		f.arrived(b)
		e.counts.blocksIn.Add(1)
		e.counts.bytesIn.Add(uint64(len(b.RawData())))
		n++
		total += int64(len(b.RawData()))
		batch = append(batch, b)
		if batchBytes += len(b.RawData()); batchBytes >= dagWriteBatchBytes {
			if err := flush(); err != nil {
				return n, total, err
			}
		}
	}
}

// readDAGBlock reads one frame and checks that it is the block of c.
func readDAGBlock(r *bufio.Reader, c cid.Cid) (blocks.Block, error) {
	size, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, fmt.Errorf("block %s: %w", c, err)
	}
	if size > DefaultMaxBlockSize {
		return nil, fmt.Errorf("block %s: %d bytes, more than %d", c, size, DefaultMaxBlockSize)
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("block %s: %w", c, err)
	}
	if err := verifcid.ValidateCid(verifcid.DefaultAllowlist, c); err != nil {
		return nil, fmt.Errorf("block %s: %w", c, err)
	}
	sum, err := c.Prefix().Sum(data)
	if err != nil || !sum.Equals(c) {
		return nil, fmt.Errorf("block %s: %w: the bytes do not hash to the CID", c, ErrBadBlock)
	}
	return blocks.NewBlockWithCid(data, c)
}

// streamingExchange is bitswap with DAG streams in front: a block a stream
// is bringing is waited for, the rest asked of bitswap.
type streamingExchange struct{ e *Exchange }

var _ exchange.SessionExchange = streamingExchange{}

func (x streamingExchange) GetBlock(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	return getStreamed(ctx, c, x.e, x.e.bs)
}

func (x streamingExchange) GetBlocks(ctx context.Context, ks []cid.Cid) (<-chan blocks.Block, error) {
	return getManyStreamed(ctx, ks, x.e, x.e.bs)
}

func (x streamingExchange) NotifyNewBlocks(ctx context.Context, bs ...blocks.Block) error {
	return x.e.bs.NotifyNewBlocks(ctx, bs...)
}

// Close does nothing: the Exchange closes bitswap.
func (x streamingExchange) Close() error { return nil }

func (x streamingExchange) NewSession(ctx context.Context) exchange.Fetcher {
	return streamingSession{e: x.e, inner: x.e.bs.NewSession(ctx)}
}

// streamingSession is a bitswap session with DAG streams in front.
type streamingSession struct {
	e     *Exchange
	inner exchange.Fetcher
}

func (s streamingSession) GetBlock(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	return getStreamed(ctx, c, s.e, s.inner)
}

func (s streamingSession) GetBlocks(ctx context.Context, ks []cid.Cid) (<-chan blocks.Block, error) {
	return getManyStreamed(ctx, ks, s.e, s.inner)
}

// getStreamed waits for c from the stream bringing it, if any, and asks
// inner otherwise or when the stream ends without it.
func getStreamed(ctx context.Context, c cid.Cid, e *Exchange, inner exchange.Fetcher) (blocks.Block, error) {
	if w, ok := e.fetches.waiter(c); ok {
		select {
		case <-w.done:
			if w.blk != nil {
				return w.blk, nil
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	} else if b, err := e.store.bs.Get(ctx, c); err == nil {
		return b, nil // a stream stored it after the caller looked
	}
	return inner.GetBlock(ctx, c)
}

// getManyStreamed is getStreamed for many CIDs; blocks come out in no
// particular order, as from bitswap.
func getManyStreamed(ctx context.Context, ks []cid.Cid, e *Exchange, inner exchange.Fetcher) (<-chan blocks.Block, error) {
	var rest []cid.Cid
	type wait struct {
		c cid.Cid
		w *dagWaiter
	}
	var waits []wait
	for _, k := range ks {
		if w, ok := e.fetches.waiter(k); ok {
			waits = append(waits, wait{k, w})
		} else if b, err := e.store.bs.Get(ctx, k); err == nil {
			// A stream stored it after the caller looked.
			w := &dagWaiter{done: make(chan struct{}), blk: b}
			close(w.done)
			waits = append(waits, wait{k, w})
		} else {
			rest = append(rest, k)
		}
	}
	if len(waits) == 0 {
		return inner.GetBlocks(ctx, ks)
	}
	out := make(chan blocks.Block)
	go func() {
		defer close(out)
		var wg sync.WaitGroup
		forward := func(ch <-chan blocks.Block) {
			defer wg.Done()
			for b := range ch {
				select {
				case out <- b:
				case <-ctx.Done():
					return
				}
			}
		}
		if len(rest) > 0 {
			ch, err := inner.GetBlocks(ctx, rest)
			if err == nil {
				wg.Add(1)
				go forward(ch)
			}
		}
		var missed []cid.Cid
		for _, w := range waits {
			select {
			case <-w.w.done:
			case <-ctx.Done():
				wg.Wait()
				return
			}
			if w.w.blk == nil {
				missed = append(missed, w.c)
				continue
			}
			select {
			case out <- w.w.blk:
			case <-ctx.Done():
				wg.Wait()
				return
			}
		}
		if len(missed) > 0 {
			if ch, err := inner.GetBlocks(ctx, missed); err == nil {
				wg.Add(1)
				go forward(ch)
			}
		}
		wg.Wait()
	}()
	return out, nil
}
