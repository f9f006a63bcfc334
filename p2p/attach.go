package p2p

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
)

// Attach wraps a libp2p host built elsewhere (the simulator builds hosts
// over its in-memory links) as a Host without DHT or discovery. The Host
// owns h from then on: Close closes it. Routing is nil, so bitswap asks
// only connected peers.
func Attach(h host.Host, log *slog.Logger) (*Host, error) {
	if h == nil {
		return nil, errors.New("p2p: attach: no host")
	}
	if log == nil {
		log = slog.Default()
	}
	_, cancel := context.WithCancel(context.Background())
	return &Host{
		host:   h,
		cfg:    Config{MinPeers: 4, ConnGrace: 20 * time.Second},
		log:    log.With("component", "p2p"),
		cancel: cancel,
	}, nil
}
