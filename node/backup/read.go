package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/lyceum-oer/lyceum/ipfs"
)

// Limits bound what a restore reads; the zero value of each field means
// the default beside it.
type Limits struct {
	// MaxFileBytes bounds each file but the blocks (a database); 0 = 64 GiB.
	MaxFileBytes int64
	// MaxBlockBytes bounds each block; 0 = 4 MiB (libp2p's bitswap sends
	// at most 2 MiB).
	MaxBlockBytes int64
	// MaxEntries bounds the number of entries; 0 = 100 million.
	MaxEntries int64
	// MaxTotalBytes bounds the sum of the entries' sizes; 0 = 4 TiB.
	MaxTotalBytes int64
}

const (
	maxManifestBytes = 16 << 20
	maxRecordKey     = 4 << 10
	maxRecordValue   = 16 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = 64 << 30
	}
	if l.MaxBlockBytes <= 0 {
		l.MaxBlockBytes = 4 << 20
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = 100_000_000
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = 4 << 40
	}
	return l
}

// ErrInvalid is wrapped by every error a malformed archive gives.
var ErrInvalid = errors.New("invalid backup archive")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// sink receives what an archive holds as it is read and verified.
type sink interface {
	file(name string, r io.Reader) error
	record(key string, value []byte) error
	block(c cid.Cid, data []byte) error
}

// readArchive reads and checks an archive (gzipped or not), handing its
// entries to s, and returns its manifest once everything read matched
// it. What s received before an error must be thrown away.
func readArchive(ctx context.Context, r io.Reader, lim Limits, s sink) (Manifest, error) {
	in, closeIn, err := decompressed(r)
	if err != nil {
		return Manifest{}, err
	}
	defer closeIn()
	a := &archive{lim: lim.withDefaults(), sink: s, seen: map[string]bool{}}
	tr := tar.NewReader(in)
	for {
		if err := ctx.Err(); err != nil {
			return Manifest{}, err
		}
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Manifest{}, invalidf("tar: %v", err)
		}
		if err := a.entry(h, tr); err != nil {
			return Manifest{}, err
		}
	}
	return a.finish()
}

// decompressed reads r through gzip when it is gzipped (a backup is; a
// plain tar is taken too).
func decompressed(r io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); !bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		return br, func() {}, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, nil, invalidf("gzip: %v", err)
	}
	zr.Multistream(false)
	return zr, func() { zr.Close() }, nil
}

// archive is what readArchive has read so far.
type archive struct {
	lim       Limits
	sink      sink
	files     []File
	seen      map[string]bool
	blocks    Blocks
	entries   int64
	total     int64
	manifest  *Manifest
	blockData []byte // reused for each block
}

// entry checks one tar entry's header against the limits and reads it.
func (a *archive) entry(h *tar.Header, tr io.Reader) error {
	kind, err := a.check(h)
	if err != nil {
		return err
	}
	switch kind {
	case entryBlock:
		return a.block(h, tr)
	case entryManifest:
		return a.readManifest(h, tr)
	}
	return a.file(h, tr, kind)
}

// check refuses an entry that is not one of a backup's, comes twice or
// after the manifest, or goes over a limit; it returns its kind.
func (a *archive) check(h *tar.Header) (entry, error) {
	if a.manifest != nil {
		return entryInvalid, invalidf("%q after the manifest", h.Name)
	}
	if a.entries++; a.entries > a.lim.MaxEntries {
		return entryInvalid, invalidf("more than %d entries", a.lim.MaxEntries)
	}
	if h.Typeflag != tar.TypeReg {
		return entryInvalid, invalidf("%q is not a regular file", h.Name)
	}
	kind := entryKind(h.Name)
	if kind == entryInvalid {
		return entryInvalid, invalidf("unexpected entry %q", h.Name)
	}
	if a.seen[h.Name] {
		return entryInvalid, invalidf("%q twice", h.Name)
	}
	a.seen[h.Name] = true
	max := a.lim.MaxFileBytes
	switch kind {
	case entryBlock:
		max = a.lim.MaxBlockBytes
	case entryManifest:
		max = maxManifestBytes
	}
	if h.Size < 0 || h.Size > max {
		return entryInvalid, invalidf("%q is %d bytes, more than %d", h.Name, h.Size, max)
	}
	if a.total += h.Size; a.total > a.lim.MaxTotalBytes {
		return entryInvalid, invalidf("more than %d bytes in all", a.lim.MaxTotalBytes)
	}
	return kind, nil
}

