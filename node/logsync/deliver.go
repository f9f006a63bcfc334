package logsync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/actorlog"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/p2p"
)

// ProtocolDeliver carries one signed activity straight to the node that
// hosts the community it is posted in, as an ActivityPub server delivers to
// a group's inbox. Gossip is how posts normally reach a community; this is
// the fallback for a post the community never announced because its node
// did not hear the gossip (it was down, or the network was split). The
// answer is "ok", or a refusal that says why.
const ProtocolDeliver = protocol.ID("/lyceum/deliver/1.0.0")

// Limits of redelivery: posts are redelivered when the community has not
// announced them after a sync interval, for a week, a few per round.
const (
	redeliverMaxAge   = 7 * 24 * time.Hour
	redeliverPerRound = 16
	deliverTimeout    = 10 * time.Second
)

// ErrNotMember is the refusal of a post by an actor that has not joined
// the community.
var ErrNotMember = errors.New("not a member of the community: join it first")

// deliverService bounds ProtocolDeliver: one activity a request, at most
// limits.deliveries_per_second per peer.
func (s *Service) deliverService() p2p.ServiceConfig {
	return p2p.ServiceConfig{MaxRequest: activity.DefaultMaxSize, MaxResponse: 1 << 10, Timeout: deliverTimeout, PerPeer: s.deliverRate}
}

// handleDeliver answers ProtocolDeliver.
func (s *Service) handleDeliver(ctx context.Context, from peer.ID, data []byte) ([]byte, error) {
	if err := s.AcceptDelivery(ctx, from, data); err != nil {
		if api.KindOf(err) == api.KindInternal {
			return nil, err
		}
		return nil, p2p.Refusef("%s", api.PublicMessage(err))
	}
	return []byte("ok"), nil
}

// AcceptDelivery checks and ingests a delivered activity: signed, for a
// community of this node, from an actor it has not blocked, and either a
// member's post (ingesting it makes the community announce it, as if it
// had come by gossip) or a join or leave (a Follow of the community, or
// its Undo), which is how a member's node makes sure the community knows
// it joined.
func (s *Service) AcceptDelivery(ctx context.Context, from peer.ID, data []byte) error {
	if len(data) > activity.DefaultMaxSize {
		s.rejected.inc(ReasonOversized)
		return api.Invalidf("a delivery is at most %d bytes", activity.DefaultMaxSize)
	}
	e, err := s.verify(data)
	if err != nil {
		s.rejected.inc(ReasonMalformed)
		return api.Invalidf("not a valid signed activity: %v", err)
	}
	g := e.Act.Community()
	if g == "" {
		return api.Invalidf("not addressed to a community")
	}
	if !s.Log.IsLocal(ctx, g) {
		return api.NotFoundf("community %s is not hosted here", g)
	}
	if s.Blocklist.Has(e.Act.Actor) {
		s.rejected.inc(ReasonBlocked)
		return api.Errorf(api.KindForbidden, "actor blocked")
	}
	post := isPost(e.Act)
	switch {
	case post:
		member, err := s.Views.IsMember(ctx, g, e.Act.Actor)
		if err != nil {
			return err
		}
		if !member {
			s.rejected.inc(ReasonNotMember)
			return api.Errorf(api.KindForbidden, "%s", ErrNotMember)
		}
	case e.Act.Type == activity.TypeFollow && e.Act.Object.Ref == g, e.Act.Type == activity.TypeUndo:
	default:
		return api.Invalidf("only posts and joins are delivered to a community, not %s", e.Act.Type)
	}
	if err := s.ingest(ctx, e, from); err != nil {
		return err
	}
	if post && !s.Views.Announced(ctx, g, e.CID.String()) && !s.announcePost(ctx, g, e) {
		return api.Errorf(api.KindRateLimited, "rate limited: deliver it again later")
	}
	return nil
}

// Join delivers a local actor's join or leave of a community (a Follow of
// it, or its Undo) straight to the community's node, so that it knows its
// members; a join it cannot deliver now waits with the posts to deliver.
func (s *Service) Join(ctx context.Context, group, activityCID string) {
	if s.Log.IsLocal(ctx, group) {
		return
	}
	node, err := s.originOf(ctx, group)
	if err == nil {
		err = s.deliver(ctx, activityCID, node)
	}
	if err == nil {
		return
	}
	s.log.Debug("deliver a join", "community", group, "activity", activityCID, "err", err)
	c, err := cid.Decode(activityCID)
	if err != nil {
		return
	}
	if e, err := s.Log.Get(ctx, c); err == nil {
		s.notePending(ctx, e)
	}
}

