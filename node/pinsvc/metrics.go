package pinsvc

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lyceum-oer/lyceum/node/api"
)

var descRequests = prometheus.NewDesc("lyceum_pinning_requests",
	"Pin requests of the Pinning Service API, all accounts, by status (queued, pinning, pinned, failed).", []string{"status"}, nil)

// RegisterMetrics exports the number of pin requests by status to reg,
// read from pinning.db at each scrape.
func (s *Service) RegisterMetrics(reg prometheus.Registerer) error {
	return reg.Register(requestsCollector{s})
}

type requestsCollector struct{ s *Service }

func (c requestsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descRequests }

func (c requestsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	by := map[api.PinState]int64{api.PinQueued: 0, api.PinPinning: 0, api.PinPinned: 0, api.PinFailed: 0}
	rows, err := c.s.sdb.ReadQuery(ctx, `SELECT status, count(*) FROM requests GROUP BY status`)
	if err != nil {
		return
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int64
		if rows.Scan(&st, &n) == nil {
			if _, known := by[api.PinState(st)]; known {
				by[api.PinState(st)] = n
			}
		}
	}
	if rows.Err() != nil {
		return
	}
	for st, n := range by {
		ch <- prometheus.MustNewConstMetric(descRequests, prometheus.GaugeValue, float64(n), string(st))
	}
}
