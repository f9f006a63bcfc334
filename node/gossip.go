package node

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
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
	// ReasonNotMember counts posts to a community hosted here by actors
	// that did not join it: stored, never announced.
	ReasonNotMember = "not_member"
	// ReasonPostRate counts posts over their author's rate in a
	// community hosted here: stored, announced when delivered again.
	ReasonPostRate = "post_rate_limited"
	// ReasonBackfillDropped counts backfills dropped because too many
	// waited; the next sync finds their gaps again.
	ReasonBackfillDropped = "backfill_dropped"
)

// ErrNotMember is the refusal of a post by an actor that has not joined
// the community.
var ErrNotMember = errors.New("not a member of the community: join it first")

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
	// One decode and one verification per message: this is the hot path.
	e, err := verifyBlock(data)
	if err != nil {
		switch {
		case errors.Is(err, activity.ErrUnsigned):
			n.rejected.inc(ReasonUnsigned)
		case errors.Is(err, activity.ErrBadSignature), errors.Is(err, activity.ErrBadKey):
			n.rejected.inc(ReasonBadSig)
		default:
			n.rejected.inc(ReasonMalformed)
		}
		return p2p.Reject, nil
	}
	if n.isBlocked(ctx, e.act.Actor) {
		n.rejected.inc(ReasonBlocked)
		return p2p.Reject, nil
	}
	have, _, err := n.hasEntryOn(ctx, e.act, e.cid, true)
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

func (n *Node) isBlocked(_ context.Context, did string) bool {
	_, ok := (*n.blocked.Load())[did]
	return ok
}

// loadBlocked reads the blocked actors into memory. Every gossip message
// asks whether its actor is blocked, and a read transaction on SQLite per
// message was 5 % of the simulator's CPU; the set is small and changes only
// through BlockActor.
func (n *Node) loadBlocked(ctx context.Context) error {
	dids, err := n.db.strings(ctx, `SELECT did FROM blocked`)
	if err != nil {
		return fmt.Errorf("read blocked actors: %w", err)
	}
	m := make(map[string]struct{}, len(dids))
	for _, d := range dids {
		m[d] = struct{}{}
	}
	n.blocked.Store(&m)
	return nil
}

// onGossip queues an accepted message for the ingest loop. A full queue
// holds up the topic's subscription, which is the backpressure we want.
func (n *Node) onGossip(topic string, from peer.ID, _ []byte, decoded any) {
	e, ok := decoded.(entry)
	if !ok {
		return
	}
	select {
	case n.ingestCh <- ingestItem{e: e, from: from}:
	case <-n.ctx.Done():
	}
}

// ingestItem is a verified activity waiting to be stored.
type ingestItem struct {
	e    entry
	from peer.ID
	// since is when the ingest loop began holding it above a gap.
	since time.Time
}

// maxIngestBatch bounds how many queued activities one commit stores.
const maxIngestBatch = 512

// ingestLoop stores queued activities in batches: whatever has arrived
// while the previous batch was being written goes into one durable commit
// (group commit), so a busy node pays the disk syncs once per batch, not
// once per activity.
//
// Gossip often brings a log's entries out of order. An entry above a gap
// is held for up to gapDelay, and applied as soon as gossip brings the
// entries below it; only a gap that outlives the delay is backfilled over
// the network (by the sync loop's workers, off this loop). Backfilling at
// once fetched, at 20 publications a second in simnet, six times more log
// entries than the gaps that gossip did not fill by itself.
func (n *Node) ingestLoop(ctx context.Context, gapDelay time.Duration) {
	defer n.wg.Done()
	held := heldGaps{by: map[string][]ingestItem{}}
	tick := time.NewTicker(max(gapDelay/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		var batch []ingestItem
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			all := held.count > n.cfg.Limits.HeldEntries || held.bytes > n.cfg.Limits.HeldMiB<<20
			n.releaseGaps(&held, gapDelay, all)
			continue
		case it := <-n.ingestCh:
			batch = append(batch, it)
		}
		n.waitForIndex(ctx)
	drain:
		for len(batch) < maxIngestBatch {
			select {
			case it := <-n.ingestCh:
				batch = append(batch, it)
			default:
				break drain
			}
		}
		fresh := len(batch)
		// An arrival may close a held gap: the held entries of the
		// batch's actors go in with it.
		for _, it := range batch[:fresh:fresh] {
			batch = append(batch, held.take(it.e.act.Actor)...)
		}
		var gaps []ingestItem
		n.survive("ingest", func() {
			ictx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			var err error
			gaps, err = n.ingestBatch(ictx, batch)
			if err != nil && ictx.Err() == nil {
				n.log.Warn("ingest", "activities", len(batch), "err", err)
			}
		})
		now := time.Now()
		for _, g := range gaps {
			if g.since.IsZero() {
				g.since = now
			}
			held.add(g)
		}
		n.ingested.Add(int64(fresh))
	}
}

