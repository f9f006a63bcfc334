package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/go-cid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/ipfs"
	"github.com/lyceum-oer/lyceum/node/accounts"
	"github.com/lyceum-oer/lyceum/node/actorlog"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/content"
	"github.com/lyceum-oer/lyceum/node/logsync"
	"github.com/lyceum-oer/lyceum/node/search"
	"github.com/lyceum-oer/lyceum/node/social"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
	"github.com/lyceum-oer/lyceum/node/swarm"
	"github.com/lyceum-oer/lyceum/node/worker"
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
	sim          simOptions // sim.go
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

// Node is a running Lyceum node: its repo, its storage, its libp2p host,
// and the rooms that hold its services (content, swarm, social, sync,
// search, accounts), each reached by its accessor. Node itself only wires them: New
// builds them in order, Close takes them down in reverse.
type Node struct {
	repo    *Repo
	cfg     Config
	log     *slog.Logger
	metrics *prometheus.Registry
	started time.Time

	db       *sqlitedb.DB // lyceum.db: the log, the views, sync's and search's owned tables
	views    *social.Views
	actorLog *actorlog.Log
	store    *ipfs.Store
	host     *p2p.Host // nil when offline
	exch     *ipfs.Exchange
	ipfs     *ipfs.Content

	content   *content.Service
	swarm     *swarm.Service
	accounts  *accounts.Service
	blocklist *logsync.Blocklist
	sync      *logsync.Service // nil when offline
	social    *social.Service
	search    *search.Service

	// cancel ends the rooms' loops; workers owns them.
	cancel  context.CancelFunc
	workers *worker.Group
}

// New starts a node on an opened repo, in this order: the database and
// the log, the content store, the libp2p host and the exchange, then the
// rooms. The node owns the repo from then on: Close releases it.
func New(repo *Repo, opts ...Option) (_ *Node, err error) {
	o := options{log: slog.Default(), syncInterval: time.Minute, gapDelay: DefaultGapDelay}
	for _, opt := range opts {
		opt(&o)
	}
	cfg := repo.Config()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{repo: repo, cfg: cfg, log: o.log, metrics: prometheus.NewRegistry(), started: time.Now()}
	panics := worker.Panics()
	n.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), panics)
	n.workers = worker.NewGroup(o.log, panics)
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	if err := n.openStorage(ctx, o); err != nil {
		return nil, err
	}
	if err := n.startNetwork(o); err != nil {
		return nil, err
	}
	if err := n.startRooms(ctx, o); err != nil {
		return nil, err
	}
	if err := n.registerMetrics(); err != nil { // metrics.go
		return nil, err
	}
	if err := n.rememberPeers(ctx, o); err != nil {
		return nil, err
	}
	return n, nil
}

// openStorage opens lyceum.db with the log and its views, and the content
// store.
func (n *Node) openStorage(ctx context.Context, o options) error {
	// Files of a run that ended without Close (backfill spools).
	if err := os.RemoveAll(n.tmpDir()); err != nil {
		return fmt.Errorf("clear %s: %w", n.tmpDir(), err)
	}
	var err error
	// The WAL is checkpointed every 8,000 pages (32 MiB) instead of
	// SQLite's 1,000: a checkpoint copies each page once however often
	// commits rewrote it, and the log's hot index pages are rewritten by
	// every commit (HQ ingest spent 21 µs an activity in checkpoints, and
	// 11–20 µs less with this). The read pool serves the gossip
	// validators, which run on as many goroutines as there are cores.
	n.db, err = sqlitedb.Open(filepath.Join(n.repo.Path(), "lyceum.db"), sqlitedb.Options{
		ReadConns: runtime.GOMAXPROCS(0), CheckpointPages: 8000, JournalSizeLimit: 64 << 20})
	if err != nil {
		return api.Wrap(api.KindUnavailable, "open lyceum.db", err)
	}
	if n.views, err = social.OpenViews(n.db); err != nil {
		return api.Wrap(api.KindUnavailable, "open lyceum.db", err)
	}
	// Entries of repos made before log entries moved into lyceum.db are in
	// the block store, opened next.
	blocks := &storeBlocks{}
	if n.actorLog, err = actorlog.New(n.db, actorlog.WithApplier(n.views), actorlog.WithBlocks(blocks)); err != nil {
		return api.Wrap(api.KindUnavailable, "open lyceum.db", err)
	}
	if n.store, err = o.openStore(n.repo, ipfs.WithBlockSource(n.actorLog)); err != nil {
		return api.Wrap(api.KindUnavailable, "open content store", err)
	}
	blocks.store = n.store
	if n.blocklist, err = logsync.OpenBlocklist(ctx, n.db); err != nil {
		return err
	}
	return nil
}

