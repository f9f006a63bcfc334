package ipfs

import (
	"sync"

	"github.com/ipfs/boxo/bitswap"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// earlyPeers tells bitswap about the connections that were open before it
// started.
//
// Bitswap learns of peers only from connection events. A connection made
// before bitswap.New returned (a bootstrap dial racing with start-up, an
// early inbound peer) never produces one, so bitswap would never send that
// peer a want: fetches from it stall until the connection is replaced.
// earlyPeers announces those peers once, and announces their departure when
// their last connection closes, since bitswap's own bookkeeping never saw
// them arrive.
type earlyPeers struct {
	bs *bitswap.Bitswap
	nw network.Network

	mu    sync.Mutex
	peers map[peer.ID]struct{}
	bndl  *network.NotifyBundle
}

func adoptEarlyPeers(nw network.Network, bs *bitswap.Bitswap) *earlyPeers {
	e := &earlyPeers{bs: bs, nw: nw, peers: map[peer.ID]struct{}{}}
	e.bndl = &network.NotifyBundle{DisconnectedF: e.disconnected}
	// Register first, so that a peer leaving between the listing and the
	// announcement is still seen leaving.
	nw.Notify(e.bndl)
	e.mu.Lock()
	for _, p := range nw.Peers() {
		e.peers[p] = struct{}{}
	}
	e.mu.Unlock()
	for _, p := range e.list() {
		bs.PeerConnected(p)
	}
	// A peer that left while we announced it is told gone as well.
	for _, p := range e.list() {
		if nw.Connectedness(p) != network.Connected {
			e.forget(p)
		}
	}
	return e
}

func (e *earlyPeers) list() []peer.ID {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]peer.ID, 0, len(e.peers))
	for p := range e.peers {
		out = append(out, p)
	}
	return out
}

func (e *earlyPeers) disconnected(nw network.Network, c network.Conn) {
	if nw.Connectedness(c.RemotePeer()) == network.Connected {
		return
	}
	e.forget(c.RemotePeer())
}

// forget tells bitswap an early peer is gone, once.
func (e *earlyPeers) forget(p peer.ID) {
	e.mu.Lock()
	_, ok := e.peers[p]
	delete(e.peers, p)
	e.mu.Unlock()
	if ok {
		e.bs.PeerDisconnected(p)
	}
}

func (e *earlyPeers) close() { e.nw.StopNotify(e.bndl) }
