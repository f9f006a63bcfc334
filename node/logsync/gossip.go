package logsync

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/actorlog"
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

// Rejection reasons counted by the gossip validator and the ingest.
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

// replayAge is how old a stored activity must be for a new copy of it on
// gossip to count as a replay, not as a late honest relay.
const replayAge = 10 * time.Minute

// Validate is the gossip validator of every Lyceum topic: it rejects what
// is oversized, malformed, unsigned, badly signed, replayed or from a
// blocked actor, and counts each reason; rejected messages lower the score
// of the peer that sent them. GossipSub calls it; it is exported so that
// benchmarks and tests feed the pipeline as gossip would (with Receive).
func (s *Service) Validate(ctx context.Context, from peer.ID, topic string, data []byte) (p2p.Verdict, any) {
	if from == s.Host.ID() {
		return p2p.Accept, nil // our own, stored and checked before it was sent
	}
	if len(data) > activity.DefaultMaxSize {
		s.rejected.inc(ReasonOversized)
		return p2p.Reject, nil
	}
	// One decode and one verification per message: this is the hot path.
	e, err := s.verify(data)
	if err != nil {
		switch {
		case errors.Is(err, activity.ErrUnsigned):
			s.rejected.inc(ReasonUnsigned)
		case errors.Is(err, activity.ErrBadSignature), errors.Is(err, activity.ErrBadKey):
			s.rejected.inc(ReasonBadSig)
		default:
			s.rejected.inc(ReasonMalformed)
		}
		return p2p.Reject, nil
	}
	if s.Blocklist.Has(e.Act.Actor) {
		s.rejected.inc(ReasonBlocked)
		return p2p.Reject, nil
	}
	have, _, err := s.Log.Has(ctx, e.Act, e.CID, true)
	if err == nil && have {
		if time.Since(e.Act.Published) > replayAge {
			s.rejected.inc(ReasonReplayed)
			return p2p.Reject, nil
		}
		return p2p.Ignore, nil
	}
	s.accepted.inc("accepted")
	s.clock.add(time.Since(e.Act.Published))
	return p2p.Accept, e
}

// Receive queues a message Validate accepted for the ingest loop, with
// what Validate decoded. A full queue holds up the topic's subscription,
// which is the backpressure we want.
func (s *Service) Receive(topic string, from peer.ID, _ []byte, decoded any) {
	e, ok := decoded.(actorlog.Entry)
	if !ok {
		return
	}
	select {
	case s.ingestCh <- ingestItem{e: e, from: from}:
	case <-s.done:
	}
}

// ingestItem is a verified activity waiting to be stored.
type ingestItem struct {
	e    actorlog.Entry
	from peer.ID
	// since is when the ingest loop began holding it above a gap.
	since time.Time
}

// maxIngestBatch bounds how many queued activities one commit stores.
const maxIngestBatch = 512

// How far the search index may fall behind before ingest waits for it,
// and for how long a batch: running ahead only moved work to the end,
// with less of it in parallel (BenchmarkHQIngest acknowledged 3,900/s but
// indexed 2,900/s, where both went at 3,200/s before).
const (
	maxTailLag     = 2000
	maxTailLagWait = 100 * time.Millisecond
)

