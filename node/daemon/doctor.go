package daemon

import (
	"context"

	"github.com/lyceum-oer/lyceum/gateway"
	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
)

// nodeDoctor looks a node over without AutoNAT's verdict (a node the
// daemon does not run: its reachability is "unknown").
type nodeDoctor struct{ n *node.Node }

func (d nodeDoctor) Doctor(ctx context.Context) (api.DoctorReport, error) {
	return d.n.Doctor(ctx, "")
}

// services are the gateway's services with those that need the daemon
// itself (the doctor reads the reachability it follows).
func (d *Daemon) services() gateway.Services {
	svc := Services(d.node)
	svc.Doctor = d
	return svc
}

// Doctor looks the running node over, with AutoNAT's reachability as the
// daemon follows it.
func (d *Daemon) Doctor(ctx context.Context) (api.DoctorReport, error) {
	reach := ""
	if d.reach != nil {
		reach = d.reach.String()
	}
	return d.node.Doctor(ctx, reach)
}
