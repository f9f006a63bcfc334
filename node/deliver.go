package node

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

// deliverService bounds ProtocolDeliver: one activity a request, at most
// limits.deliveries_per_second per peer.
func (n *Node) deliverService() p2p.ServiceConfig {
	return p2p.ServiceConfig{MaxRequest: activity.DefaultMaxSize, MaxResponse: 1 << 10, Timeout: deliverTimeout,
		PeerRate: n.cfg.Limits.DeliveriesPerSecond, PeerBurst: int(10*n.cfg.Limits.DeliveriesPerSecond) + 1,
		RateLimitedPeers: n.cfg.Limits.RateLimitedClients}
}

// handleDeliver answers ProtocolDeliver: "ok", or a refusal that says why.
func (n *Node) handleDeliver(ctx context.Context, from peer.ID, data []byte) ([]byte, error) {
	if err := n.acceptDelivery(ctx, from, data); err != nil {
		if KindOf(err) == KindInternal {
			return nil, err
		}
		return nil, p2p.Refusef("%s", PublicMessage(err))
	}
	return []byte("ok"), nil
}

// acceptDelivery checks and ingests a delivered activity: signed, for a
// community of this node, from an actor it has not blocked, and either a
// member's post (ingesting it makes the community announce it, as if it
// had come by gossip) or a join or leave (a Follow of the community, or
// its Undo), which is how a member's node makes sure the community knows
// it joined.
func (n *Node) acceptDelivery(ctx context.Context, from peer.ID, data []byte) error {
	if len(data) > activity.DefaultMaxSize {
		n.rejected.inc(ReasonOversized)
		return invalidf("a delivery is at most %d bytes", activity.DefaultMaxSize)
	}
	e, err := verifyBlock(data)
	if err != nil {
		n.rejected.inc(ReasonMalformed)
		return invalidf("not a valid signed activity: %v", err)
	}
	g := communityOf(e.act)
	if g == "" {
		return invalidf("not addressed to a community")
	}
	if !n.hostsCommunity(ctx, g) {
		return &Error{Kind: KindNotFound, Msg: fmt.Sprintf("community %s is not hosted here", g)}
	}
	if n.isBlocked(ctx, e.act.Actor) {
		n.rejected.inc(ReasonBlocked)
		return &Error{Kind: KindUnauthorized, Msg: "actor blocked"}
	}
	post := isPost(e.act)
	switch {
	case post:
		member, err := n.isMember(ctx, g, e.act.Actor)
		if err != nil {
			return err
		}
		if !member {
			n.rejected.inc(ReasonNotMember)
			return &Error{Kind: KindUnauthorized, Msg: ErrNotMember.Error()}
		}
	case e.act.Type == activity.TypeFollow && e.act.Object.Ref == g, e.act.Type == activity.TypeUndo:
	default:
		return invalidf("only posts and joins are delivered to a community, not %s", e.act.Type)
	}
	if err := n.ingest(ctx, e, from); err != nil {
		return err
	}
	if post && !n.announced(ctx, g, e.cid) && !n.announcePost(ctx, g, e) {
		return &Error{Kind: KindUnavailable, Msg: "rate limited: deliver it again later"}
	}
	return nil
}

// redeliverUnannounced delivers to their communities' nodes the posts of
// local actors that the community has not announced although they are
// older than minAge: those the community's node never heard. A post stays
// on the list until its Announce arrives or its community's node accepts
// it, for at most a week.
func (n *Node) redeliverUnannounced(ctx context.Context, minAge time.Duration) {
	now := time.Now().UTC()
	// The scan starts from the node's own actors (CROSS JOIN fixes the
	// order): starting from the versions' dates walked every version
	// published in the window, a million on an HQ, on the connection
	// the ingest loop writes with.
	rows, err := n.db.query(ctx, `SELECT v.activity_cid, r.community, coalesce(a.node, ''), l.did FROM local_actors l
		CROSS JOIN resources r ON r.actor = l.did
		JOIN versions v ON v.resource_id = r.id AND v.actor = l.did
		LEFT JOIN actors a ON a.did = r.community
		WHERE r.community != '' AND v.published < ? AND v.published > ?
		AND r.community NOT IN (SELECT did FROM local_actors)
		AND NOT EXISTS (SELECT 1 FROM announces x WHERE x.community = r.community AND x.activity_cid = v.activity_cid)
		AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.activity_cid = v.activity_cid)
		ORDER BY v.published LIMIT ?`,
		now.Add(-minAge).Format(time.RFC3339Nano), now.Add(-redeliverMaxAge).Format(time.RFC3339Nano), redeliverPerRound)
	if err != nil {
		n.log.Debug("redeliver", "err", err)
		return
	}
	type post struct{ cid, community, node, author string }
	var posts []post
	for rows.Next() {
		var p post
		if err := rows.Scan(&p.cid, &p.community, &p.node, &p.author); err == nil {
			posts = append(posts, p)
		}
	}
	rows.Close()
	for _, p := range posts {
		err := n.deliver(ctx, p.cid, p.node)
		var re *p2p.RemoteError
		if errors.As(err, &re) && re.Refused && re.Msg == ErrNotMember.Error() {
			// The community did not hear its author join: deliver the
			// Follow, then the post again.
			if err = n.deliverJoin(ctx, p.author, p.community, p.node); err == nil {
				err = n.deliver(ctx, p.cid, p.node)
			}
		}
		if err != nil {
			if ctx.Err() == nil {
				n.log.Debug("redeliver", "activity", p.cid, "community", p.community, "err", err)
			}
			continue
		}
		// The community's node has it now and announces it: no need to
		// wait for the Announce (the author may not follow the community).
		if _, err := n.db.db.ExecContext(ctx, `INSERT OR IGNORE INTO deliveries (activity_cid, community, at) VALUES (?, ?, ?)`,
			p.cid, p.community, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
			n.log.Debug("redeliver", "activity", p.cid, "err", err)
		}
	}
}

// deliverJoin delivers author's Follow of a community to the node that
// hosts it.
func (n *Node) deliverJoin(ctx context.Context, author, community, node string) error {
	var follow string
	err := n.db.db.QueryRowContext(ctx, `SELECT activity_cid FROM follows WHERE follower = ? AND followee = ?`, author, community).Scan(&follow)
	if err != nil {
		return fmt.Errorf("the join of %s: %w", community, err)
	}
	return n.deliver(ctx, follow, node)
}

// deliver sends one stored activity to the node whose peer ID is node.
func (n *Node) deliver(ctx context.Context, activityCID, node string) error {
	pid, err := peer.Decode(node)
	if err != nil {
		return fmt.Errorf("community node %q: %w", node, err)
	}
	c, err := cid.Decode(activityCID)
	if err != nil {
		return err
	}
	e, err := n.loadEntry(ctx, c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, deliverTimeout)
	defer cancel()
	h := n.host.Libp2p()
	if h.Network().Connectedness(pid) != network.Connected {
		if err := h.Connect(ctx, peer.AddrInfo{ID: pid}); err != nil {
			return fmt.Errorf("reach %s: %w", pid, err)
		}
	}
	_, err = p2p.Request(ctx, h, pid, ProtocolDeliver, e.data, 1<<10)
	return err
}
