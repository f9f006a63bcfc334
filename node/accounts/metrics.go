package accounts

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lyceum-oer/lyceum/node/api"
)

var (
	descAccounts = prometheus.NewDesc("lyceum_accounts",
		"Accounts of the node's people, by status (active, pending, disabled).", []string{"status"}, nil)
	descSessions = prometheus.NewDesc("lyceum_accounts_sessions",
		"Web app sessions that have not expired.", nil, nil)
)

// RegisterMetrics exports the number of accounts by status and of live
// sessions to reg, read from accounts.db at each scrape.
func (s *Service) RegisterMetrics(reg prometheus.Registerer) error {
	return reg.Register(accountsCollector{s})
}

type accountsCollector struct{ s *Service }

func (c accountsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descAccounts
	ch <- descSessions
}

func (c accountsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	by := map[api.AccountStatus]int64{api.StatusActive: 0, api.StatusPending: 0, api.StatusDisabled: 0}
	rows, err := c.s.db.ReadQuery(ctx, `SELECT status, count(*) FROM accounts GROUP BY status`)
	if err == nil {
		for rows.Next() {
			var st string
			var n int64
			if rows.Scan(&st, &n) == nil {
				if _, known := by[api.AccountStatus(st)]; known {
					by[api.AccountStatus(st)] = n
				}
			}
		}
		err = rows.Err()
		rows.Close()
	}
	if err == nil {
		for st, n := range by {
			ch <- prometheus.MustNewConstMetric(descAccounts, prometheus.GaugeValue, float64(n), string(st))
		}
	}
	var live int64
	if err := c.s.db.ReadRow(ctx, `SELECT count(*) FROM sessions WHERE expires > ?`, time.Now().UnixMilli()).Scan(&live); err == nil {
		ch <- prometheus.MustNewConstMetric(descSessions, prometheus.GaugeValue, float64(live))
	}
}
