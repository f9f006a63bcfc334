package logsync

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/p2p"
)

// ProtocolLog answers "what is the head of this actor's log?", by DID or,
// for the node's own actors, by username, with the entries asked for.
const ProtocolLog = protocol.ID("/lyceum/log/1.0.0")

// Limits of ProtocolLog: requests are small; an answer carries at most
// maxLogPage entries and maxLogAnswer bytes.
const (
	maxLogRequest = 4 << 10
	maxLogAnswer  = 16 << 20
	maxLogPage    = 1000
	// maxOrigins bounds the actors an Origins answer lists, and the ones
	// an HQ syncs from one answer.
	maxOrigins = 1000
	// logRequestsPerSecond is what one peer may ask, in bursts of ten
	// times that: an HQ meeting a node of many actors asks for each head.
	logRequestsPerSecond = 100
)

// logRequest asks for an actor's log head and, when Max > 0, for up to Max
// entries going back from the head (Below = 0) or from just below seq
// Below, newest first. Paging through a log this way costs one round trip
// per page instead of one per entry, as walking prev over bitswap does.
type logRequest struct {
	// Origins asks instead for the heads of every actor whose origin is the
	// answering node (what an HQ asks a peer that connects).
	Origins  bool   `json:"origins,omitempty"`
	DID      string `json:"did,omitempty"`
	Username string `json:"username,omitempty"`
	Below    uint64 `json:"below,omitempty"`
	Max      int    `json:"max,omitempty"`
}

// logAnswer is the answer: the head's CID and seq and the entries asked
// for (each the block's bytes, which the receiver verifies).
type logAnswer struct {
	DID     string   `json:"did,omitempty"`
	Head    string   `json:"head,omitempty"`
	Seq     uint64   `json:"seq,omitempty"`
	Entries [][]byte `json:"entries,omitempty"`
	// Origins answers an Origins request.
	Origins []logAnswer `json:"origins,omitempty"`
}

// logService bounds ProtocolLog: an HQ that meets a node asks for the
// head of each of its actors and then pages through what it lacks.
func (s *Service) logService() p2p.ServiceConfig {
	return p2p.ServiceConfig{MaxRequest: maxLogRequest, MaxResponse: maxLogAnswer, PerPeer: s.logRate}
}

// handleLog answers ProtocolLog for any actor whose log the node has.
func (s *Service) handleLog(ctx context.Context, _ peer.ID, data []byte) ([]byte, error) {
	var req logRequest
	if err := api.DecodeStrict(data, &req); err != nil {
		return nil, p2p.Refusef("bad log request: %s", api.PublicMessage(err))
	}
	if req.Max < 0 || req.Max > maxLogPage {
		return nil, p2p.Refusef("max must be from 0 to %d", maxLogPage)
	}
	if req.DID != "" && !strings.HasPrefix(req.DID, "did:key:") {
		return nil, p2p.Refusef("did must be a did:key")
	}
	ans, err := s.answerLog(ctx, req)
	if err != nil {
		return nil, err
	}
	return json.Marshal(ans)
}

func (s *Service) answerLog(ctx context.Context, req logRequest) (logAnswer, error) {
	if req.Origins {
		return s.answerOrigins(ctx)
	}
	did := req.DID
	if did == "" {
		if req.Username == "" {
			return logAnswer{}, p2p.Refusef("ask by did or username")
		}
		l, err := s.Log.LocalByName(ctx, req.Username)
		if api.KindOf(err) == api.KindNotFound {
			return logAnswer{}, p2p.Refusef("no actor %s here", api.Quote(req.Username))
		}
		if err != nil {
			return logAnswer{}, err
		}
		did = l.DID
	}
	seq, head, err := s.Log.Head(ctx, did)
	if err != nil {
		return logAnswer{}, err
	}
	if seq == 0 {
		return logAnswer{}, p2p.Refusef("no log of %s here", api.Truncate(did, 64))
	}
	ans := logAnswer{DID: did, Head: head, Seq: seq}
	if req.Max <= 0 {
		return ans, nil
	}
	below := req.Below
	if below == 0 || below > seq+1 {
		below = seq + 1
	}
	// base64 grows the entries by a third: stay well under the limit.
	if ans.Entries, err = s.Log.Page(ctx, did, below, min(req.Max, maxLogPage), maxLogAnswer/2); err != nil {
		return logAnswer{}, err
	}
	return ans, nil
}

// answerOrigins lists the heads of the node's own actors.
func (s *Service) answerOrigins(ctx context.Context) (logAnswer, error) {
	locals, err := s.Log.Locals(ctx, "", maxOrigins)
	if err != nil {
		return logAnswer{}, err
	}
	var ans logAnswer
	for _, l := range locals {
		if seq, head, err := s.Log.Head(ctx, l.DID); err == nil && seq > 0 {
			ans.Origins = append(ans.Origins, logAnswer{DID: l.DID, Head: head, Seq: seq})
		}
	}
	return ans, nil
}

// askLog asks one peer for an actor's log head.
func (s *Service) askLog(ctx context.Context, p peer.ID, req logRequest) (logAnswer, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return logAnswer{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	data, err := p2p.Request(ctx, s.Host.Libp2p(), p, ProtocolLog, body, maxLogAnswer)
	if err != nil {
		return logAnswer{}, err
	}
	var ans logAnswer
	if err := api.DecodeStrict(data, &ans); err != nil {
		return logAnswer{}, fmt.Errorf("%s: bad answer from %s: %w", ProtocolLog, p, err)
	}
	return ans, nil
}