// block reads a block and checks it against its CID.
func (a *archive) block(h *tar.Header, tr io.Reader) error {
	c, _ := cid.Decode(h.Name[len(blocksDir):])
	if int64(cap(a.blockData)) < h.Size {
		a.blockData = make([]byte, h.Size)
	}
	data := a.blockData[:h.Size]
	if _, err := io.ReadFull(tr, data); err != nil {
		return invalidf("%s: %v", h.Name, err)
	}
	sum, err := c.Prefix().Sum(data)
	if err != nil || !bytes.Equal(sum.Hash(), c.Hash()) {
		return invalidf("block %s does not hash to its CID", c)
	}
	if err := a.sink.block(c, data); err != nil {
		return err
	}
	a.blocks.Count++
	a.blocks.Bytes += h.Size
	return nil
}

// readManifest decodes the manifest, strictly.
func (a *archive) readManifest(h *tar.Header, tr io.Reader) error {
	var m Manifest
	dec := json.NewDecoder(io.LimitReader(tr, h.Size))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return invalidf("manifest: %v", err)
	}
	if dec.More() {
		return invalidf("manifest: more than one JSON value")
	}
	if err := m.check(); err != nil {
		return invalidf("%v", err)
	}
	a.manifest = &m
	return nil
}

// file hands a file (or the records) to the sink, hashing it on the way.
func (a *archive) file(h *tar.Header, tr io.Reader, kind entry) error {
	hr := &hashingReader{r: io.LimitReader(tr, h.Size), h: sha256.New()}
	var err error
	if kind == entryRecords {
		err = readRecords(hr, a.sink)
	} else {
		err = a.sink.file(h.Name, hr)
	}
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, hr); err != nil { // what the sink left
		return invalidf("%s: %v", h.Name, err)
	}
	if hr.n != h.Size {
		return invalidf("%s: %d bytes, the header says %d", h.Name, hr.n, h.Size)
	}
	a.files = append(a.files, File{Name: h.Name, Size: hr.n, SHA256: hex.EncodeToString(hr.h.Sum(nil))})
	return nil
}

// finish checks what was read against the manifest.
func (a *archive) finish() (Manifest, error) {
	m := a.manifest
	if m == nil {
		return Manifest{}, invalidf("no manifest: the archive is cut short")
	}
	if len(a.files) != len(m.Files) {
		return Manifest{}, invalidf("%d files, the manifest lists %d", len(a.files), len(m.Files))
	}
	for i, f := range a.files {
		if f != m.Files[i] {
			return Manifest{}, invalidf("%s does not match the manifest", f.Name)
		}
	}
	if a.blocks != m.Blocks {
		return Manifest{}, invalidf("%d blocks (%d bytes), the manifest says %d (%d bytes)",
			a.blocks.Count, a.blocks.Bytes, m.Blocks.Count, m.Blocks.Bytes)
	}
	if !a.seen[RecordsName] {
		return Manifest{}, invalidf("no %s", RecordsName)
	}
	return *m, nil
}

type hashingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

// readRecords parses store/records (see writeRecord).
func readRecords(r io.Reader, s sink) error {
	br := bufio.NewReader(r)
	for {
		key, err := readPart(br, maxRecordKey)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return invalidf("%s: %v", RecordsName, err)
		}
		value, err := readPart(br, maxRecordValue)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return invalidf("%s: %v", RecordsName, err)
		}
		if !ipfs.IsBackupRecord(string(key)) {
			return invalidf("%s: unexpected key %q", RecordsName, key)
		}
		if err := s.record(string(key), value); err != nil {
			return err
		}
	}
}

