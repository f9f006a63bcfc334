package logsync

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// reasons are the rejection reasons, all exported as series from the
// start (at 0) so that a dashboard sees them before the first rejection.
var reasons = []string{
	ReasonOversized, ReasonMalformed, ReasonUnsigned, ReasonBadSig, ReasonReplayed, ReasonBlocked,
	ReasonFork, ReasonBackfillErr, ReasonNotMember, ReasonPostRate, ReasonBackfillDropped,
}

// syncCounts are the sync room's counters that Stats does not keep; the
// zero value is ready.
type syncCounts struct {
	rounds    [2]atomic.Int64 // syncFollowed: by interval, on a peer's connection
	backfills [3]atomic.Int64 // started, completed, failed
	backfill  atomic.Int64    // entries stored by backfills
	held      atomic.Int64    // entries the ingest loop holds above gaps
	delivered [2]atomic.Int64 // /lyceum/deliver sent: accepted, failed
}

// round counts a round of syncFollowed: on a peer's connection, or by
// interval.
func (c *syncCounts) round(onPeer bool) {
	if onPeer {
		c.rounds[1].Add(1)
	} else {
		c.rounds[0].Add(1)
	}
}

// backfillEnded counts a backfill's end; err nil for a success.
func (c *syncCounts) backfillEnded(err error) {
	if err != nil {
		c.backfills[2].Add(1)
	} else {
		c.backfills[1].Add(1)
	}
}

// deliveryEnded counts a delivery sent over /lyceum/deliver.
func (c *syncCounts) deliveryEnded(err error) {
	if err != nil {
		c.delivered[1].Add(1)
	} else {
		c.delivered[0].Add(1)
	}
}

// len is how many jobs wait.
func (q *keyedQueue[K, V]) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.order)
}

var (
	descAccepted = prometheus.NewDesc("lyceum_sync_gossip_accepted_total",
		"Gossip messages the validator accepted.", nil, nil)
	descRejected = prometheus.NewDesc("lyceum_sync_rejected_total",
		"Activities refused or dropped, by reason (as lyceum stat shows them): gossip and deliveries the validator rejected, forks, failed or dropped backfills, community posts refused.",
		[]string{"reason"}, nil)
	descIngested = prometheus.NewDesc("lyceum_sync_ingested_total",
		"Activities gossip brought that the ingest loop took.", nil, nil)
	descIngestQueue = prometheus.NewDesc("lyceum_sync_ingest_queue",
		"Accepted activities waiting for the ingest loop.", nil, nil)
	descRounds = prometheus.NewDesc("lyceum_sync_rounds_total",
		"Rounds of asking followed actors' nodes for their log heads, by trigger (interval, peer: a peer connected).",
		[]string{"trigger"}, nil)
	descBackfills = prometheus.NewDesc("lyceum_sync_backfills_total",
		"Backfills of actors' logs, by event (started, completed, failed).", []string{"event"}, nil)
	descBackfilled = prometheus.NewDesc("lyceum_sync_backfilled_entries_total",
		"Log entries stored by backfills.", nil, nil)
	descBackfillsPending = prometheus.NewDesc("lyceum_sync_backfills_pending",
		"Backfills queued for the sync loop's workers.", nil, nil)
	descHeld = prometheus.NewDesc("lyceum_sync_held_entries",
		"Entries the ingest loop holds above gaps in their logs, waiting for gossip or a backfill.", nil, nil)
	descDeliveries = prometheus.NewDesc("lyceum_sync_deliveries_total",
		"Activities this node delivered to communities' nodes over /lyceum/deliver, by outcome (ok, failed).",
		[]string{"outcome"}, nil)
	descPendingDeliveries = prometheus.NewDesc("lyceum_sync_pending_deliveries",
		"Posts and joins in other nodes' communities waiting to be redelivered.", nil, nil)
)

// RegisterMetrics exports the sync room's counters to reg as
// lyceum_sync_*.
func (s *Service) RegisterMetrics(reg prometheus.Registerer) error {
	return reg.Register(syncCollector{s})
}

type syncCollector struct{ s *Service }

func (c syncCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descAccepted, descRejected, descIngested, descIngestQueue, descRounds,
		descBackfills, descBackfilled, descBackfillsPending, descHeld, descDeliveries, descPendingDeliveries} {
		ch <- d
	}
}

func (c syncCollector) Collect(ch chan<- prometheus.Metric) {
	s, m := c.s, &c.s.counts
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	counter(descAccepted, s.accepted.snapshot()["accepted"])
	rejected := s.rejected.snapshot()
	for _, r := range reasons {
		counter(descRejected, rejected[r], r)
	}
	counter(descIngested, s.ingested.Load())
	gauge(descIngestQueue, int64(len(s.ingestCh)))
	counter(descRounds, m.rounds[0].Load(), "interval")
	counter(descRounds, m.rounds[1].Load(), "peer")
	for i, ev := range []string{"started", "completed", "failed"} {
		counter(descBackfills, m.backfills[i].Load(), ev)
	}
	counter(descBackfilled, m.backfill.Load())
	gauge(descBackfillsPending, int64(s.gaps.len()))
	gauge(descHeld, m.held.Load())
	counter(descDeliveries, m.delivered[0].Load(), "ok")
	counter(descDeliveries, m.delivered[1].Load(), "failed")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var pending int64
	if err := s.DB.ReadRow(ctx, `SELECT count(*) FROM pending_deliveries`).Scan(&pending); err == nil {
		gauge(descPendingDeliveries, pending)
	}
}
