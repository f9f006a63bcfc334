package node

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/p2p"
)

// Gossip topics, as DESIGN.md names them.
const (
	topicActorPrefix = "lyceum/1/actor/"
	topicGroupPrefix = "lyceum/1/group/"
	// TopicIndex carries every public activity, for indexers.
	TopicIndex = "lyceum/1/index"
)

// TopicOfActor is the topic of an actor's followers.
func TopicOfActor(did string) string { return topicActorPrefix + did }

// TopicOfGroup is the topic of a community's members.
func TopicOfGroup(did string) string { return topicGroupPrefix + did }

// Rejection reasons counted by the gossip validator.
const (
	ReasonOversized   = "oversized"
	ReasonMalformed   = "malformed"
	ReasonUnsigned    = "unsigned"
	ReasonBadSig      = "bad_signature"
	ReasonReplayed    = "replayed"
	ReasonBlocked     = "blocked_actor"
	ReasonFork        = "fork"
	ReasonBackfillErr = "backfill_failed"
)

// replayAge is how old a stored activity must be for a new copy of it on
// gossip to count as a replay, not as a late honest relay.
const replayAge = 10 * time.Minute

// counters counts gossip outcomes by reason; safe for concurrent use.
type counters struct {
	mu sync.Mutex
	m  map[string]*atomic.Int64
}

func (c *counters) inc(reason string) {
	c.mu.Lock()
	v, ok := c.m[reason]
	if !ok {
		v = &atomic.Int64{}
		c.m[reason] = v
	}
	c.mu.Unlock()
	v.Add(1)
}

func (c *counters) snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.m))
	for k, v := range c.m {
		out[k] = v.Load()
	}
	return out
}

// validate is the gossip validator of every Lyceum topic: it rejects what
// is oversized, malformed, unsigned, badly signed, replayed or from a
// blocked actor, and counts each reason. Rejected messages lower the score
// of the peer that sent them.
func (n *Node) validate(ctx context.Context, from peer.ID, topic string, data []byte) (p2p.Verdict, any) {
	if from == n.host.ID() {
		return p2p.Accept, nil // our own, stored and checked before it was sent
	}
	if len(data) > activity.DefaultMaxSize {
		n.rejected.inc(ReasonOversized)
		return p2p.Reject, nil
	}
	a, err := activity.Decode(data)
	if err != nil {
		n.rejected.inc(ReasonMalformed)
		return p2p.Reject, nil
	}
	if a.Proof == nil {
		n.rejected.inc(ReasonUnsigned)
		return p2p.Reject, nil
	}
	e, err := verifyBlock(data)
	if err != nil {
		if errors.Is(err, activity.ErrMalformed) {
			n.rejected.inc(ReasonMalformed)
		} else {
			n.rejected.inc(ReasonBadSig)
		}
		return p2p.Reject, nil
	}
	if n.isBlocked(ctx, e.act.Actor) {
		n.rejected.inc(ReasonBlocked)
		return p2p.Reject, nil
	}
	have, _, err := n.hasEntry(ctx, e.act, e.cid)
	if err == nil && have {
		if from != n.host.ID() && time.Since(e.act.Published) > replayAge {
			n.rejected.inc(ReasonReplayed)
			return p2p.Reject, nil
		}
		return p2p.Ignore, nil
	}
	n.accepted.inc("accepted")
	return p2p.Accept, e
}

func (n *Node) isBlocked(ctx context.Context, did string) bool {
	var k int
	_ = n.db.db.QueryRowContext(ctx, `SELECT count(*) FROM blocked WHERE did = ?`, did).Scan(&k)
	return k > 0
}

// onGossip ingests an accepted message.
func (n *Node) onGossip(topic string, from peer.ID, _ []byte, decoded any) {
	e, ok := decoded.(entry)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, 2*time.Minute)
	defer cancel()
	if err := n.ingest(ctx, e, from); err != nil && ctx.Err() == nil {
		n.log.Warn("ingest gossip", "topic", topic, "cid", e.cid, "err", err)
	}
}

// ingest stores a verified activity from another node. For an actor whose
// log the node tracks (it follows the actor, or the actor is a local
// community's member posting in it), a gap in seq is filled first by
// walking prev back over bitswap, so entries are applied in order.
func (n *Node) ingest(ctx context.Context, e entry, from peer.ID) error {
	n.ingestMu.Lock()
	defer n.ingestMu.Unlock()
	have, fork, err := n.hasEntry(ctx, e.act, e.cid)
	if err != nil {
		return err
	}
	if have {
		return nil
	}
	if fork {
		n.rejected.inc(ReasonFork)
		return fmt.Errorf("%s has two activities with seq %d: kept the first", e.act.Actor, e.act.Seq)
	}
	if n.tracks(ctx, e.act.Actor) {
		missing, err := n.backfill(ctx, e, from)
		if err != nil {
			n.rejected.inc(ReasonBackfillErr)
			return fmt.Errorf("backfill %s: %w", e.act.Actor, err)
		}
		for _, m := range missing {
			if err := n.storeEntry(ctx, m); err != nil {
				return err
			}
			n.afterIngest(ctx, m)
		}
	}
	if err := n.storeEntry(ctx, e); err != nil {
		return err
	}
	n.afterIngest(ctx, e)
	return nil
}

