package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/lyceum-oer/lyceum/index"
	"github.com/lyceum-oer/lyceum/ipfs"
	"github.com/lyceum-oer/lyceum/p2p"
)

// Version is the Lyceum release this binary was built as.
const Version = "0.1.0-dev"

// Option configures New.
type Option func(*options)

type options struct {
	offline      bool
	log          *slog.Logger
	syncInterval time.Duration
	gapDelay     time.Duration
	sim          simOptions // node/sim.go
}

// WithSyncInterval sets how often the node asks followed actors' nodes for
// their log heads; the default is a minute. Connections trigger it too.
func WithSyncInterval(d time.Duration) Option { return func(o *options) { o.syncInterval = d } }

// DefaultGapDelay is how long an entry gossip brought above a gap in a
// followed log waits for gossip to bring the entries below it before they
// are backfilled: out-of-order arrivals are common, and most gaps close
// within a few hundred milliseconds.
const DefaultGapDelay = time.Second

// WithGapDelay sets how long a gap waits for gossip before a backfill
// (DefaultGapDelay); the simulator scales it with its time.
func WithGapDelay(d time.Duration) Option { return func(o *options) { o.gapDelay = d } }

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
	db      *socialStore
	gossip  *p2p.Gossip // nil when offline

	// appendMu orders appends to local logs (seq numbering); ingestMu
	// orders the ingest of remote activities.
	appendMu sync.Mutex
	ingestMu sync.Mutex
	// blocked is the set of blocked actors, read by every validation;
	// blockMu orders its writers.
	blocked  atomic.Pointer[map[string]struct{}]
	blockMu  sync.Mutex
	rejected counters
	accepted counters
	ingestCh chan ingestItem
	// gaps are logs to backfill up to an entry gossip brought above a gap,
	// one job per actor, for the sync loop's workers.
	gaps *keyedQueue[string, ingestItem]
	// index is the bleve search index, fed from the log by indexLoop;
	// indexMu guards swapping it (rebuild) and its checkpoint.
	index       *index.Index
	indexMu     sync.Mutex
	indexKick   chan struct{}
	justStored  storedEntries // decoded entries on their way to the index
	heads       *logHeads     // how far each log is stored, to skip SQLite reads
	searchLimit *clientLimiter
	postLimit   *clientLimiter // posts per actor in the node's communities
	rpc         *p2p.Server    // the Lyceum protocols; nil when offline
	panics      *prometheus.CounterVec
	pages       *pageCache
	spoolBudget int64        // bytes of a backfill kept in memory
	ingested    atomic.Int64 // activities taken off ingestCh, for tests and benchmarks

	// ctx is the node's lifetime, for its own goroutines; Close cancels it
	// and waits for them.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New starts a node on an opened repo, in this order: content store, libp2p
