package pinsvc

import (
	"strings"
	"unicode/utf8"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/lyceum-oer/lyceum/node/api"
)

// The bounds of what a request may carry. The spec's own are the upper
// ones (name 255, origins 20, limit 1000, cid filter 10); meta is bounded
// tighter than its 1000 keys, since every request keeps it.
const (
	MaxName       = 255      // bytes of a name
	MaxOrigins    = 20       // multiaddrs in origins
	MaxOriginLen  = 1024     // bytes of one origin
	MaxMetaKeys   = 64       // keys of meta
	MaxMetaKey    = 255      // bytes of a meta key
	MaxMetaValue  = 2048     // bytes of a meta value
	MaxMetaBytes  = 16 << 10 // bytes of meta's keys and values together
	MaxCIDLen     = 256      // bytes of a CID string
	MaxQueryCIDs  = 10       // CIDs in a list filter
	MaxLimit      = 1000     // results in a page
	DefaultLimit  = 10       // results in a page when no limit is given
	maxCIDHashLen = 64 + 8   // a multihash digest this long at most
)

// CheckPin returns p's CID, or a KindInvalid error saying what is wrong
// with p.
func CheckPin(p api.Pin) (cid.Cid, error) {
	c, err := checkCID(p.CID)
	if err != nil {
		return cid.Undef, err
	}
	if err := checkName(p.Name); err != nil {
		return cid.Undef, err
	}
	if len(p.Origins) > MaxOrigins {
		return cid.Undef, api.Invalidf("%d origins: at most %d", len(p.Origins), MaxOrigins)
	}
	seen := make(map[string]bool, len(p.Origins))
	for _, o := range p.Origins {
		if err := checkOrigin(o); err != nil {
			return cid.Undef, err
		}
		if seen[o] {
			return cid.Undef, api.Invalidf("origin %s is given twice", api.Quote(o))
		}
		seen[o] = true
	}
	if err := CheckMeta(p.Meta); err != nil {
		return cid.Undef, err
	}
	return c, nil
}

func checkCID(s string) (cid.Cid, error) {
	if s == "" {
		return cid.Undef, api.Invalidf("no cid: say what to pin")
	}
	if len(s) > MaxCIDLen {
		return cid.Undef, api.Invalidf("cid: longer than %d bytes", MaxCIDLen)
	}
	c, err := cid.Decode(s)
	if err != nil {
		return cid.Undef, api.Wrap(api.KindInvalid, "cid "+api.Quote(s)+" is not a CID", err)
	}
	if len(c.Hash()) > maxCIDHashLen {
		return cid.Undef, api.Invalidf("cid %s: its hash is too long", api.Quote(s))
	}
	return c, nil
}

func checkName(s string) error {
	if len(s) > MaxName {
		return api.Invalidf("name: %d bytes, at most %d", len(s), MaxName)
	}
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return api.Invalidf("name: not valid UTF-8 text")
	}
	return nil
}

// checkOrigin accepts only a multiaddr that ends in /p2p/<peer ID>, as
// the spec requires: nothing else is dialled.
func checkOrigin(s string) error {
	if len(s) > MaxOriginLen {
		return api.Invalidf("origin: longer than %d bytes", MaxOriginLen)
	}
	m, err := ma.NewMultiaddr(s)
	if err != nil {
		return api.Wrap(api.KindInvalid, "origin "+api.Quote(s)+" is not a multiaddr", err)
	}
	if _, err := peer.AddrInfoFromP2pAddr(m); err != nil {
		return api.Invalidf("origin %s does not end in /p2p/<peer ID>", api.Quote(s))
	}
	return nil
}

// CheckMeta checks the keys and values of a request's meta (or of a meta
// filter) against the bounds above.
func CheckMeta(m map[string]string) error {
	if len(m) > MaxMetaKeys {
		return api.Invalidf("meta: %d keys, at most %d", len(m), MaxMetaKeys)
	}
	total := 0
	for k, v := range m {
		switch {
		case k == "" || len(k) > MaxMetaKey:
			return api.Invalidf("meta: a key must have 1 to %d bytes", MaxMetaKey)
		case len(v) > MaxMetaValue:
			return api.Invalidf("meta %s: value longer than %d bytes", api.Quote(k), MaxMetaValue)
		case !utf8.ValidString(k) || !utf8.ValidString(v):
			return api.Invalidf("meta: keys and values must be UTF-8 text")
		}
		total += len(k) + len(v)
	}
	if total > MaxMetaBytes {
		return api.Invalidf("meta: %d bytes, at most %d", total, MaxMetaBytes)
	}
	return nil
}

// CheckQuery checks q and fills its defaults (limit, match, statuses).
func CheckQuery(q *api.PinQuery) error {
	switch {
	case q.Limit == 0:
		q.Limit = DefaultLimit
	case q.Limit < 1 || q.Limit > MaxLimit:
		return api.Invalidf("limit: %d, want 1 to %d", q.Limit, MaxLimit)
	}
	if len(q.CIDs) > MaxQueryCIDs {
		return api.Invalidf("cid: %d CIDs, at most %d", len(q.CIDs), MaxQueryCIDs)
	}
	for i, s := range q.CIDs {
		c, err := checkCID(s)
		if err != nil {
			return err
		}
		q.CIDs[i] = c.String()
	}
	if err := checkName(q.Name); err != nil {
		return err
	}
	switch q.Match {
	case "":
		q.Match = api.MatchExact
	case api.MatchExact, api.MatchIExact, api.MatchPartial, api.MatchIPartial:
	default:
		return api.Invalidf("match: %s, want exact, iexact, partial or ipartial", api.Quote(string(q.Match)))
	}
	if len(q.Statuses) == 0 {
		q.Statuses = []api.PinState{api.PinPinned}
	}
	if len(q.Statuses) > 4 {
		return api.Invalidf("status: at most the four states")
	}
	for _, s := range q.Statuses {
		if !s.Valid() {
			return api.Invalidf("status: %s, want queued, pinning, pinned or failed", api.Quote(string(s)))
		}
	}
	if !q.Before.IsZero() && !q.After.IsZero() && !q.After.Before(q.Before) {
		return api.Invalidf("after must be earlier than before")
	}
	return CheckMeta(q.Meta)
}
