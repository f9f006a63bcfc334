package node

import (
	"context"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/doctor"
)

// Doctor looks the node over (package doctor). reachability is AutoNAT's
// verdict as the daemon follows it ("" when nobody follows it).
func (n *Node) Doctor(ctx context.Context, reachability string) (api.DoctorReport, error) {
	locals, err := n.actorLog.Locals(ctx, "", 0)
	if err != nil {
		return api.DoctorReport{}, err
	}
	dids := make([]string, 0, len(locals))
	for _, a := range locals {
		dids = append(dids, a.DID)
	}
	if reachability == "" && n.host != nil {
		reachability = "unknown"
	}
	var offset time.Duration
	var samples int
	if n.sync != nil {
		offset, samples = n.sync.ClockOffset()
	}
	return doctor.Run(ctx, doctor.Deps{
		RepoPath: n.repo.Path(), Blocks: n.store.Blockstore(), Logs: n.actorLog, LocalActors: dids,
		Online: n.host != nil, Reachability: reachability, ListenAddrs: n.swarm.ID().Addrs,
		Peers: n.swarm.Count(), HQs: n.search.HQStatus(), ClockOffset: offset, ClockSamples: samples,
	}, doctor.Options{}), nil
}
