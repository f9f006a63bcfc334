package simnet

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/logsync"
	"github.com/lyceum-oer/lyceum/p2p"
)

// Result is what one variant of a scenario measured. Times are in
// milliseconds.
type Result struct {
	Scenario string  `json:"scenario"`
	Kind     string  `json:"kind"`
	Variant  Variant `json:"variant"`
	Nodes    int     `json:"nodes"`
	Degree   int     `json:"degree"`
	Seed     uint64  `json:"seed"`

	SetupSeconds float64 `json:"setup_seconds"`
	RunSeconds   float64 `json:"run_seconds"`

	Published int `json:"published"` // publications made during the run
	Messages  int `json:"messages"`  // distinct gossip messages on the community topic (publications and the community's announces)
	// Deliveries counts gossip deliveries to nodes other than the
	// publisher; Expected is messages × (subscribed nodes − 1).
	Deliveries    int64   `json:"deliveries"`
	Expected      int64   `json:"expected"`
	DeliveryRatio float64 `json:"delivery_ratio"`
	LatencyP50    float64 `json:"latency_p50_ms"`
	LatencyP95    float64 `json:"latency_p95_ms"`
	LatencyP99    float64 `json:"latency_p99_ms"`
	LatencyMax    float64 `json:"latency_max_ms"`
	// DupsPerDelivery is duplicate receptions per delivery.
	DupsPerDelivery float64 `json:"dups_per_delivery"`
	// WireBytesPerPayload is every byte the nodes sent during the run (all
	// protocols) over the payload bytes delivered; DataBytesPerPayload
	// counts only gossip message copies sent.
	WireBytesPerPayload float64 `json:"wire_bytes_per_payload"`
	DataBytesPerPayload float64 `json:"data_bytes_per_payload"`
	// WireByProtocol splits WireBytesPerPayload by libp2p protocol, also
	// over the payload bytes delivered; "connections" is what the links
	// carried beyond the streams (handshakes, yamux frames and window
	// updates), "negotiation" what streams sent before a protocol was
	// agreed.
	WireByProtocol map[string]float64 `json:"wire_by_protocol,omitempty"`
	// CPUPerDelivery is the process's CPU time during the run over the
	// deliveries (every protocol's work included).
	CPUPerDeliveryMs float64          `json:"cpu_per_delivery_ms"`
	CPUSeconds       float64          `json:"cpu_seconds"`
	MemPerNodeMiB    float64          `json:"mem_per_node_mib"`
	Rejected         map[string]int64 `json:"rejected,omitempty"`

	// Completeness is the share of (node, publication) pairs held at the
	// end (churn, partition: every node's feed; hq: the HQ's index);
	// ConvergeMs how long after the trigger it took to reach 1 (-1: never).
	Completeness float64 `json:"completeness,omitempty"`
	ConvergeMs   float64 `json:"converge_ms,omitempty"`
	// Extra holds the figures of one scenario kind, named.
	Extra map[string]float64 `json:"extra,omitempty"`
	// Missing lists the publications some feeds still lacked at the end,
	// and Stragglers the nodes that lacked some.
	Missing    []MissingPublication `json:"missing,omitempty"`
	Stragglers []Straggler          `json:"stragglers,omitempty"`

	// For the plots.
	Latencies      []float64 `json:"latencies_ms,omitempty"`        // every delivery
	DeliveryTimes  []float64 `json:"delivery_times_ms,omitempty"`   // since the run began
	BytesSentNodes []int64   `json:"bytes_sent_per_node,omitempty"` // during the run
}

// MissingPublication is a publication that did not reach every feed: who
// published it and how many nodes lack it, to tell a post that never left
// its author from one that reached most nodes but not all.
type MissingPublication struct {
	ID        string `json:"id"`
	Publisher int    `json:"publisher"`
	MissingOn int    `json:"missing_on"`
	Nodes     []int  `json:"nodes,omitempty"` // the first few that lack it
}

// Straggler is a node whose feed lacked publications at the end, with what
// it was connected to then.
type Straggler struct {
	Node       int `json:"node"`
	Lacks      int `json:"lacks"`
	Peers      int `json:"peers"`       // connected peers
	TopicPeers int `json:"topic_peers"` // of those, known in the community's topic
}

// Progress receives what the simulator is doing: a phase and how far it is.
type Progress func(phase string, done, total int)

