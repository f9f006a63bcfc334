package simnet

import (
	"fmt"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/transport"
)

// NewHost starts a libp2p host for node i on the fabric: the fabric's
// transport only, plaintext security and yamux (the simulated links need
// no encryption, and the CPU goes to the protocol), no resource or
// connection limits, no relay, no metrics but the fabric's byte counts
// by protocol.
func (f *Fabric) NewHost(i int, key crypto.PrivKey) (host.Host, error) {
	h, err := libp2p.New(
		libp2p.Identity(key),
		libp2p.ListenAddrs(Addr(i)),
		libp2p.Transport(func(u transport.Upgrader, rm network.ResourceManager) *simTransport {
			return &simTransport{f: f, idx: i, up: u, rm: rm}
		}),
		libp2p.NoSecurity,
		libp2p.DefaultMuxers,
		libp2p.ResourceManager(&network.NullResourceManager{}),
		libp2p.ConnectionManager(connmgr.NullConnMgr{}),
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
		libp2p.BandwidthReporter(f.streams),
		libp2p.DisableIdentifyAddressDiscovery(),
		libp2p.UserAgent("lyceum-sim"),
	)
	if err != nil {
		return nil, fmt.Errorf("simnet: host %d: %w", i, err)
	}
	return h, nil
}