// notePending remembers a local post (or join) in another node's
// community, to be delivered if the community does not announce it.
func (s *Service) notePending(ctx context.Context, e actorlog.Entry) {
	if _, err := s.DB.Exec(ctx, `INSERT OR IGNORE INTO pending_deliveries (activity_cid, community, author, published) VALUES (?, ?, ?, ?)`,
		e.CID.String(), e.Act.Community(), e.Act.Actor, e.Act.Published.UTC().Format(time.RFC3339Nano)); err != nil {
		s.log.Warn("note a post to deliver", "activity", e.CID, "err", err)
	}
}

// redeliverPending delivers to their communities' nodes the node's posts
// that the community has not announced although they are older than
// minAge: those the community's node never heard. A post stays pending
// until its Announce arrives or its community's node accepts it, for at
// most a week.
func (s *Service) redeliverPending(ctx context.Context, minAge time.Duration) {
	now := time.Now().UTC()
	if _, err := s.DB.Exec(ctx, `DELETE FROM pending_deliveries WHERE published < ?`, now.Add(-redeliverMaxAge).Format(time.RFC3339Nano)); err != nil {
		s.log.Debug("redeliver", "err", err)
		return
	}
	rows, err := s.DB.Query(ctx, `SELECT activity_cid, community, author FROM pending_deliveries
		WHERE published < ? ORDER BY published LIMIT ?`, now.Add(-minAge).Format(time.RFC3339Nano), redeliverPerRound)
	if err != nil {
		s.log.Debug("redeliver", "err", err)
		return
	}
	type post struct{ cid, community, author string }
	var posts []post
	for rows.Next() {
		var p post
		if err := rows.Scan(&p.cid, &p.community, &p.author); err == nil {
			posts = append(posts, p)
		}
	}
	rows.Close()
	for _, p := range posts {
		if s.Views.Announced(ctx, p.community, p.cid) {
			s.delivered(ctx, p.cid)
			continue
		}
		err := s.deliverPost(ctx, p.cid, p.community, p.author)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Debug("redeliver", "activity", p.cid, "community", p.community, "err", err)
			}
			continue
		}
		// The community's node has it now and announces it: no need to
		// wait for the Announce (the author may not follow the community).
		s.delivered(ctx, p.cid)
	}
}

func (s *Service) delivered(ctx context.Context, activityCID string) {
	if _, err := s.DB.Exec(ctx, `DELETE FROM pending_deliveries WHERE activity_cid = ?`, activityCID); err != nil {
		s.log.Debug("redeliver", "activity", activityCID, "err", err)
	}
}

// deliverPost delivers a post to the node of its community; when that
// node did not hear its author join, it delivers the author's Follow
// first and the post again.
func (s *Service) deliverPost(ctx context.Context, activityCID, community, author string) error {
	node, err := s.originOf(ctx, community)
	if err != nil {
		return err
	}
	err = s.deliver(ctx, activityCID, node)
	var re *p2p.RemoteError
	if errors.As(err, &re) && re.Refused && re.Msg == ErrNotMember.Error() {
		follow, ferr := s.Views.FollowCID(ctx, author, community)
		if ferr != nil || follow == "" {
			return errors.Join(err, ferr)
		}
		if err = s.deliver(ctx, follow, node); err == nil {
			err = s.deliver(ctx, activityCID, node)
		}
	}
	return err
}

// originOf is the peer of the node an actor comes from, from its profile.
func (s *Service) originOf(ctx context.Context, did string) (peer.ID, error) {
	node := s.Views.Origin(ctx, did)
	if node == "" {
		return "", fmt.Errorf("the node of %s is not known", did)
	}
	return peerOf(node)
}

// deliver sends one stored activity to node.
func (s *Service) deliver(ctx context.Context, activityCID string, node peer.ID) (err error) {
	defer func() { s.counts.deliveryEnded(err) }()
	c, err := cid.Decode(activityCID)
	if err != nil {
		return err
	}
	e, err := s.Log.Get(ctx, c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, deliverTimeout)
	defer cancel()
	h := s.Host.Libp2p()
	if h.Network().Connectedness(node) != network.Connected {
		if err := h.Connect(ctx, peer.AddrInfo{ID: node}); err != nil {
			return fmt.Errorf("reach %s: %w", node, err)
		}
	}
	_, err = p2p.Request(ctx, h, node, ProtocolDeliver, e.Data, 1<<10)
	return err
}