// storeBlocks reads blocks from the local store only.
type storeBlocks struct{ store *ipfs.Store }

func (b *storeBlocks) GetBlock(ctx context.Context, c cid.Cid) ([]byte, error) {
	if b.store == nil {
		return nil, errors.New("no block store")
	}
	blk, err := b.store.Blockstore().Get(ctx, c)
	if err != nil {
		return nil, err
	}
	return blk.RawData(), nil
}

// startNetwork starts the libp2p host and the exchange (unless offline)
// and the content services over them.
func (n *Node) startNetwork(o options) error {
	cfg := n.cfg
	if !o.offline && o.sim.host != nil {
		n.host = o.sim.host
	} else if !o.offline {
		listen, err := cfg.ListenAddrs()
		if err != nil {
			return err
		}
		boot, err := cfg.BootstrapPeers()
		if err != nil {
			return err
		}
		n.host, err = p2p.New(p2p.Config{
			Identity: n.repo.Identity(), ListenAddrs: listen, Bootstrap: boot,
			DHTMode: p2p.DHTMode(cfg.DHT.Mode), LoopbackOnLANDHT: cfg.DHT.LoopbackOnLAN,
			MDNS: cfg.Swarm.MDNS, NATPortMap: cfg.Swarm.NATPortMap, RelayService: cfg.Swarm.RelayService,
			AutoNATService: cfg.Swarm.AutoNATService, ConnLow: cfg.Swarm.ConnLow, ConnHigh: cfg.Swarm.ConnHigh,
			MaxMemory: cfg.Swarm.MaxMemoryMiB << 20, Registerer: n.metrics, UserAgent: "lyceum/" + Version, Logger: o.log,
		})
		if err != nil {
			if errors.Is(err, p2p.ErrAddrInUse) {
				return api.Wrap(api.KindUnavailable, "start libp2p host", err)
			}
			return fmt.Errorf("start libp2p host: %w", err)
		}
	}
	if n.host != nil {
		var err error
		n.exch, err = ipfs.NewExchange(n.host.Libp2p(), n.host.Routing(), n.store, ipfs.ExchangeConfig{
			Provide: cfg.Provide.Enabled, ProvideInterval: time.Duration(cfg.Provide.Interval),
		}, ipfs.WithExchangeLogger(o.log))
		if err != nil {
			return fmt.Errorf("start exchange: %w", err)
		}
	}
	n.ipfs = ipfs.New(n.store, n.exch, ipfs.WithLogger(o.log), ipfs.WithFindTimeout(time.Duration(n.cfg.Limits.FindTimeout)))
	var copts []content.Option
	if n.host != nil && n.host.Routing() != nil {
		copts = append(copts, content.WithFinder(n.host.Routing(), n.host.ID()))
	}
	n.content = content.New(n.ipfs, cfg.Import.Profile, n.host != nil, copts...)
	n.swarm = swarm.New(n.host, n.repo.PeerID().String(), "lyceum/"+Version)
	return nil
}

