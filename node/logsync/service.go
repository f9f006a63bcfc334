package logsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/actorlog"
	"github.com/lyceum-oer/lyceum/node/ratelimit"
	"github.com/lyceum-oer/lyceum/node/social"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
	"github.com/lyceum-oer/lyceum/node/worker"
	"github.com/lyceum-oer/lyceum/p2p"
)

// Views is what sync reads of the social views.
type Views interface {
	// FollowedByLocal reports whether a local actor follows did.
	FollowedByLocal(ctx context.Context, did string) bool
	// Followees lists what the node's actors follow, with origin nodes.
	Followees(ctx context.Context) ([]social.Followee, error)
	// Subscriptions lists the actors whose topics the node listens on.
	Subscriptions(ctx context.Context) ([]string, error)
	// IsMember reports whether actor may post in group.
	IsMember(ctx context.Context, group, actor string) (bool, error)
	// Announced reports whether group announced an activity.
	Announced(ctx context.Context, group, activityCID string) bool
	// Unfetched lists what group announced that the node lacks.
	Unfetched(ctx context.Context, group string) ([]string, error)
	// FollowCID is follower's standing Follow of followee ("" if none).
	FollowCID(ctx context.Context, follower, followee string) (string, error)
	// Origin is the peer ID of did's node, "" when unknown.
	Origin(ctx context.Context, did string) string
}

// Announcer has a community of this node announce a post it accepted.
type Announcer interface {
	Announce(ctx context.Context, group, activityCID string) bool
}

// Blocks reads a block by CID, fetching it from peers.
type Blocks interface {
	GetBlock(ctx context.Context, c cid.Cid) ([]byte, error)
}

// Config is sync's plain-data configuration.
type Config struct {
	// Indexer keeps every log whole and syncs every peer's actors (HQ).
	Indexer bool
	// SyncInterval is how often followed logs are synced besides on
	// connection; GapDelay how long a gap waits for gossip.
	SyncInterval time.Duration
	GapDelay     time.Duration
	// TmpDir holds backfill spools while they run.
	TmpDir string
	// The bounds of what other nodes can make sync hold (limits.*).
	SyncCacheEntries    int
	SyncCacheBytes      int64
	BackfillMemory      int64
	BackfillMaxEntries  int
	PendingBackfills    int
	HeldEntries         int
	HeldBytes           int64
	PostsPerMinute      float64
	DeliveriesPerSecond float64
	RateLimitedClients  int
	// Gossip is the GossipSub configuration (tests and the simulator
	// adjust it).
	Gossip p2p.GossipConfig
	// Logger; nil = slog.Default().
	Logger *slog.Logger
}

// Deps are the parts of the node sync works with.
type Deps struct {
	Log       *actorlog.Log
	DB        *sqlitedb.DB // lyceum.db: sync's own tables
	Views     Views
	Announcer Announcer
	Blocks    Blocks
	Host      *p2p.Host
	RPC       *p2p.Server
	Verifier  *activity.Verifier
	Blocklist *Blocklist
	Workers   *worker.Group
}

// Service is the sync room.
type Service struct {
	cfg Config
	Deps
	log    *slog.Logger
	gossip *p2p.Gossip

	rejected counters
	accepted counters

	// ingestMu orders the ingest of remote activities.
	ingestMu sync.Mutex
	ingestCh chan ingestItem
	// gaps are logs to backfill up to an entry gossip brought above a
	// gap, one job per actor, for the sync loop's workers.
	gaps        *keyedQueue[string, ingestItem]
	pages       *pageCache
	spoolBudget int64
	postLimit   *ratelimit.Keyed // posts per actor in the node's communities
	deliverRate *ratelimit.Keyed // deliveries per peer
	logRate     *ratelimit.Keyed // log requests per peer
	ingested    atomic.Int64     // activities taken off ingestCh
	counts      syncCounts       // metrics.go
	clock       clockSamples     // clock.go
	done        chan struct{}    // closed by Close
}

const schema = `
CREATE TABLE IF NOT EXISTS pending_deliveries (
	activity_cid TEXT PRIMARY KEY,
	community    TEXT NOT NULL,
	author       TEXT NOT NULL,
	published    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pending_deliveries_published ON pending_deliveries (published);
DROP TABLE IF EXISTS deliveries;
`

