package simnet

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/logsync"
	"github.com/lyceum-oer/lyceum/p2p"
)

// Variant is one set of gossip parameters; a scenario runs each of its
// variants on the same topology and schedule. Zero fields keep Lyceum's
// settings (p2p.GossipConfig's defaults).
type Variant struct {
	Name string `toml:"name" json:"name"`
	// FloodPublish and Scoring override Lyceum's defaults (both on).
	FloodPublish *bool `toml:"flood_publish" json:"flood_publish,omitempty"`
	Scoring      *bool `toml:"scoring" json:"scoring,omitempty"`
	// PubsubParams starts from go-libp2p-pubsub's default parameters
	// (D=6, Dlo=5, Dhi=12, Dout=2) instead of Lyceum's
	// (p2p.DefaultGossipParams: D=4, Dlo=3, Dhi=6, Dout=1).
	PubsubParams bool `toml:"pubsub_params" json:"pubsub_params,omitempty"`
	// Mesh degrees; 0 keeps the base parameters'.
	D     int `toml:"d" json:"d,omitempty"`
	Dlo   int `toml:"dlo" json:"dlo,omitempty"`
	Dhi   int `toml:"dhi" json:"dhi,omitempty"`
	Dlazy int `toml:"dlazy" json:"dlazy,omitempty"`
	// Dout is the outbound quota; pubsub wants it below Dlo and D/2.
	Dout int `toml:"dout" json:"dout,omitempty"`
	// IDontWantThreshold: messages at least this large trigger IDONTWANT;
	// 0 = the default (1 KiB).
	IDontWantThreshold int `toml:"idontwant_threshold" json:"idontwant_threshold,omitempty"`
}

// params are v's GossipSub parameters, with the timers slowed down k
// times.
func (v Variant) params(k float64) pubsub.GossipSubParams {
	p := p2p.DefaultGossipParams()
	if v.PubsubParams {
		p = pubsub.DefaultGossipSubParams()
	}
	for _, o := range []struct {
		to   *int
		from int
	}{{&p.D, v.D}, {&p.Dlo, v.Dlo}, {&p.Dhi, v.Dhi}, {&p.Dlazy, v.Dlazy}, {&p.Dout, v.Dout},
		{&p.IDontWantMessageThreshold, v.IDontWantThreshold}} {
		if o.from != 0 {
			*o.to = o.from
		}
	}
	if k > 1 {
		for _, x := range []*time.Duration{&p.HeartbeatInitialDelay, &p.HeartbeatInterval, &p.FanoutTTL, &p.PruneBackoff,
			&p.UnsubscribeBackoff, &p.GraftFloodThreshold, &p.IWantFollowupTime} {
			*x = time.Duration(float64(*x) * k)
		}
	}
	return p
}

// gossip applies v to a node's gossip configuration; k slows GossipSub's
// timers down with the simulation (Scenario.TimeScale).
func (v Variant) gossip(tr pubsub.RawTracer, k float64) func(*p2p.GossipConfig) {
	return func(c *p2p.GossipConfig) {
		c.Tracer = tr
		if v.FloodPublish != nil {
			c.NoFloodPublish = !*v.FloodPublish
		}
		if v.Scoring != nil {
			c.NoScoring = !*v.Scoring
		}
		p := v.params(k)
		c.Params = &p
	}
}

// Sim is a running simulated network: N real nodes, each with its own
// repo, libp2p host on the fabric, and tracer.
type Sim struct {
	sc      Scenario
	variant Variant
	fabric  *Fabric
	col     *collector
	dir     string
	log     *slog.Logger
	edges   [][2]int
	adj     [][]int

	mu    sync.Mutex
	nodes []*simNode

	progress func(what string, done, total int)

	community string // the community every node follows (on node 0)
	origin    string // its full address, for Follow

	pubMu     sync.Mutex
	publisher map[string]int // which node published each resource

	stragglers []Straggler // filled by missing
}