// heldGaps are the entries the ingest loop holds above gaps, by actor,
// with their count and bytes: beyond limits.held_entries or held_mib,
// every gap is backfilled at once.
type heldGaps struct {
	by    map[string][]ingestItem
	count int
	bytes int64
}

func (h *heldGaps) add(it ingestItem) {
	h.by[it.e.act.Actor] = append(h.by[it.e.act.Actor], it)
	h.count++
	h.bytes += int64(len(it.e.data))
}

// take removes and returns the entries held for actor.
func (h *heldGaps) take(actor string) []ingestItem {
	hs := h.by[actor]
	delete(h.by, actor)
	for _, it := range hs {
		h.count--
		h.bytes -= int64(len(it.e.data))
	}
	return hs
}

// releaseGaps hands the gaps held for longer than delay (every gap when
// all is set) to the backfill queue.
func (n *Node) releaseGaps(held *heldGaps, delay time.Duration, all bool) {
	for actor, hs := range held.by {
		if !all && time.Since(hs[0].since) < delay {
			continue
		}
		top := hs[0]
		for _, h := range hs[1:] {
			if h.e.act.Seq > top.e.act.Seq {
				top = h
			}
		}
		if n.gaps.push(actor, top, higherSeq) {
			n.rejected.inc(ReasonBackfillDropped)
		}
		held.take(actor)
	}
}

// higherSeq keeps the higher of two pending backfills of one log: the walk
// down from it covers the other.
func higherSeq(old, new ingestItem) bool { return new.e.act.Seq > old.e.act.Seq }

// ingest stores one verified activity from another node, backfilling its
// log first if the node tracks the actor and lacks the entries below it.
func (n *Node) ingest(ctx context.Context, e entry, from peer.ID) error {
	gaps, err := n.ingestBatch(ctx, []ingestItem{{e: e, from: from}})
	for _, g := range gaps {
		if gerr := n.ingestLog(ctx, g.e, g.from); gerr != nil {
			n.rejected.inc(ReasonBackfillErr)
			err = errors.Join(err, fmt.Errorf("backfill %s: %w", g.e.act.Actor, gerr))
		}
	}
	return err
}

// ingestBatch stores verified activities from other nodes, in (actor, seq)
// order, in one commit. For an actor whose log the node tracks (a local
// actor follows it, or the node is an indexer), entries are applied in
// order: an entry above a gap in seq is not stored but returned, for the
// caller to hold or backfill (ingestLog) without holding up the rest.
func (n *Node) ingestBatch(ctx context.Context, items []ingestItem) (gaps []ingestItem, err error) {
	n.ingestMu.Lock()
	defer n.ingestMu.Unlock()
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i].e.act, items[j].e.act
		if a.Actor != b.Actor {
			return a.Actor < b.Actor
		}
		return a.Seq < b.Seq
	})
	var ready []entry
	heads := map[string]uint64{} // contiguous seq of tracked actors, as of this batch
	tracked := map[string]bool{}
	var errs []error
	for i, it := range items {
		e := it.e
		if i > 0 && items[i-1].e.cid.Equals(e.cid) {
			continue // the same entry twice (held, and arrived again)
		}
		have, fork, err := n.hasEntry(ctx, e.act, e.cid)
		if err != nil {
			return nil, err
		}
		if have {
			continue
		}
		if fork {
			n.rejected.inc(ReasonFork)
			errs = append(errs, fmt.Errorf("%s has two activities with seq %d: kept the first", e.act.Actor, e.act.Seq))
			continue
		}
		t, ok := tracked[e.act.Actor]
		if !ok {
			t = n.tracks(ctx, e.act.Actor)
			tracked[e.act.Actor] = t
		}
		if !t {
			ready = append(ready, e)
			continue
		}
		h, ok := heads[e.act.Actor]
		if !ok {
			if h, err = n.contiguous(ctx, e.act.Actor); err != nil {
				return nil, err
			}
		}
		if e.act.Seq <= h+1 {
			ready = append(ready, e)
			heads[e.act.Actor] = max(h, e.act.Seq)
			continue
		}
		heads[e.act.Actor] = h
		gaps = append(gaps, it)
	}
	if err := n.storeEntries(ctx, ready); err != nil {
		return nil, err
	}
	for _, e := range ready {
		n.afterIngest(ctx, e)
	}
	return gaps, errors.Join(errs...)
}

