package logsync

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/lyceum-oer/lyceum/node/api"
)

// Workers of the sync loop: the peers synced at once after they connect,
// and the logs backfilled at once after gossip showed a gap. An indexer
// (HQ) has every node as a peer, and hundreds connect at once when it
// starts: one at a time, it took minutes to reach the last of them in
// simnet, and the connection events it did not read held up its swarm.
const (
	syncWorkers        = 4
	indexerSyncWorkers = 16
)

// syncLoop keeps followed logs complete: whenever a peer connects, and
// every interval, it asks the followees' origin nodes (and the new peer)
// for their heads and backfills what is missing. Gossip is fast; this is
// what makes a node that was offline catch up. The loop itself only
// reads events and queues work, so the event bus never waits for it; a
// pool of workers syncs the queued peers and fills the queued gaps.
func (s *Service) syncLoop(ctx context.Context) {
	sub, err := s.Host.Libp2p().EventBus().Subscribe(new(event.EvtPeerConnectednessChanged), eventbus.BufSize(256))
	if err != nil {
		s.log.Warn("sync: no connection events", "err", err)
		return
	}
	defer sub.Close()
	workers := syncWorkers
	if s.cfg.Indexer {
		workers = indexerSyncWorkers
	}
	peers := newKeyedQueue[peer.ID, struct{}](s.cfg.PendingBackfills)
	sweep := make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	for range workers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			peers.work(ctx, func(ctx context.Context, p peer.ID, _ struct{}) {
				s.Workers.Survive("sync", func() { s.syncPeer(ctx, p) })
			})
		}()
		go func() {
			defer wg.Done()
			s.gaps.work(ctx, func(ctx context.Context, actor string, it ingestItem) {
				s.Workers.Survive("backfill", func() { s.fillGap(ctx, actor, it) })
			})
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-sweep:
				s.Workers.Survive("sync", func() {
					s.syncFollowed(ctx, "")
					s.redeliverPending(ctx, s.cfg.SyncInterval)
				})
			}
		}
	}()
	t := time.NewTicker(s.cfg.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			select {
			case sweep <- struct{}{}:
			default: // the last sweep is still running
			}
			if s.cfg.Indexer {
				for _, p := range s.Host.Libp2p().Network().Peers() {
					peers.push(p, struct{}{}, nil)
				}
			}
		case ev := <-sub.Out():
			if ce := ev.(event.EvtPeerConnectednessChanged); ce.Connectedness == network.Connected {
				peers.push(ce.Peer, struct{}{}, nil)
			}
		}
	}
}

// syncPeer syncs the followed actors with a peer that connected and, on an
// indexer, every actor whose origin the peer is.
func (s *Service) syncPeer(ctx context.Context, p peer.ID) {
	if s.Host.Libp2p().Network().Connectedness(p) != network.Connected {
		return // gone again before its turn
	}
	s.syncFollowed(ctx, p)
	if s.cfg.Indexer {
		s.SyncOrigins(ctx, p)
	}
}

// fillGap backfills an actor's log up to an entry gossip brought above a
// gap, and stores them, off the ingest loop: a walk over the network must
// not hold up every other actor's activities.
func (s *Service) fillGap(ctx context.Context, actor string, it ingestItem) {
	if err := s.ingestLog(ctx, it.e, it.from); err != nil && ctx.Err() == nil {
		s.rejected.inc(ReasonBackfillErr)
		s.log.Debug("backfill", "actor", actor, "seq", it.e.Act.Seq, "peer", it.from, "err", err)
	}
}

