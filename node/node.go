package node

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/lyceum-oer/lyceum/ipfs"
	"github.com/lyceum-oer/lyceum/p2p"
)

// Version is the Lyceum release this binary was built as.
const Version = "0.1.0-dev"

// Option configures New.
type Option func(*options)

type options struct {
	offline bool
	log     *slog.Logger
}

// WithOffline starts the node without networking: no libp2p host, no DHT,
// no bitswap. Everything local works; nothing is fetched or announced.
func WithOffline() Option { return func(o *options) { o.offline = true } }

// WithLogger sets the node's logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Node is a running Lyceum node: its repo, content store, libp2p host and
// exchange. Its methods are the services every surface (HTTP API, CLI,
// simulator) calls.
type Node struct {
	repo    *Repo
	cfg     Config
	log     *slog.Logger
	metrics *prometheus.Registry
	started time.Time

	store   *ipfs.Store
	host    *p2p.Host // nil when offline
	exch    *ipfs.Exchange
	content *ipfs.Content
}

// New starts a node on an opened repo, in this order: content store, libp2p
// host and DHT, exchange. The node owns the repo from then on: Close
// releases it.
func New(repo *Repo, opts ...Option) (_ *Node, err error) {
	o := options{log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	cfg := repo.Config()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{repo: repo, cfg: cfg, log: o.log, metrics: prometheus.NewRegistry(), started: time.Now()}
	n.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	defer func() {
		if err != nil {
			n.closeParts()
		}
	}()

	n.store, err = ipfs.OpenStore(repo.StorePath(), ipfs.WithStoreLogger(o.log))
	if err != nil {
		return nil, wrapKind(KindUnavailable, "open content store", err)
	}
	if !o.offline {
		listen, err := cfg.ListenAddrs()
		if err != nil {
			return nil, err
		}
		boot, err := cfg.BootstrapPeers()
		if err != nil {
			return nil, err
		}
		n.host, err = p2p.New(p2p.Config{
			Identity:         repo.Identity(),
			ListenAddrs:      listen,
			Bootstrap:        boot,
			DHTMode:          p2p.DHTMode(cfg.DHT.Mode),
			LoopbackOnLANDHT: cfg.DHT.LoopbackOnLAN,
			MDNS:             cfg.Swarm.MDNS,
			NATPortMap:       cfg.Swarm.NATPortMap,
			RelayService:     cfg.Swarm.RelayService,
			AutoNATService:   cfg.Swarm.AutoNATService,
			ConnLow:          cfg.Swarm.ConnLow,
			ConnHigh:         cfg.Swarm.ConnHigh,
			MaxMemory:        cfg.Swarm.MaxMemoryMiB << 20,
			Registerer:       n.metrics,
			UserAgent:        "lyceum/" + Version,
			Logger:           o.log,
		})
		if err != nil {
			if errors.Is(err, p2p.ErrAddrInUse) {
				return nil, wrapKind(KindUnavailable, "start libp2p host", err)
			}
			return nil, fmt.Errorf("start libp2p host: %w", err)
		}
		n.exch, err = ipfs.NewExchange(n.host.Libp2p(), n.host.Routing(), n.store, ipfs.ExchangeConfig{
			Provide:         cfg.Provide.Enabled,
			ProvideInterval: time.Duration(cfg.Provide.Interval),
		}, ipfs.WithExchangeLogger(o.log))
		if err != nil {
			return nil, fmt.Errorf("start exchange: %w", err)
		}
	}
	n.content = ipfs.New(n.store, n.exch, ipfs.WithLogger(o.log))
	return n, nil
}

// Close stops the node in the reverse order of New and releases the repo.
func (n *Node) Close() error {
	return n.closeParts()
}

func (n *Node) closeParts() error {
	var errs []error
	if n.exch != nil {
		errs = append(errs, n.exch.Close())
		n.exch = nil
	}
	if n.host != nil {
		errs = append(errs, n.host.Close())
		n.host = nil
	}
	if n.store != nil {
		errs = append(errs, n.store.Close())
		n.store = nil
	}
	if n.repo != nil {
		errs = append(errs, n.repo.Close())
		n.repo = nil
	}
	return errors.Join(errs...)
}

// Online reports whether the node has a libp2p host.
func (n *Node) Online() bool { return n.host != nil }

// Repo is the node's repo.
func (n *Node) Repo() *Repo { return n.repo }

// Config is the configuration the node runs with.
func (n *Node) Config() Config { return n.cfg }

// Metrics is the node's own Prometheus registry.
func (n *Node) Metrics() *prometheus.Registry { return n.metrics }

// BlockService gives the gateway the node's blocks: local, and fetched over
// bitswap when online.
func (n *Node) BlockService() blockservice.BlockService { return n.content.BlockService() }

// Host is the node's libp2p host, nil when offline (for the simulator and
// tests that need the raw host).
func (n *Node) Host() *p2p.Host { return n.host }