// afterIngest reacts to a stored remote activity: a local community
// announces a new resource posted in it, once, in its own log, so that its
// members can backfill the community.
func (n *Node) afterIngest(ctx context.Context, e entry) {
	a := e.act
	if (a.Type != activity.TypeCreate && a.Type != activity.TypeUpdate) || a.Object.Resource == nil || communityOf(a) == "" {
		return
	}
	n.announceInCommunity(ctx, communityOf(a), e.cid)
}

func (n *Node) announceInCommunity(ctx context.Context, group string, c cid.Cid) {
	if _, err := n.localKey(ctx, group); err != nil {
		return // not our community
	}
	var k int
	_ = n.db.db.QueryRowContext(ctx, `SELECT count(*) FROM announces WHERE community = ? AND activity_cid = ?`, group, c.String()).Scan(&k)
	if k > 0 {
		return
	}
	if _, err := n.appendActivity(ctx, group, &activity.Activity{Type: activity.TypeAnnounce, Object: activity.Object{Ref: c.String()}}); err != nil {
		n.log.Warn("announce in community", "community", group, "cid", c, "err", err)
	}
}

// tracks reports whether the node keeps a whole log for did: local actors'
// follows name it.
func (n *Node) tracks(ctx context.Context, did string) bool {
	var k int
	_ = n.db.db.QueryRowContext(ctx, `SELECT count(*) FROM follows f JOIN local_actors l ON l.did = f.follower WHERE f.followee = ?`, did).Scan(&k)
	return k > 0
}

// backfill walks prev from e back to what the node has, fetching each
// entry by CID (from the store, or over bitswap from any peer that has it)
// and verifying it, and returns the missing entries in ascending seq.
func (n *Node) backfill(ctx context.Context, e entry, from peer.ID) ([]entry, error) {
	have, err := n.contiguous(ctx, e.act.Actor)
	if err != nil {
		return nil, err
	}
	var missing []entry
	cur := e
	for cur.act.Seq > have+1 {
		prev, err := cid.Decode(cur.act.Prev)
		if err != nil {
			return nil, fmt.Errorf("seq %d: bad prev %q: %w", cur.act.Seq, cur.act.Prev, err)
		}
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		data, err := n.content.GetBlock(fctx, prev)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("fetch seq %d (%s): %w", cur.act.Seq-1, prev, err)
		}
		p, err := verifyBlock(data)
		if err != nil {
			return nil, fmt.Errorf("seq %d (%s): %w", cur.act.Seq-1, prev, err)
		}
		if !p.cid.Equals(prev) || p.act.Actor != e.act.Actor || p.act.Seq != cur.act.Seq-1 {
			return nil, fmt.Errorf("%s does not continue the log at seq %d", prev, cur.act.Seq-1)
		}
		if ok, fork, err := n.hasEntry(ctx, p.act, p.cid); err != nil {
			return nil, err
		} else if fork {
			n.rejected.inc(ReasonFork)
			return nil, fmt.Errorf("the log forks at seq %d", p.act.Seq)
		} else if !ok {
			missing = append(missing, p)
		}
		cur = p
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i].act.Seq < missing[j].act.Seq })
	return missing, nil
}

// announce gossips a local activity on its actor's topic, its community's
// topic and the index topic. It never waits for a DHT provide.
func (n *Node) announce(e entry) {
	if n.gossip == nil {
		return
	}
	topics := []string{TopicOfActor(e.act.Actor), TopicIndex}
	if g := communityOf(e.act); g != "" {
		topics = append(topics, TopicOfGroup(g))
	}
	if e.act.Type == activity.TypeAnnounce {
		topics = append(topics, TopicOfGroup(e.act.Actor))
	}
	for _, t := range topics {
		if err := n.gossip.Publish(n.ctx, t, e.data); err != nil {
			n.log.Debug("gossip publish", "topic", t, "err", err)
		}
	}
}

// subscribe joins the topics through which did's activities arrive.
func (n *Node) subscribe(did string) {
	if n.gossip == nil {
		return
	}
	for _, t := range []string{TopicOfActor(did), TopicOfGroup(did)} {
		if err := n.gossip.Join(t, n.onGossip); err != nil {
			n.log.Warn("join topic", "topic", t, "err", err)
		}
	}
}

func (n *Node) unsubscribe(did string) {
	if n.gossip == nil {
		return
	}
	for _, t := range []string{TopicOfActor(did), TopicOfGroup(did)} {
		_ = n.gossip.Leave(t)
	}
}

// resubscribe joins the topics of every followee and local community, at
// start.
func (n *Node) resubscribe(ctx context.Context) error {
	rows, err := n.db.db.QueryContext(ctx, `SELECT f.followee FROM follows f JOIN local_actors l ON l.did = f.follower
		UNION SELECT did FROM local_actors WHERE type = 'Group'`)
	if err != nil {
		return err
	}
	var dids []string
	for rows.Next() {
		var d string
		rows.Scan(&d)
		dids = append(dids, d)
	}
	rows.Close()
	for _, d := range dids {
		n.subscribe(d)
	}
	return nil
}