// afterIngest reacts to a stored remote activity: a local community
// announces a new resource posted in it by a member, once, in its own
// log, so that its members can backfill the community.
func (n *Node) afterIngest(ctx context.Context, e entry) {
	if g := communityOf(e.act); isPost(e.act) && n.hostsCommunity(ctx, g) {
		n.announcePost(ctx, g, e)
	}
}

// isPost reports whether a is a post in a community: a resource created
// or updated with the community among its recipients.
func isPost(a *activity.Activity) bool {
	return (a.Type == activity.TypeCreate || a.Type == activity.TypeUpdate) && a.Object.Resource != nil && communityOf(a) != ""
}

// hostsCommunity reports whether group is a community of this node.
func (n *Node) hostsCommunity(ctx context.Context, group string) bool {
	if group == "" {
		return false
	}
	_, err := n.localKey(ctx, group)
	return err == nil
}

// isMember reports whether actor may post in group, a community hosted
// here: every community is open, so a member is an actor whose Follow of
// the community (its join) is stored and not undone, or a person of this
// node.
func (n *Node) isMember(ctx context.Context, group, actor string) (bool, error) {
	var k int
	err := n.db.queryRow(ctx, `SELECT (SELECT count(*) FROM follows WHERE follower = ? AND followee = ?)
		+ (SELECT count(*) FROM local_actors WHERE did = ?)`, actor, group, actor).Scan(&k)
	if err != nil {
		return false, fmt.Errorf("membership of %s in %s: %w", actor, group, err)
	}
	return k > 0, nil
}

// announcePost has a community hosted here announce a stored post: if its
// author is a member within its rate (limits.community_posts_per_minute).
// It reports whether the post is announced.
func (n *Node) announcePost(ctx context.Context, group string, e entry) bool {
	member, err := n.isMember(ctx, group, e.act.Actor)
	if err != nil {
		n.log.Warn("announce in community", "community", group, "err", err)
		return false
	}
	if !member {
		n.rejected.inc(ReasonNotMember)
		return false
	}
	if _, err := n.localKey(ctx, e.act.Actor); err != nil && !n.postLimit.Allow(group+" "+e.act.Actor) {
		n.rejected.inc(ReasonPostRate)
		return false
	}
	n.announceInCommunity(ctx, group, e.cid)
	return n.announced(ctx, group, e.cid)
}

// announced reports whether a community announced an activity.
func (n *Node) announced(ctx context.Context, group string, c cid.Cid) bool {
	var k int
	_ = n.db.queryRow(ctx, `SELECT count(*) FROM announces WHERE community = ? AND activity_cid = ?`, group, c.String()).Scan(&k)
	return k > 0
}

func (n *Node) announceInCommunity(ctx context.Context, group string, c cid.Cid) {
	if !n.hostsCommunity(ctx, group) || n.announced(ctx, group, c) {
		return
	}
	if _, err := n.appendActivity(ctx, group, &activity.Activity{Type: activity.TypeAnnounce, Object: activity.Object{Ref: c.String()}}); err != nil {
		n.log.Warn("announce in community", "community", group, "cid", c, "err", err)
	}
}

// tracks reports whether the node keeps a whole log for did: local actors'
// follows name it.
func (n *Node) tracks(ctx context.Context, did string) bool {
	if n.cfg.Search.Indexer {
		return true // an HQ keeps every log whole
	}
	var k int
	_ = n.db.queryRow(ctx, `SELECT count(*) FROM follows f JOIN local_actors l ON l.did = f.follower WHERE f.followee = ?`, did).Scan(&k)
	return k > 0
}

