package node

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lyceum-oer/lyceum/ipfs"
)

// registerMetrics exports the rooms' counters to the node's registry, as
// lyceum_* series (docs/METRICS.md lists them): each room reads its own
// counters at scrape time, so nothing is counted twice.
func (n *Node) registerMetrics() error {
	reg := n.metrics
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "lyceum_node_info", Help: "Always 1; its labels say which Lyceum release the node runs.",
		ConstLabels: prometheus.Labels{"version": Version},
	})
	info.Set(1)
	errs := []error{
		reg.Register(info),
		reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lyceum_swarm_peers", Help: "Peers the node is connected to.",
		}, func() float64 { return float64(n.swarm.Count()) })),
		n.actorLog.RegisterMetrics(reg),
		n.content.RegisterMetrics(reg),
		n.accounts.RegisterMetrics(reg),
		n.search.RegisterMetrics(reg),
	}
	if n.sync != nil {
		errs = append(errs, n.sync.RegisterMetrics(reg))
	}
	if n.exch != nil {
		errs = append(errs, reg.Register(exchangeCollector{n.exch}))
	}
	return errors.Join(errs...)
}

var (
	descBlocksReceived    = prometheus.NewDesc("lyceum_bitswap_received_blocks_total", "Blocks bitswap received from peers.", nil, nil)
	descDupReceived       = prometheus.NewDesc("lyceum_bitswap_duplicate_blocks_total", "Blocks bitswap received that the node had already.", nil, nil)
	descBlocksSent        = prometheus.NewDesc("lyceum_bitswap_sent_blocks_total", "Blocks bitswap sent to peers.", nil, nil)
	descBytesReceived     = prometheus.NewDesc("lyceum_bitswap_received_bytes_total", "Block bytes bitswap received from peers.", nil, nil)
	descBytesSent         = prometheus.NewDesc("lyceum_bitswap_sent_bytes_total", "Block bytes bitswap sent to peers.", nil, nil)
	descWanted            = prometheus.NewDesc("lyceum_bitswap_wanted_blocks", "Blocks the node wants from peers now.", nil, nil)
	descReprovided        = prometheus.NewDesc("lyceum_provide_reprovided_total", "Roots announced in the DHT by reprovide runs.", nil, nil)
	descLastReprovide     = prometheus.NewDesc("lyceum_provide_last_run_roots", "Roots the last reprovide run announced.", nil, nil)
	descStreamBlocksIn    = prometheus.NewDesc("lyceum_dag_stream_received_blocks_total", "Blocks received in DAG streams (/lyceum/dag/1.0.0).", nil, nil)
	descStreamBytesIn     = prometheus.NewDesc("lyceum_dag_stream_received_bytes_total", "Block bytes received in DAG streams.", nil, nil)
	descStreamBlocksOut   = prometheus.NewDesc("lyceum_dag_stream_sent_blocks_total", "Blocks sent in DAG streams.", nil, nil)
	descStreamBytesOut    = prometheus.NewDesc("lyceum_dag_stream_sent_bytes_total", "Block bytes sent in DAG streams.", nil, nil)
	descStreamsIncomplete = prometheus.NewDesc("lyceum_dag_streams_incomplete_total", "DAG streams received that ended before the whole DAG (bitswap brought the rest).", nil, nil)
)

// exchangeDescs are the metrics exchangeCollector reports.
var exchangeDescs = []*prometheus.Desc{descBlocksReceived, descDupReceived, descBlocksSent, descBytesReceived, descBytesSent, descWanted, descReprovided, descLastReprovide,
	descStreamBlocksIn, descStreamBytesIn, descStreamBlocksOut, descStreamBytesOut, descStreamsIncomplete}

// exchangeCollector reads bitswap's and the provider's counters at each
// scrape.
type exchangeCollector struct{ e *ipfs.Exchange }

func (c exchangeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range exchangeDescs {
		ch <- d
	}
}

func (c exchangeCollector) Collect(ch chan<- prometheus.Metric) {
	st, err := c.e.Stat()
	if err != nil {
		return
	}
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	counter(descBlocksReceived, st.BlocksReceived)
	counter(descDupReceived, st.DupBlocksReceived)
	counter(descBlocksSent, st.BlocksSent)
	counter(descBytesReceived, st.BytesReceived)
	counter(descBytesSent, st.BytesSent)
	ch <- prometheus.MustNewConstMetric(descWanted, prometheus.GaugeValue, float64(st.Wanted))
	counter(descStreamBlocksIn, st.StreamBlocksReceived)
	counter(descStreamBytesIn, st.StreamBytesReceived)
	counter(descStreamBlocksOut, st.StreamBlocksSent)
	counter(descStreamBytesOut, st.StreamBytesSent)
	counter(descStreamsIncomplete, st.StreamsIncomplete)
	if st.Providing {
		counter(descReprovided, st.Reprovides)
		ch <- prometheus.MustNewConstMetric(descLastReprovide, prometheus.GaugeValue, float64(st.LastReprovide))
	}
}
