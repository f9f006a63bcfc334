package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/lyceum-oer/lyceum/ipfs"
)

// Identity is what `lyceum id` shows.
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

// AddOptions control how `add` turns files into a DAG. The zero value
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

// CARImport is the result of importing a CAR file.
type CARImport struct {
	Roots  []string `json:"roots"`
	Blocks int      `json:"blocks"`
}

// ParseCID reads a CID given by a user, with an error that says what is
// wrong with it.
func ParseCID(s string) (cid.Cid, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(s, "/ipfs/"), "ipfs://"))
	c, err := cid.Decode(s)
	if err != nil {
		return cid.Undef, invalidf("%q is not a CID (expected e.g. Qm… or bafy…): %v", s, err)
	}
	return c, nil
}

// ID describes the node.
func (n *Node) ID() Identity {
	id := Identity{PeerID: n.repo.PeerID().String(), AgentVersion: "lyceum/" + Version, Online: n.host != nil, Addrs: []string{}}
	if n.host != nil {
		for _, a := range n.host.Addrs() {
			id.Addrs = append(id.Addrs, a.String())
		}
	}
	return id
}

// Connect dials a peer by its full multiaddr.
func (n *Node) Connect(ctx context.Context, addr string) (string, error) {
	m, err := ma.NewMultiaddr(addr)
	if err != nil {
		return "", invalidf("%q is not a multiaddr (expected e.g. /ip4/192.0.2.1/tcp/4101/p2p/12D3…): %v", addr, err)
	}
	if _, err := peer.AddrInfoFromP2pAddr(m); err != nil {
		return "", invalidf("%s does not end in /p2p/<peer ID>: %v", addr, err)
	}
	if n.host == nil {
		return "", &Error{Kind: KindUnavailable, Msg: "the node is offline: start `lyceum daemon` to connect to peers"}
	}
	id, err := n.host.Connect(ctx, m)
	if err != nil {
		if strings.Contains(err.Error(), "not a peer address") || strings.Contains(err.Error(), "this node itself") {
			return "", wrapKind(KindInvalid, "connect", err)
		}
		return "", wrapKind(KindUnavailable, "connect", err)
	}
	return id.String(), nil
}

// Peers lists the node's connections.
func (n *Node) Peers() []Peer {
	out := []Peer{}
	if n.host == nil {
		return out
	}
	for _, p := range n.host.Peers() {
		out = append(out, Peer{ID: p.ID.String(), Addr: p.Addr, Direction: p.Direction, LatencyMS: p.Latency.Milliseconds()})
	}
	return out
}

func (n *Node) importOptions(o AddOptions) ipfs.ImportOptions {
	profile := o.Profile
	if profile == "" {
		profile = n.cfg.Import.Profile
	}
	return ipfs.ImportOptions{
		CIDVersion: o.CIDVersion,
		RawLeaves:  o.RawLeaves,
		Chunker:    o.Chunker,
		Profile:    profile,
		Pin:        !o.NoPin,
		Hidden:     o.Hidden,
	}
}

// AddFiles imports a file or directory tree (from an upload) and returns
// its root CID. progress, if not nil, is called with the bytes read so far.
func (n *Node) AddFiles(ctx context.Context, name string, f files.Node, o AddOptions, progress func(int64)) (cid.Cid, error) {
	if err := validateAddOptions(o); err != nil {
		return cid.Undef, err
	}
	c, err := n.content.Add(ctx, name, f, n.importOptions(o), progress)
	if err != nil {
		return cid.Undef, n.contentError("add "+name, err)
	}
	return c, nil
}

// AddPath imports a file or folder from the local disk.
func (n *Node) AddPath(ctx context.Context, path string, o AddOptions, progress func(int64)) (cid.Cid, error) {
	if err := validateAddOptions(o); err != nil {
		return cid.Undef, err
	}
	if _, err := os.Stat(path); err != nil {
		return cid.Undef, &Error{Kind: KindNotFound, Msg: fmt.Sprintf("cannot read %s", path), Err: err}
	}
	c, err := n.content.AddPath(ctx, path, n.importOptions(o), progress)
	if err != nil {
		return cid.Undef, n.contentError("add "+path, err)
	}
	return c, nil
}

func validateAddOptions(o AddOptions) error {
	if o.CIDVersion != 0 && o.CIDVersion != 1 {
		return invalidf("--cid-version must be 0 or 1, not %d", o.CIDVersion)
	}
	if o.CIDVersion == 0 && o.RawLeaves != nil && *o.RawLeaves && o.Profile != "unixfs-v1-2025" {
		return invalidf("raw leaves need CIDv1: add --cid-version 1")
	}
	switch o.Profile {
	case "", "unixfs-v0-2015", "unixfs-v1-2025":
	default:
		return invalidf("unknown import profile %q (want unixfs-v0-2015 or unixfs-v1-2025)", o.Profile)
	}
	return nil
}

