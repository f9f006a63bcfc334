package p2p

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p-kad-dht/dual"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"
)

// DHTMode says whether the node answers DHT queries for others.
type DHTMode string

// DHT modes, as Kubo names them.
const (
	// DHTAuto serves the DHT once AutoNAT says the node is publicly reachable.
	DHTAuto DHTMode = "auto"
	// DHTClient only queries; desktop nodes behind NAT.
	DHTClient DHTMode = "client"
	// DHTServer always serves; HQ and institutional nodes.
	DHTServer DHTMode = "server"
)

// Config is the plain-data description of a host. The zero value of every
// field but Identity has a sensible meaning, documented on the field.
type Config struct {
	// Identity is the node's Ed25519 key; it gives the peer ID. Required.
	Identity crypto.PrivKey
	// ListenAddrs are the swarm addresses (TCP and QUIC). Empty: listen nowhere.
	ListenAddrs []ma.Multiaddr
	// Bootstrap peers are dialled at start and whenever the node has fewer
	// than MinPeers connections.
	Bootstrap []peer.AddrInfo
	// MinPeers below which the node dials its bootstrap peers again; 0 = 4.
	MinPeers int
	// DHTMode for the WAN DHT; empty = auto. The LAN DHT serves whenever
	// the WAN one is not a pure client.
	DHTMode DHTMode
	// LoopbackOnLANDHT keeps loopback addresses in LAN DHT records, so that
	// nodes on one machine (tests, development) can find each other, as
	// Kubo's Routing.LoopbackAddressesOnLanDHT does.
	LoopbackOnLANDHT bool
	// MDNS announces the node and finds peers on the local network.
	MDNS bool
	// NATPortMap asks the router for a port mapping (UPnP, NAT-PMP).
	NATPortMap bool
	// RelayService lets NATed peers reach others through this node (HQ,
	// servers). Every node is a relay client and tries hole punching.
	RelayService bool
	// AutoNATService answers other peers' reachability probes.
	AutoNATService bool
	// ConnLow and ConnHigh are the connection manager's water marks; 0 =
	// 32 and 96. ConnGrace protects new connections; 0 = 20 s.
	ConnLow, ConnHigh int
	ConnGrace         time.Duration
	// MaxMemory bounds what the resource manager lets libp2p use; 0 = a
	// quarter of the machine's memory, as go-libp2p's autoscaling does.
	MaxMemory int64
	// Registerer receives the host's Prometheus metrics; nil = none. Each
	// node has its own so that several nodes can share a process.
	Registerer prometheus.Registerer
	// UserAgent is sent in identify.
	UserAgent string
	// Logger; nil = slog.Default().
	Logger *slog.Logger
}

// Host is a running libp2p host with its DHT and discovery services.
type Host struct {
	host host.Host
	dht  *dual.DHT
	mdns mdns.Service
	cfg  Config
	log  *slog.Logger

	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool

	bootstrapFn func() []peer.AddrInfo // attached hosts: bootstrap peers, asked when dialled
	repairEvery time.Duration          // attached hosts: how often repairLoop looks
}

