package daemon

import (
	"github.com/lyceum-oer/lyceum/gateway/fediverse"
	"github.com/lyceum-oer/lyceum/gateway/web"
	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/swarm"
)

// WebServices are the node's rooms as the web app (gateway/web) uses
// them: the accounts room for sessions, setup, registration, settings
// and administration, and the OAuth consent Moodle asks for; content
// for files; social for resources, people
// and collections; search. Comments merge the node's own with the
// replies the fediverse bridge received (bridge nil: the node's only).
// Its dashboard does not follow AutoNAT (reachability "unknown" online):
// the daemon's does, with the tracker it owns.
func WebServices(n *node.Node, bridge *fediverse.Bridge) web.Services {
	return webServices(n, bridge, nil)
}

// webServices is WebServices with the dashboard's reachability tracker
// (nil: none).
func webServices(n *node.Node, bridge *fediverse.Bridge, reach *swarm.Reachability) web.Services {
	accounts, content, social := n.Accounts(), n.Content(), n.Social()
	return web.Services{
		Identity: n.Swarm(),
		Sessions: accounts, Setup: accounts, Registration: accounts, Settings: accounts, Admin: accounts,
		Dashboards: dashboard{n: n, reach: reach},
		Files:      content, Providers: content,
		Resources: social, People: social, Collections: social,
		Comments: comments{social: social, bridge: bridge},
		Searcher: n.Search(),
		Fetcher:  fetcher(n),
		Drafts:   accounts,
		OAuth:    accounts,
	}
}

// fetcher is the node's sync room as the web app's Fetcher; nil offline,
// where there is nobody to fetch from.
func fetcher(n *node.Node) web.Fetcher {
	if n.Sync() == nil {
		return nil
	}
	return n.Sync()
}
