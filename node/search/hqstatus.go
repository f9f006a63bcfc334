package search

import (
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/lyceum-oer/lyceum/node/api"
)

// hqStates remembers how each HQ last answered a search, for the
// operator's dashboard. Its keys are the sources of the HQ answers, one
// per configured HQ: bounded by the configuration.
type hqStates struct {
	mu   sync.Mutex
	last map[string]hqState
}

type hqState struct {
	ok, fail time.Time
	err      string // in words fit for anyone (hqFailure)
}

// record notes an HQ's answer: err nil for a success. source is the
// HQ's peer ID or its configured entry, kept under its peer ID.
func (h *hqStates) record(source string, err error) {
	_, source = hqPeer(source)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last == nil {
		h.last = map[string]hqState{}
	}
	st := h.last[source]
	if err == nil {
		st.ok = time.Now().UTC()
	} else {
		st.fail, st.err = time.Now().UTC(), hqFailure(err)
	}
	h.last[source] = st
}

func (h *hqStates) get(source string) hqState {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last[source]
}

// HQStatus lists the configured HQs, in the configuration's order: each
// by peer ID, whether the node is connected to it now, and how it last
// answered a search (zero times before any).
func (s *Service) HQStatus() []api.HQStatus {
	out := make([]api.HQStatus, 0, len(s.cfg.HQs))
	for _, hq := range s.cfg.HQs {
		id, source := hqPeer(hq)
		st := s.hqs.get(source)
		out = append(out, api.HQStatus{
			Peer:      source,
			Connected: id != "" && s.Host != nil && s.Host.Libp2p().Network().Connectedness(id) == network.Connected,
			LastOK:    st.ok, LastFail: st.fail, LastError: st.err,
		})
	}
	return out
}

// hqPeer is the peer ID of a configured HQ (a full multiaddr or a peer
// ID), and the source its answers are recorded under, as searchHQ names
// it: the peer ID, or the entry itself when it names none.
func hqPeer(hq string) (peer.ID, string) {
	if strings.HasPrefix(hq, "/") {
		m, err := ma.NewMultiaddr(hq)
		if err != nil {
			return "", hq
		}
		ai, err := peer.AddrInfoFromP2pAddr(m)
		if err != nil {
			return "", hq
		}
		return ai.ID, ai.ID.String()
	}
	id, err := peer.Decode(hq)
	if err != nil {
		return "", hq
	}
	return id, id.String()
}
