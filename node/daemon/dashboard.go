package daemon

import (
	"context"

	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/swarm"
)

// dashboard is the operator's view of the node: its state, peers, NAT
// reachability, HQs and accounts.
type dashboard struct {
	n     *node.Node
	reach *swarm.Reachability // nil: not followed
}

// Dashboard gathers what the operator dashboard shows.
func (d dashboard) Dashboard(ctx context.Context) (api.Dashboard, error) {
	st, err := d.n.Stat(ctx)
	if err != nil {
		return api.Dashboard{}, err
	}
	counts, err := d.n.Accounts().CountByStatus(ctx)
	if err != nil {
		return api.Dashboard{}, err
	}
	mode, err := d.n.Accounts().RegistrationMode(ctx)
	if err != nil {
		return api.Dashboard{}, err
	}
	reach := ""
	switch {
	case d.reach != nil:
		reach = d.reach.String()
	case d.n.Online():
		reach = "unknown"
	}
	return api.Dashboard{
		Node: d.n.Swarm().ID(), Stat: st, Peers: d.n.Swarm().Peers(), Reachability: reach,
		HQs: d.n.Search().HQStatus(), Accounts: counts, Registration: mode,
	}, nil
}

// Dashboard is what the operator dashboard shows of the running node,
// with AutoNAT's reachability as the daemon follows it.
func (d *Daemon) Dashboard(ctx context.Context) (api.Dashboard, error) {
	return dashboard{n: d.node, reach: d.reach}.Dashboard(ctx)
}