// ingestLoop stores queued activities in batches: whatever has arrived
// while the previous batch was being written goes into one durable commit
// (group commit), so a busy node pays the disk syncs once per batch, not
// once per activity.
//
// Gossip often brings a log's entries out of order. An entry above a gap
// is held for up to the gap delay, and applied as soon as gossip brings
// the entries below it; only a gap that outlives the delay is backfilled
// over the network (by the sync loop's workers, off this loop).
// Backfilling at once fetched, at 20 publications a second in simnet, six
// times more log entries than the gaps that gossip did not fill by itself.
func (s *Service) ingestLoop(ctx context.Context) {
	held := heldGaps{by: map[string][]ingestItem{}}
	tick := time.NewTicker(max(s.cfg.GapDelay/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		var batch []ingestItem
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			all := held.count > s.cfg.HeldEntries || held.bytes > s.cfg.HeldBytes
			s.releaseGaps(&held, s.cfg.GapDelay, all)
			s.counts.held.Store(int64(held.count))
			continue
		case it := <-s.ingestCh:
			batch = append(batch, it)
		}
		s.Log.WaitForTails(ctx, maxTailLag, maxTailLagWait)
	drain:
		for len(batch) < maxIngestBatch {
			select {
			case it := <-s.ingestCh:
				batch = append(batch, it)
			default:
				break drain
			}
		}
		fresh := len(batch)
		// An arrival may close a held gap: the held entries of the
		// batch's actors go in with it.
		for _, it := range batch[:fresh:fresh] {
			batch = append(batch, held.take(it.e.Act.Actor)...)
		}
		var gaps []ingestItem
		s.Workers.Survive("ingest", func() {
			ictx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			var err error
			gaps, err = s.ingestBatch(ictx, batch)
			if err != nil && ictx.Err() == nil {
				s.log.Warn("ingest", "activities", len(batch), "err", err)
			}
		})
		now := time.Now()
		for _, g := range gaps {
			if g.since.IsZero() {
				g.since = now
			}
			held.add(g)
		}
		s.counts.held.Store(int64(held.count))
		s.ingested.Add(int64(fresh))
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
	h.by[it.e.Act.Actor] = append(h.by[it.e.Act.Actor], it)
	h.count++
	h.bytes += int64(len(it.e.Data))
}

// take removes and returns the entries held for actor.
func (h *heldGaps) take(actor string) []ingestItem {
	hs := h.by[actor]
	delete(h.by, actor)
	for _, it := range hs {
		h.count--
		h.bytes -= int64(len(it.e.Data))
	}
	return hs
}

// releaseGaps hands the gaps held for longer than delay (every gap when
// all is set) to the backfill queue.
func (s *Service) releaseGaps(held *heldGaps, delay time.Duration, all bool) {
	for actor, hs := range held.by {
		if !all && time.Since(hs[0].since) < delay {
			continue
		}
		top := hs[0]
		for _, h := range hs[1:] {
			if h.e.Act.Seq > top.e.Act.Seq {
				top = h
			}
		}
		if s.gaps.push(actor, top, higherSeq) {
			s.rejected.inc(ReasonBackfillDropped)
		}
		held.take(actor)
	}
}

// higherSeq keeps the higher of two pending backfills of one log: the walk
// down from it covers the other.
func higherSeq(old, new ingestItem) bool { return new.e.Act.Seq > old.e.Act.Seq }

// ingest stores one verified activity from another node, backfilling its
// log first if the node tracks the actor and lacks the entries below it.
func (s *Service) ingest(ctx context.Context, e actorlog.Entry, from peer.ID) error {
	gaps, err := s.ingestBatch(ctx, []ingestItem{{e: e, from: from}})
	for _, g := range gaps {
		if gerr := s.ingestLog(ctx, g.e, g.from); gerr != nil {
			s.rejected.inc(ReasonBackfillErr)
			err = errors.Join(err, fmt.Errorf("backfill %s: %w", g.e.Act.Actor, gerr))
		}
	}
	return err
}

// ingestBatch stores verified activities from other nodes, in (actor, seq)
// order, in one commit. For an actor whose log the node tracks (a local
// actor follows it, or the node is an indexer), entries are applied in
// order: an entry above a gap in seq is not stored but returned, for the
// caller to hold or backfill (ingestLog) without holding up the rest.
func (s *Service) ingestBatch(ctx context.Context, items []ingestItem) (gaps []ingestItem, err error) {
	s.ingestMu.Lock()
	defer s.ingestMu.Unlock()
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i].e.Act, items[j].e.Act
		if a.Actor != b.Actor {
			return a.Actor < b.Actor
		}
		return a.Seq < b.Seq
	})
	var ready []actorlog.Entry
	heads := map[string]uint64{} // contiguous seq of tracked actors, as of this batch
	tracked := map[string]bool{}
	var errs []error
	for i, it := range items {
		e := it.e
		if i > 0 && items[i-1].e.CID.Equals(e.CID) {
			continue // the same entry twice (held, and arrived again)
		}
		have, fork, err := s.Log.Has(ctx, e.Act, e.CID, false)
		if err != nil {
			return nil, err
		}
		if have {
			continue
		}
		if fork {
			s.rejected.inc(ReasonFork)
			errs = append(errs, fmt.Errorf("%s has two activities with seq %d: kept the first", e.Act.Actor, e.Act.Seq))
			continue
		}
		t, ok := tracked[e.Act.Actor]
		if !ok {
			t = s.tracks(ctx, e.Act.Actor)
			tracked[e.Act.Actor] = t
		}
		if !t {
			ready = append(ready, e)
			continue
		}
		h, ok := heads[e.Act.Actor]
		if !ok {
			if h, err = s.Log.Contiguous(ctx, e.Act.Actor); err != nil {
				return nil, err
			}
		}
		if e.Act.Seq <= h+1 {
			ready = append(ready, e)
			heads[e.Act.Actor] = max(h, e.Act.Seq)
			continue
		}
		heads[e.Act.Actor] = h
		gaps = append(gaps, it)
	}
	stored, err := s.Log.Store(ctx, ready)
	if err != nil {
		return nil, err
	}
	for _, e := range stored {
		s.afterIngest(ctx, e)
	}
	return gaps, errors.Join(errs...)
}

// tracks reports whether the node keeps a whole log for did: local actors'
// follows name it, or the node indexes the network.
func (s *Service) tracks(ctx context.Context, did string) bool {
	return s.cfg.Indexer || s.Views.FollowedByLocal(ctx, did)
}