// New starts a host as cfg describes it. The host runs until Close.
func New(cfg Config) (*Host, error) {
	if cfg.Identity == nil {
		return nil, errors.New("p2p: no identity key")
	}
	if cfg.MinPeers == 0 {
		cfg.MinPeers = 4
	}
	if cfg.ConnLow == 0 {
		cfg.ConnLow = 32
	}
	if cfg.ConnHigh == 0 {
		cfg.ConnHigh = 96
	}
	if cfg.ConnGrace == 0 {
		cfg.ConnGrace = 20 * time.Second
	}
	if cfg.DHTMode == "" {
		cfg.DHTMode = DHTAuto
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Host{cfg: cfg, log: cfg.Logger.With("component", "p2p")}
	if err := checkPortsFree(cfg.ListenAddrs); err != nil {
		return nil, fmt.Errorf("p2p: %w", err)
	}

	cm, err := connmgr.NewConnManager(cfg.ConnLow, cfg.ConnHigh, connmgr.WithGracePeriod(cfg.ConnGrace))
	if err != nil {
		return nil, fmt.Errorf("p2p: connection manager: %w", err)
	}
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	var concrete rcmgr.ConcreteLimitConfig
	if cfg.MaxMemory > 0 {
		concrete = limits.Scale(cfg.MaxMemory, 4096)
	} else {
		concrete = limits.AutoScale()
	}
	// The resource manager's Prometheus collectors are package-level in
	// go-libp2p, shared by every host in a process: keep them off.
	rmOpts := []rcmgr.Option{rcmgr.WithMetricsDisabled()}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(concrete), rmOpts...)
	if err != nil {
		return nil, fmt.Errorf("p2p: resource manager: %w", err)
	}

	opts := []libp2p.Option{
		libp2p.Identity(cfg.Identity),
		libp2p.ListenAddrs(cfg.ListenAddrs...),
		libp2p.ChainOptions(libp2p.Transport(tcp.NewTCPTransport), libp2p.Transport(quic.NewTransport)),
		libp2p.DefaultSecurity, // Noise and TLS
		libp2p.DefaultMuxers,   // yamux
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(cm),
		libp2p.EnableHolePunching(),
		libp2p.EnableRelay(),
		libp2p.EnableAutoRelayWithPeerSource(h.relayCandidates),
		libp2p.Routing(func(lh host.Host) (routing.PeerRouting, error) {
			d, err := newDHT(lh, cfg)
			if err != nil {
				return nil, err
			}
			h.dht = d
			return d, nil
		}),
	}
	if cfg.UserAgent != "" {
		opts = append(opts, libp2p.UserAgent(cfg.UserAgent))
	}
	if cfg.Registerer != nil {
		opts = append(opts, libp2p.PrometheusRegisterer(cfg.Registerer))
	} else {
		opts = append(opts, libp2p.DisableMetrics())
	}
	if cfg.NATPortMap {
		opts = append(opts, libp2p.NATPortMap())
	}
	if cfg.AutoNATService {
		opts = append(opts, libp2p.EnableNATService())
	}
	if cfg.RelayService {
		opts = append(opts, libp2p.EnableRelayService())
	}
	lh, err := libp2p.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("p2p: start host: %w", explainListenError(err))
	}
	h.host = lh

	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	if cfg.MDNS {
		h.mdns = mdns.NewMdnsService(lh, mdns.ServiceName, &mdnsNotifee{h: h, ctx: ctx})
		if err := h.mdns.Start(); err != nil {
			h.log.Warn("mDNS discovery not started", "err", err)
			h.mdns = nil
		}
	}
	h.wg.Add(1)
	go h.bootstrapLoop(ctx)
	return h, nil
}

func newDHT(lh host.Host, cfg Config) (*dual.DHT, error) {
	var wanMode dht.ModeOpt
	switch cfg.DHTMode {
	case DHTServer:
		wanMode = dht.ModeServer
	case DHTClient:
		wanMode = dht.ModeClient
	case DHTAuto:
		wanMode = dht.ModeAuto
	default:
		return nil, fmt.Errorf("p2p: unknown DHT mode %q (want auto, client or server)", cfg.DHTMode)
	}
	opts := []dual.Option{
		dual.WanDHTOption(dht.Mode(wanMode)),
		dual.DHTOption(dht.Concurrency(10)),
	}
	if len(cfg.Bootstrap) > 0 {
		opts = append(opts, dual.DHTOption(dht.BootstrapPeers(cfg.Bootstrap...)))
	} else {
		// No bootstrap peers means no bootstrap peers: never fall back to the
		// public IPFS network's defaults.
		opts = append(opts, dual.DHTOption(dht.BootstrapPeersFunc(func() []peer.AddrInfo { return nil })))
	}
	if cfg.LoopbackOnLANDHT {
		opts = append(opts, dual.LanDHTOption(dht.AddressFilter(nil)))
	}
	d, err := dual.New(lh, opts...)
	if err != nil {
		return nil, fmt.Errorf("p2p: start DHT: %w", err)
	}
	return d, nil
}

// ID is the host's peer ID.
func (h *Host) ID() peer.ID { return h.host.ID() }

// Libp2p is the underlying libp2p host, for the protocols the node runs
// over it (bitswap, gossip).
func (h *Host) Libp2p() host.Host { return h.host }

// Routing is the dual DHT, for content routing and providing; nil when
// the host runs without a DHT (Attach).
func (h *Host) Routing() routing.Routing {
	if h.dht == nil {
		return nil
	}
	return h.dht
}

// DHT is the dual DHT itself, for callers that need its WAN or LAN half.
func (h *Host) DHT() *dual.DHT { return h.dht }

// Addrs are the host's listen addresses with its /p2p/ID suffix, as
// another node would dial them.
func (h *Host) Addrs() []ma.Multiaddr {
	info := peer.AddrInfo{ID: h.host.ID(), Addrs: h.host.Addrs()}
	full, err := peer.AddrInfoToP2pAddrs(&info)
	if err != nil {
		return nil
	}
	return full
}

