package delivery_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/gateway/delivery"
)

// createNote is a Create of a resource Note about the size the bridge
// sends (≈1.6 KB).
var createNote = []byte(`{"@context":["https://www.w3.org/ns/activitystreams","https://w3id.org/security/v1"],` +
	`"id":"https://lyceum.example/users/alice/activities/8f14e45f","type":"Create","actor":"https://lyceum.example/users/alice",` +
	`"published":"2026-12-01T12:00:00Z","to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["https://lyceum.example/users/alice/followers"],` +
	`"object":{"id":"https://lyceum.example/resources/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi","type":"Note",` +
	`"attributedTo":"https://lyceum.example/users/alice","published":"2026-12-01T12:00:00Z",` +
	`"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["https://lyceum.example/users/alice/followers"],` +
	`"content":"<p><strong>Fractions with paper strips</strong></p><p>A hands-on introduction to equivalent fractions for ages 8–10, with printable strips, a teacher guide and three worksheets.</p>` +
	`<p>Licence: <a href=\"https://creativecommons.org/licenses/by-sa/4.0/\">CC BY-SA 4.0</a>, Alice Martin, Lyceum</p>` +
	`<p><a href=\"https://lyceum.example/tags/mathematics\" class=\"mention hashtag\" rel=\"tag\">#<span>mathematics</span></a> ` +
	`<a href=\"https://lyceum.example/tags/primary\" class=\"mention hashtag\" rel=\"tag\">#<span>primary</span></a></p>` +
	`<p><a href=\"https://lyceum.example/resources/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi\">https://lyceum.example/resources/bafybei…</a> · ` +
	`<a href=\"ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi\">ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi</a></p>",` +
	`"tag":[{"type":"Hashtag","href":"https://lyceum.example/tags/mathematics","name":"#mathematics"},{"type":"Hashtag","href":"https://lyceum.example/tags/primary","name":"#primary"}],` +
	`"attachment":[{"type":"Document","mediaType":"image/png","url":"https://lyceum.example/ipfs/bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku","name":"Preview"}]}}`)

// BenchmarkFanout delivers one Create to 10,000 remote followers on 1,000
// servers, each with a shared inbox: 1,000 signed POSTs to 1,000 sink
// servers on loopback. One op is one whole fan-out, from EnqueueBatch to
// the last POST accepted and recorded.
func BenchmarkFanout(b *testing.B) {
	for _, workers := range []int{8, delivery.DefaultWorkers, 128} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) { benchFanout(b, workers) })
	}
}

func benchFanout(b *testing.B, workers int) {
	const servers, perServer = 1000, 10
	var received atomic.Int64
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		if r.Header.Get("Signature") == "" || r.Header.Get("Digest") == "" {
			http.Error(w, "unsigned", http.StatusUnauthorized)
			return
		}
		received.Add(1)
		w.WriteHeader(http.StatusAccepted)
	})
	var followers []delivery.Follower
	var sinks []*httptest.Server
	for i := range servers {
		s := httptest.NewServer(handler)
		sinks = append(sinks, s)
		for j := range perServer {
			followers = append(followers, delivery.Follower{
				Inbox:       fmt.Sprintf("%s/users/u%d/inbox", s.URL, j),
				SharedInbox: s.URL + "/inbox",
			})
		}
		_ = i
	}
	defer func() {
		for _, s := range sinks {
			s.Close()
		}
	}()
	inboxes := delivery.SharedInboxes(followers)
	if len(inboxes) != servers {
		b.Fatalf("%d shared inboxes", len(inboxes))
	}
	client := delivery.NewHTTPClient(delivery.WithAllowedNetworks(loopback))
	q := openQueue(b, filepath.Join(b.TempDir(), "q.db"), delivery.WithHTTPClient(client), delivery.WithWorkers(workers))
	done := make(chan error, 1)
	go func() { done <- q.Run(context.Background()) }()
	defer func() {
		q.Close()
		<-done
		client.CloseIdleConnections()
	}()

	var peakHeap atomic.Uint64
	stopSampler := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peakHeap.Load() {
				peakHeap.Store(ms.HeapInuse)
			}
			select {
			case <-stopSampler:
				return
			case <-t.C:
			}
		}
	}()

	sigs0 := q.Stats().Signatures
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		target := int64(i+1) * servers
		if err := q.EnqueueBatch(context.Background(), keyID, createNote, inboxes); err != nil {
			b.Fatal(err)
		}
		for received.Load() < target || q.Stats().Pending != 0 {
			time.Sleep(time.Millisecond)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	close(stopSampler)
	wg.Wait()
	st := q.Stats()
	if st.Delivered != uint64(b.N*servers) || st.Retried != 0 {
		b.Fatalf("stats %+v", st)
	}
	b.ReportMetric(float64(st.Signatures-sigs0)/elapsed.Seconds(), "signatures/s")
	b.ReportMetric(float64(peakHeap.Load())/(1<<20), "peak-heap-MiB")
	if hwm := vmHWM(); hwm > 0 {
		b.ReportMetric(hwm, "peak-RSS-MiB")
	}
}

// vmHWM is the process's peak resident set (Linux), in MiB, 0 if unknown.
// It covers the sink servers too: they run in the benchmark's process.
func vmHWM() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			var kb float64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkEnqueueBatch measures the durable part of a fan-out: one
// transaction storing the body once and 1,000 deliveries (synchronous=FULL).
func BenchmarkEnqueueBatch(b *testing.B) {
	q := openQueue(b, filepath.Join(b.TempDir(), "q.db"))
	defer q.Close()
	inboxes := make([]string, 1000)
	for i := range inboxes {
		inboxes[i] = fmt.Sprintf("https://server%d.example/inbox", i)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := q.EnqueueBatch(context.Background(), keyID, createNote, inboxes); err != nil {
			b.Fatal(err)
		}
	}
}
