package node

import (
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/lyceum-oer/lyceum/ipfs"
	"github.com/lyceum-oer/lyceum/p2p"
)

// simOptions are the options the simulator (simnet) needs to run many
// nodes in one process; a daemon never sets them.
type simOptions struct {
	host     *p2p.Host
	memStore bool
	gossip   func(*p2p.GossipConfig)
	noIndex  bool
}

// WithHost runs the node on h instead of a host built from the repo's
// config (listen addresses, bootstrap peers and swarm settings are then
// ignored). The node owns h: Close closes it.
func WithHost(h *p2p.Host) Option { return func(o *options) { o.sim.host = h } }

// WithMemoryStore keeps the node's blocks in memory instead of the repo's
// store: nothing survives Close.
func WithMemoryStore() Option { return func(o *options) { o.sim.memStore = true } }

// WithoutLocalIndex runs the node without its bleve index: local search
// is unavailable. The simulator's plain nodes use it, so that hundreds of
// them spend the machine's CPU on the network protocols; an HQ keeps its
// index.
func WithoutLocalIndex() Option { return func(o *options) { o.sim.noIndex = true } }

// WithGossipConfig lets f adjust the gossip configuration before GossipSub
// starts (parameters, tracer); the simulator's measurements use it.
func WithGossipConfig(f func(*p2p.GossipConfig)) Option {
	return func(o *options) { o.sim.gossip = f }
}

// openStore opens the content store the options ask for.
func (o *options) openStore(repo *Repo, opts ...ipfs.StoreOption) (*ipfs.Store, error) {
	opts = append(opts, ipfs.WithStoreLogger(o.log))
	if o.sim.memStore {
		return ipfs.NewMemStore(opts...), nil
	}
	return ipfs.OpenStore(repo.StorePath(), opts...)
}

// gossipConfig is the node's gossip configuration, adjusted by
// WithGossipConfig.
func (o *options) gossipConfig() p2p.GossipConfig {
	c := p2p.GossipConfig{Logger: o.log}
	if o.sim.gossip != nil {
		o.sim.gossip(&c)
	}
	return c
}

// GossipPeerScores is GossipSub's latest score of each peer (nil when
// offline): the simulator checks that attackers are scored out.
func (n *Node) GossipPeerScores() map[peer.ID]float64 {
	if n.sync == nil {
		return nil
	}
	return n.sync.Gossip().PeerScores()
}

// GossipTopicPeers lists the connected peers known to be subscribed to
// topic (nil when offline).
func (n *Node) GossipTopicPeers(topic string) []peer.ID {
	if n.sync == nil {
		return nil
	}
	return n.sync.Gossip().TopicPeers(topic)
}
