package content

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lyceum-oer/lyceum/ipfs"
)

// gcCounts counts garbage collections; the zero value is ready.
type gcCounts struct {
	runs, failed, removed atomic.Int64
}

// ran counts a GC run that removed removed blocks; err nil for a success.
func (c *gcCounts) ran(removed int, err error) {
	c.runs.Add(1)
	c.removed.Add(int64(removed))
	if err != nil {
		c.failed.Add(1)
	}
}

// repoStatEvery is how long a repo summary is reused between scrapes:
// counting blocks walks the whole block store.
const repoStatEvery = time.Minute

var (
	descBlocks  = prometheus.NewDesc("lyceum_content_blocks", "Blocks in the content store (counted at most once a minute).", nil, nil)
	descSize    = prometheus.NewDesc("lyceum_content_repo_size_bytes", "Bytes on disk under the content store (measured at most once a minute).", nil, nil)
	descPins    = prometheus.NewDesc("lyceum_content_pins", "Recursive pins in the content store (counted at most once a minute).", nil, nil)
	descGCRuns  = prometheus.NewDesc("lyceum_content_gc_runs_total", "Garbage collections of the content store, by outcome (ok, failed).", []string{"outcome"}, nil)
	descGCBlock = prometheus.NewDesc("lyceum_content_gc_removed_blocks_total", "Blocks garbage collection removed.", nil, nil)
)

// RegisterMetrics exports the content store's size and the GC counters to
// reg as lyceum_content_*.
func (s *Service) RegisterMetrics(reg prometheus.Registerer) error {
	return reg.Register(&contentCollector{s: s})
}

// contentCollector keeps the last repo summary for repoStatEvery.
type contentCollector struct {
	s  *Service
	mu sync.Mutex
	at time.Time
	st ipfs.RepoStat
	ok bool
}

func (c *contentCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBlocks, descSize, descPins, descGCRuns, descGCBlock} {
		ch <- d
	}
}

func (c *contentCollector) Collect(ch chan<- prometheus.Metric) {
	if st, ok := c.stat(); ok {
		ch <- prometheus.MustNewConstMetric(descBlocks, prometheus.GaugeValue, float64(st.Blocks))
		ch <- prometheus.MustNewConstMetric(descSize, prometheus.GaugeValue, float64(st.SizeBytes))
		ch <- prometheus.MustNewConstMetric(descPins, prometheus.GaugeValue, float64(st.Pins))
	}
	gc := &c.s.gc
	runs, failed := gc.runs.Load(), gc.failed.Load()
	ch <- prometheus.MustNewConstMetric(descGCRuns, prometheus.CounterValue, float64(runs-failed), "ok")
	ch <- prometheus.MustNewConstMetric(descGCRuns, prometheus.CounterValue, float64(failed), "failed")
	ch <- prometheus.MustNewConstMetric(descGCBlock, prometheus.CounterValue, float64(gc.removed.Load()))
}

// stat is the repo summary, measured again when the last one is older
// than repoStatEvery; a scrape that finds one under way waits for it.
func (c *contentCollector) stat() (ipfs.RepoStat, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ok && time.Since(c.at) < repoStatEvery {
		return c.st, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c.s.content.Stat(ctx)
	if err != nil {
		return c.st, c.ok // the last one, if any
	}
	c.st, c.at, c.ok = st, time.Now(), true
	return st, true
}
