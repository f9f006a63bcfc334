package logsync

import (
	"context"
	"encoding/json"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/lyceum-oer/lyceum/node/ratelimit"
	"github.com/lyceum-oer/lyceum/p2p"
)

// Hooks for the tests of sync with real nodes (package logsync_test).

// PagesHeld is how many logs and bytes of pages the sync cache holds.
func (s *Service) PagesHeld() (int, int64) { return s.pages.size() }

// SetSpoolBudget sets how many bytes of a backfill stay in memory.
func (s *Service) SetSpoolBudget(b int64) { s.spoolBudget = b }

// SetPostLimit sets the posts one actor may make in the node's
// communities per minute, and their burst.
func (s *Service) SetPostLimit(perMinute float64, burst int) {
	s.postLimit = ratelimit.New(perMinute/60, burst, 100)
}

// LogHolder is the peer sync would ask for did's log.
func (s *Service) LogHolder(did, origin string) peer.ID { return s.logHolder(did, origin) }

// LogPage is ProtocolLog's answer to an ask for max entries of did's log.
func (s *Service) LogPage(ctx context.Context, did string, max int) (head string, seq uint64, entries [][]byte, err error) {
	ans, err := s.answerLog(ctx, logRequest{DID: did, Max: max})
	return ans.Head, ans.Seq, ans.Entries, err
}

// SyncLog brings did's log up to the head a peer reported.
func (s *Service) SyncLog(ctx context.Context, did, head string, seq uint64, from peer.ID) error {
	return s.syncActor(ctx, logAnswer{DID: did, Head: head, Seq: seq}, from)
}

// ObserveLogRequests serves ProtocolLog as before, telling observe how
// many entries each request asks for.
func (s *Service) ObserveLogRequests(ctx context.Context, observe func(max int)) error {
	srv, err := p2p.NewServer(s.Host.Libp2p(), nil, nil)
	if err != nil {
		return err
	}
	srv.Serve(ctx, ProtocolLog, s.logService(), func(ctx context.Context, from peer.ID, data []byte) ([]byte, error) {
		var req logRequest
		if err := json.Unmarshal(data, &req); err == nil {
			observe(req.Max)
		}
		return s.handleLog(ctx, from, data)
	})
	return nil
}

// LogService is ProtocolLog's limits, for a peer the test plays.
func (s *Service) LogService() p2p.ServiceConfig { return s.logService() }

// LogRequest and LogAnswer are ProtocolLog's messages, for a peer the
// test plays.
type (
	LogRequest = logRequest
	LogAnswer  = logAnswer
)