type simNode struct {
	idx  int
	path string
	hq   bool
	n    *node.Node // nil while down; guarded by Sim.mu

	// busy is held (read) by calls into the node, so that StopNode never
	// closes a node in the middle of one.
	busy sync.RWMutex
}

// use runs f on node i if it is up, holding it up until f returns; it
// reports whether the node was up.
func (s *Sim) use(i int, f func(*node.Node)) bool {
	sn := s.nodes[i]
	sn.busy.RLock()
	defer sn.busy.RUnlock()
	n := s.Node(i)
	if n == nil {
		return false
	}
	f(n)
	return true
}

// linkLatency is the latency of the link between a and b: the scenario's
// latency ± a uniform jitter, the same both ways and for a given seed.
func linkLatency(sc Scenario, a, b int) time.Duration {
	if a > b {
		a, b = b, a
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%d/%d", sc.Seed, a, b)
	r := rand.New(rand.NewPCG(h.Sum64(), sc.Seed))
	j := time.Duration(0)
	if sc.Jitter.D() > 0 {
		j = time.Duration(r.Int64N(int64(2*sc.Jitter.D()+1))) - sc.Jitter.D()
	}
	return max(time.Millisecond, sc.Latency.D()+j)
}

// Topology is the seeded random graph: a ring (so the graph is connected)
// plus random chords until the average degree is degree.
func Topology(nodes, degree int, seed uint64) [][2]int {
	r := rand.New(rand.NewPCG(seed, 0x51ce))
	seen := map[[2]int]bool{}
	var edges [][2]int
	add := func(a, b int) bool {
		if a == b {
			return false
		}
		if a > b {
			a, b = b, a
		}
		if seen[[2]int{a, b}] {
			return false
		}
		seen[[2]int{a, b}] = true
		edges = append(edges, [2]int{a, b})
		return true
	}
	if nodes < 2 {
		return nil
	}
	for i := 0; i < nodes; i++ {
		add(i, (i+1)%nodes)
	}
	want := nodes * degree / 2
	for tries := 0; len(edges) < want && tries < 100*want; tries++ {
		add(r.IntN(nodes), r.IntN(nodes))
	}
	return edges
}

// Start builds the network of sc with gossip variant v: repos under a
// fresh folder, nodes started and connected along the topology, a
// community on node 0 that every other node follows.
func Start(ctx context.Context, sc Scenario, v Variant, progress func(string, int, int)) (_ *Sim, err error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	if progress == nil {
		progress = func(string, int, int) {}
	}
	base := os.TempDir()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		base = "/dev/shm" // repos on tmpfs: SQLite's syncs cost nothing
	}
	dir, err := os.MkdirTemp(base, "lyceum-sim-")
	if err != nil {
		return nil, err
	}
	s := &Sim{sc: sc, variant: v, dir: dir, col: newCollector(sc.Nodes), progress: progress,
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if os.Getenv("SIMNET_DEBUG") != "" {
		s.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	// Setup (dials, follows) runs at real-time latencies; the time scale
	// applies from the warm-up on (Fabric.SetScale).
	k := sc.scale()
	s.fabric = NewFabric(func(a, b int) LinkParams {
		return LinkParams{Latency: time.Duration(float64(linkLatency(sc, a, b)) / k), Loss: sc.Loss}
	}, sc.Uplink, sc.Seed)
	s.edges = Topology(sc.Nodes, sc.Degree, sc.Seed)
	if sc.Kind == KindHQ {
		// Every node has the HQ among its bootstrap peers, as DESIGN.md
		// has it: announcements on the index topic reach it directly.
		for j := 0; j < sc.Nodes; j++ {
			if j != hqNode && !slices.Contains(s.edges, [2]int{min(j, hqNode), max(j, hqNode)}) {
				s.edges = append(s.edges, [2]int{min(j, hqNode), max(j, hqNode)})
			}
		}
	}
	s.adj = make([][]int, sc.Nodes)
	for _, e := range s.edges {
		s.adj[e[0]] = append(s.adj[e[0]], e[1])
		s.adj[e[1]] = append(s.adj[e[1]], e[0])
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	s.nodes = make([]*simNode, sc.Nodes)
	for i := range s.nodes {
		s.nodes[i] = &simNode{idx: i, path: filepath.Join(dir, fmt.Sprintf("n%04d", i)), hq: sc.Kind == KindHQ && i == hqNode}
	}
	// Node 0 first: its community names the measured topic.
	if err := s.StartNode(ctx, 0); err != nil {
		return nil, err
	}
	n0 := s.Node(0)
	g, err := n0.Social().CreateActor(ctx, api.CreateActorRequest{Username: "commons", Name: "Commons", Type: string(activity.Group)})
	if err != nil {
		return nil, err
	}
	s.community = g.DID
	s.origin = "commons@" + n0.Host().Addrs()[0].String()
	s.col.setTopic(logsync.TopicOfGroup(g.DID))
	if err := s.parallel(ctx, "start nodes", 1, sc.Nodes, func(i int) error { return s.StartNode(ctx, i) }); err != nil {
		return nil, err
	}
	if err := s.parallel(ctx, "connect", 0, len(s.edges), func(k int) error {
		return s.connect(ctx, s.edges[k][0], s.edges[k][1])
	}); err != nil {
		return nil, err
	}
	if err := s.parallel(ctx, "follow", 0, sc.Nodes, func(i int) error {
		n := s.Node(i)
		if _, err := n.Social().CreateActor(ctx, api.CreateActorRequest{Username: fmt.Sprintf("u%d", i), Name: fmt.Sprintf("User %d", i)}); err != nil {
			return err
		}
		if i == 0 {
			return nil
		}
		if _, err := n.Social().Follow(ctx, api.FollowRequest{Actor: s.origin}); err != nil {
			return fmt.Errorf("node %d follows the community: %w", i, err)
		}
		if !s.isEdge(0, i) {
			// Following dialled node 0; keep the topology's degree.
			_ = n.Host().Libp2p().Network().ClosePeer(n0.Host().ID())
		}
		return nil
	}); err != nil {
		return nil, err
	}
	s.fabric.SetScale(k)
	return s, nil
}

// hqNode is the index of the HQ in the hq scenario.
const hqNode = 1

func (s *Sim) isEdge(a, b int) bool {
	for _, x := range s.adj[a] {
		if x == b {
			return true
		}
	}
	return false
}

// parallel runs f(from..to-1) on a few workers, reporting progress.
func (s *Sim) parallel(ctx context.Context, what string, from, to int, f func(int) error) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		next = from
		done int
	)
	workers := 32
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next >= to || len(errs) > 0 || ctx.Err() != nil {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				err := f(i)
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", what, err))
				}
				done++
				s.progress(what, done, to-from)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	return ctx.Err()
}

// StartNode starts node i (first start or restart after StopNode): its
// repo, a host on the fabric, node.New.
func (s *Sim) StartNode(ctx context.Context, i int) error {
	sn := s.nodes[i]
	if !node.IsInitialized(sn.path) {
		profile := node.ProfileTest
		if err := node.InitRepo(sn.path, profile); err != nil {
			return err
		}
	}
	repo, err := node.OpenRepo(sn.path)
	if err != nil {
		return err
	}
	cfg := repo.Config()
	cfg.Provide.Enabled = false
	cfg.Search.Indexer = sn.hq
	repo.SetConfig(cfg)
	h, err := s.fabric.NewHost(i, repo.Identity())
	if err != nil {
		repo.Close()
		return err
	}
	ph, err := p2p.Attach(h, s.log, p2p.WithBootstrapFunc(func() []peer.AddrInfo { return s.neighbourAddrs(i) }))
	if err != nil {
		h.Close()
		repo.Close()
		return err
	}
	opts := []node.Option{node.WithHost(ph), node.WithLogger(s.log),
		node.WithGossipConfig(s.variant.gossip(tracer{c: s.col, idx: i}, s.sc.TimeScale)),
		node.WithGapDelay(time.Duration(float64(node.DefaultGapDelay) * max(1, s.sc.TimeScale)))}
	if s.sc.SyncInterval > 0 {
		opts = append(opts, node.WithSyncInterval(s.sc.SyncInterval.D()))
	}
	if !s.sc.restarts() {
		opts = append(opts, node.WithMemoryStore())
	}
	if !sn.hq && !s.sc.LocalIndex {
		opts = append(opts, node.WithoutLocalIndex())
	}
	n, err := node.New(repo, opts...)
	if err != nil {
		return fmt.Errorf("node %d: %w", i, err)
	}
	s.mu.Lock()
	sn.n = n
	s.mu.Unlock()
	return nil
}

// StopNode closes node i (a user closing the laptop); its repo stays.
func (s *Sim) StopNode(i int) error {
	sn := s.nodes[i]
	sn.busy.Lock()
	s.mu.Lock()
	n := sn.n
	sn.n = nil
	s.mu.Unlock()
	sn.busy.Unlock()
	if n == nil {
		return nil
	}
	return n.Close()
}

// Node is node i, nil while it is down.
func (s *Sim) Node(i int) *node.Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nodes[i].n
}

