package ipfs

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// MustExportCAR adds a small directory holding a binSize-byte file and
// returns it as a CARv1.
func MustExportCAR(tb testing.TB, binSize int) (cid.Cid, []byte) {
	tb.Helper()
	c := MustMemContent(tb)
	dir := files.NewMapDirectory(map[string]files.Node{
		"a.txt": files.NewBytesFile([]byte("alpha\n")),
		"b.bin": files.NewBytesFile(randomBytes(30, binSize)),
		"sub":   files.NewMapDirectory(map[string]files.Node{"c.txt": files.NewBytesFile([]byte("gamma\n"))}),
	})
	root, err := c.Add(context.Background(), "dir", dir, ImportOptions{CIDVersion: 1}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.ExportCAR(context.Background(), root, &buf); err != nil {
		tb.Fatal(err)
	}
	return root, buf.Bytes()
}

func TestCARRoundTrip(t *testing.T) {
	root, data := MustExportCAR(t, 700<<10)
	ctx := context.Background()

	c := MustMemContent(t)
	roots, n, err := c.ImportCAR(ctx, bytes.NewReader(data), CARImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(roots) != 1 || !roots[0].Equals(root) {
		t.Fatalf("roots %v, want [%s]", roots, root)
	}
	if n != 8 { // dir, a.txt, b.bin's root and 3 leaves, sub, sub/c.txt
		t.Errorf("imported %d blocks, want 8", n)
	}
	pins, _ := c.Pins(ctx)
	if len(pins) != 1 || !pins[0].Equals(root) {
		t.Fatalf("pins %v, want the root", pins)
	}

	t.Run("export is deterministic", func(t *testing.T) {
		var again bytes.Buffer
		if err := c.ExportCAR(ctx, root, &again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again.Bytes(), data) {
			t.Fatal("second export differs")
		}
	})
	t.Run("a CARv2 imports too", func(t *testing.T) {
		v2 := MustWrapV2(t, data)
		c2 := MustMemContent(t)
		roots, _, err := c2.ImportCAR(ctx, bytes.NewReader(v2), CARImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(roots) != 1 || !roots[0].Equals(root) {
			t.Fatalf("roots %v", roots)
		}
	})
}

// MustWrapV2 turns a CARv1 into a CARv2 with no index.
func MustWrapV2(tb testing.TB, v1 []byte) []byte {
	tb.Helper()
	pragma := []byte{0x0a, 0xa1, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x02}
	var h [40]byte // characteristics (16), data offset, data size, index offset
	binary.LittleEndian.PutUint64(h[16:], uint64(len(pragma)+40))
	binary.LittleEndian.PutUint64(h[24:], uint64(len(v1)))
	out := append(append(pragma, h[:]...), v1...)
	return out
}

// section encodes one CAR section.
func section(c cid.Cid, data []byte) []byte {
	b := binary.AppendUvarint(nil, uint64(c.ByteLen()+len(data)))
	return append(append(b, c.Bytes()...), data...)
}

func rawCID(tb testing.TB, data []byte) cid.Cid {
	tb.Helper()
	h, err := mh.Sum(data, mh.SHA2_256, -1)
	if err != nil {
		tb.Fatal(err)
	}
	return cid.NewCidV1(cid.Raw, h)
}

func TestImportCARRejectsBadInputAndWritesNothing(t *testing.T) {
	root, good := MustExportCAR(t, 700<<10)
	good1 := []byte("first block is fine")
	goodC := rawCID(t, good1)
	big := make([]byte, DefaultMaxBlockSize+1)
	bigC := rawCID(t, big)

	tests := []struct {
		name string
		car  []byte
		want error
	}{
		{"a truncated CAR", good[:len(good)-100], ErrInvalidCAR},
		{"a CAR cut inside the header", good[:10], ErrInvalidCAR},
		{"a corrupt header", append([]byte{0x05, 0xff, 0xff, 0xff, 0xff, 0xff}, good[6:]...), ErrInvalidCAR},
		{"an empty stream", nil, ErrInvalidCAR},
		{"a block whose bytes do not match its CID", append(carHeader(goodC), append(section(goodC, good1), section(goodC, []byte("tampered"))...)...), ErrBadBlock},
		{"an oversized block", append(carHeader(goodC), append(section(goodC, good1), section(bigC, big)...)...), ErrBadBlock},
		{"a root whose DAG is not in the CAR", append(carHeader(root), section(goodC, good1)...), ErrInvalidCAR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := MustMemContent(t)
			_, _, err := c.ImportCAR(context.Background(), bytes.NewReader(tt.car), CARImportOptions{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			mustBeEmpty(t, c)
		})
	}
}

func mustBeEmpty(tb testing.TB, c *Content) {
	tb.Helper()
	st, err := c.Stat(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	if st.Blocks != 0 || st.Pins != 0 {
		tb.Fatalf("store not empty after failed import: %+v", st)
	}
}

func TestFailedCARImportLeavesDiskStoreUnchanged(t *testing.T) {
	_, good := MustExportCAR(t, 700<<10)
	dir := t.TempDir()
	s := MustOpenStore(t, dir)
	c := New(s, nil, WithLogger(quietLogger()))
	existing := MustAddBytes(t, c, []byte("already here"), ImportOptions{Pin: true})
	before, err := c.Stat(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// A small batch size is not configurable, so fail late: every block is
	// written, then the last one is cut short.
	if _, _, err := c.ImportCAR(context.Background(), bytes.NewReader(good[:len(good)-1]), CARImportOptions{}); !errors.Is(err, ErrInvalidCAR) {
		t.Fatalf("got %v, want ErrInvalidCAR", err)
	}
	after, err := c.Stat(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if after.Blocks != before.Blocks || after.Pins != before.Pins {
		t.Fatalf("stat before %+v, after %+v", before, after)
	}
	if has, _ := c.Has(context.Background(), existing); !has {
		t.Fatal("existing block lost")
	}
}

func FuzzImportCAR(f *testing.F) {
	// Seeds live in testdata/fuzz/FuzzImportCAR; regenerate them with
	// LYCEUM_WRITE_FUZZ_SEEDS=1 go test -run FuzzImportCAR ./ipfs/.
	// Keep seeds small: the fuzzer minimises every new input it keeps, and
	// that is slow on large ones.
	_, good := MustExportCAR(f, 600)
	if os.Getenv("LYCEUM_WRITE_FUZZ_SEEDS") != "" {
		smallRoot := rawCID(f, []byte("seed"))
		small := append(carHeader(smallRoot), section(smallRoot, []byte("seed"))...)
		writeSeed(f, "valid-small", small)
		writeSeed(f, "truncated", small[:len(small)-2])
		corrupt := bytes.Clone(small)
		corrupt[3] ^= 0xff
		writeSeed(f, "corrupt-header", corrupt)
	}
	f.Add(good)
	f.Fuzz(func(t *testing.T, data []byte) {
		c := MustMemContent(t)
		roots, n, err := c.ImportCAR(context.Background(), bytes.NewReader(data), CARImportOptions{})
		if err != nil {
			if !errors.Is(err, ErrInvalidCAR) && !errors.Is(err, ErrBadBlock) {
				t.Fatalf("error of no known kind: %v", err)
			}
			mustBeEmpty(t, c)
			return
		}
		st, err := c.Stat(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Blocks > n || st.Pins > len(roots) {
			t.Fatalf("imported %d blocks and %d roots, store has %+v", n, len(roots), st)
		}
	})
}

func writeSeed(tb testing.TB, name string, data []byte) {
	tb.Helper()
	dir := filepath.Join("testdata", "fuzz", "FuzzImportCAR")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	body := "go test fuzz v1\n[]byte(" + quoteBytes(data) + ")\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func quoteBytes(b []byte) string {
	var s bytes.Buffer
	s.WriteByte('"')
	for _, c := range b {
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			s.WriteByte(c)
		} else {
			s.WriteString(`\x`)
			s.WriteByte("0123456789abcdef"[c>>4])
			s.WriteByte("0123456789abcdef"[c&15])
		}
	}
	s.WriteByte('"')
	return s.String()
}
