package swarm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// PeerBookFile is the name of the peer book in the repo.
const PeerBookFile = "peers.json"

// Bounds of the peer book: how many peers it remembers (the most recently
// seen), how many addresses of each, and the largest file it reads.
const (
	DefaultPeerBookSize = 100
	maxAddrsPerPeer     = 8
	maxPeerBookBytes    = 1 << 20
)

// PeerBookConfig tunes the peer book's loop; the zero value of each field
// has the meaning written beside it.
type PeerBookConfig struct {
	// Size is how many peers are remembered; 0 = DefaultPeerBookSize.
	Size int
	// Dials is how many remembered peers are dialled at once; 0 = 8.
	Dials int
	// DialTimeout bounds each dial; 0 = 5 s.
	DialTimeout time.Duration
	// Interval is how often the book is written when it changed, and how
	// often remembered peers are redialled when the node has fewer than
	// MinPeers connections (sooner after start: 1 s, 2 s, 4 s… up to
	// Interval); 0 = 30 s.
	Interval time.Duration
	// MinPeers below which remembered peers are redialled; 0 = 4.
	MinPeers int
	// Logger; nil = slog.Default().
	Logger *slog.Logger
}

// seenPeer is one remembered peer, as the file stores it.
type seenPeer struct {
	ID       string    `json:"id"`
	Addrs    []string  `json:"addrs"`
	LastSeen time.Time `json:"last_seen"`
}

// PeerBook remembers the peers the node recently saw, with the addresses
// they listen on, so that after a restart the node dials them again
// without a manual connect (nodes on random ports, no public bootstrap).
//
// It is owned state of the swarm room: the file peers.json in the repo,
// written atomically (a temporary file renamed over it). A file that
// cannot be read is dropped: the book only saves the operator a connect.
type PeerBook struct {
	path string
	cfg  PeerBookConfig

	mu    sync.Mutex
	peers map[peer.ID]seenPeer
	dirty bool
}

// OpenPeerBook reads the peer book at path (none yet: an empty book).
func OpenPeerBook(path string, cfg PeerBookConfig) (*PeerBook, error) {
	if cfg.Size <= 0 {
		cfg.Size = DefaultPeerBookSize
	}
	if cfg.Dials <= 0 {
		cfg.Dials = 8
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 30 * time.Second
	}
	if cfg.MinPeers <= 0 {
		cfg.MinPeers = 4
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	b := &PeerBook{path: path, cfg: cfg, peers: map[peer.ID]seenPeer{}}
	data, err := readLimited(path, maxPeerBookBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read peer book: %w", err)
	}
	var list []seenPeer
	if err := json.Unmarshal(data, &list); err != nil {
		cfg.Logger.Warn("peer book unreadable: starting with an empty one", "path", path, "err", err)
		return b, nil
	}
	for _, sp := range list {
		id, err := peer.Decode(sp.ID)
		if err != nil {
			continue
		}
		var addrs []ma.Multiaddr
		for _, s := range sp.Addrs {
			if a, err := ma.NewMultiaddr(s); err == nil {
				addrs = append(addrs, a)
			}
		}
		b.add(id, addrs, sp.LastSeen)
	}
	b.dirty = false
	return b, nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than %d", path, st.Size(), limit)
	}
	buf := make([]byte, st.Size())
	_, err = f.ReadAt(buf, 0)
	if err != nil && st.Size() > 0 {
		return nil, err
	}
	return buf, nil
}

// See records that the node saw id listening on addrs at t. Addresses
// that cannot be dialled (unspecified, without transport) are left out;
// a peer with none left is not recorded.
func (b *PeerBook) See(id peer.ID, addrs []ma.Multiaddr, t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.add(id, addrs, t)
}

// add records a peer; b.mu is held.
func (b *PeerBook) add(id peer.ID, addrs []ma.Multiaddr, t time.Time) {
	var keep []string
	for _, a := range addrs {
		if a == nil || isUnspecified(a) {
			continue
		}
		if _, last := ma.SplitLast(a); last != nil && last.Protocol().Code == ma.P_P2P {
			a, _ = ma.SplitLast(a)
		}
		if s := a.String(); s != "" && !slices.Contains(keep, s) && len(keep) < maxAddrsPerPeer {
			keep = append(keep, s)
		}
	}
	if len(keep) == 0 {
		if old, ok := b.peers[id]; ok && t.After(old.LastSeen) {
			old.LastSeen = t
			b.peers[id] = old
			b.dirty = true
		}
		return
	}
	slices.Sort(keep)
	b.peers[id] = seenPeer{ID: id.String(), Addrs: keep, LastSeen: t}
	b.dirty = true
	if len(b.peers) > b.cfg.Size {
		list := b.sortedLocked()
		for _, sp := range list[b.cfg.Size:] {
			id, _ := peer.Decode(sp.ID)
			delete(b.peers, id)
		}
	}
}

func isUnspecified(a ma.Multiaddr) bool {
	for _, c := range a {
		switch c.Protocol().Code {
		case ma.P_IP4:
			if c.Value() == "0.0.0.0" {
				return true
			}
		case ma.P_IP6:
			if c.Value() == "::" {
				return true
			}
		}
	}
	return false
}

