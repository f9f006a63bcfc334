package search

import (
	"context"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/lyceum-oer/lyceum/node/actorlog"
)

// HandleSearch is ProtocolSearch's handler, for the tests.
func (s *Service) HandleSearch(ctx context.Context, from peer.ID, data []byte) ([]byte, error) {
	return s.handleSearch(ctx, from, data)
}

// IndexEntries puts entries in the index at once, as the feeder would:
// for the benchmarks of the index's share of ingest.
func (s *Service) IndexEntries(ctx context.Context, es []actorlog.Entry) error {
	_, gen, err := s.index()
	if err != nil {
		return err
	}
	return s.applyBatch(ctx, gen, es)
}
