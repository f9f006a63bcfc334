package ipfs

import (
	"fmt"
	"sync/atomic"
)

// ExchangeStat counts what bitswap exchanged and what the provider
// announced since the Exchange started.
type ExchangeStat struct {
	BlocksReceived, DupBlocksReceived, BlocksSent uint64
	BytesReceived, BytesSent                      uint64
	// Wanted is how many blocks the node wants from peers now.
	Wanted int
	// Providing is whether the node announces its roots; Reprovides the
	// roots announced by reprovide runs, LastReprovide how many the last
	// run announced.
	Providing                 bool
	Reprovides, LastReprovide uint64
	// DAG streams (DAGProtocol): blocks and bytes received and sent, and
	// the received streams that ended before the whole DAG (bitswap then
	// brought the rest).
	StreamBlocksReceived, StreamBytesReceived uint64
	StreamBlocksSent, StreamBytesSent         uint64
	StreamsIncomplete                         uint64
}

// dagCounters count the DAG streams' traffic.
type dagCounters struct {
	blocksIn, bytesIn, blocksOut, bytesOut, incomplete atomic.Uint64
}

// Stat counts what the Exchange has exchanged and announced, for the
// node's metrics.
func (e *Exchange) Stat() (ExchangeStat, error) {
	bs, err := e.bs.Stat()
	if err != nil {
		return ExchangeStat{}, fmt.Errorf("bitswap stat: %w", err)
	}
	st := ExchangeStat{
		BlocksReceived: bs.BlocksReceived, DupBlocksReceived: bs.DupBlksReceived, BlocksSent: bs.BlocksSent,
		BytesReceived: bs.DataReceived, BytesSent: bs.DataSent, Wanted: len(bs.Wantlist), Providing: e.prov != nil,
		StreamBlocksReceived: e.counts.blocksIn.Load(), StreamBytesReceived: e.counts.bytesIn.Load(),
		StreamBlocksSent: e.counts.blocksOut.Load(), StreamBytesSent: e.counts.bytesOut.Load(),
		StreamsIncomplete: e.counts.incomplete.Load(),
	}
	if e.prov != nil {
		ps, err := e.prov.Stat()
		if err != nil {
			return ExchangeStat{}, fmt.Errorf("provider stat: %w", err)
		}
		st.Reprovides, st.LastReprovide = ps.TotalReprovides, ps.LastReprovideBatchSize
	}
	return st, nil
}