// Connect dials a peer given by a full multiaddr (ending in /p2p/ID) or a
// bare /p2p/ID, found through the DHT.
func (h *Host) Connect(ctx context.Context, addr ma.Multiaddr) (peer.ID, error) {
	info, err := peer.AddrInfoFromP2pAddr(addr)
	if err != nil {
		return "", fmt.Errorf("%s is not a peer address (it must end in /p2p/<peer ID>): %w", addr, err)
	}
	if info.ID == h.host.ID() {
		return "", fmt.Errorf("%s is this node itself", addr)
	}
	if err := h.host.Connect(ctx, *info); err != nil {
		return "", fmt.Errorf("connect %s: %w", info.ID, err)
	}
	h.host.ConnManager().Protect(info.ID, "user")
	return info.ID, nil
}

// Peer describes one connected peer.
type Peer struct {
	ID        peer.ID       `json:"id"`
	Addr      string        `json:"addr"`
	Direction string        `json:"direction"`
	Latency   time.Duration `json:"latency_ns"`
	Streams   int           `json:"streams"`
}

// Peers lists the connected peers, one entry per connection.
func (h *Host) Peers() []Peer {
	var out []Peer
	for _, c := range h.host.Network().Conns() {
		out = append(out, Peer{
			ID:        c.RemotePeer(),
			Addr:      c.RemoteMultiaddr().String(),
			Direction: c.Stat().Direction.String(),
			Latency:   h.host.Peerstore().LatencyEWMA(c.RemotePeer()),
			Streams:   len(c.GetStreams()),
		})
	}
	return out
}

// Close stops discovery, the DHT and the host, and waits for the host's
// goroutines.
func (h *Host) Close() error {
	if !h.closed.CompareAndSwap(false, true) {
		return nil
	}
	h.cancel()
	h.wg.Wait()
	var errs []error
	if h.mdns != nil {
		errs = append(errs, h.mdns.Close())
	}
	if h.dht != nil {
		errs = append(errs, h.dht.Close())
	}
	errs = append(errs, h.host.Close())
	return errors.Join(errs...)
}

// bootstrapLoop keeps the node connected: it dials the bootstrap peers at
// start and whenever connections fall below MinPeers, then refreshes the
// DHT.
func (h *Host) bootstrapLoop(ctx context.Context) {
	defer h.wg.Done()
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	first := true
	for {
		if first || len(h.host.Network().Peers()) < h.cfg.MinPeers {
			h.dialBootstrap(ctx)
			if h.dht != nil && len(h.host.Network().Peers()) > 0 {
				if err := h.dht.Bootstrap(ctx); err != nil && ctx.Err() == nil {
					h.log.Debug("DHT bootstrap", "err", err)
				}
			}
			first = false
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (h *Host) dialBootstrap(ctx context.Context) {
	var wg sync.WaitGroup
	peers := h.cfg.Bootstrap
	if h.bootstrapFn != nil {
		peers = h.bootstrapFn()
	}
	for _, p := range peers {
		if p.ID == h.host.ID() || h.host.Network().Connectedness(p.ID) == network.Connected {
			continue
		}
		wg.Add(1)
		go func(p peer.AddrInfo) {
			defer wg.Done()
			dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
			if err := h.host.Connect(dctx, p); err != nil && ctx.Err() == nil {
				h.log.Debug("bootstrap peer unreachable", "peer", p.ID, "err", err)
			}
		}(p)
	}
	wg.Wait()
}

// relayCandidates offers AutoRelay the peers the WAN DHT knows, as Kubo
// does, for when AutoNAT says this node is not reachable from outside.
func (h *Host) relayCandidates(ctx context.Context, num int) <-chan peer.AddrInfo {
	out := make(chan peer.AddrInfo, num)
	defer close(out)
	if h.dht == nil || h.host == nil {
		return out
	}
	for _, id := range h.dht.WAN.RoutingTable().ListPeers() {
		if len(out) == num {
			break
		}
		addrs := h.host.Peerstore().Addrs(id)
		if len(addrs) == 0 {
			continue
		}
		out <- peer.AddrInfo{ID: id, Addrs: addrs}
	}
	return out
}

type mdnsNotifee struct {
	h   *Host
	ctx context.Context
}

// HandlePeerFound connects to a peer announced on the LAN. mDNS calls it
// from its own goroutine, so it dials synchronously with a short timeout.
func (n *mdnsNotifee) HandlePeerFound(p peer.AddrInfo) {
	if p.ID == n.h.host.ID() || n.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, 10*time.Second)
	defer cancel()
	if err := n.h.host.Connect(ctx, p); err != nil {
		n.h.log.Debug("mDNS peer unreachable", "peer", p.ID, "err", err)
	}
}