// Run runs every variant of sc in turn, each on a fresh network with the
// same topology and schedule.
func Run(ctx context.Context, sc Scenario, progress Progress) ([]*Result, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	var out []*Result
	for _, v := range sc.variants() {
		r, err := RunVariant(ctx, sc, v, progress)
		if err != nil {
			return out, fmt.Errorf("%s/%s: %w", sc.Name, v.Name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// RunVariant runs sc once with gossip variant v.
func RunVariant(ctx context.Context, sc Scenario, v Variant, progress Progress) (_ *Result, err error) {
	k := sc.scale()
	sc = sc.scaled()
	if progress == nil {
		progress = func(string, int, int) {}
	}
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	t0 := time.Now()
	s, err := Start(ctx, sc, v, func(p string, d, t int) { progress(v.Name+": "+p, d, t) })
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := s.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	r := &Result{Scenario: sc.Name, Kind: sc.Kind, Variant: v, Nodes: sc.Nodes, Degree: sc.Degree, Seed: sc.Seed,
		SetupSeconds: time.Since(t0).Seconds(), Extra: map[string]float64{},
		MemPerNodeMiB: float64(int64(m1.HeapInuse)-int64(m0.HeapInuse)) / float64(sc.Nodes) / (1 << 20)}
	if err := s.sleep(ctx, sc.Warmup.D()); err != nil {
		return nil, err
	}
	s.col.reset()
	sent0 := s.bytesSent()
	proto0 := s.fabric.SentByProtocol()
	cpu0 := cpuTime()
	start := time.Now()
	switch sc.Kind {
	case KindPropagation:
		err = s.runPropagation(ctx, r, progress)
	case KindChurn:
		err = s.runChurn(ctx, r, progress)
	case KindHQ:
		err = s.runHQ(ctx, r, progress)
	case KindPartition:
		err = s.runPartition(ctx, r, progress)
	case KindSpam:
		err = s.runSpam(ctx, r, progress)
	case KindPopular:
		err = s.runPopular(ctx, r, progress)
	}
	if err != nil {
		return nil, err
	}
	r.RunSeconds = time.Since(start).Seconds()
	r.CPUSeconds = (cpuTime() - cpu0).Seconds()
	sent1 := s.bytesSent()
	r.BytesSentNodes = make([]int64, len(sent1))
	var wire int64
	for i := range sent1 {
		r.BytesSentNodes[i] = sent1[i] - sent0[i]
		wire += r.BytesSentNodes[i]
	}
	s.gossipFigures(r, start, wire)
	r.splitWire(wire, proto0, s.fabric.SentByProtocol())
	r.unscale(k)
	return r, nil
}

// splitWire fills WireByProtocol from the stream counts before and after
// the run; wire is every byte the links carried.
func (r *Result) splitWire(wire int64, before, after map[string]int64) {
	if r.WireBytesPerPayload <= 0 {
		return
	}
	payload := float64(wire) / r.WireBytesPerPayload
	r.WireByProtocol = map[string]float64{}
	var streams int64
	for p, n := range after {
		d := n - before[p]
		if d <= 0 {
			continue
		}
		streams += d
		if p == "" {
			p = "negotiation"
		}
		r.WireByProtocol[p] = float64(d) / payload
	}
	if rest := wire - streams; rest > 0 {
		r.WireByProtocol["connections"] = float64(rest) / payload
	}
}

// unscale divides the simulated times by the time scale k.
func (r *Result) unscale(k float64) {
	if k <= 1 {
		return
	}
	for _, x := range []*float64{&r.LatencyP50, &r.LatencyP95, &r.LatencyP99, &r.LatencyMax} {
		*x /= k
	}
	if r.ConvergeMs > 0 {
		r.ConvergeMs /= k
	}
	for _, xs := range [][]float64{r.Latencies, r.DeliveryTimes} {
		for i := range xs {
			xs[i] /= k
		}
	}
	for name, v := range r.Extra {
		if strings.HasSuffix(name, "_ms") && v > 0 {
			r.Extra[name] = v / k
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (s *Sim) bytesSent() []int64 {
	out := make([]int64, s.sc.Nodes)
	for i := range out {
		out[i] = s.fabric.BytesSent(i)
	}
	return out
}

func (s *Sim) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// gossipFigures turns the collector's events into the result's gossip
// figures. Every node but the publisher is expected to deliver every
// message, except nodes down at the end (churn, hq).
func (s *Sim) gossipFigures(r *Result, start time.Time, wire int64) {
	c := s.col
	c.mu.Lock()
	defer c.mu.Unlock()
	subscribed := 0
	for i := 0; i < s.sc.Nodes; i++ {
		if s.Node(i) != nil {
			subscribed++
		}
	}
	var payload int64
	for id, first := range c.first {
		origin, ok := c.origin[id]
		if !ok {
			continue // not published by an honest node (spam)
		}
		r.Messages++
		r.Expected += int64(subscribed - 1)
		for i, at := range c.delivers[id] {
			if i == origin {
				continue
			}
			r.Deliveries++
			payload += int64(c.size[id])
			r.Latencies = append(r.Latencies, float64(at.Sub(first))/1e6)
			r.DeliveryTimes = append(r.DeliveryTimes, float64(at.Sub(start))/1e6)
		}
	}
	if r.Expected > 0 {
		r.DeliveryRatio = min(1, float64(r.Deliveries)/float64(r.Expected))
	}
	sort.Float64s(r.Latencies)
	sort.Float64s(r.DeliveryTimes)
	r.LatencyP50, r.LatencyP95, r.LatencyP99 = quantile(r.Latencies, 0.5), quantile(r.Latencies, 0.95), quantile(r.Latencies, 0.99)
	if len(r.Latencies) > 0 {
		r.LatencyMax = r.Latencies[len(r.Latencies)-1]
	}
	if r.Deliveries > 0 {
		r.DupsPerDelivery = float64(c.dups.Load()) / float64(r.Deliveries)
		r.CPUPerDeliveryMs = r.CPUSeconds * 1e3 / float64(r.Deliveries)
	}
	if payload > 0 {
		r.WireBytesPerPayload = float64(wire) / float64(payload)
		r.DataBytesPerPayload = float64(c.dataSent.Load()) / float64(payload)
		for i, name := range rpcPartNames {
			if n := c.rpcSent[i].Load(); n > 0 {
				r.Extra["gossip_"+name+"_per_payload"] = float64(n) / float64(payload)
			}
		}
	}
	if len(c.rejects) > 0 {
		r.Rejected = map[string]int64{}
		for k, v := range c.rejects {
			r.Rejected[k] = v
		}
	}
}

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q * float64(len(sorted)-1))
	return sorted[i]
}

// schedule is the seeded list of publications: when (since the phase
// began) and by which node; Poisson arrivals at rate per second.
func (s *Sim) schedule(d time.Duration, rate float64, salt uint64) []pub {
	r := rand.New(rand.NewPCG(s.sc.Seed, 0x9ab^salt))
	var out []pub
	if rate <= 0 {
		return nil
	}
	for t := time.Duration(0); ; {
		t += time.Duration(r.ExpFloat64() / rate * float64(time.Second))
		if t >= d {
			return out
		}
		out = append(out, pub{at: t, node: r.IntN(s.sc.Nodes), k: len(out)})
	}
}

type pub struct {
	at   time.Duration
	node int
	k    int
}

// publishAll publishes the schedule from now on, each publication on its
// own goroutine at its time (a slow publish never delays the next);
// publications whose node is down move to node 0. It returns the
// resource IDs once every publication returned.
func (s *Sim) publishAll(ctx context.Context, sched []pub, tag string, progress Progress) ([]string, error) {
	start := time.Now()
	ids := make([]string, len(sched))
	errs := make(chan error, len(sched))
	done := 0
	for j, p := range sched {
		if err := s.sleep(ctx, time.Until(start.Add(p.at))); err != nil {
			return nil, err
		}
		go func(j int, p pub) {
			var res api.Published
			var err error
			publish := func(n *node.Node) {
				res, err = n.Social().Publish(ctx, api.PublishRequest{
					URL:       fmt.Sprintf("https://example.org/%s/%d", tag, p.k),
					Title:     fmt.Sprintf("simres %s %d", tag, p.k),
					Summary:   "A simulated resource",
					License:   "CC-BY-4.0",
					Language:  "en",
					Community: s.community,
				})
			}
			by := p.node
			if !s.use(p.node, publish) {
				by = 0
				if !s.use(0, publish) {
					err = fmt.Errorf("node %d and node 0 are down", p.node)
				}
			}
			if err == nil {
				ids[j] = res.ID
				s.pubMu.Lock()
				if s.publisher == nil {
					s.publisher = map[string]int{}
				}
				s.publisher[res.ID] = by
				s.pubMu.Unlock()
			}
			errs <- err
		}(j, p)
		done++
		progress(s.variant.Name+": publish "+tag, done, len(sched))
	}
	var first error
	for range sched {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return nil, fmt.Errorf("publish: %w", first)
	}
	return ids, nil
}

func (s *Sim) runPropagation(ctx context.Context, r *Result, progress Progress) error {
	ids, err := s.publishAll(ctx, s.schedule(s.sc.Duration.D(), s.sc.Rate, 0), "p", progress)
	if err != nil {
		return err
	}
	r.Published = len(ids)
	if err := s.sleep(ctx, s.sc.Settle.D()); err != nil {
		return err
	}
	s.honestScores(r)
	return s.finalConverge(ctx, r, ids, progress)
}

// honestScores records what the nodes think of each other when every node
// is honest: a negative score here is a scoring parameter punishing honest
// behaviour, and a graylisted honest peer's messages are ignored.
func (s *Sim) honestScores(r *Result) {
	var pairs, negative, gossipOff, graylisted float64
	minScore := 0.0
	for i := 0; i < s.sc.Nodes; i++ {
		n := s.Node(i)
		if n == nil {
			continue
		}
		for _, sc := range n.GossipPeerScores() {
			pairs++
			minScore = min(minScore, sc)
			if sc < 0 {
				negative++
			}
			if sc < p2p.GossipThreshold {
				gossipOff++
			}
			if sc < p2p.GraylistThreshold {
				graylisted++
			}
		}
	}
	if pairs == 0 {
		return // scoring off
	}
	r.Extra["honest_scores_negative"] = negative / pairs
	r.Extra["honest_scores_below_gossip"] = gossipOff / pairs
	r.Extra["honest_scores_graylisted"] = graylisted / pairs
	r.Extra["honest_score_min"] = minScore
}

// finalConverge records how long after the load every feed (but the
// community origin's) held every publication, gossip and backfill
// together.
func (s *Sim) finalConverge(ctx context.Context, r *Result, ids []string, progress Progress) error {
	d, c, err := s.converge(ctx, ids, all(s.sc.Nodes)[1:], progress)
	r.ConvergeMs, r.Completeness = ms(d), c
	if c < 1 {
		r.Missing = s.missing(ctx, ids, all(s.sc.Nodes)[1:])
		r.Stragglers = s.stragglers
	}
	return err
}

// completeness is the share of (node, publication) pairs in the feeds of
// the listed nodes that are up (node 0 owns the community: its posts are
// not in its own feed, so callers leave it out).
func (s *Sim) completeness(ctx context.Context, ids []string, nodes []int) float64 {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	have, total := 0, 0
	for _, i := range nodes {
		s.use(i, func(n *node.Node) {
			total += len(ids)
			feed, err := n.Social().Feed(ctx, len(ids)+1000)
			if err != nil {
				return
			}
			for _, f := range feed {
				if want[f.ResourceID] {
					have++
				}
			}
		})
	}
	if total == 0 {
		return 0
	}
	return float64(have) / float64(total)
}

// converge polls until every listed node's feed holds every publication,
// or the scenario's Converge time passes; it returns the time taken (-1
// if never) and the final completeness.
// missing lists the publications of ids that some of nodes lack.
func (s *Sim) missing(ctx context.Context, ids []string, nodes []int) []MissingPublication {
	lack := map[string][]int{}
	for _, i := range nodes {
		s.use(i, func(n *node.Node) {
			feed, err := n.Social().Feed(ctx, len(ids)+1000)
			if err != nil {
				return
			}
			have := map[string]bool{}
			for _, f := range feed {
				have[f.ResourceID] = true
			}
			for _, id := range ids {
				if !have[id] {
					lack[id] = append(lack[id], i)
				}
			}
		})
	}
	lacks := map[int]int{}
	for _, l := range lack {
		for _, i := range l {
			lacks[i]++
		}
	}
	for i, k := range lacks {
		s.use(i, func(n *node.Node) {
			s.stragglers = append(s.stragglers, Straggler{Node: i, Lacks: k, Peers: len(n.Host().Libp2p().Network().Peers()),
				TopicPeers: len(n.GossipTopicPeers(logsync.TopicOfGroup(s.community)))})
		})
	}
	sort.Slice(s.stragglers, func(a, b int) bool { return s.stragglers[a].Node < s.stragglers[b].Node })
	var out []MissingPublication
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	for _, id := range ids {
		if l := lack[id]; len(l) > 0 {
			out = append(out, MissingPublication{ID: id, Publisher: s.publisher[id], MissingOn: len(l), Nodes: l[:min(len(l), 10)]})
		}
	}
	return out
}

func (s *Sim) converge(ctx context.Context, ids []string, nodes []int, progress Progress) (time.Duration, float64, error) {
	start := time.Now()
	limit := s.sc.Converge.D()
	if limit <= 0 {
		limit = time.Minute
	}
	for {
		c := s.completeness(ctx, ids, nodes)
		progress(s.variant.Name+": converge", int(c*1000), 1000)
		if c >= 1 {
			return time.Since(start), c, nil
		}
		if time.Since(start) > limit {
			return -1, c, nil
		}
		if err := s.sleep(ctx, 500*time.Millisecond); err != nil {
			return -1, c, err
		}
	}
}

func all(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func ms(d time.Duration) float64 {
	if d < 0 {
		return -1
	}
	return float64(d) / 1e6
}

// runChurn publishes while a share of the nodes cycles down and up; then
// every node is up again and the scenario measures how long until every
// feed holds every publication (gossip, then backfill).
func (s *Sim) runChurn(ctx context.Context, r *Result, progress Progress) error {
	rng := rand.New(rand.NewPCG(s.sc.Seed, 0xc4))
	k := int(s.sc.Churn.Share * float64(s.sc.Nodes))
	perm := rng.Perm(s.sc.Nodes - 1)
	churners := make([]int, 0, k)
	for _, p := range perm[:min(k, len(perm))] {
		churners = append(churners, p+1) // never node 0, the community's origin
	}
	period := s.sc.Churn.Down.D() + s.sc.Churn.Up.D()
	cctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	var restarts, stops int
	go func() {
		defer close(done)
		type ev struct {
			at   time.Duration
			node int
			down bool
		}
		var evs []ev
		for _, c := range churners {
			off := time.Duration(rng.Int64N(int64(period)))
			for t := off; t < s.sc.Duration.D(); t += period {
				evs = append(evs, ev{t, c, true}, ev{t + s.sc.Churn.Down.D(), c, false})
			}
		}
		sort.Slice(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
		start := time.Now()
		for _, e := range evs {
			if s.sleep(cctx, time.Until(start.Add(e.at))) != nil {
				return
			}
			if e.down {
				_ = s.StopNode(e.node)
				stops++
			} else if s.Node(e.node) == nil {
				if err := s.StartNode(cctx, e.node); err == nil {
					s.reconnect(cctx, e.node)
					restarts++
				}
			}
		}
	}()
	ids, err := s.publishAll(ctx, s.schedule(s.sc.Duration.D(), s.sc.Rate, 0), "c", progress)
	stop()
	<-done
	if err != nil {
		return err
	}
	// Everyone comes back.
	for _, c := range churners {
		if s.Node(c) == nil {
			if err := s.StartNode(ctx, c); err != nil {
				return err
			}
			s.reconnect(ctx, c)
			restarts++
		}
	}
	r.Published = len(ids)
	r.Extra["churners"] = float64(len(churners))
	r.Extra["stops"] = float64(stops)
	r.Extra["restarts"] = float64(restarts)
	d, c, err := s.converge(ctx, ids, all(s.sc.Nodes)[1:], progress)
	r.ConvergeMs, r.Completeness = ms(d), c
	if c < 1 {
		r.Missing = s.missing(ctx, ids, all(s.sc.Nodes)[1:])
		r.Stragglers = s.stragglers
	}
	return err
}

// runPartition splits the network in two halves for a while, publishing
// on both sides, heals it (nodes dial their neighbours again), publishes
// a little more and measures how long until every feed is complete.
func (s *Sim) runPartition(ctx context.Context, r *Result, progress Progress) error {
	rng := rand.New(rand.NewPCG(s.sc.Seed, 0x9a))
	groups := map[int]int{}
	for i, p := range rng.Perm(s.sc.Nodes) {
		if i%2 == 1 {
			groups[p] = 1
		}
	}
	sched := s.schedule(s.sc.Duration.D(), s.sc.Rate, 0)
	var before, during, after []pub
	at, heal := s.sc.Partition.At.D(), s.sc.Partition.At.D()+s.sc.Partition.HealAfter.D()
	for _, p := range sched {
		switch {
		case p.at < at:
			before = append(before, p)
		case p.at < heal:
			p.at -= at
			during = append(during, p)
		default:
			p.at -= heal
			after = append(after, p)
		}
	}
	ids, err := s.publishAll(ctx, before, "a", progress)
	if err != nil {
		return err
	}
	if err := s.sleep(ctx, at-time.Duration(0)-lastAt(before)); err != nil {
		return err
	}
	s.fabric.Partition(groups)
	idsDuring, err := s.publishAll(ctx, during, "b", progress)
	if err != nil {
		return err
	}
	if err := s.sleep(ctx, s.sc.Partition.HealAfter.D()-lastAt(during)); err != nil {
		return err
	}
	r.Extra["completeness_partitioned"] = s.completeness(ctx, append(append([]string{}, ids...), idsDuring...), all(s.sc.Nodes)[1:])
	s.fabric.Partition(nil)
	healed := time.Now()
	_ = s.parallel(ctx, "heal", 0, s.sc.Nodes, func(i int) error { s.reconnect(ctx, i); return nil })
	r.Extra["reconnect_ms"] = ms(time.Since(healed))
	idsAfter, err := s.publishAll(ctx, after, "c", progress)
	if err != nil {
		return err
	}
	ids = append(append(ids, idsDuring...), idsAfter...)
	r.Published = len(ids)
	d, c, err := s.converge(ctx, ids, all(s.sc.Nodes)[1:], progress)
	r.Completeness = c
	r.ConvergeMs = ms(d)
	if c < 1 {
		r.Missing = s.missing(ctx, ids, all(s.sc.Nodes)[1:])
		r.Stragglers = s.stragglers
	}
	if d >= 0 {
		r.Extra["converge_after_heal_ms"] = ms(time.Since(healed))
	}
	return err
}

func lastAt(ps []pub) time.Duration {
	if len(ps) == 0 {
		return 0
	}
	return ps[len(ps)-1].at
}

// indexed counts the publications the HQ's index finds.
func (s *Sim) indexed(ctx context.Context, tag string) int {
	n := s.Node(hqNode)
	if n == nil {
		return 0
	}
	res, err := n.Search().Search(ctx, api.SearchQuery{Text: "simres", Kind: "resource", Size: 1})
	if err != nil {
		return 0
	}
	return int(res.Total)
}

// waitIndexed polls until the HQ's index holds want resources; -1 if it
// never does within Converge.
func (s *Sim) waitIndexed(ctx context.Context, want int, progress Progress) (time.Duration, int) {
	start := time.Now()
	limit := s.sc.Converge.D()
	if limit <= 0 {
		limit = time.Minute
	}
	for {
		got := s.indexed(ctx, "")
		progress(s.variant.Name+": HQ index", got, want)
		if got >= want {
			return time.Since(start), got
		}
		if time.Since(start) > limit || s.sleep(ctx, 200*time.Millisecond) != nil {
			return -1, got
		}
	}
}

// runHQ: publications at a steady rate; the HQ's index lag is measured,
// then the HQ is stopped while publishing goes on, restarted, and the
// time until its index is complete again is measured.
func (s *Sim) runHQ(ctx context.Context, r *Result, progress Progress) error {
	half := s.sc.HQ.StopAt.D()
	if half <= 0 {
		half = s.sc.Duration.D() / 2
	}
	steady := s.schedule(half, s.sc.Rate, 1)
	ids, err := s.publishAll(ctx, steady, "s", progress)
	if err != nil {
		return err
	}
	d, got := s.waitIndexed(ctx, len(ids), progress)
	r.Extra["hq_steady_converge_ms"] = ms(d)
	r.Extra["hq_steady_indexed"] = float64(got)
	if err := s.StopNode(hqNode); err != nil {
		return err
	}
	down := s.schedule(s.sc.HQ.DownFor.D(), s.sc.Rate, 2)
	for i := range down {
		if down[i].node == hqNode {
			down[i].node = 0
		}
	}
	more, err := s.publishAll(ctx, down, "d", progress)
	if err != nil {
		return err
	}
	_ = s.sleep(ctx, s.sc.HQ.DownFor.D()-lastAt(down))
	if err := s.StartNode(ctx, hqNode); err != nil {
		return err
	}
	restarted := time.Now()
	s.reconnect(ctx, hqNode)
	ids = append(ids, more...)
	r.Published = len(ids)
	d, got = s.waitIndexed(ctx, len(ids), progress)
	if d >= 0 {
		d = time.Since(restarted)
	}
	r.Extra["hq_recover_ms"] = ms(d)
	r.Extra["hq_indexed_after_restart"] = float64(got)
	r.Completeness = float64(got) / float64(max(1, len(ids)))
	r.ConvergeMs = ms(d)
	return nil
}
