package simnet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Scenario kinds.
const (
	KindPropagation = "propagation"
	KindChurn       = "churn"
	KindHQ          = "hq"
	KindPartition   = "partition"
	KindSpam        = "spam"
	KindPopular     = "popular"
)

// Kinds lists the scenario kinds.
var Kinds = []string{KindPropagation, KindChurn, KindHQ, KindPartition, KindSpam, KindPopular}

// Duration is a time.Duration written as "50ms" in scenario files.
type Duration time.Duration

// D is d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalText writes d as "1m30s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads "50ms", "2s", "1m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Scenario is the editable description of one simulation: the network,
// the load, and what happens to the network while it runs. Files live in
// simnet/scenarios/; cmd/lyceum-sim's flags override the network fields.
type Scenario struct {
	Name string `toml:"name" json:"name"`
	// Kind is one of Kinds.
	Kind string `toml:"kind" json:"kind"`

	// The network.
	Nodes   int      `toml:"nodes" json:"nodes"`
	Degree  int      `toml:"degree" json:"degree"`
	Latency Duration `toml:"latency" json:"latency"`
	Jitter  Duration `toml:"jitter" json:"jitter"` // each link's latency is Latency ± Jitter (uniform)
	Loss    float64  `toml:"loss" json:"loss"`     // per 1400-byte segment
	Uplink  int64    `toml:"uplink" json:"uplink"` // bytes/s per node; 0 = unlimited
	Seed    uint64   `toml:"seed" json:"seed"`

	// The load: Rate publications per second from random nodes during
	// Duration, after Warmup (meshes forming); then Settle to let the last
	// ones arrive.
	Warmup   Duration `toml:"warmup" json:"warmup"`
	Duration Duration `toml:"duration" json:"duration"`
	Rate     float64  `toml:"rate" json:"rate"`
	Settle   Duration `toml:"settle" json:"settle"`
	// Converge bounds how long the churn, partition and hq scenarios wait
	// for every node (or the HQ) to hold every publication.
	Converge Duration `toml:"converge" json:"converge"`
	// SyncInterval is how often nodes ask followed actors for their log
	// heads (node.WithSyncInterval); 0 = a minute.
	SyncInterval Duration `toml:"sync_interval" json:"sync_interval"`

	// TimeScale slows the whole simulation down by this factor (0 or 1 =
	// real time): link latencies, the scenario's durations and GossipSub's
	// timers are multiplied by it, rates and bandwidth divided, and the
	// times measured are divided back. The nodes' CPU then weighs TimeScale
	// times less against the links: what a machine too small for the
	// network in real time needs. Timers inside the node that the scenario
	// does not set (backfill timeouts, score decay) are not scaled.
	TimeScale float64 `toml:"time_scale" json:"time_scale,omitempty"`

	// LocalIndex keeps every node's bleve index (a third of the CPU per
	// delivery in a 100-node run); by default only the HQ has one.
	LocalIndex bool `toml:"local_index" json:"local_index"`

	// Variants of the gossip parameters, each run on the same topology and
	// schedule; empty = Lyceum's settings only.
	Variants []Variant `toml:"variant" json:"variants"`

	Churn     ChurnParams     `toml:"churn" json:"churn"`
	HQ        HQParams        `toml:"hq" json:"hq"`
	Partition PartitionParams `toml:"partition" json:"partition"`
	Spam      SpamParams      `toml:"spam" json:"spam"`
	Popular   PopularParams   `toml:"popular" json:"popular"`
}

// ChurnParams: Share of the nodes (never node 0, the community's origin)
// go down for Down and come back for Up, over and over, each starting at
// a seeded random offset.
type ChurnParams struct {
	Share float64  `toml:"share" json:"share"`
	Down  Duration `toml:"down" json:"down"`
	Up    Duration `toml:"up" json:"up"`
}

// HQParams: the HQ (node 1) is stopped StopAt into the publication phase
// and restarted DownFor later.
type HQParams struct {
	StopAt  Duration `toml:"stop_at" json:"stop_at"`
	DownFor Duration `toml:"down_for" json:"down_for"`
}

// PartitionParams: At into the publication phase the network splits into
// two halves (seeded); HealAfter later it heals.
type PartitionParams struct {
	At        Duration `toml:"at" json:"at"`
	HealAfter Duration `toml:"heal_after" json:"heal_after"`
}

// SpamParams: Attackers extra peers, each connected to Degree honest
// nodes, send Rate messages per second each, cycling through forged
// (bad signature), replayed (an honest message re-sent with a new
// envelope), oversized and malformed messages.
type SpamParams struct {
	Attackers int     `toml:"attackers" json:"attackers"`
	Rate      float64 `toml:"rate" json:"rate"`
}

// PopularParams: node 0 publishes a file of Size bytes; Fetchers random
// nodes fetch it at once (each first dials node 0, as content routing
// would point it there).
type PopularParams struct {
	Fetchers int   `toml:"fetchers" json:"fetchers"`
	Size     int64 `toml:"size" json:"size"`
}

