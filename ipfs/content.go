package ipfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/exchange/offline"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	unixfile "github.com/ipfs/boxo/ipld/unixfs/file"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// Option configures New.
type Option func(*contentOptions)

type contentOptions struct {
	log         *slog.Logger
	findTimeout time.Duration
}

// DefaultFindTimeout is how long a read waits for the first block of a
// root that no peer has offered, when WithFindTimeout is not given.
const DefaultFindTimeout = 30 * time.Second

// WithFindTimeout bounds how long Cat, Get, Size, Pin and ExportCAR wait
// for the root block of a CID that is not local: past it they fail with
// ErrNotFound, saying that no provider was found, instead of waiting for
// as long as their context lasts.
func WithFindTimeout(d time.Duration) Option {
	return func(o *contentOptions) {
		if d > 0 {
			o.findTimeout = d
		}
	}
}

// WithLogger sets the logger Content reports to; the default is
// slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *contentOptions) { o.log = l }
}

// Content is the set of content operations over a Store: import and export
// of UnixFS and CAR, pins and garbage collection. With an Exchange it
// fetches missing blocks from peers and announces new roots; without one it
// works on local blocks only and reports missing ones as ErrNotFound.
type Content struct {
	store *Store
	exch  *Exchange // nil when offline
	log   *slog.Logger
	// findTimeout bounds the wait for a root no peer has offered.
	findTimeout time.Duration
	bserv       blockservice.BlockService
	dag         ipld.DAGService
}

