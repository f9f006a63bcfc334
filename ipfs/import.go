package ipfs

import (
	"context"
	"fmt"
	"io"
	"os"

	chunk "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// UnixFS import profiles (IPIP-499) accepted in ImportOptions.Profile.
const (
	// ProfileV0 is Kubo's default: CIDv0, 256 KiB chunks, dag-pb leaves,
	// 174 links per node, HAMT directories above 256 KiB estimated from
	// link names and CIDs.
	ProfileV0 = "unixfs-v0-2015"
	// ProfileV1 is the modern profile: CIDv1, 1 MiB chunks, raw leaves,
	// 1024 links per node, HAMT directories above 256 KiB of block size.
	ProfileV1 = "unixfs-v1-2025"
)

// ImportOptions control how files become a DAG. The zero value produces
// the same CIDs as `ipfs add` with Kubo's defaults.
type ImportOptions struct {
	// CIDVersion is 0 or 1; 0 means the profile's version. Version 1 with
	// the v0 profile turns on raw leaves unless RawLeaves says otherwise,
	// as Kubo does.
	CIDVersion int
	// RawLeaves stores file chunks as raw blocks; nil means the default for
	// the profile and CID version.
	RawLeaves *bool
	// Chunker is a boxo chunker spec such as "size-262144"; "" means the
	// profile's chunk size.
	Chunker string
	// Profile is "" (same as ProfileV0), ProfileV0 or ProfileV1.
	Profile string
	// Pin pins the root recursively once the import is complete.
	Pin bool
	// MaxLinks bounds links per file DAG node; 0 means the profile's value.
	MaxLinks int
	// Hidden includes files whose name starts with a dot in AddPath; Kubo
	// leaves them out by default.
	Hidden bool
}

// importSettings are ImportOptions resolved against a profile.
type importSettings struct {
	prefix     cid.Prefix
	rawLeaves  bool
	chunker    string
	maxLinks   int
	hamtSize   int
	estimation uio.SizeEstimationMode
	fanout     int
}

func (o ImportOptions) resolve() (importSettings, error) {
	var p uio.UnixFSProfile
	switch o.Profile {
	case "", ProfileV0:
		p = uio.UnixFS_v0_2015
	case ProfileV1:
		p = uio.UnixFS_v1_2025
	default:
		return importSettings{}, fmt.Errorf("unknown import profile %q", o.Profile)
	}
	version := p.CIDVersion
	switch o.CIDVersion {
	case 0:
	case 1:
		version = 1
	default:
		return importSettings{}, fmt.Errorf("unsupported CID version %d", o.CIDVersion)
	}
	raw := p.RawLeaves || version == 1
	if o.RawLeaves != nil {
		raw = *o.RawLeaves
	}
	maxLinks := p.FileDAGWidth
	if o.MaxLinks < 0 {
		return importSettings{}, fmt.Errorf("negative max links %d", o.MaxLinks)
	}
	if o.MaxLinks > 0 {
		maxLinks = o.MaxLinks
	}
	chunker := o.Chunker
	if chunker == "" {
		chunker = fmt.Sprintf("size-%d", p.ChunkSize)
	}
	prefix, err := merkledag.PrefixForCidVersion(version)
	if err != nil {
		return importSettings{}, err
	}
	prefix.MhType = p.MhType
	return importSettings{
		prefix:     prefix,
		rawLeaves:  raw,
		chunker:    chunker,
		maxLinks:   maxLinks,
		hamtSize:   p.HAMTShardingSize,
		estimation: p.HAMTSizeEstimation,
		fanout:     p.HAMTShardWidth,
	}, nil
}

// Add imports a file or directory and returns its root CID; name is only
// used in errors and logs. The pin lock is held for the whole import so a
// concurrent GC cannot remove blocks before they are pinned. progress, if
// not nil, is called with the running count of file bytes read.
//
// The root is announced (when online) even if not pinned.
func (c *Content) Add(ctx context.Context, name string, f files.Node, o ImportOptions, progress func(int64)) (cid.Cid, error) {
	set, err := o.resolve()
	if err != nil {
		return cid.Undef, fmt.Errorf("import %s: %w", name, err)
	}
	// A chunker spec error should not wait until the first file.
	if _, err := chunk.FromString(eofReader{}, set.chunker); err != nil {
		return cid.Undef, fmt.Errorf("import %s: chunker %q: %w", name, set.chunker, err)
	}

	unlock := c.store.locker.PinLock(ctx)
	defer unlock.Unlock(ctx)

	// Blocks are written without waiting for the disk, then synced once,
	// before the pin and before the CID is returned.
	wctx := deferSync(ctx)
	buf := ipld.NewBufferedDAG(wctx, c.dag)
	imp := &importer{ctx: wctx, dag: buf, set: set, progress: progress}
	nd, err := imp.add(f)
	if err == nil {
		err = buf.Commit()
	}
	if err == nil {
		err = c.store.syncBlocks()
	}
	if err != nil {
		return cid.Undef, fmt.Errorf("import %s: %w", name, err)
	}
	root := nd.Cid()

	if o.Pin {
		if err := c.store.pinRoots(ctx, []cid.Cid{root}); err != nil {
			return cid.Undef, fmt.Errorf("import %s: %w", name, err)
		}
	}
	if err := c.store.addRoot(ctx, root); err != nil {
		return cid.Undef, fmt.Errorf("import %s: record root %s: %w", name, root, err)
	}
	c.provide(ctx, root)
	c.log.Debug("ipfs: added", "name", name, "cid", root, "bytes", imp.read, "pinned", o.Pin)
	return root, nil
}

// AddPath imports the file or directory at path, leaving out dot-files
// unless o.Hidden is set, as `ipfs add -r` does.
func (c *Content) AddPath(ctx context.Context, path string, o ImportOptions, progress func(int64)) (cid.Cid, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return cid.Undef, fmt.Errorf("import %s: %w", path, err)
	}
	filter, err := files.NewFilter("", nil, o.Hidden)
	if err != nil {
		return cid.Undef, fmt.Errorf("import %s: %w", path, err)
	}
	f, err := files.NewSerialFileWithFilter(path, filter, st)
	if err != nil {
		return cid.Undef, fmt.Errorf("import %s: %w", path, err)
	}
	defer f.Close()
	return c.Add(ctx, path, f, o, progress)
}

