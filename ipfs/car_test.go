package ipfs

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/verifcid"
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
		{"a block hashed with SHA-1", singleBlockCAR(t, mh.SHA1, -1, good1), ErrBadBlock},
		{"a block hashed with MD5", singleBlockCAR(t, mh.MD5, -1, good1), ErrBadBlock},
		{"a SHA-256 digest cut to 20 bytes", singleBlockCAR(t, mh.SHA2_256, 20, good1), ErrBadBlock},
		{"a block hashed with SHA3-224", singleBlockCAR(t, mh.SHA3_224, -1, good1), ErrBadBlock},
		{"a block hashed with Keccak-256", singleBlockCAR(t, mh.KECCAK_256, -1, good1), ErrBadBlock},
		{"a block hashed with double SHA-256", singleBlockCAR(t, mh.DBL_SHA2_256, -1, good1), ErrBadBlock},
		{"a block hashed with BLAKE2b-160", singleBlockCAR(t, mh.BLAKE2B_MIN+19, -1, good1), ErrBadBlock},
		{"a block hashed with BLAKE2s-256", singleBlockCAR(t, mh.BLAKE2S_MAX, -1, good1), ErrBadBlock},
		{"an identity CID over 128 bytes", singleBlockCAR(t, mh.IDENTITY, -1, bytes.Repeat([]byte("i"), 129)), ErrBadBlock},
		{"a SHA-1 block after good ones", append(good, section(mustCID(t, mh.SHA1, -1, good1), good1)...), ErrBadBlock},
	}
	for _, tt := range tests {
		// In one batch nothing is written before the failure; block by
		// block, what was written must be removed again.
		for _, w := range []struct {
			how   string
			batch int
		}{{"in one write", 0}, {"block by block", 1}} {
			t.Run(tt.name+" written "+w.how, func(t *testing.T) {
				c := MustMemContent(t)
				_, _, err := c.importCAR(context.Background(), bytes.NewReader(tt.car), CARImportOptions{}, carTuning{batchBytes: w.batch})
				if !errors.Is(err, tt.want) {
					t.Fatalf("got %v, want %v", err, tt.want)
				}
				mustBeEmpty(t, c)
			})
		}
	}
}

// mustCID returns the raw CIDv1 of data under the multihash code, cut to
// length bytes (-1: the full digest).
func mustCID(tb testing.TB, code uint64, length int, data []byte) cid.Cid {
	tb.Helper()
	h, err := mh.Sum(data, code, length)
	if err != nil {
		tb.Fatal(err)
	}
	return cid.NewCidV1(cid.Raw, h)
}

// singleBlockCAR is a CAR holding data as one raw block, its only root.
func singleBlockCAR(tb testing.TB, code uint64, length int, data []byte) []byte {
	tb.Helper()
	k := mustCID(tb, code, length, data)
	return append(carHeader(k), section(k, data)...)
}

func TestImportCARAcceptsStrongHashes(t *testing.T) {
	data := []byte("a block of OER content")
	tests := []struct {
		name   string
		code   uint64
		length int
		data   []byte
	}{
		{"sha2-256", mh.SHA2_256, -1, data},
		{"sha2-512", mh.SHA2_512, -1, data},
		{"sha3-256", mh.SHA3_256, -1, data},
		{"sha3-384", mh.SHA3_384, -1, data},
		{"sha3-512", mh.SHA3_512, -1, data},
		{"blake2b-256", mh.BLAKE2B_MIN + 31, -1, data},
		{"blake2b-512", mh.BLAKE2B_MAX, -1, data},
		{"blake3", mh.BLAKE3, -1, data},
		{"identity of 128 bytes", mh.IDENTITY, -1, bytes.Repeat([]byte("i"), 128)},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is accepted", func(t *testing.T) {
			c := MustMemContent(t)
			roots, _, err := c.ImportCAR(context.Background(), bytes.NewReader(singleBlockCAR(t, tt.code, tt.length, tt.data)), CARImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.GetBlock(context.Background(), roots[0])
			if err != nil {
				t.Fatal(err)
			}
			equalBytes(t, got, tt.data)
		})
	}
}