// New returns the content operations over s. exch may be nil for an
// offline node.
func New(s *Store, exch *Exchange, opts ...Option) *Content {
	o := contentOptions{log: slog.Default(), findTimeout: DefaultFindTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	var bserv blockservice.BlockService
	cache := cacheBlockstore{s.bs}
	if exch != nil {
		bserv = blockservice.New(cache, exch.exchange())
	} else {
		bserv = blockservice.New(cache, offline.Exchange(s.bs))
	}
	return &Content{
		store:       s,
		exch:        exch,
		log:         o.log,
		findTimeout: o.findTimeout,
		bserv:       bserv,
		dag:         merkledag.NewDAGService(bserv),
	}
}

// BlockService returns the block service the operations use: it reads the
// local store and, when online, asks peers for what is missing. It is what
// boxo's gateway backend needs.
func (c *Content) BlockService() blockservice.BlockService { return c.bserv }

// Has reports whether the block k is in the local store.
func (c *Content) Has(ctx context.Context, k cid.Cid) (bool, error) {
	ok, err := c.store.bs.Has(ctx, k)
	if err != nil {
		return false, fmt.Errorf("has %s: %w", k, err)
	}
	return ok, nil
}

// provide queues root for announcement; failures are logged, not returned,
// since the content is stored either way.
func (c *Content) provide(ctx context.Context, root cid.Cid) {
	if c.exch == nil {
		return
	}
	if err := c.exch.Provide(ctx, root); err != nil {
		c.log.Warn("ipfs: cannot queue provide", "cid", root, "err", err)
	}
}

// streamDAG starts fetching root's DAG as one stream from a peer that has
// it (see Exchange.StreamDAG); reads then find its blocks as they come.
func (c *Content) streamDAG(ctx context.Context, root cid.Cid) {
	if c.exch != nil {
		c.exch.StreamDAG(ctx, root)
	}
}

// node fetches the node for k, locally or from peers, mapping a miss to
// ErrNotFound. A k that no peer offers within the find timeout is an
// ErrNotFound that says so; once found, the rest of the DAG is fetched
// within ctx.
func (c *Content) node(ctx context.Context, k cid.Cid) (ipld.Node, error) {
	fctx, cancel := context.WithTimeout(ctx, c.findTimeout)
	defer cancel()
	nd, err := c.dag.Get(fctx, k)
	if err == nil {
		return nd, nil
	}
	if ctx.Err() == nil && errors.Is(fctx.Err(), context.DeadlineExceeded) {
		return nil, &NoProviderError{CID: k, After: c.findTimeout}
	}
	return nil, notFound(err)
}

// notFound adds ErrNotFound to errors that mean a block could not be had.
func notFound(err error) error {
	if err == nil || errors.Is(err, ErrNotFound) || !ipld.IsNotFound(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrNotFound, err)
}

// Cat opens the UnixFS file root for reading and returns it with its size.
// Blocks are fetched as the reader reaches them, within ctx. It fails with
// ErrNotFile for a directory.
func (c *Content) Cat(ctx context.Context, root cid.Cid) (io.ReadSeekCloser, int64, error) {
	c.streamDAG(ctx, root)
	ctx = blockservice.ContextWithSession(ctx, c.bserv)
	nd, err := c.node(ctx, root)
	if err != nil {
		return nil, 0, fmt.Errorf("cat %s: %w", root, err)
	}
	f, err := unixfile.NewUnixfsFile(ctx, c.dag, nd)
	if err != nil {
		return nil, 0, fmt.Errorf("cat %s: %w", root, err)
	}
	file, ok := f.(seekFile)
	if !ok {
		_ = f.Close()
		return nil, 0, fmt.Errorf("cat %s: %w", root, ErrNotFile)
	}
	size, err := file.Size()
	if err != nil {
		_ = file.Close()
		return nil, 0, fmt.Errorf("cat %s: size: %w", root, err)
	}
	return &notFoundReader{file}, size, nil
}

// seekFile is what boxo's unixfile returns for a UnixFS file.
type seekFile interface {
	files.File
	io.Seeker
}

// notFoundReader maps block misses during reads to ErrNotFound.
type notFoundReader struct{ seekFile }

func (r *notFoundReader) Read(p []byte) (int, error) {
	n, err := r.seekFile.Read(p)
	if err != nil && err != io.EOF {
		err = notFound(err)
	}
	return n, err
}

// Size returns the size of root for progress bars: the file size for a
// UnixFS file, the cumulative size of the DAG for anything else.
func (c *Content) Size(ctx context.Context, root cid.Cid) (int64, error) {
	nd, err := c.node(ctx, root)
	if err != nil {
		return 0, fmt.Errorf("size %s: %w", root, err)
	}
	switch n := nd.(type) {
	case *merkledag.RawNode:
		return int64(len(n.RawData())), nil
	case *merkledag.ProtoNode:
		fsn, err := ft.FSNodeFromBytes(n.Data())
		if err == nil && (fsn.Type() == ft.TFile || fsn.Type() == ft.TRaw) {
			return int64(fsn.FileSize()), nil
		}
	}
	size, err := nd.Size()
	if err != nil {
		return 0, fmt.Errorf("size %s: %w", root, err)
	}
	return int64(size), nil
}

// Get writes the file or directory root to outPath, which must not exist.
// progress, if not nil, is called with the running count of file bytes
// written.
func (c *Content) Get(ctx context.Context, root cid.Cid, outPath string, progress func(int64)) error {
	c.streamDAG(ctx, root)
	ctx = blockservice.ContextWithSession(ctx, c.bserv)
	nd, err := c.node(ctx, root)
	if err != nil {
		return fmt.Errorf("get %s: %w", root, err)
	}
	f, err := unixfile.NewUnixfsFile(ctx, c.dag, nd)
	if err != nil {
		return fmt.Errorf("get %s: %w", root, err)
	}
	defer f.Close()
	if _, err := os.Lstat(outPath); err == nil {
		return fmt.Errorf("get %s: %s: %w", root, outPath, os.ErrExist)
	}
	var written int64
	if err := writeNode(f, outPath, &written, progress); err != nil {
		return fmt.Errorf("get %s: %w", root, notFound(err))
	}
	return nil
}

// writeNode writes a files.Node tree to disk, like files.WriteTo, counting
// bytes for progress.
func writeNode(nd files.Node, fpath string, written *int64, progress func(int64)) error {
	switch nd := nd.(type) {
	case *files.Symlink:
		return os.Symlink(nd.Target, fpath)
	case files.File:
		f, err := os.OpenFile(fpath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		var w io.Writer = f
		if progress != nil {
			w = &progressWriter{w: f, n: written, progress: progress}
		}
		_, err = io.Copy(w, nd)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", fpath, err)
		}
		return nil
	case files.Directory:
		if err := os.Mkdir(fpath, 0o755); err != nil {
			return err
		}
		it := nd.Entries()
		for it.Next() {
			name := it.Name()
			if name == "" || name == "." || name == ".." || filepath.Base(name) != name {
				return fmt.Errorf("unsafe entry name %q in %s", name, fpath)
			}
			if err := writeNode(it.Node(), filepath.Join(fpath, name), written, progress); err != nil {
				return err
			}
		}
		return it.Err()
	default:
		return fmt.Errorf("%s: unsupported node type %T", fpath, nd)
	}
}

type progressWriter struct {
	w        io.Writer
	n        *int64
	progress func(int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	*p.n += int64(n)
	p.progress(*p.n)
	return n, err
}

// RepoStat summarises a Store.
type RepoStat struct {
	SizeBytes int64 // bytes on disk under the store directory (block bytes for a memory store)
	Blocks    int   // number of blocks
	Pins      int   // number of recursive pins
}

// Stat reports the store's size, block count and pin count.
func (c *Content) Stat(ctx context.Context) (RepoStat, error) {
	var st RepoStat
	err := c.store.forEachBlock(ctx, func(cid.Cid) error {
		st.Blocks++
		return nil
	})
	if err != nil {
		return RepoStat{}, fmt.Errorf("stat: count blocks: %w", err)
	}
	pins, err := c.store.recursivePins(ctx)
	if err != nil {
		return RepoStat{}, fmt.Errorf("stat: list pins: %w", err)
	}
	st.Pins = len(pins)
	if st.SizeBytes, err = c.store.diskUsage(ctx); err != nil {
		return RepoStat{}, fmt.Errorf("stat: disk usage: %w", err)
	}
	return st, nil
}
