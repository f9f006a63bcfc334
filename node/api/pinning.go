package api

import "time"

// PinState is where a pin request of the Pinning Service API stands:
// queued, then pinning, then pinned or failed.
type PinState string

// The states of a pin request, as the IPFS Pinning Service API names them.
const (
	PinQueued  PinState = "queued"
	PinPinning PinState = "pinning"
	PinPinned  PinState = "pinned"
	PinFailed  PinState = "failed"
)

// Valid reports whether s is one of the four states.
func (s PinState) Valid() bool {
	switch s {
	case PinQueued, PinPinning, PinPinned, PinFailed:
		return true
	}
	return false
}

// Pin is what a client asks a pinning service to pin: the Pin object of
// the IPFS Pinning Service API.
type Pin struct {
	CID     string            `json:"cid"`
	Name    string            `json:"name,omitempty"`
	Origins []string          `json:"origins,omitempty"`
	Meta    map[string]string `json:"meta,omitempty"`
}

// PinRequest is a pin request and where it stands: the PinStatus object
// of the IPFS Pinning Service API.
type PinRequest struct {
	RequestID string            `json:"requestid"`
	Status    PinState          `json:"status"`
	Created   time.Time         `json:"created"`
	Pin       Pin               `json:"pin"`
	Delegates []string          `json:"delegates"`
	Info      map[string]string `json:"info,omitempty"`
}

// NameMatch is how PinQuery.Name is matched against a request's name.
type NameMatch string

// The text matching strategies of the Pinning Service API.
const (
	MatchExact    NameMatch = "exact"    // whole name, case-sensitive (the default)
	MatchIExact   NameMatch = "iexact"   // whole name, case-insensitive
	MatchPartial  NameMatch = "partial"  // anywhere in the name, case-sensitive
	MatchIPartial NameMatch = "ipartial" // anywhere in the name, case-insensitive
)

// PinQuery selects an account's pin requests. Zero fields do not filter,
// except Statuses, whose zero value means pinned only (as the spec says).
type PinQuery struct {
	CIDs     []string          // any of these CIDs (at most 10)
	Name     string            // with Match
	Match    NameMatch         // "" is exact
	Statuses []PinState        // any of these; none is pinned only
	Before   time.Time         // created strictly before
	After    time.Time         // created strictly after
	Limit    int               // 1 to 1000; 0 is 10
	Meta     map[string]string // every pair present in the request's meta
}

// PinResults is a page of pin requests, newest first: the PinResults
// object of the Pinning Service API. Count is how many match in all.
type PinResults struct {
	Count   int          `json:"count"`
	Results []PinRequest `json:"results"`
}