// syncFollowed asks for the heads of every followed actor: of one peer if
// only is set, else of each actor's origin node when connected to it, or
// else of a peer in the actor's topics (another follower, which holds the
// log): in a large network the origin is rarely a direct neighbour, and a
// node that missed a message (down, partitioned, not yet in the mesh) must
// still catch up without waiting for a new connection.
func (s *Service) syncFollowed(ctx context.Context, only peer.ID) {
	s.counts.round(only != "")
	followees, err := s.Views.Followees(ctx)
	if err != nil {
		s.log.Debug("sync", "err", err)
		return
	}
	for _, f := range followees {
		p := only
		if p == "" {
			if p = s.logHolder(f.DID, f.Node); p == "" {
				continue
			}
		}
		ans, err := s.askLog(ctx, p, logRequest{DID: f.DID})
		if err != nil {
			continue
		}
		if err := s.syncActor(ctx, ans, p); err != nil && ctx.Err() == nil {
			s.log.Debug("sync", "actor", f.DID, "peer", p, "err", err)
		}
	}
}

// logHolder picks the peer to ask for did's log head: its origin node when
// connected to it, else a random peer subscribed to its topics; "" when
// there is none.
func (s *Service) logHolder(did, origin string) peer.ID {
	if id, err := peerOf(origin); err == nil && s.Host.Libp2p().Network().Connectedness(id) == network.Connected {
		return id
	}
	peers := append(s.gossip.TopicPeers(TopicOfActor(did)), s.gossip.TopicPeers(TopicOfGroup(did))...)
	if len(peers) == 0 {
		return ""
	}
	return peers[rand.IntN(len(peers))]
}

// SyncOrigins brings the node up to date with every actor whose origin is
// p: an HQ does it when a peer connects, which is how it catches up with a
// node that published while the two were apart.
func (s *Service) SyncOrigins(ctx context.Context, p peer.ID) {
	ans, err := s.askLog(ctx, p, logRequest{Origins: true})
	if err != nil {
		return
	}
	if len(ans.Origins) > maxOrigins {
		ans.Origins = ans.Origins[:maxOrigins]
	}
	for _, o := range ans.Origins {
		if s.Blocklist.Has(o.DID) {
			continue
		}
		if err := s.syncActor(ctx, o, p); err != nil && ctx.Err() == nil {
			s.log.Debug("sync origin", "actor", o.DID, "peer", p, "err", err)
		}
	}
}

// Fetch finds an actor anywhere — by did:key (asking connected peers), by
// name@peerID (dialling the peer, through the DHT if need be) or by
// name@/multiaddr/…/p2p/ID — and brings the node's copy of its log up to
// the head its node reports. It returns the actor's DID.
func (s *Service) Fetch(ctx context.Context, ref string) (string, error) {
	ans, from, err := s.resolve(ctx, ref)
	if err != nil {
		return "", err
	}
	if err := s.syncActor(ctx, ans, from); err != nil {
		return "", api.Wrap(api.KindUnavailable, "fetch the log of "+ref, err)
	}
	return ans.DID, nil
}

func (s *Service) resolve(ctx context.Context, ref string) (logAnswer, peer.ID, error) {
	h := s.Host.Libp2p()
	if strings.HasPrefix(ref, "did:key:") {
		for _, p := range h.Network().Peers() {
			if ans, err := s.askLog(ctx, p, logRequest{DID: ref}); err == nil {
				return ans, p, nil
			}
		}
		return logAnswer{}, "", api.NotFoundf("no connected peer knows %s (connect to its node first, or follow it as name@node)", ref)
	}
	name, where, ok := strings.Cut(ref, "@")
	if !ok || name == "" || where == "" {
		return logAnswer{}, "", api.Invalidf("%s: want a did:key, name@peerID or name@/ip4/…/p2p/peerID", api.Quote(ref))
	}
	var pid peer.ID
	if strings.HasPrefix(where, "/") {
		addr, err := ma.NewMultiaddr(where)
		if err != nil {
			return logAnswer{}, "", api.Invalidf("%s: %s is not a multiaddr", api.Quote(ref), api.Quote(where))
		}
		if pid, err = s.Host.Connect(ctx, addr); err != nil {
			return logAnswer{}, "", api.Wrap(api.KindUnavailable, "reach "+where, err)
		}
	} else {
		id, err := peer.Decode(where)
		if err != nil {
			return logAnswer{}, "", api.Invalidf("%s: %s is not a peer ID", api.Quote(ref), api.Quote(where))
		}
		pid = id
		if h.Network().Connectedness(pid) != network.Connected {
			if err := h.Connect(ctx, peer.AddrInfo{ID: pid}); err != nil {
				return logAnswer{}, "", api.Wrap(api.KindUnavailable, "reach node "+where, err)
			}
		}
	}
	ans, err := s.askLog(ctx, pid, logRequest{Username: name})
	if err != nil {
		return logAnswer{}, "", api.Wrap(api.KindNotFound, ref+": not found", err)
	}
	return ans, pid, nil
}