// backfill walks prev from e back to what the node has, verifying every
// entry, and returns the missing entries in a spool (which the caller
// closes). It takes the entries in pages over ProtocolLog from the peer
// that sent e when it can (one round trip per thousand entries), and
// otherwise one block at a time over bitswap from any peer that has them.
// A walk longer than limits.backfill_max_entries fails.
func (n *Node) backfill(ctx context.Context, e entry, from peer.ID) (_ *spool, err error) {
	have, err := n.contiguous(ctx, e.act.Actor)
	if err != nil {
		return nil, err
	}
	missing := newSpool(n.tmpDir(), n.spoolBudget)
	defer func() {
		if err != nil {
			missing.close()
		}
	}()
	walked := 0
	cur := e
	// accept checks that p is the entry below cur and records it.
	accept := func(p entry) error {
		if p.cid.String() != cur.act.Prev || p.act.Actor != e.act.Actor || p.act.Seq != cur.act.Seq-1 {
			return fmt.Errorf("%s does not continue the log at seq %d", p.cid, cur.act.Seq-1)
		}
		if walked++; walked > n.cfg.Limits.BackfillMaxEntries {
			return fmt.Errorf("more than %d entries missing below seq %d: too long to backfill at once (limits.backfill_max_entries)", n.cfg.Limits.BackfillMaxEntries, e.act.Seq)
		}
		if ok, fork, err := n.hasEntry(ctx, p.act, p.cid); err != nil {
			return err
		} else if fork {
			n.rejected.inc(ReasonFork)
			return fmt.Errorf("the log forks at seq %d", p.act.Seq)
		} else if !ok {
			if err := missing.add(p); err != nil {
				return err
			}
		}
		cur = p
		return nil
	}
	// Entries handed over with the head by syncActor come first.
	for _, data := range n.pages.take(e.act.Actor) {
		if cur.act.Seq <= have+1 {
			break
		}
		p, err := verifyBlock(data)
		if err != nil {
			break
		}
		if err := accept(p); err != nil {
			return nil, err
		}
	}
	for cur.act.Seq > have+1 && from != "" && n.host != nil {
		page, err := n.askLogHead(ctx, from, logRequest{DID: e.act.Actor, Below: cur.act.Seq, Max: int(min(cur.act.Seq-1-have, maxLogPage))})
		if err != nil || len(page.Entries) == 0 {
			break
		}
		progressed := false
		for _, data := range page.Entries {
			if cur.act.Seq <= have+1 {
				break
			}
			p, err := verifyBlock(data)
			if err != nil {
				break
			}
			if err := accept(p); err != nil {
				return nil, err
			}
			progressed = true
		}
		if !progressed {
			break
		}
	}
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
		if err := accept(p); err != nil {
			return nil, err
		}
	}
	return missing, nil
}

// tmpDir is where the node keeps files it needs only while it runs
// (backfill spools); New empties it.
func (n *Node) tmpDir() string { return filepath.Join(n.repo.Path(), "tmp") }

// announce gossips a local activity on its actor's topic, its community's
// topic and the index topic. A community's Announce goes on its community
// topic only, not on its actor topic too: whoever follows a community
// listens on both, so the second copy doubled the community's traffic and
// every member's validation work (simnet measured it). It never waits for
// a DHT provide.
func (n *Node) announce(e entry) {
	if n.gossip == nil {
		return
	}
	var topics []string
	if e.act.Type == activity.TypeAnnounce {
		topics = []string{TopicOfGroup(e.act.Actor), TopicIndex}
	} else {
		topics = []string{TopicOfActor(e.act.Actor), TopicIndex}
		if g := communityOf(e.act); g != "" {
			topics = append(topics, TopicOfGroup(g))
		}
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
	dids, err := n.db.strings(ctx, `SELECT f.followee FROM follows f JOIN local_actors l ON l.did = f.follower
		UNION SELECT did FROM local_actors WHERE type = 'Group'`)
	if err != nil {
		return err
	}
	for _, d := range dids {
		n.subscribe(d)
	}
	return nil
}