// importer turns one files.Node tree into a DAG with fixed settings. It is
// used by one goroutine.
type importer struct {
	ctx      context.Context
	dag      ipld.DAGService
	set      importSettings
	progress func(int64)
	read     int64
}

func (imp *importer) add(f files.Node) (ipld.Node, error) {
	if err := imp.ctx.Err(); err != nil {
		return nil, err
	}
	switch f := f.(type) {
	case *files.Symlink:
		return imp.addSymlink(f)
	case files.File:
		return imp.addFile(f)
	case files.Directory:
		return imp.addDir(f)
	default:
		return nil, fmt.Errorf("unsupported file type %T", f)
	}
}

func (imp *importer) addFile(r io.Reader) (ipld.Node, error) {
	if imp.progress != nil {
		r = &progressReader{r: r, imp: imp}
	} else {
		r = &countReader{r: r, n: &imp.read}
	}
	spl, err := chunk.FromString(r, imp.set.chunker)
	if err != nil {
		return nil, err
	}
	params := helpers.DagBuilderParams{
		Dagserv:    imp.dag,
		RawLeaves:  imp.set.rawLeaves,
		Maxlinks:   imp.set.maxLinks,
		CidBuilder: imp.set.prefix,
	}
	db, err := params.New(spl)
	if err != nil {
		return nil, err
	}
	return balanced.Layout(db)
}

func (imp *importer) addSymlink(l *files.Symlink) (ipld.Node, error) {
	data, err := ft.SymlinkData(l.Target)
	if err != nil {
		return nil, err
	}
	nd := merkledag.NodeWithData(data)
	if err := nd.SetCidBuilder(imp.set.prefix); err != nil {
		return nil, err
	}
	if err := imp.dag.Add(imp.ctx, nd); err != nil {
		return nil, err
	}
	return nd, nil
}

func (imp *importer) addDir(d files.Directory) (ipld.Node, error) {
	dir, err := uio.NewDirectory(imp.dag,
		uio.WithCidBuilder(imp.set.prefix),
		uio.WithMaxHAMTFanout(imp.set.fanout),
		uio.WithSizeEstimationMode(imp.set.estimation),
	)
	if err != nil {
		return nil, err
	}
	// Per directory, so boxo's global io.HAMTShardingSize is never read.
	dir.SetHAMTShardingSize(imp.set.hamtSize)

	it := d.Entries()
	for it.Next() {
		name := it.Name()
		child, err := imp.add(it.Node())
		if cerr := it.Node().Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := dir.AddChild(imp.ctx, name, child); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	nd, err := dir.GetNode()
	if err != nil {
		return nil, err
	}
	if err := imp.dag.Add(imp.ctx, nd); err != nil {
		return nil, err
	}
	return nd, nil
}

type countReader struct {
	r io.Reader
	n *int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

type progressReader struct {
	r   io.Reader
	imp *importer
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.imp.read += int64(n)
		p.imp.progress(p.imp.read)
	}
	return n, err
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