// New returns the sync room of an online node and starts GossipSub with
// its validator. Start runs its loops.
func New(cfg Config, d Deps) (*Service, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{cfg: cfg, Deps: d, log: cfg.Logger.With("component", "sync"),
		rejected: counters{m: map[string]*atomic.Int64{}}, accepted: counters{m: map[string]*atomic.Int64{}},
		ingestCh:    make(chan ingestItem, 4*maxIngestBatch),
		gaps:        newKeyedQueue[string, ingestItem](cfg.PendingBackfills),
		pages:       newPageCache(cfg.SyncCacheEntries, cfg.SyncCacheBytes),
		spoolBudget: cfg.BackfillMemory,
		postLimit:   ratelimit.New(cfg.PostsPerMinute/60, int(cfg.PostsPerMinute), cfg.RateLimitedClients),
		deliverRate: ratelimit.New(cfg.DeliveriesPerSecond, int(10*cfg.DeliveriesPerSecond)+1, cfg.RateLimitedClients),
		logRate:     ratelimit.New(logRequestsPerSecond, 10*logRequestsPerSecond, cfg.RateLimitedClients),
		done:        make(chan struct{}),
	}
	if _, err := d.DB.SQL().Exec(schema); err != nil {
		return nil, fmt.Errorf("create sync's tables: %w", err)
	}
	var err error
	if s.gossip, err = p2p.NewGossip(d.Host.Libp2p(), s.Validate, cfg.Gossip); err != nil {
		return nil, err
	}
	return s, nil
}

// Start serves the protocols, joins the topics and runs the loops until
// ctx ends; Close waits for them.
func (s *Service) Start(ctx context.Context) error {
	s.RPC.Serve(ctx, ProtocolLog, s.logService(), s.handleLog)
	s.RPC.Serve(ctx, ProtocolDeliver, s.deliverService(), s.handleDeliver)
	if s.cfg.Indexer {
		if err := s.gossip.Join(TopicIndex, s.Receive); err != nil {
			return err
		}
	}
	if err := s.resubscribe(ctx); err != nil {
		return fmt.Errorf("subscribe to followed actors: %w", err)
	}
	last, err := s.Log.LastCursor(ctx)
	if err != nil {
		return err
	}
	s.Workers.Go(func() { s.syncLoop(ctx) })
	s.Workers.Go(func() { s.ingestLoop(ctx) })
	s.Workers.Go(func() { s.announceLoop(ctx, last) })
	return nil
}

// Close stops GossipSub; the loops stop with the context given to Start.
func (s *Service) Close() error {
	close(s.done)
	return s.gossip.Close()
}

// Gossip is the node's GossipSub, for the simulator's measurements.
func (s *Service) Gossip() *p2p.Gossip { return s.gossip }

// Stats counts the gossip messages the validator accepted and rejected,
// by reason, since the node started.
func (s *Service) Stats() map[string]int64 {
	out := s.rejected.snapshot()
	for k, v := range s.accepted.snapshot() {
		out[k] = v
	}
	return out
}

// Ingested is how many activities gossip brought that the ingest loop
// took, for tests and benchmarks.
func (s *Service) Ingested() int64 { return s.ingested.Load() }

// counters counts gossip outcomes by reason; safe for concurrent use.
type counters struct {
	mu sync.Mutex
	m  map[string]*atomic.Int64
}

func (c *counters) inc(reason string) {
	c.mu.Lock()
	v, ok := c.m[reason]
	if !ok {
		v = &atomic.Int64{}
		c.m[reason] = v
	}
	c.mu.Unlock()
	v.Add(1)
}

func (c *counters) snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.m))
	for k, v := range c.m {
		out[k] = v.Load()
	}
	return out
}

// verify decodes, verifies and identifies an activity received from
// outside, with the node's key cache; the CID is that of the exact bytes
// received.
func (s *Service) verify(data []byte) (actorlog.Entry, error) {
	a, c, err := s.Verifier.VerifyBlock(data)
	if err != nil {
		return actorlog.Entry{}, err
	}
	return actorlog.Entry{Act: a, CID: c, Data: data}, nil
}

// peerOf parses a peer ID given by the views.
func peerOf(s string) (peer.ID, error) {
	if s == "" {
		return "", errors.New("no peer")
	}
	return peer.Decode(s)
}
