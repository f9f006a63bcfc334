package content

import (
	"bytes"
	"context"
	"fmt"

	blockstore "github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/lyceum-oer/lyceum/node/api"
)

// Finder finds the peers that announced they provide a CID: the DHT's
// provider records.
type Finder interface {
	// FindProvidersAsync sends up to count providers of c on the channel
	// it returns, and closes it when it has them all or ctx ends.
	FindProvidersAsync(ctx context.Context, c cid.Cid, count int) <-chan peer.AddrInfo
}

// WithFinder has Providers ask f (the DHT) for the peers holding a file;
// self, the node's own peer ID, is not counted among them.
func WithFinder(f Finder, self peer.ID) Option {
	return func(s *Service) { s.finder, s.self = f, self }
}

// Bounds of the peers Providers counts.
const (
	DefaultProviders = 20
	MaxProviders     = 100
)

// Providers says whether the node keeps the whole file c, and how many
// other peers announced it in the DHT, up to limit (0 = DefaultProviders,
// at most MaxProviders).
//
// Local means that c is pinned: a pin is written only once the whole DAG
// is local, and GC keeps what is pinned, so it is exact without reading
// the file (every upload and every published file is pinned). It costs a
// read of the pin set, not of the file, whose blocks a walk would read one
// by one (UnixFS v0 leaves hold the data).
//
// The DHT walk lasts as long as ctx allows: the caller bounds it with a
// timeout, and the count is what was found by then, without an error. An
// offline node counts no peers.
func (s *Service) Providers(ctx context.Context, c cid.Cid, limit int) (api.Providers, error) {
	if limit <= 0 {
		limit = DefaultProviders
	}
	limit = min(limit, MaxProviders)
	out := api.Providers{CID: c.String()}
	local, err := s.pinned(ctx, c)
	if err != nil {
		return out, err
	}
	out.Local = local
	if s.finder == nil {
		return out, nil
	}
	// Cancelled on return: the walk stops when enough were found.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for info := range s.finder.FindProvidersAsync(ctx, c, limit+1) {
		if info.ID == s.self || info.ID == "" {
			continue
		}
		out.Peers++
		if out.Peers == limit {
			break
		}
	}
	return out, nil
}

// pinned reports whether c (or the same DAG under another CID version) is
// pinned recursively.
func (s *Service) pinned(ctx context.Context, c cid.Cid) (bool, error) {
	pins, err := s.Pins(ctx)
	if err != nil {
		return false, err
	}
	for _, p := range pins {
		if p.Type() == c.Type() && bytes.Equal(p.Hash(), c.Hash()) {
			return true, nil
		}
	}
	return false, nil
}

// Holds reports whether the whole DAG under c is in the local store,
// without fetching anything: it is pinned, or else every block is there.
// The walk reads each dag-pb node (UnixFS v0 leaves included) and checks
// that each raw leaf is there: meant for small files, such as icons.
func (s *Service) Holds(ctx context.Context, c cid.Cid) (bool, error) {
	if ok, err := s.pinned(ctx, c); ok || err != nil {
		return ok, err
	}
	ok, err := holds(ctx, s.content.BlockService().Blockstore(), c, cid.NewSet())
	if err != nil {
		return false, s.kindOf("look for "+c.String(), err)
	}
	return ok, nil
}

func holds(ctx context.Context, bs blockstore.Blockstore, c cid.Cid, seen *cid.Set) (bool, error) {
	if !seen.Visit(c) {
		return true, nil
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if c.Prefix().Codec != cid.DagProtobuf {
		// A raw leaf, or a block whose links this does not follow.
		return bs.Has(ctx, c)
	}
	blk, err := bs.Get(ctx, c)
	if ipld.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	nd, err := merkledag.DecodeProtobufBlock(blk)
	if err != nil {
		return false, fmt.Errorf("decode %s: %w", c, err)
	}
	for _, l := range nd.Links() {
		if ok, err := holds(ctx, bs, l.Cid, seen); err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}
