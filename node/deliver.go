package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/lyceum-oer/lyceum/activity"
)

// ProtocolDeliver carries one signed activity straight to the node that
// hosts the community it is posted in, as an ActivityPub server delivers to
// a group's inbox. Gossip is how posts normally reach a community; this is
// the fallback for a post the community never announced because its node
// did not hear the gossip (it was down, or the network was split). The
// answer is one line: "ok", or "error: " and why.
const ProtocolDeliver = protocol.ID("/lyceum/deliver/1.0.0")

// Limits of redelivery: posts are redelivered when the community has not
// announced them after a sync interval, for a week, a few per round.
const (
	redeliverMaxAge   = 7 * 24 * time.Hour
	redeliverPerRound = 16
	deliverTimeout    = 10 * time.Second
)

// serveDeliver answers ProtocolDeliver.
func (n *Node) serveDeliver(s network.Stream) {
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(deliverTimeout))
	data, err := io.ReadAll(io.LimitReader(s, activity.DefaultMaxSize+1))
	if err != nil {
		_ = s.Reset()
		return
	}
	answer := "ok"
	if err := n.acceptDelivery(n.ctx, s.Conn().RemotePeer(), data); err != nil {
		answer = "error: " + err.Error()
	}
	_, _ = io.WriteString(s, answer+"\n")
}

// acceptDelivery checks and ingests a delivered activity: signed, posted in
// a community of this node, from an actor it has not blocked. Ingesting it
// makes the community announce it, as if it had come by gossip.
func (n *Node) acceptDelivery(ctx context.Context, from peer.ID, data []byte) error {
	if len(data) > activity.DefaultMaxSize {
		n.rejected.inc(ReasonOversized)
		return fmt.Errorf("%w: more than %d bytes", activity.ErrMalformed, activity.DefaultMaxSize)
	}
	e, err := verifyBlock(data)
	if err != nil {
		n.rejected.inc(ReasonMalformed)
		return err
	}
	g := communityOf(e.act)
	if g == "" {
		return errors.New("not posted in a community")
	}
	if _, err := n.localKey(ctx, g); err != nil {
		return fmt.Errorf("community %s is not hosted here", g)
	}
	if n.isBlocked(ctx, e.act.Actor) {
		n.rejected.inc(ReasonBlocked)
		return errors.New("actor blocked")
	}
	return n.ingest(ctx, e, from)
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
	rows, err := n.db.query(ctx, `SELECT v.activity_cid, r.community, coalesce(a.node, '') FROM local_actors l
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
	type post struct{ cid, community, node string }
	var posts []post
	for rows.Next() {
		var p post
		if err := rows.Scan(&p.cid, &p.community, &p.node); err == nil {
			posts = append(posts, p)
		}
	}
	rows.Close()
	for _, p := range posts {
		if err := n.deliver(ctx, p.cid, p.node); err != nil {
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
	s, err := h.NewStream(ctx, pid, ProtocolDeliver)
	if err != nil {
		return err
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(deliverTimeout))
	if _, err := s.Write(e.data); err != nil {
		_ = s.Reset()
		return err
	}
	_ = s.CloseWrite()
	answer, err := io.ReadAll(io.LimitReader(s, 1024))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if a := strings.TrimSpace(string(answer)); a != "ok" {
		return errors.New(strings.TrimPrefix(a, "error: "))
	}
	return nil
}