// LoadScenario reads a scenario file strictly: unknown keys are errors.
func LoadScenario(path string) (Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return Scenario{}, err
	}
	defer f.Close()
	return ParseScenario(f)
}

// ParseScenario reads a scenario strictly (unknown keys are errors, at
// most 64 KiB) and validates it.
func ParseScenario(r io.Reader) (Scenario, error) {
	data, err := io.ReadAll(io.LimitReader(r, 64<<10+1))
	if err != nil {
		return Scenario{}, err
	}
	if len(data) > 64<<10 {
		return Scenario{}, errors.New("simnet: scenario larger than 64 KiB")
	}
	var sc Scenario
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		return Scenario{}, fmt.Errorf("simnet: scenario: %w", err)
	}
	return sc, sc.Validate()
}

// Validate checks the fields and names the first wrong one.
func (sc Scenario) Validate() error {
	var errs []string
	bad := func(f string, args ...any) { errs = append(errs, fmt.Sprintf(f, args...)) }
	known := false
	for _, k := range Kinds {
		known = known || sc.Kind == k
	}
	if !known {
		bad("kind %q: want one of %s", sc.Kind, strings.Join(Kinds, ", "))
	}
	if sc.Nodes < 2 || sc.Nodes > 5000 {
		bad("nodes %d: want 2..5000", sc.Nodes)
	}
	if sc.Degree < 2 || sc.Degree >= sc.Nodes && sc.Nodes > 2 {
		bad("degree %d: want 2..nodes-1", sc.Degree)
	}
	if sc.Latency < 0 || sc.Jitter < 0 || sc.Jitter > sc.Latency {
		bad("latency %v ± %v: want jitter ≤ latency", sc.Latency.D(), sc.Jitter.D())
	}
	if sc.Loss < 0 || sc.Loss >= 0.5 {
		bad("loss %v: want 0 ≤ loss < 0.5", sc.Loss)
	}
	if sc.Uplink < 0 {
		bad("uplink %d: want ≥ 0", sc.Uplink)
	}
	if sc.TimeScale < 0 || sc.TimeScale > 1000 {
		bad("time_scale %v: want 0..1000", sc.TimeScale)
	}
	if sc.Rate < 0 || sc.Rate > 1000 {
		bad("rate %v: want 0..1000 per second", sc.Rate)
	}
	if sc.Kind == KindChurn && (sc.Churn.Share <= 0 || sc.Churn.Share >= 1 || sc.Churn.Down <= 0 || sc.Churn.Up <= 0) {
		bad("churn: want 0 < share < 1 and positive down and up")
	}
	if sc.Kind == KindHQ && (sc.HQ.DownFor <= 0 || sc.Nodes < 3) {
		bad("hq: want a positive down_for and at least 3 nodes")
	}
	if sc.Kind == KindPartition && sc.Partition.HealAfter <= 0 {
		bad("partition: want a positive heal_after")
	}
	if sc.Kind == KindSpam && (sc.Spam.Attackers < 1 || sc.Spam.Rate <= 0) {
		bad("spam: want attackers ≥ 1 and a positive rate")
	}
	if sc.Kind == KindPopular && (sc.Popular.Fetchers < 1 || sc.Popular.Fetchers >= sc.Nodes || sc.Popular.Size < 1 || sc.Popular.Size > 1<<30) {
		bad("popular: want 1 ≤ fetchers < nodes and 1 ≤ size ≤ 1 GiB")
	}
	seen := map[string]bool{}
	for i, v := range sc.Variants {
		if v.Name == "" || seen[v.Name] {
			bad("variant %d: want a unique name", i)
		}
		seen[v.Name] = true
	}
	if len(errs) > 0 {
		return fmt.Errorf("simnet: scenario %q: %s", sc.Name, strings.Join(errs, "; "))
	}
	return nil
}

// scaled is the scenario as the simulation runs it: TimeScale applied.
func (sc Scenario) scaled() Scenario {
	k := sc.TimeScale
	if k <= 1 {
		return sc
	}
	d := func(x *Duration) { *x = Duration(float64(*x) * k) }
	for _, x := range []*Duration{&sc.Latency, &sc.Jitter, &sc.Warmup, &sc.Duration, &sc.Settle, &sc.Converge, &sc.SyncInterval,
		&sc.Churn.Down, &sc.Churn.Up, &sc.HQ.StopAt, &sc.HQ.DownFor, &sc.Partition.At, &sc.Partition.HealAfter} {
		d(x)
	}
	sc.Rate /= k
	sc.Spam.Rate /= k
	sc.Uplink = int64(float64(sc.Uplink) / k)
	return sc
}

// scale is the time scale factor, at least 1.
func (sc Scenario) scale() float64 { return max(1, sc.TimeScale) }

// restarts reports whether nodes restart, so that their blocks must
// survive (a store on disk, tmpfs in practice) instead of in memory.
func (sc Scenario) restarts() bool { return sc.Kind == KindChurn || sc.Kind == KindHQ }

// variants are the scenario's variants, or Lyceum's settings alone.
func (sc Scenario) variants() []Variant {
	if len(sc.Variants) == 0 {
		return []Variant{{Name: "lyceum"}}
	}
	return sc.Variants
}
