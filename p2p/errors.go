package p2p

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// ErrAddrInUse reports that a swarm address is taken by another program.
var ErrAddrInUse = errors.New("swarm address already in use")

// explainListenError turns libp2p's listen failures into errors that say
// what to do.
func explainListenError(err error) error {
	if errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use") {
		return fmt.Errorf("%w (another node or program listens there: stop it or choose another port with --swarm): %v", ErrAddrInUse, err)
	}
	return err
}

// checkPortsFree binds each fixed TCP and UDP port of addrs once, without
// SO_REUSEPORT, so that a second node started on a taken port fails with a
// clear error instead of sharing it (libp2p's transports set SO_REUSEPORT
// for hole punching, and the kernel would happily split traffic between
// two daemons).
func checkPortsFree(addrs []ma.Multiaddr) error {
	for _, a := range addrs {
		network, host, err := manet.DialArgs(a)
		if err != nil {
			continue
		}
		if strings.HasSuffix(host, ":0") {
			continue
		}
		switch {
		case strings.HasPrefix(network, "tcp"):
			l, err := net.Listen(network, host)
			if err != nil {
				return explainListenError(fmt.Errorf("listen on %s: %w", a, err))
			}
			l.Close()
		case strings.HasPrefix(network, "udp"):
			c, err := net.ListenPacket(network, host)
			if err != nil {
				return explainListenError(fmt.Errorf("listen on %s: %w", a, err))
			}
			c.Close()
		}
	}
	return nil
}
