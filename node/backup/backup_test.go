package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// fakeStore has two records and two blocks.
type fakeStore struct{ blocks []blocks.Block }

func (f fakeStore) Backup(_ context.Context, record func(string, []byte) error, block func(blocks.Block) error) error {
	for _, k := range []string{"/pins/index/1", "/node/x"} {
		if err := record(k, []byte("value of "+k)); err != nil {
			return err
		}
	}
	for _, b := range f.blocks {
		if err := block(b); err != nil {
			return err
		}
	}
	return nil
}

// mustRepoFiles makes the files of a small repo and returns its folder
// and peer ID.
func mustRepoFiles(tb testing.TB) (string, string) {
	tb.Helper()
	dir := tb.TempDir()
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	kb, _ := crypto.MarshalPrivateKey(key)
	id, _ := peer.IDFromPrivateKey(key)
	for name, data := range map[string][]byte{"identity.key": kb, "config.toml": []byte("# config\n"), "api.token": []byte("t\n"), "version": []byte("1\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	db, err := sqlitedb.Open(filepath.Join(dir, "lyceum.db"), sqlitedb.Options{Schema: "CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('hello');"})
	if err != nil {
		tb.Fatal(err)
	}
	db.Close()
	return dir, id.String()
}

func mustArchive(tb testing.TB) []byte {
	tb.Helper()
	dir, id := mustRepoFiles(tb)
	var buf bytes.Buffer
	store := fakeStore{blocks: []blocks.Block{blocks.NewBlock([]byte("one")), blocks.NewBlock([]byte("two"))}}
	if _, err := Write(context.Background(), &buf, Source{RepoPath: dir, TmpDir: filepath.Join(dir, "tmp"), NodeID: id, Store: store}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// discard is a sink that keeps nothing.
type discard struct{ records, blocks int }

func (d *discard) file(string, io.Reader) error { return nil }
func (d *discard) record(string, []byte) error  { d.records++; return nil }
func (d *discard) block(cid.Cid, []byte) error  { d.blocks++; return nil }

// retar rewrites an archive (gunzipped) through edit, which may change,
// drop (nil) or add entries.
func retar(t *testing.T, archive []byte, edit func(h *tar.Header, data []byte) []tarEntry) []byte {
	t.Helper()
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	tr := tar.NewReader(mustGunzip(t, archive))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		for _, e := range edit(h, data) {
			e.h.Size = int64(len(e.data))
			if err := tw.WriteHeader(e.h); err != nil {
				t.Fatal(err)
			}
			tw.Write(e.data)
		}
	}
	tw.Close()
	return out.Bytes()
}

type tarEntry struct {
	h    *tar.Header
	data []byte
}

func mustGunzip(t *testing.T, b []byte) io.Reader {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := io.Copy(&out, zr); err != nil {
		t.Fatal(err)
	}
	return &out
}

// An archive reads back whole; any change to it, or a name it may not
// hold, is refused as invalid.
func TestReadArchiveRefusesWhatDoesNotMatch(t *testing.T) {
	archive := mustArchive(t)
	var d discard
	m, err := readArchive(context.Background(), bytes.NewReader(archive), Limits{}, &d)
	if err != nil {
		t.Fatal(err)
	}
	if d.records != 2 || d.blocks != 2 || m.Blocks.Count != 2 || len(m.Files) != 6 {
		t.Fatalf("read %d records, %d blocks; manifest %+v", d.records, d.blocks, m)
	}
	keep := func(h *tar.Header, data []byte) []tarEntry { return []tarEntry{{h, data}} }
	cases := map[string]func(h *tar.Header, data []byte) []tarEntry{
		"a changed file": func(h *tar.Header, data []byte) []tarEntry {
			if h.Name == "config.toml" {
				data = []byte("# another config\n")
			}
			return keep(h, data)
		},
		"a block that does not hash to its CID": func(h *tar.Header, data []byte) []tarEntry {
			if strings.HasPrefix(h.Name, blocksDir) {
				data = []byte("not the block")
			}
			return keep(h, data)
		},
		"a dropped block": func(h *tar.Header, data []byte) []tarEntry {
			if strings.HasPrefix(h.Name, blocksDir) && bytes.Equal(data, []byte("two")) {
				return nil
			}
			return keep(h, data)
		},
		"no manifest": func(h *tar.Header, data []byte) []tarEntry {
			if h.Name == ManifestName {
				return nil
			}
			return keep(h, data)
		},
		"an entry after the manifest": func(h *tar.Header, data []byte) []tarEntry {
			if h.Name == ManifestName {
				return []tarEntry{{h, data}, {&tar.Header{Name: "peers.json", Typeflag: tar.TypeReg, Mode: 0o600}, []byte("[]")}}
			}
			return keep(h, data)
		},
		"a path outside the repo": func(h *tar.Header, data []byte) []tarEntry {
			if h.Name == "api.token" {
				h.Name = "../api.token"
			}
			return keep(h, data)
		},
		"a symlink": func(h *tar.Header, data []byte) []tarEntry {
			if h.Name == "api.token" {
				return []tarEntry{{&tar.Header{Name: "api.token", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}, nil}}
			}
			return keep(h, data)
		},
		"a file twice": func(h *tar.Header, data []byte) []tarEntry {
			if h.Name == "api.token" {
				return []tarEntry{{h, data}, {h, data}}
			}
			return keep(h, data)
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := readArchive(context.Background(), bytes.NewReader(retar(t, archive, edit)), Limits{}, &discard{})
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
		})
	}
	t.Run("a block over the limit", func(t *testing.T) {
		_, err := readArchive(context.Background(), bytes.NewReader(archive), Limits{MaxBlockBytes: 2}, &discard{})
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("got %v, want ErrInvalid", err)
		}
	})
	t.Run("unchanged, untarred and re-tarred", func(t *testing.T) {
		if _, err := readArchive(context.Background(), bytes.NewReader(retar(t, archive, keep)), Limits{}, &discard{}); err != nil {
			t.Fatal(err)
		}
	})
}

// A restore refuses a folder that holds something, unless forced, and
// leaves it as it was when the archive is bad.
func TestRestoreRefusesANonEmptyFolder(t *testing.T) {
	archive := mustArchive(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := Restore(ctx, bytes.NewReader(archive), dir, Options{}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("got %v, want ErrNotEmpty", err)
	}
	if _, err := Restore(ctx, bytes.NewReader(archive[:len(archive)/2]), dir, Options{Force: true}); err == nil {
		t.Fatal("a cut archive was restored")
	}
	if _, err := os.Stat(filepath.Join(dir, "keep.txt")); err != nil {
		t.Fatalf("a failed restore touched the folder: %v", err)
	}
	if _, err := Restore(ctx, bytes.NewReader(archive), dir, Options{Force: true}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"version", "identity.key", "lyceum.db", "store/datastore", "store/blocks"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("restored repo: %v", err)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Fatalf("staging folder left: %s", e.Name())
		}
	}
}

// FuzzReadArchive: whatever the bytes, reading ends with a manifest or an
// error, within the limits, without a panic.
func FuzzReadArchive(f *testing.F) {
	f.Add(mustArchive(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxFileBytes: 1 << 20, MaxBlockBytes: 1 << 16, MaxEntries: 64, MaxTotalBytes: 4 << 20}
		_, _ = readArchive(context.Background(), bytes.NewReader(data), lim, &discard{})
	})
}
