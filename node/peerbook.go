package node

import (
	"context"
	"path/filepath"

	"github.com/lyceum-oer/lyceum/node/swarm"
)

// rememberPeers starts the swarm room's peer book (peers.json in the
// repo): the peers seen recently are redialled at start and whenever the
// node has few connections. The loop is a worker of the node, stopped
// with its context. Offline nodes and simulated ones (whose topology the
// simulator owns) remember nobody.
func (n *Node) rememberPeers(ctx context.Context, o options) error {
	if n.host == nil || o.sim.host != nil {
		return nil
	}
	book, err := swarm.OpenPeerBook(filepath.Join(n.repo.Path(), swarm.PeerBookFile), swarm.PeerBookConfig{Logger: n.log})
	if err != nil {
		return err
	}
	n.workers.Go(func() {
		if err := n.swarm.Remember(ctx, book); err != nil {
			n.log.Warn("remembering peers", "err", err)
		}
	})
	return nil
}