func readPart(br *bufio.Reader, max uint64) ([]byte, error) {
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, fmt.Errorf("a part of %d bytes, more than %d", n, max)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(br, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// Check reads an archive through and verifies it against its manifest,
// keeping nothing: what `lyceum backup` does before it keeps a file.
func Check(ctx context.Context, r io.Reader) (Manifest, error) {
	return readArchive(ctx, r, Limits{}, nopSink{})
}

type nopSink struct{}

func (nopSink) file(string, io.Reader) error { return nil }
func (nopSink) record(string, []byte) error  { return nil }
func (nopSink) block(cid.Cid, []byte) error  { return nil }

// Options are how Restore writes.
type Options struct {
	// Force restores over a folder that is not empty: it is replaced once
	// the archive has been read and verified.
	Force bool
	// Limits bound what is read.
	Limits Limits
}

// ErrNotEmpty reports a restore into a folder that holds something,
// without Options.Force.
var ErrNotEmpty = errors.New("the target folder is not empty")

// Restore reads the archive in r into a new repo at dir, which must not
// exist or be empty (unless o.Force). The repo is staged in a folder
// beside dir and renamed to dir only once every entry matched the
// manifest and the identity key matched its node ID; on any error dir is
// left as it was. The search index is not in the archive: the restored
// node rebuilds it from the logs when it starts.
func Restore(ctx context.Context, r io.Reader, dir string, o Options) (Manifest, error) {
	dir = filepath.Clean(dir)
	if !o.Force {
		if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
			return Manifest{}, fmt.Errorf("restore into %s: %w (use --force to replace it)", dir, ErrNotEmpty)
		} else if err != nil && !errors.Is(err, os.ErrNotExist) {
			return Manifest{}, fmt.Errorf("restore into %s: %w", dir, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return Manifest{}, fmt.Errorf("restore: %w", err)
	}
	stage, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".restore-")
	if err != nil {
		return Manifest{}, fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(stage)
	store, err := ipfs.RestoreStore(filepath.Join(stage, "store"))
	if err != nil {
		return Manifest{}, fmt.Errorf("restore: %w", err)
	}
	fs := &dirSink{ctx: ctx, dir: stage, store: store}
	m, err := readArchive(ctx, r, o.Limits, fs)
	if cerr := store.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("restore: %w", cerr)
	}
	if err != nil {
		return Manifest{}, err
	}
	if err := checkIdentity(filepath.Join(stage, "identity.key"), m.NodeID); err != nil {
		return Manifest{}, err
	}
	// The version file marks a finished repo: it is written last.
	if err := os.WriteFile(filepath.Join(stage, "version"), fs.version, 0o600); err != nil {
		return Manifest{}, fmt.Errorf("restore: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(stage, "tmp"), 0o700); err != nil {
		return Manifest{}, fmt.Errorf("restore: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return Manifest{}, fmt.Errorf("restore: replace %s: %w", dir, err)
	}
	if err := os.Rename(stage, dir); err != nil {
		return Manifest{}, fmt.Errorf("restore: %w", err)
	}
	return m, nil
}

// checkIdentity checks that the key at path is the node's of the manifest.
func checkIdentity(path, nodeID string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	key, err := crypto.UnmarshalPrivateKey(data)
	if err != nil {
		return invalidf("identity.key: %v", err)
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return invalidf("identity.key: %v", err)
	}
	if id.String() != nodeID {
		return invalidf("identity.key is %s's, the manifest names %s", id, nodeID)
	}
	return nil
}

// dirSink writes a restored repo into dir.
type dirSink struct {
	ctx     context.Context
	dir     string
	store   *ipfs.StoreWriter
	version []byte
}

func (d *dirSink) file(name string, r io.Reader) error {
	if name == "version" {
		data, err := io.ReadAll(io.LimitReader(r, 64))
		d.version = data
		return err
	}
	f, err := os.OpenFile(filepath.Join(d.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("restore %s: %w", name, err)
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("restore %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("restore %s: %w", name, err)
	}
	return f.Close()
}

func (d *dirSink) record(key string, value []byte) error {
	return d.store.PutRecord(d.ctx, key, value)
}

func (d *dirSink) block(c cid.Cid, data []byte) error {
	return d.store.PutBlock(d.ctx, c, bytes.Clone(data))
}
