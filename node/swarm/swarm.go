package swarm

import (
	"context"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/p2p"
)

// Service is the swarm room's services.
type Service struct {
	host   *p2p.Host // nil when offline
	peerID string
	agent  string
}

// New returns the swarm services of a node; host is nil when offline.
func New(host *p2p.Host, peerID, agent string) *Service {
	return &Service{host: host, peerID: peerID, agent: agent}
}

// ID describes the node.
func (s *Service) ID() api.Identity {
	id := api.Identity{PeerID: s.peerID, AgentVersion: s.agent, Online: s.host != nil, Addrs: []string{}}
	if s.host != nil {
		for _, a := range s.host.Addrs() {
			id.Addrs = append(id.Addrs, a.String())
		}
	}
	return id
}

// Connect dials a peer by its full multiaddr and returns its peer ID.
func (s *Service) Connect(ctx context.Context, req api.ConnectRequest) (api.ConnectResponse, error) {
	m, err := ma.NewMultiaddr(req.Addr)
	if err != nil {
		return api.ConnectResponse{}, api.Invalidf("%s is not a multiaddr (expected e.g. /ip4/192.0.2.1/tcp/4101/p2p/12D3…)", api.Quote(req.Addr))
	}
	if _, err := peer.AddrInfoFromP2pAddr(m); err != nil {
		return api.ConnectResponse{}, api.Invalidf("%s does not end in /p2p/<peer ID>", req.Addr)
	}
	if s.host == nil {
		return api.ConnectResponse{}, api.Errorf(api.KindUnavailable, "the node is offline: start `lyceum daemon` to connect to peers")
	}
	id, err := s.host.Connect(ctx, m)
	if err != nil {
		if strings.Contains(err.Error(), "not a peer address") || strings.Contains(err.Error(), "this node itself") {
			return api.ConnectResponse{}, api.Wrap(api.KindInvalid, "connect", err)
		}
		return api.ConnectResponse{}, api.Wrap(api.KindUnavailable, "connect", err)
	}
	return api.ConnectResponse{PeerID: id.String()}, nil
}

// Peers lists the node's connections ([] when offline).
func (s *Service) Peers() []api.Peer {
	out := []api.Peer{}
	if s.host == nil {
		return out
	}
	for _, p := range s.host.Peers() {
		out = append(out, api.Peer{ID: p.ID.String(), Addr: p.Addr, Direction: p.Direction, LatencyMS: p.Latency.Milliseconds()})
	}
	return out
}

// Count is how many peers the node is connected to.
func (s *Service) Count() int {
	if s.host == nil {
		return 0
	}
	return len(s.host.Libp2p().Network().Peers())
}
