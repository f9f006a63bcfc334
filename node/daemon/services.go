package daemon

import (
	"github.com/lyceum-oer/lyceum/gateway"
	"github.com/lyceum-oer/lyceum/node"
)

// Services are the node's rooms as the gateway serves them: each of the
// gateway's small interfaces is met by the room that owns the job.
func Services(n *node.Node) gateway.Services {
	content, social, search, accounts := n.Content(), n.Social(), n.Search(), n.Accounts()
	return gateway.Services{
		Identity: n.Swarm(), Swarm: n.Swarm(), Stat: n, Backup: backuper{n}, Doctor: nodeDoctor{n},
		Adder: content, Catter: content, Pinner: content, Collector: content, CARs: content,
		Actors: social, Publisher: social, Resources: social, Follower: social, Liker: social, Feeds: social,
		Curator: social, Collections: social, Views: social, Blocker: n.Blocklist(),
		Searcher: search, Delister: search, Index: search,
		Accounts: accounts, AccountAdmin: accounts, Tokens: accounts, Registrations: accounts, Drafts: accounts,
	}
}