// Cat opens a file by CID.
func (n *Node) Cat(ctx context.Context, c cid.Cid) (io.ReadSeekCloser, int64, error) {
	r, size, err := n.content.Cat(ctx, c)
	if err != nil {
		return nil, 0, n.contentError("cat "+c.String(), err)
	}
	return r, size, nil
}

// Size is the UnixFS size of a file or folder, for progress bars.
func (n *Node) Size(ctx context.Context, c cid.Cid) (int64, error) {
	s, err := n.content.Size(ctx, c)
	if err != nil {
		return 0, n.contentError("size of "+c.String(), err)
	}
	return s, nil
}

// Get writes a file or folder to outPath.
func (n *Node) Get(ctx context.Context, c cid.Cid, outPath string, progress func(int64)) error {
	if err := n.content.Get(ctx, c, outPath, progress); err != nil {
		return n.contentError("get "+c.String(), err)
	}
	return nil
}

// Pin pins c recursively, fetching what is missing first.
func (n *Node) Pin(ctx context.Context, c cid.Cid) error {
	if err := n.content.Pin(ctx, c); err != nil {
		return n.contentError("pin "+c.String(), err)
	}
	return nil
}

// Unpin removes the recursive pin of c.
func (n *Node) Unpin(ctx context.Context, c cid.Cid) error {
	if err := n.content.Unpin(ctx, c); err != nil {
		return n.contentError("unpin "+c.String(), err)
	}
	return nil
}

// Pins lists the recursive pins.
func (n *Node) Pins(ctx context.Context) ([]cid.Cid, error) {
	ps, err := n.content.Pins(ctx)
	if err != nil {
		return nil, n.contentError("list pins", err)
	}
	return ps, nil
}

// GC removes every block no pin reaches and returns how many went.
func (n *Node) GC(ctx context.Context) (int, error) {
	removed, err := n.content.GC(ctx)
	if err != nil {
		return removed, n.contentError("gc", err)
	}
	return removed, nil
}

// ExportCAR writes the DAG under c as a CARv1 stream.
func (n *Node) ExportCAR(ctx context.Context, c cid.Cid, w io.Writer) error {
	if err := n.content.ExportCAR(ctx, c, w); err != nil {
		return n.contentError("export "+c.String(), err)
	}
	return nil
}

// ImportCAR stores every block of a CAR stream after checking each against
// its CID, and pins its roots. A bad CAR changes nothing.
func (n *Node) ImportCAR(ctx context.Context, r io.Reader) (CARImport, error) {
	roots, blocks, err := n.content.ImportCAR(ctx, r, ipfs.CARImportOptions{})
	if err != nil {
		return CARImport{}, n.contentError("import CAR", err)
	}
	out := CARImport{Blocks: blocks, Roots: []string{}}
	for _, c := range roots {
		out.Roots = append(out.Roots, c.String())
	}
	return out, nil
}

// Stat summarises the repo and the network.
func (n *Node) Stat(ctx context.Context) (Stat, error) {
	rs, err := n.content.Stat(ctx)
	if err != nil {
		return Stat{}, n.contentError("stat", err)
	}
	s := Stat{
		PeerID:        n.repo.PeerID().String(),
		Online:        n.host != nil,
		RepoPath:      n.repo.Path(),
		RepoSizeBytes: rs.SizeBytes,
		Blocks:        int64(rs.Blocks),
		Pins:          rs.Pins,
		UptimeSeconds: int64(time.Since(n.started).Seconds()),
		Gossip:        n.GossipStats(),
	}
	if n.host != nil {
		s.Peers = len(n.host.Libp2p().Network().Peers())
	}
	return s, nil
}

// contentError gives an ipfs error the kind its surfaces report.
func (n *Node) contentError(op string, err error) error {
	switch {
	case errors.Is(err, ipfs.ErrNotFound):
		msg := op + ": not found"
		if n.host == nil {
			msg += " in the local repo (the node is offline: start `lyceum daemon` to fetch from the network)"
		}
		return &Error{Kind: KindNotFound, Msg: msg, Err: err}
	case errors.Is(err, ipfs.ErrInvalidCAR), errors.Is(err, ipfs.ErrBadBlock), errors.Is(err, ipfs.ErrNotFile):
		return &Error{Kind: KindInvalid, Msg: op, Err: err}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &Error{Kind: KindUnavailable, Msg: op + ": interrupted", Err: err}
	}
	var ke *Error
	if errors.As(err, &ke) {
		return err
	}
	if strings.Contains(err.Error(), "chunker") || strings.Contains(err.Error(), "invalid") {
		return &Error{Kind: KindInvalid, Msg: op, Err: err}
	}
	return fmt.Errorf("%s: %w", op, err)
}