// sortedLocked lists the peers, most recently seen first; b.mu is held.
func (b *PeerBook) sortedLocked() []seenPeer {
	list := make([]seenPeer, 0, len(b.peers))
	for _, sp := range b.peers {
		list = append(list, sp)
	}
	slices.SortFunc(list, func(x, y seenPeer) int {
		if c := y.LastSeen.Compare(x.LastSeen); c != 0 {
			return c
		}
		return compareStrings(x.ID, y.ID)
	})
	return list
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Peers lists the remembered peers, most recently seen first.
func (b *PeerBook) Peers() []peer.AddrInfo {
	b.mu.Lock()
	list := b.sortedLocked()
	b.mu.Unlock()
	out := make([]peer.AddrInfo, 0, len(list))
	for _, sp := range list {
		id, err := peer.Decode(sp.ID)
		if err != nil {
			continue
		}
		info := peer.AddrInfo{ID: id}
		for _, s := range sp.Addrs {
			if a, err := ma.NewMultiaddr(s); err == nil {
				info.Addrs = append(info.Addrs, a)
			}
		}
		out = append(out, info)
	}
	return out
}

// Save writes the book if it changed since it was last read or written:
// to a temporary file, synced, then renamed over the old one.
func (b *PeerBook) Save() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.dirty {
		return nil
	}
	data, err := json.MarshalIndent(b.sortedLocked(), "", " ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(b.path), ".peers-*.json")
	if err != nil {
		return fmt.Errorf("save peer book: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save peer book: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save peer book: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save peer book: %w", err)
	}
	if err := os.Rename(tmp.Name(), b.path); err != nil {
		return fmt.Errorf("save peer book: %w", err)
	}
	b.dirty = false
	return nil
}

// Remember keeps book up to date with the peers the node sees and dials
// the remembered ones: all of them at once when it starts (in the
// background, a few at a time), then again whenever the node has fewer
// than MinPeers connections. It runs until ctx ends, then saves the book
// a last time; the caller owns the goroutine that runs it. Offline, it
// returns at once.
func (s *Service) Remember(ctx context.Context, book *PeerBook) error {
	if s.host == nil {
		return nil
	}
	lh := s.host.Libp2p()
	// The dials are waited for after the subscription is closed: a
	// subscriber that stops reading would stall the host's event bus.
	var dials sync.WaitGroup
	defer dials.Wait()
	sub, err := lh.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted))
	if err != nil {
		return fmt.Errorf("follow identified peers: %w", err)
	}
	defer sub.Close()
	dialling := make(chan struct{}, 1) // one round of dials at a time
	redial := func() {
		select {
		case dialling <- struct{}{}:
		default:
			return
		}
		dials.Add(1)
		go func() {
			defer dials.Done()
			defer func() { <-dialling }()
			s.dialRemembered(ctx, book)
		}()
	}
	redial()
	// A first round that finds nobody (the network came up after the
	// node, a peer was restarting) is tried again soon: after 1 s, then
	// twice as long each time, up to the interval.
	wait := min(time.Second, book.cfg.Interval)
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.noteConnected(book)
			if err := book.Save(); err != nil {
				book.cfg.Logger.Warn("peer book", "err", err)
			}
			return nil
		case e, ok := <-sub.Out():
			if !ok {
				return nil
			}
			if ev, ok := e.(event.EvtPeerIdentificationCompleted); ok && ev.Peer != lh.ID() {
				book.See(ev.Peer, ev.ListenAddrs, time.Now())
			}
		case <-t.C:
			s.noteConnected(book)
			if err := book.Save(); err != nil {
				book.cfg.Logger.Warn("peer book", "err", err)
			}
			if len(lh.Network().Peers()) < book.cfg.MinPeers {
				redial()
			}
			wait = min(2*wait, book.cfg.Interval)
			t.Reset(wait)
		}
	}
}

// noteConnected marks the connected peers as seen now, at the addresses
// the peerstore has for them.
func (s *Service) noteConnected(book *PeerBook) {
	lh := s.host.Libp2p()
	now := time.Now()
	// Identify put the peers' listen addresses in the peerstore; an
	// inbound connection's own address (the dialler's port) is not there.
	for _, id := range lh.Network().Peers() {
		book.See(id, lh.Peerstore().Addrs(id), now)
	}
}

// dialRemembered dials the remembered peers not connected, Dials at a
// time, each for at most DialTimeout.
func (s *Service) dialRemembered(ctx context.Context, book *PeerBook) {
	lh := s.host.Libp2p()
	sem := make(chan struct{}, book.cfg.Dials)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, info := range book.Peers() {
		if info.ID == lh.ID() || len(info.Addrs) == 0 || lh.Network().Connectedness(info.ID) == network.Connected {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			dctx, cancel := context.WithTimeout(ctx, book.cfg.DialTimeout)
			defer cancel()
			if err := lh.Connect(dctx, info); err != nil && ctx.Err() == nil {
				book.cfg.Logger.Debug("remembered peer unreachable", "peer", info.ID, "err", err)
			}
		}()
	}
}
