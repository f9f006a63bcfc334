package actorlog

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lyceum-oer/lyceum/activity"
)

// storedTypes are the activity types counted by name in
// lyceum_log_entries_stored_total; any other is counted as "other", so
// that a peer cannot grow the label set.
var storedTypes = [...]activity.Type{
	activity.TypeCreate, activity.TypeUpdate, activity.TypeDelete, activity.TypeFollow,
	activity.TypeAccept, activity.TypeReject, activity.TypeUndo, activity.TypeLike,
	activity.TypeAnnounce, activity.TypeAdd, activity.TypeRemove, activity.TypeFlag,
	activity.TypeBlock, activity.TypeMove,
}

// storeCounts counts the entries the log stored, by origin (local actors'
// or other nodes') and type; the zero value is ready.
type storeCounts struct {
	local, remote [len(storedTypes) + 1]atomic.Int64 // the last: "other"
}

// count notes entries just stored.
func (c *storeCounts) count(es []Entry) {
	for _, e := range es {
		i := typeSlot(e.Act.Type)
		if e.Local {
			c.local[i].Add(1)
		} else {
			c.remote[i].Add(1)
		}
	}
}

func typeSlot(t activity.Type) int {
	for i, s := range storedTypes {
		if s == t {
			return i
		}
	}
	return len(storedTypes)
}

// Last is the cursor of the last entry stored: how many entries the log
// ever stored, read without the database.
func (l *Log) Last() int64 { return l.tails.last.Load() }

// RegisterMetrics exports the log's counters to reg:
// lyceum_log_entries_stored_total{origin,type}, lyceum_log_last_cursor and
// lyceum_log_tail_lag_entries.
func (l *Log) RegisterMetrics(reg prometheus.Registerer) error {
	return reg.Register(logCollector{l})
}

var (
	descStored = prometheus.NewDesc("lyceum_log_entries_stored_total",
		"Log entries stored, by origin (local: appended by the node's actors; remote: from other nodes) and activity type.",
		[]string{"origin", "type"}, nil)
	descLast = prometheus.NewDesc("lyceum_log_last_cursor",
		"Cursor of the last log entry stored: the number of entries the log holds, all actors together.", nil, nil)
	descTailLag = prometheus.NewDesc("lyceum_log_tail_lag_entries",
		"Entries the slowest tail that holds stores back (the search index feeder) has yet to read.", nil, nil)
)

type logCollector struct{ l *Log }

func (c logCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descStored
	ch <- descLast
	ch <- descTailLag
}

func (c logCollector) Collect(ch chan<- prometheus.Metric) {
	for origin, counts := range map[string]*[len(storedTypes) + 1]atomic.Int64{"local": &c.l.counts.local, "remote": &c.l.counts.remote} {
		for i := range counts {
			t := "other"
			if i < len(storedTypes) {
				t = string(storedTypes[i])
			}
			ch <- prometheus.MustNewConstMetric(descStored, prometheus.CounterValue, float64(counts[i].Load()), origin, t)
		}
	}
	ch <- prometheus.MustNewConstMetric(descLast, prometheus.GaugeValue, float64(c.l.Last()))
	ch <- prometheus.MustNewConstMetric(descTailLag, prometheus.GaugeValue, float64(c.l.tails.lag()))
}
