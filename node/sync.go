package node

import (
	"context"
	"database/sql"
	"encoding/json"
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
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/lyceum-oer/lyceum/p2p"
)

// ProtocolLog answers "what is the head of this actor's log?", by DID or,
// for the node's own actors, by username.
const ProtocolLog = protocol.ID("/lyceum/log/1.0.0")

// Limits of ProtocolLog: requests are small; an answer carries at most
// maxLogPage entries and maxLogAnswer bytes.
const (
	maxLogRequest = 4 << 10
	maxLogAnswer  = 16 << 20
	maxLogPage    = 1000
)

// logRequest asks for an actor's log head and, when Max > 0, for up to Max
// entries going back from the head (Below = 0) or from just below seq
// Below, newest first. Paging through a log this way costs one round trip
// per page instead of one per entry, as walking prev over bitswap does.
type logRequest struct {
	// Origins asks instead for the heads of every actor whose origin is the
	// answering node (what an HQ asks a peer that connects).
	Origins  bool   `json:"origins,omitempty"`
	DID      string `json:"did,omitempty"`
	Username string `json:"username,omitempty"`
	Below    uint64 `json:"below,omitempty"`
	Max      int    `json:"max,omitempty"`
}

// logHeadAnswer is the answer: the head's CID and seq and the entries
// asked for (each the block's bytes, which the receiver verifies).
type logHeadAnswer struct {
	DID     string   `json:"did,omitempty"`
	Head    string   `json:"head,omitempty"`
	Seq     uint64   `json:"seq,omitempty"`
	Entries [][]byte `json:"entries,omitempty"`
	// Origins answers an Origins request.
	Origins []logHeadAnswer `json:"origins,omitempty"`
}

// maxOrigins bounds the actors an Origins answer lists, and the ones an
// HQ syncs from one answer.
const maxOrigins = 1000

// logService bounds ProtocolLog: an HQ that meets a node asks for the
// head of each of its actors and then pages through what it lacks.
func logService() p2p.ServiceConfig {
	return p2p.ServiceConfig{MaxRequest: maxLogRequest, MaxResponse: maxLogAnswer, PeerRate: 100, PeerBurst: 1000}
}

// handleLog answers ProtocolLog for any actor whose log the node has.
func (n *Node) handleLog(ctx context.Context, _ peer.ID, data []byte) ([]byte, error) {
	var req logRequest
	if err := decodeStrict(data, &req); err != nil {
		return nil, p2p.Refusef("bad log request: %v", err)
	}
	if req.Max < 0 || req.Max > maxLogPage {
		return nil, p2p.Refusef("max must be from 0 to %d", maxLogPage)
	}
	if req.DID != "" && !strings.HasPrefix(req.DID, "did:key:") {
		return nil, p2p.Refusef("did must be a did:key")
	}
	ans, err := n.answerLogHead(ctx, req)
	if err != nil {
		return nil, err
	}
	return json.Marshal(ans)
}