// syncActor brings the node's copy of a log up to the head a peer
// reported, backfilling what is missing.
func (s *Service) syncActor(ctx context.Context, ans logAnswer, from peer.ID) error {
	head, err := cid.Decode(ans.Head)
	if err != nil {
		return fmt.Errorf("peer sent a bad head %q: %w", ans.Head, err)
	}
	have, err := s.Log.Contiguous(ctx, ans.DID)
	if err != nil {
		return err
	}
	if have >= ans.Seq {
		// The log is whole, but a community's posts live in their authors'
		// logs: fetch those its log announced and gossip did not bring.
		return s.fetchAnnounced(ctx, ans.DID)
	}
	// Ask for the head with the entries this node lacks below it (a full
	// page each time was 2.3× the payload on the wire at 20 publications a
	// second in simnet, where nodes lag by an entry or two); fall back to
	// bitswap.
	var data []byte
	var below [][]byte // entries the peer sent below the head
	want := int(min(ans.Seq-have, maxLogPage))
	if page, err := s.askLog(ctx, from, logRequest{DID: ans.DID, Max: want}); err == nil && len(page.Entries) > 0 && page.Head == ans.Head {
		data, below = page.Entries[0], page.Entries[1:]
	} else {
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		data, err = s.Blocks.GetBlock(fctx, head)
		cancel()
		if err != nil {
			return fmt.Errorf("fetch head of %s: %w", ans.DID, err)
		}
	}
	e, err := s.verify(data)
	if err != nil {
		return fmt.Errorf("head of %s: %w", ans.DID, err)
	}
	if e.Act.Actor != ans.DID || !e.CID.Equals(head) {
		return fmt.Errorf("head %s is not %s's", head, ans.DID)
	}
	// Only now, with the head checked, are the entries below it kept for
	// the backfill: a peer cannot fill the cache under names it invents.
	s.pages.put(ans.DID, below)
	err = s.ingestLog(ctx, e, from)
	s.pages.take(ans.DID) // what the backfill did not use
	if err != nil {
		return err
	}
	return s.fetchAnnounced(ctx, ans.DID)
}

// announcedFetches bounds the concurrent fetches of announced posts.
const announcedFetches = 8

// fetchAnnounced fetches the activities a community announced that the node
// lacks: a community's log lists its posts, their authors' logs hold them.
// A post no neighbour can give yet does not hold up the others: they are
// fetched a few at a time, each with its own deadline, and the next sync
// tries the rest again.
func (s *Service) fetchAnnounced(ctx context.Context, group string) error {
	want, err := s.Views.Unfetched(ctx, group)
	if err != nil || len(want) == 0 {
		return err
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, announcedFetches)
	)
	for _, w := range want {
		c, err := cid.Decode(w)
		if err != nil {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			var err error
			s.Workers.Survive("fetch announced", func() { err = s.fetchActivity(ctx, c) })
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// fetchActivity fetches one activity block by CID, verifies and ingests it.
func (s *Service) fetchActivity(ctx context.Context, c cid.Cid) error {
	fctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	data, err := s.Blocks.GetBlock(fctx, c)
	cancel()
	if err != nil {
		return fmt.Errorf("fetch announced %s: %w", c, err)
	}
	e, err := s.verify(data)
	if err != nil || !e.CID.Equals(c) {
		return fmt.Errorf("announced %s: not a valid activity: %v", c, err)
	}
	return s.ingest(ctx, e, "")
}
