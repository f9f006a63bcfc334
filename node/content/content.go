package content

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/lyceum-oer/lyceum/ipfs"
	"github.com/lyceum-oer/lyceum/node/api"
)

// Service is the content room's services.
type Service struct {
	content *ipfs.Content
	profile string // import.profile: the default UnixFS settings
	online  bool
	finder  Finder   // nil: no content routing
	self    peer.ID  // left out of the providers found
	gc      gcCounts // metrics.go
}

// Option configures New.
type Option func(*Service)

// New returns the content services over c; profile is the default import
// profile, online whether missing blocks can be fetched.
func New(c *ipfs.Content, profile string, online bool, opts ...Option) *Service {
	s := &Service{content: c, profile: profile, online: online}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *Service) importOptions(o api.AddOptions) ipfs.ImportOptions {
	profile := o.Profile
	if profile == "" {
		profile = s.profile
	}
	return ipfs.ImportOptions{CIDVersion: o.CIDVersion, RawLeaves: o.RawLeaves, Chunker: o.Chunker, Profile: profile, Pin: !o.NoPin, Hidden: o.Hidden}
}

// Add imports a file or directory tree (from an upload) and returns its
// root CID. progress, if not nil, is called with the bytes read so far.
func (s *Service) Add(ctx context.Context, name string, f files.Node, o api.AddOptions, progress func(int64)) (cid.Cid, error) {
	if err := checkAddOptions(o); err != nil {
		return cid.Undef, err
	}
	c, err := s.content.Add(ctx, name, f, s.importOptions(o), progress)
	if err != nil {
		return cid.Undef, s.kindOf("add "+name, err)
	}
	return c, nil
}

// AddPath imports a file or folder from the local disk.
func (s *Service) AddPath(ctx context.Context, path string, o api.AddOptions, progress func(int64)) (cid.Cid, error) {
	if err := checkAddOptions(o); err != nil {
		return cid.Undef, err
	}
	if _, err := os.Stat(path); err != nil {
		return cid.Undef, api.Wrap(api.KindNotFound, "cannot read "+path, err)
	}
	c, err := s.content.AddPath(ctx, path, s.importOptions(o), progress)
	if err != nil {
		return cid.Undef, s.kindOf("add "+path, err)
	}
	return c, nil
}

func checkAddOptions(o api.AddOptions) error {
	if o.CIDVersion != 0 && o.CIDVersion != 1 {
		return api.Invalidf("--cid-version must be 0 or 1, not %d", o.CIDVersion)
	}
	if o.CIDVersion == 0 && o.RawLeaves != nil && *o.RawLeaves && o.Profile != "unixfs-v1-2025" {
		return api.Invalidf("raw leaves need CIDv1: add --cid-version 1")
	}
	switch o.Profile {
	case "", "unixfs-v0-2015", "unixfs-v1-2025":
	default:
		return api.Invalidf("unknown import profile %s (want unixfs-v0-2015 or unixfs-v1-2025)", api.Quote(o.Profile))
	}
	return nil
}

// Cat opens a file by CID; the size is the file's whole length.
func (s *Service) Cat(ctx context.Context, c cid.Cid) (io.ReadSeekCloser, int64, error) {
	r, size, err := s.content.Cat(ctx, c)
	if err != nil {
		return nil, 0, s.kindOf("cat "+c.String(), err)
	}
	return r, size, nil
}

// Size is the UnixFS size of a file or folder, for progress bars.
func (s *Service) Size(ctx context.Context, c cid.Cid) (int64, error) {
	n, err := s.content.Size(ctx, c)
	if err != nil {
		return 0, s.kindOf("size of "+c.String(), err)
	}
	return n, nil
}

// Get writes a file or folder to outPath.
func (s *Service) Get(ctx context.Context, c cid.Cid, outPath string, progress func(int64)) error {
	if err := s.content.Get(ctx, c, outPath, progress); err != nil {
		return s.kindOf("get "+c.String(), err)
	}
	return nil
}

