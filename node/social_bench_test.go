package node_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node/actorlog"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/logsync"
	"github.com/lyceum-oer/lyceum/node/nodetest"
)

// BenchmarkApplyActivities measures what a receiving node does with each
// gossip message: validate (decode, verify), then ingest (store the block,
// index it and update the views, durably).
func BenchmarkApplyActivities(b *testing.B) {
	n := mustNode(b, nodetest.Options{})
	log := nodetest.SignedLog(b, b.N+1)
	ctx := context.Background()
	if _, err := n.Log().Store(ctx, []actorlog.Entry{log[0]}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	before := n.Sync().Ingested()
	for i := 1; i <= b.N; i++ {
		v, dec := n.Sync().Validate(ctx, "peer", logsync.TopicOfActor(log[i].Act.Actor), log[i].Data)
		if v != 0 {
			b.Fatalf("verdict %v", v)
		}
		n.Sync().Receive("", "peer", nil, dec)
	}
	for n.Sync().Ingested()-before < int64(b.N) {
		time.Sleep(100 * time.Microsecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "activities/s")
	if head, _, err := n.Log().Head(ctx, log[0].Act.Actor); err != nil || head != uint64(b.N+1) {
		b.Fatalf("log stored up to %d (%v), want %d", head, err, b.N+1)
	}
}

// BenchmarkPublishToFeed measures, on loopback, the time from Publish on
// the origin to the resource being in a follower's views.
func BenchmarkPublishToFeed(b *testing.B) {
	ctx := context.Background()
	origin := mustNode(b, nodetest.Options{})
	alice := mustPerson(b, origin, "alice")
	f := joined(b, origin)
	mustPerson(b, f, "bob")
	follow(b, f, "", handleOf(origin, alice))
	waitFor(b, "mesh", 20*time.Second, func() bool { return len(topicPeers(origin, logsync.TopicOfActor(alice.DID))) > 0 })
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		res, err := origin.Social().Publish(ctx, api.PublishRequest{As: "alice", URL: fmt.Sprintf("https://example.org/r/%d", i),
			Title: fmt.Sprintf("Resource %d", i), License: "CC-BY-4.0", Language: "en"})
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := f.Social().ShowResource(ctx, res.ID); err == nil {
				break
			}
			if time.Since(start) > 20*time.Second {
				b.Fatal("never arrived")
			}
			time.Sleep(200 * time.Microsecond)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkBackfill10000 measures a follower fetching a 10,000-activity
// history from the origin: head over the log protocol, then pages of the
// log, verifying and storing every entry.
func BenchmarkBackfill10000(b *testing.B) {
	const size = 10000
	log := nodetest.SignedLog(b, size)
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		origin := mustNode(b, nodetest.Options{})
		if _, err := origin.Log().Store(ctx, log); err != nil {
			b.Fatal(err)
		}
		f := joined(b, origin)
		mustPerson(b, f, "bob")
		b.StartTimer()
		start := time.Now()
		follow(b, f, "", log[0].Act.Actor)
		b.ReportMetric(time.Since(start).Seconds(), "s/backfill")
		b.StopTimer()
		if k, _ := f.Log().Contiguous(ctx, log[0].Act.Actor); k != size {
			b.Fatalf("backfilled %d of %d", k, size)
		}
		f.Close()
		origin.Close()
	}
}
