package search

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// searchCounts are the search room's counters; the zero value is ready,
// and the duration histogram is set by RegisterMetrics (until then,
// durations are not observed).
type searchCounts struct {
	requests [2]atomic.Int64 // Search (the node's surfaces), ProtocolSearch (peers)
	hq       [2]atomic.Int64 // HQ answers: answered, failed
	indexed  atomic.Int64    // log entries the feeder handed the index
	duration atomic.Pointer[prometheus.Histogram]
}

// hqAnswer counts an HQ's answer to a search; err nil for an answer.
func (c *searchCounts) hqAnswer(err error) {
	if err != nil {
		c.hq[1].Add(1)
	} else {
		c.hq[0].Add(1)
	}
}

// observe records how long a search begun at start took.
func (c *searchCounts) observe(start time.Time) {
	if h := c.duration.Load(); h != nil {
		(*h).Observe(time.Since(start).Seconds())
	}
}

var (
	descRequests = prometheus.NewDesc("lyceum_search_requests_total",
		"Searches served, by where they came from (api: the node's HTTP surfaces; libp2p: peers over /lyceum/search).",
		[]string{"via"}, nil)
	descHQ = prometheus.NewDesc("lyceum_search_hq_answers_total",
		"Answers of the configured HQs to this node's searches, by outcome (answered, failed).",
		[]string{"outcome"}, nil)
	descIndexed = prometheus.NewDesc("lyceum_index_entries_total",
		"Log entries the feeder handed the search index (its rate is the index's ingest rate).", nil, nil)
	descDocuments = prometheus.NewDesc("lyceum_index_documents",
		"Searchable documents in the index (resources, collections, communities, persons; deleted and delisted ones left out).", nil, nil)
	descLag = prometheus.NewDesc("lyceum_index_lag_entries",
		"Log entries stored but not yet in the search index.", nil, nil)
)

// RegisterMetrics exports the search room's counters to reg:
// lyceum_search_* and, on a node with an index, lyceum_index_*.
func (s *Service) RegisterMetrics(reg prometheus.Registerer) error {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "lyceum_search_duration_seconds",
		Help:    "Time to answer a search on the node's surfaces, HQs' answers included.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	})
	if err := reg.Register(h); err != nil {
		return err
	}
	s.counts.duration.Store(&h)
	return reg.Register(searchCollector{s})
}

type searchCollector struct{ s *Service }

func (c searchCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descHQ, descIndexed, descDocuments, descLag} {
		ch <- d
	}
}

func (c searchCollector) Collect(ch chan<- prometheus.Metric) {
	m := &c.s.counts
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(descRequests, m.requests[0].Load(), "api")
	counter(descRequests, m.requests[1].Load(), "libp2p")
	counter(descHQ, m.hq[0].Load(), "answered")
	counter(descHQ, m.hq[1].Load(), "failed")
	ix, _, err := c.s.index()
	if err != nil {
		return // no index on this node
	}
	counter(descIndexed, m.indexed.Load())
	if n, err := ix.Count(); err == nil {
		ch <- prometheus.MustNewConstMetric(descDocuments, prometheus.GaugeValue, float64(n))
	}
	if done, err := ix.Checkpoint(); err == nil {
		ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(max(c.s.Log.Last()-int64(done), 0)))
	}
}