// startRooms builds sync, social and search over the log and the network,
// and starts their loops.
func (n *Node) startRooms(ctx context.Context, o options) error {
	cfg, lim, views := n.cfg, n.cfg.Limits, n.views
	var err error
	var rpc *p2p.Server
	var net social.Network
	if n.host != nil {
		if rpc, err = p2p.NewServer(n.host.Libp2p(), o.log, n.metrics); err != nil {
			return err
		}
		gc := o.gossipConfig()
		gc.Registerer = n.metrics
		n.sync, err = logsync.New(logsync.Config{
			Indexer: cfg.Search.Indexer, SyncInterval: o.syncInterval, GapDelay: o.gapDelay, TmpDir: n.tmpDir(),
			SyncCacheEntries: lim.SyncCacheEntries, SyncCacheBytes: lim.SyncCacheMiB << 20,
			BackfillMemory: lim.BackfillMemoryMiB << 20, BackfillMaxEntries: lim.BackfillMaxEntries,
			PendingBackfills: lim.PendingBackfills, HeldEntries: lim.HeldEntries, HeldBytes: lim.HeldMiB << 20,
			PostsPerMinute: lim.CommunityPostsPerMinute, DeliveriesPerSecond: lim.DeliveriesPerSecond,
			RateLimitedClients: lim.RateLimitedClients, Gossip: gc, Logger: o.log,
		}, logsync.Deps{
			Log: n.actorLog, DB: n.db, Views: views, Announcer: social.NewAnnouncer(n.actorLog, views), Blocks: n.content,
			Host: n.host, RPC: rpc, Verifier: activity.NewVerifier(lim.ActorKeys), Blocklist: n.blocklist, Workers: n.workers,
		})
		if err != nil {
			return err
		}
		net = n.sync
	}
	n.social = social.New(n.actorLog, views, n.content, net, n.repo.PeerID().String())
	// The people of the node, in a database of their own (owned state).
	if n.accounts, err = accounts.New(ctx, accounts.Config{Path: filepath.Join(n.repo.Path(), "accounts.db")}, n.social); err != nil {
		return api.Wrap(api.KindUnavailable, "open accounts.db", err)
	}
	indexPath := filepath.Join(n.repo.Path(), "index")
	if o.sim.noIndex {
		indexPath = ""
	}
	n.search, err = search.New(ctx, search.Config{
		IndexPath: indexPath, HQs: cfg.Search.HQs, Timeout: time.Duration(cfg.Search.Timeout),
		RateLimit: cfg.Search.RateLimit, RateLimited: lim.RateLimitedClients, Logger: o.log,
	}, search.Deps{Log: n.actorLog, DB: n.db, Handles: views, Host: n.host, RPC: rpc, Workers: n.workers})
	if err != nil {
		return err
	}
	if n.sync != nil {
		if err := n.sync.Start(ctx); err != nil {
			return err
		}
	}
	n.search.Start(ctx)
	return nil
}

// tmpDir is where the node keeps files it needs only while it runs
// (backfill spools); New empties it.
func (n *Node) tmpDir() string { return filepath.Join(n.repo.Path(), "tmp") }

// Close stops the node in the reverse order of New and releases the repo:
// the loops first, then the network, then storage.
func (n *Node) Close() error {
	var errs []error
	if n.cancel != nil {
		n.cancel()
		n.workers.Wait()
		n.cancel = nil
	}
	if n.sync != nil {
		errs = append(errs, n.sync.Close())
		n.sync = nil
	}
	if n.exch != nil {
		errs = append(errs, n.exch.Close())
		n.exch = nil
	}
	if n.host != nil {
		errs = append(errs, n.host.Close())
		n.host = nil
	}
	if n.search != nil {
		errs = append(errs, n.search.Close())
		n.search = nil
	}
	if n.accounts != nil {
		errs = append(errs, n.accounts.Close())
		n.accounts = nil
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

// Content is the content room: add, cat, pin, gc, CAR.
func (n *Node) Content() *content.Service { return n.content }

// Swarm is the swarm room: identity, connect, peers.
func (n *Node) Swarm() *swarm.Service { return n.swarm }

// Social is the social room: actors, resources, follows, feeds,
// collections.
func (n *Node) Social() *social.Service { return n.social }

// Search is the search room.
func (n *Node) Search() *search.Service { return n.search }

// Accounts is the accounts room: the people of the node, their roles,
// sessions and tokens.
func (n *Node) Accounts() *accounts.Service { return n.accounts }

// Sync is the sync room; nil when the node is offline.
func (n *Node) Sync() *logsync.Service { return n.sync }

// Log is the node's copy of actors' logs.
func (n *Node) Log() *actorlog.Log { return n.actorLog }

// Blocklist is the set of actors the node drops.
func (n *Node) Blocklist() *logsync.Blocklist { return n.blocklist }

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
func (n *Node) BlockService() blockservice.BlockService { return n.ipfs.BlockService() }

// Host is the node's libp2p host, nil when offline (for the simulator and
// tests that need the raw host).
func (n *Node) Host() *p2p.Host { return n.host }

// Stat summarises the repo and the network: what `lyceum stat` shows.
func (n *Node) Stat(ctx context.Context) (api.Stat, error) {
	rs, err := n.content.RepoStat(ctx)
	if err != nil {
		return api.Stat{}, err
	}
	st := api.Stat{
		PeerID: n.repo.PeerID().String(), Online: n.host != nil, RepoPath: n.repo.Path(),
		RepoSizeBytes: rs.SizeBytes, Blocks: int64(rs.Blocks), Pins: rs.Pins, Peers: n.swarm.Count(),
		UptimeSeconds: int64(time.Since(n.started).Seconds()), Gossip: map[string]int64{},
	}
	if n.sync != nil {
		st.Gossip = n.sync.Stats()
	}
	return st, nil
}
