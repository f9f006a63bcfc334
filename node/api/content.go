package api

import (
	"strings"
	"time"

	"github.com/ipfs/go-cid"
)

// Identity describes the node: what `lyceum id` shows.
type Identity struct {
	PeerID       string   `json:"peer_id"`
	Addrs        []string `json:"addrs"`
	AgentVersion string   `json:"agent_version"`
	Online       bool     `json:"online"`
}

// Peer is one connection to another peer.
type Peer struct {
	ID        string `json:"id"`
	Addr      string `json:"addr"`
	Direction string `json:"direction"`
	LatencyMS int64  `json:"latency_ms"`
}

// ConnectRequest asks the node to dial a peer by its full multiaddr.
type ConnectRequest struct {
	Addr string `json:"addr"`
}

// ConnectResponse names the peer connected to.
type ConnectResponse struct {
	PeerID string `json:"peer_id"`
}

// AddOptions control how an add turns files into a DAG. The zero value
// gives the CIDs Kubo gives with its defaults.
type AddOptions struct {
	// CIDVersion is 0 or 1; with 1, leaves are raw unless RawLeaves says no.
	CIDVersion int `json:"cid_version,omitempty"`
	// RawLeaves forces raw (true) or dag-pb (false) leaves; nil = default.
	RawLeaves *bool `json:"raw_leaves,omitempty"`
	// Chunker is "size-N"; "" = the profile's.
	Chunker string `json:"chunker,omitempty"`
	// Profile is unixfs-v0-2015 or unixfs-v1-2025; "" = import.profile.
	Profile string `json:"profile,omitempty"`
	// NoPin leaves the root unpinned (it then goes at the next gc).
	NoPin bool `json:"no_pin,omitempty"`
	// Hidden includes dot-files when adding a folder.
	Hidden bool `json:"hidden,omitempty"`
}

// Added is the answer to an add.
type Added struct {
	Name  string `json:"name"`
	CID   string `json:"cid"`
	Bytes int64  `json:"bytes"`
}

// Size is the UnixFS size of a file or folder.
type Size struct {
	CID  string `json:"cid"`
	Size int64  `json:"size"`
}

// Pins lists pinned roots.
type Pins struct {
	Pins []string `json:"pins"`
}

// GCResult says how many blocks a garbage collection removed.
type GCResult struct {
	Removed int `json:"removed"`
}

// CARImport is the result of importing a CAR file.
type CARImport struct {
	Roots  []string `json:"roots"`
	Blocks int      `json:"blocks"`
}

// Stat is what `lyceum stat` shows.
type Stat struct {
	PeerID        string `json:"peer_id"`
	Online        bool   `json:"online"`
	RepoPath      string `json:"repo_path"`
	RepoSizeBytes int64  `json:"repo_size_bytes"`
	Blocks        int64  `json:"blocks"`
	Pins          int    `json:"pins"`
	Peers         int    `json:"peers"`
	UptimeSeconds int64  `json:"uptime_seconds"`
	// Gossip counts validated messages: "accepted" and each rejection
	// reason (oversized, malformed, unsigned, bad_signature, replayed…).
	Gossip map[string]int64 `json:"gossip"`
}

// Uptime is the node's uptime as a duration.
func (s Stat) Uptime() time.Duration { return time.Duration(s.UptimeSeconds) * time.Second }

// ParseCID reads a CID given by a user (bare, /ipfs/…, or ipfs://…), with
// an error of KindInvalid that says what is wrong with it.
func ParseCID(s string) (cid.Cid, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(s, "/ipfs/"), "ipfs://"))
	c, err := cid.Decode(s)
	if err != nil {
		return cid.Undef, Invalidf("%s is not a CID (expected e.g. Qm… or bafy…)", Quote(s))
	}
	return c, nil
}