func (n *Node) answerLogHead(ctx context.Context, req logRequest) (logHeadAnswer, error) {
	if req.Origins {
		return n.answerOrigins(ctx)
	}
	did := req.DID
	if did == "" {
		if req.Username == "" {
			return logHeadAnswer{}, p2p.Refusef("ask by did or username")
		}
		err := n.db.db.QueryRowContext(ctx, `SELECT did FROM local_actors WHERE username = ?`, req.Username).Scan(&did)
		if errors.Is(err, sql.ErrNoRows) {
			return logHeadAnswer{}, p2p.Refusef("no actor %q here", truncateRunes(req.Username, 64))
		}
		if err != nil {
			return logHeadAnswer{}, fmt.Errorf("look up %q: %w", req.Username, err)
		}
	}
	seq, head, err := n.logHead(ctx, did)
	if err != nil {
		return logHeadAnswer{}, err
	}
	if seq == 0 {
		return logHeadAnswer{}, p2p.Refusef("no log of %s here", truncateRunes(did, 64))
	}
	ans := logHeadAnswer{DID: did, Head: head, Seq: seq}
	if req.Max <= 0 {
		return ans, nil
	}
	below := req.Below
	if below == 0 || below > seq+1 {
		below = seq + 1
	}
	cids, err := n.db.strings(ctx, `SELECT cid FROM log_entries WHERE actor = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
		did, below, min(req.Max, maxLogPage))
	if err != nil {
		return logHeadAnswer{}, fmt.Errorf("page of %s: %w", did, err)
	}
	size := 0
	for _, s := range cids {
		c, err := cid.Decode(s)
		if err != nil {
			break
		}
		data, err := n.content.GetBlock(ctx, c)
		if err != nil || size+len(data) > maxLogAnswer/2 {
			break // base64 grows it by a third; stay well under the limit
		}
		size += len(data)
		ans.Entries = append(ans.Entries, data)
	}
	return ans, nil
}

// answerOrigins lists the heads of the node's own actors.
func (n *Node) answerOrigins(ctx context.Context) (logHeadAnswer, error) {
	dids, err := n.db.strings(ctx, `SELECT did FROM local_actors ORDER BY did LIMIT ?`, maxOrigins)
	if err != nil {
		return logHeadAnswer{}, fmt.Errorf("list local actors: %w", err)
	}
	var ans logHeadAnswer
	for _, d := range dids {
		if seq, head, err := n.logHead(ctx, d); err == nil && seq > 0 {
			ans.Origins = append(ans.Origins, logHeadAnswer{DID: d, Head: head, Seq: seq})
		}
	}
	return ans, nil
}

// syncOrigins brings the node up to date with every actor whose origin is
// p: an HQ does it when a peer connects, which is how it catches up with a
// node that published while the two were apart.
func (n *Node) syncOrigins(ctx context.Context, p peer.ID) {
	ans, err := n.askLogHead(ctx, p, logRequest{Origins: true})
	if err != nil {
		return
	}
	if len(ans.Origins) > maxOrigins {
		ans.Origins = ans.Origins[:maxOrigins]
	}
	for _, o := range ans.Origins {
		if n.isBlocked(ctx, o.DID) {
			continue
		}
		if err := n.syncActor(ctx, o, p); err != nil && ctx.Err() == nil {
			n.log.Debug("sync origin", "actor", o.DID, "peer", p, "err", err)
		}
	}
}

// askLogHead asks one peer for an actor's log head.
func (n *Node) askLogHead(ctx context.Context, p peer.ID, req logRequest) (logHeadAnswer, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return logHeadAnswer{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	data, err := p2p.Request(ctx, n.host.Libp2p(), p, ProtocolLog, body, maxLogAnswer)
	if err != nil {
		return logHeadAnswer{}, err
	}
	var ans logHeadAnswer
	if err := decodeStrict(data, &ans); err != nil {
		return logHeadAnswer{}, fmt.Errorf("%s: bad answer from %s: %w", ProtocolLog, p, err)
	}
	return ans, nil
}

// resolveRemote finds an actor anywhere: by did:key (asking connected
// peers), by name@peerID (dialling the peer, through the DHT if need be) or
// by name@/multiaddr/…/p2p/ID. It returns the actor's log head and the peer
// that answered.
func (n *Node) resolveRemote(ctx context.Context, ref string) (logHeadAnswer, peer.ID, error) {
	if n.host == nil {
		return logHeadAnswer{}, "", &Error{Kind: KindUnavailable, Msg: "the node is offline: start `lyceum daemon` to reach other nodes"}
	}
	if strings.HasPrefix(ref, "did:key:") {
		for _, p := range n.host.Libp2p().Network().Peers() {
			if ans, err := n.askLogHead(ctx, p, logRequest{DID: ref}); err == nil {
				return ans, p, nil
			}
		}
		return logHeadAnswer{}, "", &Error{Kind: KindNotFound, Msg: fmt.Sprintf("no connected peer knows %s (connect to its node first, or follow it as name@node)", ref)}
	}
	name, where, ok := strings.Cut(ref, "@")
	if !ok || name == "" || where == "" {
		return logHeadAnswer{}, "", invalidf("%q: want a did:key, name@peerID or name@/ip4/…/p2p/peerID", ref)
	}
	var pid peer.ID
	if strings.HasPrefix(where, "/") {
		addr, err := ma.NewMultiaddr(where)
		if err != nil {
			return logHeadAnswer{}, "", invalidf("%q: %q is not a multiaddr: %v", ref, where, err)
		}
		id, err := n.host.Connect(ctx, addr)
		if err != nil {
			return logHeadAnswer{}, "", wrapKind(KindUnavailable, "reach "+where, err)
		}
		pid = id
	} else {
		id, err := peer.Decode(where)
		if err != nil {
			return logHeadAnswer{}, "", invalidf("%q: %q is not a peer ID: %v", ref, where, err)
		}
		pid = id
		if n.host.Libp2p().Network().Connectedness(pid) != network.Connected {
			if err := n.host.Libp2p().Connect(ctx, peer.AddrInfo{ID: pid}); err != nil {
				return logHeadAnswer{}, "", wrapKind(KindUnavailable, "reach node "+where, err)
			}
		}
	}
	ans, err := n.askLogHead(ctx, pid, logRequest{Username: name})
	if err != nil {
		return logHeadAnswer{}, "", &Error{Kind: KindNotFound, Msg: fmt.Sprintf("%s: %v", ref, err)}
	}
	return ans, pid, nil
}

// syncActor brings the node's copy of did's log up to the head a peer
// reported, backfilling over bitswap.
func (n *Node) syncActor(ctx context.Context, ans logHeadAnswer, from peer.ID) error {
	head, err := cid.Decode(ans.Head)
	if err != nil {
		return fmt.Errorf("peer sent a bad head %q: %w", ans.Head, err)
	}
	have, err := n.contiguous(ctx, ans.DID)
	if err != nil {
		return err
	}
	if have >= ans.Seq {
		// The log is whole, but a community's posts live in their authors'
		// logs: fetch those its log announced and gossip did not bring.
		return n.fetchAnnounced(ctx, ans.DID)
	}
	// Ask for the head with the entries this node lacks below it (a full
	// page each time was 2.3× the payload on the wire at 20 publications a
	// second in simnet, where nodes lag by an entry or two); fall back to
	// bitswap.
	var data []byte
	var below [][]byte // entries the peer sent below the head
	want := int(min(ans.Seq-have, maxLogPage))
	if page, err := n.askLogHead(ctx, from, logRequest{DID: ans.DID, Max: want}); err == nil && len(page.Entries) > 0 && page.Head == ans.Head {
		data, below = page.Entries[0], page.Entries[1:]
	} else {
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		data, err = n.content.GetBlock(fctx, head)
		cancel()
		if err != nil {
			return fmt.Errorf("fetch head of %s: %w", ans.DID, err)
		}
	}
	e, err := verifyBlock(data)
	if err != nil {
		return fmt.Errorf("head of %s: %w", ans.DID, err)
	}
	if e.act.Actor != ans.DID || !e.cid.Equals(head) {
		return fmt.Errorf("head %s is not %s's", head, ans.DID)
	}
	// Only now, with the head checked, are the entries below it kept for
	// the backfill: a peer cannot fill the cache under names it invents.
	n.pages.put(ans.DID, below)
	err = n.ingestLog(ctx, e, from)
	n.pages.take(ans.DID) // what the backfill did not use
	if err != nil {
		return err
	}
	return n.fetchAnnounced(ctx, ans.DID)
}

// ingestLog stores e and every missing entry below it, whether or not the
// node tracks the actor yet (following starts by fetching the history).
// The walk back over the network runs outside ingestMu; storing is
// idempotent, so entries that gossip stored meanwhile are skipped.
func (n *Node) ingestLog(ctx context.Context, e entry, from peer.ID) error {
	missing, err := n.backfill(ctx, e, from)
	if err != nil {
		return err
	}
	defer missing.close()
	store := func(es []entry) error {
		n.ingestMu.Lock()
		err := n.storeEntries(ctx, es)
		n.ingestMu.Unlock()
		if err != nil {
			return err
		}
		for _, m := range es {
			n.afterIngest(ctx, m)
		}
		return nil
	}
	// In batches, oldest first, so that ingest from gossip goes on
	// between them and memory stays bounded however long the log.
	return missing.drain(maxIngestBatch, e, store)
}

// fetchAnnounced fetches the activities a community announced that the node
// lacks: a community's log lists its posts, their authors' logs hold them.
// A post no neighbour can give yet does not hold up the others: they are
// fetched a few at a time, each with its own deadline, and the next sync
// tries the rest again.
func (n *Node) fetchAnnounced(ctx context.Context, group string) error {
	want, err := n.db.strings(ctx, `SELECT a.activity_cid FROM announces a
		WHERE a.community = ? AND NOT EXISTS (SELECT 1 FROM log_entries e WHERE e.cid = a.activity_cid)`, group)
	if err != nil || len(want) == 0 {
		return err
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, announcedFetches)
	)
	for _, s := range want {
		c, err := cid.Decode(s)
		if err != nil {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			var err error
			n.survive("fetch announced", func() { err = n.fetchActivity(ctx, c) })
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

// announcedFetches bounds the concurrent fetches of announced posts.
const announcedFetches = 8

// fetchActivity fetches one activity block by CID, verifies and ingests it.
func (n *Node) fetchActivity(ctx context.Context, c cid.Cid) error {
	fctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	data, err := n.content.GetBlock(fctx, c)
	cancel()
	if err != nil {
		return fmt.Errorf("fetch announced %s: %w", c, err)
	}
	e, err := verifyBlock(data)
	if err != nil || !e.cid.Equals(c) {
		return fmt.Errorf("announced %s: not a valid activity: %v", c, err)
	}
	return n.ingest(ctx, e, "")
}

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
func (n *Node) syncLoop(ctx context.Context, interval time.Duration) {
	defer n.wg.Done()
	sub, err := n.host.Libp2p().EventBus().Subscribe(new(event.EvtPeerConnectednessChanged), eventbus.BufSize(256))
	if err != nil {
		n.log.Warn("sync: no connection events", "err", err)
		return
	}
	defer sub.Close()
	workers := syncWorkers
	if n.cfg.Search.Indexer {
		workers = indexerSyncWorkers
	}
	peers := newKeyedQueue[peer.ID, struct{}](n.cfg.Limits.PendingBackfills)
	sweep := make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	for range workers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			peers.work(ctx, func(ctx context.Context, p peer.ID, v struct{}) {
				n.survive("sync", func() { n.syncPeer(ctx, p, v) })
			})
		}()
		go func() {
			defer wg.Done()
			n.gaps.work(ctx, func(ctx context.Context, actor string, it ingestItem) {
				n.survive("backfill", func() { n.fillGap(ctx, actor, it) })
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
				n.survive("sync", func() {
					n.syncFollowed(ctx, "")
					n.redeliverUnannounced(ctx, interval)
				})
			}
		}
	}()
	t := time.NewTicker(interval)
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
			if n.cfg.Search.Indexer {
				for _, p := range n.host.Libp2p().Network().Peers() {
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
func (n *Node) syncPeer(ctx context.Context, p peer.ID, _ struct{}) {
	if n.host.Libp2p().Network().Connectedness(p) != network.Connected {
		return // gone again before its turn
	}
	n.syncFollowed(ctx, p)
	if n.cfg.Search.Indexer {
		n.syncOrigins(ctx, p)
	}
}

// fillGap backfills an actor's log up to an entry gossip brought above a
// gap, and stores them, off the ingest loop: a walk over the network must
// not hold up every other actor's activities.
func (n *Node) fillGap(ctx context.Context, actor string, it ingestItem) {
	if err := n.ingestLog(ctx, it.e, it.from); err != nil && ctx.Err() == nil {
		n.rejected.inc(ReasonBackfillErr)
		n.log.Debug("backfill", "actor", actor, "seq", it.e.act.Seq, "peer", it.from, "err", err)
	}
}

// syncFollowed asks for the heads of every followed actor: of one peer if
// only is set, else of each actor's origin node when connected to it, or
// else of a peer in the actor's topics (another follower, which holds the
// log): in a large network the origin is rarely a direct neighbour, and a
// node that missed a message (down, partitioned, not yet in the mesh) must
// still catch up without waiting for a new connection.
func (n *Node) syncFollowed(ctx context.Context, only peer.ID) {
	rows, err := n.db.db.QueryContext(ctx, `SELECT DISTINCT f.followee, coalesce(a.node, '') FROM follows f
		JOIN local_actors l ON l.did = f.follower LEFT JOIN actors a ON a.did = f.followee`)
	if err != nil {
		return
	}
	type target struct{ did, node string }
	var ts []target
	for rows.Next() {
		var t target
		rows.Scan(&t.did, &t.node)
		ts = append(ts, t)
	}
	rows.Close()
	for _, t := range ts {
		p := only
		if p == "" {
			if p = n.logHolder(t.did, t.node); p == "" {
				continue
			}
		}
		ans, err := n.askLogHead(ctx, p, logRequest{DID: t.did})
		if err != nil {
			continue
		}
		if err := n.syncActor(ctx, ans, p); err != nil && ctx.Err() == nil {
			n.log.Debug("sync", "actor", t.did, "peer", p, "err", err)
		}
	}
}

// logHolder picks the peer to ask for did's log head: its origin node when
// connected to it, else a random peer subscribed to its topics; "" when
// there is none.
func (n *Node) logHolder(did, origin string) peer.ID {
	if id, err := peer.Decode(origin); err == nil && n.host.Libp2p().Network().Connectedness(id) == network.Connected {
		return id
	}
	if n.gossip == nil {
		return ""
	}
	peers := append(n.gossip.TopicPeers(TopicOfActor(did)), n.gossip.TopicPeers(TopicOfGroup(did))...)
	if len(peers) == 0 {
		return ""
	}
	return peers[rand.IntN(len(peers))]
}