// GetBlock reads one block, fetching it from peers when online.
func (s *Service) GetBlock(ctx context.Context, c cid.Cid) ([]byte, error) {
	data, err := s.content.GetBlock(ctx, c)
	if err != nil {
		return nil, s.kindOf("block "+c.String(), err)
	}
	return data, nil
}

// Pin pins c recursively, fetching what is missing first.
func (s *Service) Pin(ctx context.Context, c cid.Cid) error {
	if err := s.content.Pin(ctx, c); err != nil {
		return s.kindOf("pin "+c.String(), err)
	}
	return nil
}

// Unpin removes the recursive pin of c.
func (s *Service) Unpin(ctx context.Context, c cid.Cid) error {
	if err := s.content.Unpin(ctx, c); err != nil {
		return s.kindOf("unpin "+c.String(), err)
	}
	return nil
}

// Pins lists the recursive pins.
func (s *Service) Pins(ctx context.Context) ([]cid.Cid, error) {
	ps, err := s.content.Pins(ctx)
	if err != nil {
		return nil, s.kindOf("list pins", err)
	}
	return ps, nil
}

// GC removes every block no pin reaches and returns how many went.
func (s *Service) GC(ctx context.Context) (int, error) {
	removed, err := s.content.GC(ctx)
	s.gc.ran(removed, err)
	if err != nil {
		return removed, s.kindOf("gc", err)
	}
	return removed, nil
}

// ExportCAR writes the DAG under c as a CARv1 stream.
func (s *Service) ExportCAR(ctx context.Context, c cid.Cid, w io.Writer) error {
	if err := s.content.ExportCAR(ctx, c, w); err != nil {
		return s.kindOf("export "+c.String(), err)
	}
	return nil
}

// ImportCAR stores every block of a CAR stream after checking each against
// its CID, and pins its roots. A bad CAR leaves no pin.
func (s *Service) ImportCAR(ctx context.Context, r io.Reader) (api.CARImport, error) {
	roots, blocks, err := s.content.ImportCAR(ctx, r, ipfs.CARImportOptions{})
	if err != nil {
		return api.CARImport{}, s.kindOf("import CAR", err)
	}
	out := api.CARImport{Blocks: blocks, Roots: []string{}}
	for _, c := range roots {
		out.Roots = append(out.Roots, c.String())
	}
	return out, nil
}

// RepoStat is the size of the store: bytes, blocks and pins.
func (s *Service) RepoStat(ctx context.Context) (ipfs.RepoStat, error) {
	st, err := s.content.Stat(ctx)
	if err != nil {
		return st, s.kindOf("stat", err)
	}
	return st, nil
}

// kindOf gives an ipfs error the kind its surfaces report.
func (s *Service) kindOf(op string, err error) error {
	var noProvider *ipfs.NoProviderError
	switch {
	case errors.As(err, &noProvider):
		return api.Errorf(api.KindNotFound, "%s: %v", op, noProvider)
	case errors.Is(err, ipfs.ErrNotFound):
		msg := op + ": not found"
		if !s.online {
			msg += " in the local repo (the node is offline: start `lyceum daemon` to fetch from the network)"
		}
		return api.Wrap(api.KindNotFound, msg, err)
	case errors.Is(err, ipfs.ErrNotPinned):
		return api.Wrap(api.KindNotFound, op+": not pinned", err)
	case errors.Is(err, ipfs.ErrInvalidCAR), errors.Is(err, ipfs.ErrBadBlock), errors.Is(err, ipfs.ErrNotFile):
		return api.Wrap(api.KindInvalid, op, err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return api.Wrap(api.KindUnavailable, op+": interrupted", err)
	}
	var ke *api.Error
	if errors.As(err, &ke) {
		return err
	}
	if strings.Contains(err.Error(), "chunker") || strings.Contains(err.Error(), "invalid") {
		return api.Wrap(api.KindInvalid, op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