// host and DHT, exchange. The node owns the repo from then on: Close
// releases it.
func New(repo *Repo, opts ...Option) (_ *Node, err error) {
	o := options{log: slog.Default(), syncInterval: time.Minute, gapDelay: DefaultGapDelay}
	for _, opt := range opts {
		opt(&o)
	}
	cfg := repo.Config()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{repo: repo, cfg: cfg, log: o.log, metrics: prometheus.NewRegistry(), started: time.Now(),
		rejected: counters{m: map[string]*atomic.Int64{}}, accepted: counters{m: map[string]*atomic.Int64{}}}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.heads = newLogHeads()
	n.pages = newPageCache(cfg.Limits.SyncCacheEntries, cfg.Limits.SyncCacheMiB<<20)
	n.spoolBudget = cfg.Limits.BackfillMemoryMiB << 20
	n.ingestCh = make(chan ingestItem, 4*maxIngestBatch)
	n.gaps = newKeyedQueue[string, ingestItem](cfg.Limits.PendingBackfills)
	n.indexKick = make(chan struct{}, 1)
	n.searchLimit = newClientLimiter(cfg.Search.RateLimit, 2*int(cfg.Search.RateLimit)+1, cfg.Limits.RateLimitedClients)
	n.postLimit = newClientLimiter(cfg.Limits.CommunityPostsPerMinute/60, int(cfg.Limits.CommunityPostsPerMinute), cfg.Limits.RateLimitedClients)
	n.panics = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lyceum_node_panics_total",
		Help: "Panics recovered in the node's loops and workers, by where they happened.",
	}, []string{"where"})
	n.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), n.panics)
	defer func() {
		if err != nil {
			n.closeParts()
		}
	}()

	// Files of a run that ended without Close (backfill spools).
	if err := os.RemoveAll(n.tmpDir()); err != nil {
		return nil, fmt.Errorf("clear %s: %w", n.tmpDir(), err)
	}
	// The social store first: it keeps the log entries the block store
	// serves.
	n.db, err = openSocialStore(filepath.Join(repo.Path(), "lyceum.db"))
	if err != nil {
		return nil, wrapKind(KindUnavailable, "open the social store", err)
	}
	if err := n.loadBlocked(n.ctx); err != nil {
		return nil, wrapKind(KindUnavailable, "open the social store", err)
	}
	n.store, err = o.openStore(repo, ipfs.WithBlockSource(n.db))
	if err != nil {
		return nil, wrapKind(KindUnavailable, "open content store", err)
	}
	if !o.offline && o.sim.host != nil {
		n.host = o.sim.host
	} else if !o.offline {
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
	}
	if n.host != nil {
		n.exch, err = ipfs.NewExchange(n.host.Libp2p(), n.host.Routing(), n.store, ipfs.ExchangeConfig{
			Provide:         cfg.Provide.Enabled,
			ProvideInterval: time.Duration(cfg.Provide.Interval),
		}, ipfs.WithExchangeLogger(o.log))
		if err != nil {
			return nil, fmt.Errorf("start exchange: %w", err)
		}
	}
	n.content = ipfs.New(n.store, n.exch, ipfs.WithLogger(o.log))
	if !o.sim.noIndex {
		if err := n.openIndex(n.ctx); err != nil {
			return nil, err
		}
		n.wg.Add(1)
		go n.indexLoop(n.ctx)
	}
	if n.host != nil {
		gc := o.gossipConfig()
		gc.Registerer = n.metrics
		n.gossip, err = p2p.NewGossip(n.host.Libp2p(), n.validate, gc)
		if err != nil {
			return nil, err
		}
		if n.rpc, err = p2p.NewServer(n.host.Libp2p(), o.log, n.metrics); err != nil {
			return nil, err
		}
		n.rpc.Serve(n.ctx, ProtocolLog, logService(), n.handleLog)
		n.rpc.Serve(n.ctx, ProtocolSearch, n.searchService(), n.handleSearch)
		n.rpc.Serve(n.ctx, ProtocolDeliver, n.deliverService(), n.handleDeliver)
		if cfg.Search.Indexer {
			if err := n.gossip.Join(TopicIndex, n.onGossip); err != nil {
				return nil, err
			}
		}
		if err := n.resubscribe(n.ctx); err != nil {
			return nil, fmt.Errorf("subscribe to followed actors: %w", err)
		}
		n.wg.Add(2)
		go n.syncLoop(n.ctx, o.syncInterval)
		go n.ingestLoop(n.ctx, o.gapDelay)
	}
	return n, nil
}

// Close stops the node in the reverse order of New and releases the repo.
func (n *Node) Close() error {
	return n.closeParts()
}

func (n *Node) closeParts() error {
	var errs []error
	if n.cancel != nil {
		n.cancel()
		n.wg.Wait()
	}
	if n.gossip != nil {
		errs = append(errs, n.gossip.Close())
		n.gossip = nil
	}
	if n.exch != nil {
		errs = append(errs, n.exch.Close())
		n.exch = nil
	}
	if n.host != nil {
		errs = append(errs, n.host.Close())
		n.host = nil
	}
	if n.index != nil {
		errs = append(errs, n.index.Close())
		n.index = nil
	}
	if n.db != nil {
		errs = append(errs, n.db.Close())
		n.db = nil
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

// survive runs f, recovering a panic: it is logged with its stack and
// counted in lyceum_node_panics_total. The loops and workers that handle
// what other nodes send run their work through it, so that one bad input
// cannot end the process.
func (n *Node) survive(where string, f func()) {
	defer func() {
		if p := recover(); p != nil {
			n.panics.WithLabelValues(where).Inc()
			n.log.Error("panic recovered", "where", where, "panic", p, "stack", string(debug.Stack()))
		}
	}()
	f()
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
