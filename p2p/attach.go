package p2p

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// AttachOption configures Attach.
type AttachOption func(*Host)

// WithBootstrapFunc gives an attached host bootstrap peers, asked for each
// time they are dialled, and the loop a started host runs: whenever it has
// fewer than 4 peers it dials them again (every 30 s by default). The simulator gives a
// node its topology neighbours, so that a node that came back while they
// were down, or whose dials failed, reconnects as a real node would.
func WithBootstrapFunc(f func() []peer.AddrInfo) AttachOption {
	return func(h *Host) { h.bootstrapFn = f }
}

// WithRepairInterval sets how often an attached host with bootstrap peers
// checks its connections; the default is 30 s.
func WithRepairInterval(d time.Duration) AttachOption {
	return func(h *Host) { h.repairEvery = d }
}

// Attach wraps a libp2p host built elsewhere (the simulator builds hosts
// over its in-memory links) as a Host without DHT or discovery. The Host
// owns h from then on: Close closes it. Routing is nil, so bitswap asks
// only connected peers.
func Attach(h host.Host, log *slog.Logger, opts ...AttachOption) (*Host, error) {
	if h == nil {
		return nil, errors.New("p2p: attach: no host")
	}
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	ph := &Host{
		host:   h,
		cfg:    Config{MinPeers: 4, ConnGrace: 20 * time.Second},
		log:    log.With("component", "p2p"),
		cancel: cancel,

		repairEvery: 30 * time.Second,
	}
	for _, o := range opts {
		o(ph)
	}
	if ph.bootstrapFn != nil {
		// The caller dials first (the simulator builds its topology); the
		// loop only repairs.
		ph.wg.Add(1)
		go ph.repairLoop(ctx)
	}
	return ph, nil
}

// repairLoop dials the bootstrap peers whenever the host has fewer than
// MinPeers connections.
func (h *Host) repairLoop(ctx context.Context) {
	defer h.wg.Done()
	t := time.NewTicker(h.repairEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if len(h.host.Network().Peers()) < h.cfg.MinPeers {
			h.dialBootstrap(ctx)
		}
	}
}