// afterIngest reacts to a stored remote activity: a community of this
// node announces a new resource posted in it by a member.
func (s *Service) afterIngest(ctx context.Context, e actorlog.Entry) {
	if g := e.Act.Community(); isPost(e.Act) && s.Log.IsLocal(ctx, g) {
		s.announcePost(ctx, g, e)
	}
}

// isJoin reports whether a joins or leaves a community: a Follow of it,
// or an Undo addressed to it.
func isJoin(a *activity.Activity) bool {
	g := a.Community()
	return g != "" && ((a.Type == activity.TypeFollow && a.Object.Ref == g) || a.Type == activity.TypeUndo)
}

// isPost reports whether a is a post in a community: a resource created
// or updated with the community among its recipients.
func isPost(a *activity.Activity) bool {
	return (a.Type == activity.TypeCreate || a.Type == activity.TypeUpdate) && a.Object.Resource != nil && a.Community() != ""
}

// announcePost has a community of this node announce a stored post: if
// its author is a member within its rate (limits.community_posts_per_minute).
// It reports whether the post is announced.
func (s *Service) announcePost(ctx context.Context, group string, e actorlog.Entry) bool {
	member, err := s.Views.IsMember(ctx, group, e.Act.Actor)
	if err != nil {
		s.log.Warn("announce in community", "community", group, "err", err)
		return false
	}
	if !member {
		s.rejected.inc(ReasonNotMember)
		return false
	}
	if !s.Log.IsLocal(ctx, e.Act.Actor) && !s.postLimit.Allow(group+" "+e.Act.Actor) {
		s.rejected.inc(ReasonPostRate)
		return false
	}
	return s.Announcer.Announce(ctx, group, e.CID.String())
}

// announceLoop gossips the node's own new entries, as the log stores
// them: on its actor's topic and the index topic, on its community's
// topic when it is posted in one, and on the topics of the actors it
// copies (a comment copies the author of the resource it answers). A
// community's Announce goes on its community topic only, not on its actor
// topic too: whoever follows a community listens on both, so the second
// copy doubled the community's traffic and every member's validation work
// (simnet measured it). Joins and leaves (a Follow of a community, its
// Undo) are not gossiped to the community's members: only its node needs
// them, and Join delivers them there. It also notes the node's posts in
// other nodes' communities, to deliver them if the community does not
// announce them.
func (s *Service) announceLoop(ctx context.Context, after int64) {
	err := s.Log.Tail(ctx, after, actorlog.TailOptions{}, func(es []actorlog.Entry) error {
		for _, e := range es {
			if e.Local {
				s.Workers.Survive("announce", func() { s.announce(ctx, e) })
			}
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		s.log.Error("announce loop stopped", "err", err)
	}
}

func (s *Service) announce(ctx context.Context, e actorlog.Entry) {
	var topics []string
	if e.Act.Type == activity.TypeAnnounce {
		topics = []string{TopicOfGroup(e.Act.Actor), TopicIndex}
	} else {
		topics = []string{TopicOfActor(e.Act.Actor), TopicIndex}
		if g := e.Act.Community(); g != "" && !isJoin(e.Act) {
			topics = append(topics, TopicOfGroup(g))
		}
		topics = append(topics, copiedTopics(e.Act)...)
	}
	for _, t := range topics {
		if err := s.gossip.Publish(ctx, t, e.Data); err != nil && ctx.Err() == nil {
			s.log.Debug("gossip publish", "topic", t, "err", err)
		}
	}
	if isPost(e.Act) && !s.Log.IsLocal(ctx, e.Act.Community()) {
		s.notePending(ctx, e)
	}
}

// maxCopiedTopics bounds the actors' topics one activity goes to for its
// cc.
const maxCopiedTopics = 4

// copiedTopics are the topics of the actors an activity copies (cc), other
// than its own: a comment copies the author of the resource it answers,
// so that whoever follows the author receives the discussion of the
// resource.
func copiedTopics(a *activity.Activity) []string {
	var out []string
	for _, did := range a.CC {
		if strings.HasPrefix(did, "did:key:") && did != a.Actor && len(out) < maxCopiedTopics {
			out = append(out, TopicOfActor(did))
		}
	}
	return out
}

// Subscribe joins the topics through which did's activities arrive.
func (s *Service) Subscribe(did string) {
	for _, t := range []string{TopicOfActor(did), TopicOfGroup(did)} {
		if err := s.gossip.Join(t, s.Receive); err != nil {
			s.log.Warn("join topic", "topic", t, "err", err)
		}
	}
}

// Unsubscribe leaves did's topics.
func (s *Service) Unsubscribe(did string) {
	for _, t := range []string{TopicOfActor(did), TopicOfGroup(did)} {
		_ = s.gossip.Leave(t)
	}
}

// resubscribe joins the topics of every followee and local community, at
// start.
func (s *Service) resubscribe(ctx context.Context) error {
	dids, err := s.Views.Subscriptions(ctx)
	if err != nil {
		return err
	}
	for _, d := range dids {
		s.Subscribe(d)
	}
	return nil
}