// connect dials b from a, as a bootstrap list would.
func (s *Sim) connect(ctx context.Context, a, b int) error {
	na, nb := s.Node(a), s.Node(b)
	if na == nil || nb == nil {
		return nil
	}
	hb := nb.Host().Libp2p()
	// A hub (the HQ) takes hundreds of dials at once: give it time, and a
	// second try, as a node's bootstrap loop would.
	var err error
	for try := 0; try < 2; try++ {
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		err = na.Host().Libp2p().Connect(cctx, peer.AddrInfo{ID: hb.ID(), Addrs: hb.Addrs()})
		cancel()
		if err == nil || ctx.Err() != nil {
			break
		}
		if sw, ok := na.Host().Libp2p().Network().(interface{ Backoff() *swarm.DialBackoff }); ok {
			sw.Backoff().Clear(hb.ID())
		}
	}
	if err != nil {
		return fmt.Errorf("connect %d-%d: %w", a, b, err)
	}
	return nil
}

// reconnect dials node i's topology neighbours that are up and reachable
// (a restarted node's bootstrap; a healed partition).
func (s *Sim) reconnect(ctx context.Context, i int) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for _, j := range s.adj[i] {
		if !s.fabric.reachable(i, j) {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(j int) {
			defer wg.Done()
			defer func() { <-sem }()
			cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			_ = s.connect(cctx, i, j)
		}(j)
	}
	wg.Wait()
}

// neighbourAddrs are the addresses of node i's topology neighbours that
// are up: its bootstrap list, which its host dials again whenever it has
// few peers (a node that came back while its neighbours were down, or
// whose dials timed out, would otherwise stay alone).
func (s *Sim) neighbourAddrs(i int) []peer.AddrInfo {
	var out []peer.AddrInfo
	for _, j := range s.adj[i] {
		if h := s.libp2pHost(j); h != nil {
			out = append(out, peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()})
		}
	}
	return out
}

// libp2pHost is node i's host, nil while down.
func (s *Sim) libp2pHost(i int) host.Host {
	if n := s.Node(i); n != nil {
		return n.Host().Libp2p()
	}
	return nil
}

// Close stops every node and removes the repos.
func (s *Sim) Close() error {
	var errs []error
	var wg sync.WaitGroup
	var mu sync.Mutex
	sem := make(chan struct{}, 8)
	for i := range s.nodes {
		if s.nodes[i] == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := s.StopNode(i); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	errs = append(errs, os.RemoveAll(s.dir))
	return errors.Join(errs...)
}
