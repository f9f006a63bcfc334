package node_test

import (
	"context"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/lyceum-oer/lyceum/node/logsync"
	"github.com/lyceum-oer/lyceum/node/nodetest"
)

// ingestBenchActors is how many actors the benchmarks' activities come
// from.
const ingestBenchActors = 200

// BenchmarkHQIngest measures what an HQ does with signed activities that
// arrive on the index topic, end to end: the gossip validator (decode,
// verify the signature) in two goroutines as pubsub runs validators
// concurrently, the ingest loop (blocks and SQLite, durable: this is when
// an activity is acknowledged), the index loop (load, index, checkpoint),
// until the index is persisted too. One op is one activity.
func BenchmarkHQIngest(b *testing.B) {
	hq := mustHQ(b)
	msgs := nodetest.SignedActivities(b, ingestBenchActors, b.N)
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	cpuStart := processCPU(b)
	before := hq.Sync().Ingested()
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Worker w takes every other actor, so each actor's activities
			// stay in order.
			for i := range msgs {
				if (i%ingestBenchActors)%2 != w {
					continue
				}
				v, dec := hq.Sync().Validate(ctx, "peer", logsync.TopicIndex, msgs[i])
				if v != 0 {
					b.Errorf("verdict %v", v)
					return
				}
				hq.Sync().Receive(logsync.TopicIndex, "peer", nil, dec)
			}
		}()
	}
	wg.Wait()
	for hq.Sync().Ingested()-before < int64(b.N) {
		time.Sleep(200 * time.Microsecond)
	}
	acked := time.Since(start)
	if err := hq.Search().WaitIndexed(ctx); err != nil {
		b.Fatal(err)
	}
	if err := hq.Search().Persist(ctx); err != nil {
		b.Fatal(err)
	}
	el := time.Since(start)
	cpu := processCPU(b) - cpuStart
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "activities/s")
	b.ReportMetric(float64(b.N)/acked.Seconds(), "acked/s")
	// CPU per activity varies less than the rate on a shared machine,
	// and says what 2 cores could do at best.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/activity")
	wantRes := b.N - min(b.N, ingestBenchActors)
	if got := indexedResources(b, hq); got != wantRes {
		b.Fatalf("%d resources indexed, want %d", got, wantRes)
	}
}

// processCPU is the CPU time, user and system, the process has used.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHQIngestBleveDefaults does the same work on the same records
// with a bleve index of plain defaults (default mapping with _all, every
// batch persisted before it returns) in place of the node's index, in
// batches of 1000: verify (two goroutines), store durably, index. One op
// is one activity.
func BenchmarkHQIngestBleveDefaults(b *testing.B) {
	hq := mustHQ(b)
	bi, err := bleve.New(filepath.Join(b.TempDir(), "defaults"), bleve.NewIndexMapping())
	if err != nil {
		b.Fatal(err)
	}
	defer bi.Close()
	msgs := nodetest.SignedActivities(b, ingestBenchActors, b.N)
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for lo := 0; lo < len(msgs); lo += 1000 {
		es := nodetest.VerifyAll(b, msgs[lo:min(lo+1000, len(msgs))])
		if _, err := hq.Log().Store(ctx, es); err != nil {
			b.Fatal(err)
		}
		if err := nodetest.IndexWithBleveDefaults(bi, es); err != nil {
			b.Fatal(err)
		}
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "activities/s")
}