func TestImportCARRefusalNamesTheHash(t *testing.T) {
	c := MustMemContent(t)
	_, _, err := c.ImportCAR(context.Background(), bytes.NewReader(singleBlockCAR(t, mh.SHA1, -1, []byte("x"))), CARImportOptions{})
	if !errors.Is(err, ErrBadBlock) || !strings.Contains(err.Error(), "sha1") {
		t.Fatalf("got %v, want ErrBadBlock naming sha1", err)
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
	// Fail late, one block per write: every block but the last is
	// written, then the last one is cut short.
	written := 0
	tune := carTuning{batchBytes: 1, afterFlush: func(n int) { written = n }}
	if _, _, err := c.importCAR(context.Background(), bytes.NewReader(good[:len(good)-1]), CARImportOptions{}, tune); !errors.Is(err, ErrInvalidCAR) {
		t.Fatalf("got %v, want ErrInvalidCAR", err)
	}
	if written < 7 {
		t.Fatalf("the import wrote %d blocks before failing, want 7", written)
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
		badHash := append(carHeader(smallRoot), section(smallRoot, []byte("deed"))...)
		writeSeed(f, "bad-hash", badHash)
		writeSeed(f, "sha1", singleBlockCAR(f, mh.SHA1, -1, []byte("seed")))
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
		err = c.store.forEachBlock(context.Background(), func(k cid.Cid) error {
			return verifcid.ValidateCid(carHashes{}, k)
		})
		if err != nil {
			t.Fatalf("an accepted CAR stored a block with a refused hash: %v", err)
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

// splitCAR cuts a CARv1 into its length-prefixed header and sections, each
// as the bytes it has in the stream.
func splitCAR(tb testing.TB, car []byte) (header []byte, sections [][]byte) {
	tb.Helper()
	next := func() []byte {
		n, k := binary.Uvarint(car)
		if k <= 0 || uint64(len(car)-k) < n {
			tb.Fatalf("splitCAR: bad length prefix")
		}
		part := car[:k+int(n)]
		car = car[k+int(n):]
		return part
	}
	header = next()
	for len(car) > 0 {
		sections = append(sections, next())
	}
	return header, sections
}

// The finding this guards against: stream most of a CAR, add the same file
// while the upload pauses (the add is acknowledged and pinned), then end the
// CAR with a bad block. The import's rollback used to delete every block it
// had written, although the add's pin now needed them.
func TestFailedCARImportKeepsBlocksAConcurrentAddAcknowledged(t *testing.T) {
	ctx := context.Background()
	data := randomBytes(48, 4<<20) // a root and sixteen 256 KiB leaves
	src := MustMemContent(t)
	root := MustAddBytes(t, src, data, ImportOptions{})
	var car bytes.Buffer
	if err := src.ExportCAR(ctx, root, &car); err != nil {
		t.Fatal(err)
	}
	header, sections := splitCAR(t, car.Bytes())

	c := MustMemContent(t)
	pr, pw := io.Pipe()
	defer pw.Close() // ends the import if the test stops early
	flushed := make(chan int, len(sections)+1)
	done := make(chan error, 1)
	go func() {
		// One block per write, and a signal after each, so the test knows
		// what the import has stored without sleeping.
		tune := carTuning{batchBytes: 1, afterFlush: func(n int) { flushed <- n }}
		_, _, err := c.importCAR(ctx, pr, CARImportOptions{}, tune)
		pr.CloseWithError(err) // unblock the writer if the import stopped reading
		done <- err
	}()
	mustPipe := func(b []byte) {
		t.Helper()
		if _, err := pw.Write(b); err != nil {
			t.Fatalf("stream CAR: %v", err)
		}
	}

	// Most of the CAR: everything but the last two leaves.
	streamed := len(sections) - 2
	mustPipe(header)
	for _, s := range sections[:streamed] {
		mustPipe(s)
	}
	for n := 0; n < streamed; {
		select {
		case n = <-flushed:
		case err := <-done:
			t.Fatalf("import ended early: %v", err)
		}
	}

	// The add during the pause: it finds most blocks already stored, writes
	// the two missing leaves and pins. From here on it is acknowledged.
	if got := MustAddBytes(t, c, data, ImportOptions{Pin: true}); !got.Equals(root) {
		t.Fatalf("add gave %s, the CAR has %s", got, root)
	}

	// Then a block only the CAR has, which the rollback must still remove,
	// and one whose bytes do not match its CID.
	extra := []byte("a block nothing else refers to")
	extraC := rawCID(t, extra)
	mustPipe(section(extraC, extra))
	for n := 0; n < streamed+1; {
		select {
		case n = <-flushed:
		case err := <-done:
			t.Fatalf("import ended early: %v", err)
		}
	}
	badC := rawCID(t, []byte("expected"))
	mustPipe(section(badC, []byte("tampered")))
	_ = pw.Close()
	if err := <-done; !errors.Is(err, ErrBadBlock) {
		t.Fatalf("import: got %v, want ErrBadBlock", err)
	}

	for i, s := range sections {
		_, k, err := cid.CidFromBytes(s[uvarintLen(s):])
		if err != nil {
			t.Fatal(err)
		}
		if has, err := c.Has(ctx, k); err != nil || !has {
			t.Errorf("block %d (%s) of the acknowledged add is gone (err %v)", i, k, err)
		}
	}
	equalBytes(t, MustCat(t, c, root), data)
	pins, err := c.Pins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pins) != 1 || !pins[0].Equals(root) {
		t.Fatalf("pins %v, want only the add's %s", pins, root)
	}
	if has, _ := c.Has(ctx, extraC); has {
		t.Error("the block only the failed CAR had is still stored")
	}
}

// While another write holds the pin lock, a failed import does not wait for
// the GC lock (every new add would queue behind it): it leaves its blocks,
// and the next GC removes them.
func TestFailedCARImportDuringOtherWritesLeavesItsBlocksToGC(t *testing.T) {
	ctx := context.Background()
	_, good := MustExportCAR(t, 700<<10)
	c := MustMemContent(t)

	other := c.store.locker.PinLock(ctx) // an add or an upload still running
	_, _, err := c.importCAR(ctx, bytes.NewReader(good[:len(good)-1]), CARImportOptions{}, carTuning{batchBytes: 1})
	other.Unlock(ctx)
	if !errors.Is(err, ErrInvalidCAR) {
		t.Fatalf("got %v, want ErrInvalidCAR", err)
	}
	st, err := c.Stat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pins != 0 || st.Blocks == 0 {
		t.Fatalf("stat %+v: want no pin and the blocks left for GC", st)
	}
	if _, err := c.GC(ctx); err != nil {
		t.Fatal(err)
	}
	mustBeEmpty(t, c)
}

// uvarintLen is the length of the uvarint b starts with.
func uvarintLen(b []byte) int {
	_, n := binary.Uvarint(b)
	return n
}
