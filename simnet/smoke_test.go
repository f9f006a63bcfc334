package simnet

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"
)

// smoke is a small network for CI; the tests assert outcomes (delivery,
// convergence), never timings.
func smoke(kind string) Scenario {
	sc := Scenario{Name: "smoke-" + kind, Kind: kind, Nodes: 30, Degree: 6,
		Latency: Duration(20 * time.Millisecond), Jitter: Duration(10 * time.Millisecond), Loss: 0.01, Seed: 1,
		Warmup: Duration(2 * time.Second), Duration: Duration(4 * time.Second), Rate: 4, Settle: Duration(2 * time.Second),
		Converge: Duration(90 * time.Second), SyncInterval: Duration(2 * time.Second)}
	if testing.Short() {
		sc.Nodes, sc.Degree, sc.Rate = 12, 4, 2
	}
	switch kind {
	case KindChurn:
		sc.Churn = ChurnParams{Share: 0.3, Down: Duration(1500 * time.Millisecond), Up: Duration(1500 * time.Millisecond)}
	case KindHQ:
		sc.HQ = HQParams{StopAt: Duration(2 * time.Second), DownFor: Duration(2 * time.Second)}
	case KindPartition:
		sc.Partition = PartitionParams{At: Duration(1 * time.Second), HealAfter: Duration(2 * time.Second)}
	case KindSpam:
		sc.Spam = SpamParams{Attackers: 2, Rate: 20}
	case KindPopular:
		sc.Popular = PopularParams{Fetchers: sc.Nodes / 3, Size: 1 << 20}
	}
	return sc
}

// runSmoke runs a smoke scenario; want is the completeness it must reach.
func runSmoke(t *testing.T, kind string, want float64) *Result {
	t.Helper()
	sc := smoke(kind)
	rs, err := Run(context.Background(), sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	t.Logf("published %d messages %d deliveries %d/%d p50 %.0f p99 %.0f ms dups %.2f wire %.1fx completeness %.3f converge %.0f ms rejected %v extra %v",
		r.Published, r.Messages, r.Deliveries, r.Expected, r.LatencyP50, r.LatencyP99, r.DupsPerDelivery, r.WireBytesPerPayload,
		r.Completeness, r.ConvergeMs, r.Rejected, r.Extra)
	if r.Published == 0 {
		t.Fatal("nothing was published")
	}
	if r.Completeness < want {
		t.Errorf("completeness %.3f at the end, want %.2f", r.Completeness, want)
	}
	return r
}

func TestSmokePropagation(t *testing.T) {
	r := runSmoke(t, KindPropagation, 1)
	if r.Messages < r.Published || r.DeliveryRatio < 0.5 {
		t.Errorf("%d publications, %d messages, gossip delivery ratio %.3f", r.Published, r.Messages, r.DeliveryRatio)
	}
	// The split by protocol adds up to the whole, and GossipSub carries
	// at least the message copies.
	var sum, gossip float64
	for p, x := range r.WireByProtocol {
		sum += x
		if strings.HasPrefix(p, "/meshsub/") {
			gossip += x
		}
	}
	if math.Abs(sum-r.WireBytesPerPayload) > 0.01*r.WireBytesPerPayload {
		t.Errorf("wire by protocol %v adds up to %.3f, want %.3f", r.WireByProtocol, sum, r.WireBytesPerPayload)
	}
	// Every node here follows the community only: a copy of its messages
	// on another topic is a message sent twice (a community's Announce
	// once went out on its actor topic too, and the copy that arrived
	// first kept the other from being forwarded).
	if x := r.Extra["gossip_other_topics_per_payload"]; x > 0.05 {
		t.Errorf("%.2f× the payload went out on other topics", x)
	}
	// Gossip delivers nearly everything here: the periodic syncs must ask
	// only for what a node lacks (they once took a page of up to a
	// thousand entries whenever a node lagged by one).
	if x := r.WireByProtocol["/lyceum/log/1.0.0"]; x > 0.3 {
		t.Errorf("the log protocol carried %.2f× the payload", x)
	}
	if gossip < r.DataBytesPerPayload {
		t.Errorf("GossipSub sent %.2f× the payload, less than the message copies alone (%.2f×): %v", gossip, r.DataBytesPerPayload, r.WireByProtocol)
	}
}

// After churn and after a partition heals, every feed ends complete:
// what gossip missed comes by backfill.
func TestSmokeChurn(t *testing.T) {
	r := runSmoke(t, KindChurn, 1)
	if r.Extra["stops"] == 0 {
		t.Error("no node ever went down")
	}
}

func TestSmokeHQ(t *testing.T) {
	r := runSmoke(t, KindHQ, 1)
	if r.Extra["hq_indexed_after_restart"] < float64(r.Published) {
		t.Errorf("the HQ indexed %v of %d after its restart", r.Extra["hq_indexed_after_restart"], r.Published)
	}
}

func TestSmokePartition(t *testing.T) {
	runSmoke(t, KindPartition, 1)
}

func TestSmokeSpam(t *testing.T) {
	r := runSmoke(t, KindSpam, 1)
	if r.Extra["node_bad_signature"]+r.Extra["node_oversized"]+r.Extra["node_malformed"] == 0 {
		t.Errorf("the validators rejected nothing: %v", r.Extra)
	}
	if r.Extra["attacker_min_score"] >= 0 {
		t.Errorf("no honest node scored an attacker down: %v", r.Extra)
	}
}

func TestSmokePopular(t *testing.T) {
	runSmoke(t, KindPopular, 1)
}
