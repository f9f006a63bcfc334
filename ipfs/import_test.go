package ipfs

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	unixfspb "github.com/ipfs/boxo/ipld/unixfs/pb"
	"github.com/ipfs/go-cid"
)

func ptr[T any](v T) *T { return &v }

// Vectors measured with Kubo 0.43 (`ipfs add`, `ipfs add --cid-version 1`).
func TestAddGivesKuboCIDs(t *testing.T) {
	hello := []byte("hello moodlenet\n")
	zeros := make([]byte, 1<<20)
	tests := []struct {
		name string
		data []byte
		opts ImportOptions
		want string
	}{
		{"a small file with defaults is CIDv0", hello, ImportOptions{}, "QmXXTspswPk9Ysyk9rexFn4W8RinZ7SSVcR6ioHCrXyAgT"},
		{"a small file with CIDv1 is a raw leaf", hello, ImportOptions{CIDVersion: 1}, "bafkreihodxmdpyba3sno7hecojcxqyiwmn546pmz3uz55txpwgbgrvnhr4"},
		{"the v0 profile named explicitly matches the defaults", hello, ImportOptions{Profile: ProfileV0}, "QmXXTspswPk9Ysyk9rexFn4W8RinZ7SSVcR6ioHCrXyAgT"},
		{"1 MiB of zeros with defaults is four chunks", zeros, ImportOptions{}, "QmVkbauSDEaMP4Tkq6Epm9uW75mWm136n81YH8fGtfwdHU"},
		{"1 MiB of zeros with CIDv1 uses raw leaves", zeros, ImportOptions{CIDVersion: 1}, "bafybeiggzq4ryi7hscq5hzvzcnk4urnxt3asp37dhgvnjilf7exskximla"},
		{"the empty file with defaults", nil, ImportOptions{}, "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"},
		{"the explicit chunker equal to the default changes nothing", zeros, ImportOptions{Chunker: "size-262144"}, "QmVkbauSDEaMP4Tkq6Epm9uW75mWm136n81YH8fGtfwdHU"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := MustMemContent(t)
			got := MustAddBytes(t, c, tt.data, tt.opts)
			if got.String() != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
			equalBytes(t, MustCat(t, c, got), tt.data)
		})
	}
}

func TestAddOptionsChangeTheDAG(t *testing.T) {
	zeros := make([]byte, 1<<20)
	c := MustMemContent(t)
	ctx := context.Background()

	t.Run("CIDv1 with raw leaves turned off keeps dag-pb leaves", func(t *testing.T) {
		root := MustAddBytes(t, c, zeros, ImportOptions{CIDVersion: 1, RawLeaves: ptr(false)})
		nd, err := c.dag.Get(ctx, root)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range nd.Links() {
			if l.Cid.Prefix().Codec != cid.DagProtobuf {
				t.Fatalf("leaf %s is not dag-pb", l.Cid)
			}
		}
	})
	t.Run("the v1-2025 profile stores 1 MiB as one raw block", func(t *testing.T) {
		root := MustAddBytes(t, c, zeros, ImportOptions{Profile: ProfileV1})
		if root.Prefix().Codec != cid.Raw || root.Version() != 1 {
			t.Fatalf("root %s: want a CIDv1 raw block", root)
		}
	})
	t.Run("a smaller max links makes a deeper tree", func(t *testing.T) {
		data := randomBytes(1, 10*1024)
		root := MustAddBytes(t, c, data, ImportOptions{Chunker: "size-1024", MaxLinks: 2})
		nd, err := c.dag.Get(ctx, root)
		if err != nil {
			t.Fatal(err)
		}
		if len(nd.Links()) != 2 {
			t.Fatalf("root has %d links, want 2", len(nd.Links()))
		}
		equalBytes(t, MustCat(t, c, root), data)
	})
	t.Run("a bad chunker is an error", func(t *testing.T) {
		_, err := c.Add(ctx, "x", files.NewBytesFile(zeros), ImportOptions{Chunker: "size-x"}, nil)
		if err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("an unknown profile is an error", func(t *testing.T) {
		_, err := c.Add(ctx, "x", files.NewBytesFile(zeros), ImportOptions{Profile: "nope"}, nil)
		if err == nil {
			t.Fatal("no error")
		}
	})
}

func TestAddEmptyDirectoryGivesWellKnownCIDs(t *testing.T) {
	c := MustMemContent(t)
	for _, tt := range []struct {
		opts ImportOptions
		want string
	}{
		{ImportOptions{}, "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"},
		{ImportOptions{CIDVersion: 1}, "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354"},
	} {
		root, err := c.Add(context.Background(), "empty", files.NewMapDirectory(nil), tt.opts, nil)
		if err != nil {
			t.Fatal(err)
		}
		if root.String() != tt.want {
			t.Errorf("CIDv%d: got %s, want %s", tt.opts.CIDVersion, root, tt.want)
		}
	}
}

// bigDir returns a directory of n empty files named file-00000….
func bigDir(n int) files.Directory {
	m := make(map[string]files.Node, n)
	for i := range n {
		m[fmt.Sprintf("file-%05d", i)] = files.NewBytesFile(nil)
	}
	return files.NewMapDirectory(m)
}

func dirType(t *testing.T, c *Content, root cid.Cid) unixfspb.Data_DataType {
	t.Helper()
	nd, err := c.dag.Get(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	pn, ok := nd.(*merkledag.ProtoNode)
	if !ok {
		t.Fatalf("%s is not dag-pb", root)
	}
	fsn, err := ft.FSNodeFromBytes(pn.Data())
	if err != nil {
		t.Fatal(err)
	}
	return fsn.Type()
}

func TestLargeDirectoryBecomesHAMTShard(t *testing.T) {
	// v0 estimate: len(name)+len(CIDv0) = 10+34 = 44 bytes a link.
	c := MustMemContent(t)
	ctx := context.Background()
	small, err := c.Add(ctx, "small", bigDir(5000), ImportOptions{}, nil) // 220,000 bytes
	if err != nil {
		t.Fatal(err)
	}
	if got := dirType(t, c, small); got != ft.TDirectory {
		t.Fatalf("5000 entries: type %v, want a basic directory", got)
	}
	large, err := c.Add(ctx, "large", bigDir(6000), ImportOptions{}, nil) // 264,000 bytes
	if err != nil {
		t.Fatal(err)
	}
	if got := dirType(t, c, large); got != ft.THAMTShard {
		t.Fatalf("6000 entries: type %v, want a HAMT shard", got)
	}
	out := t.TempDir() + "/out"
	if err := c.Get(ctx, large, out, nil); err != nil {
		t.Fatalf("Get of the sharded directory: %v", err)
	}
}

// Two imports with different profiles run at once must each get exactly
// what they get alone: settings are per import, never boxo globals.
func TestConcurrentImportsWithDifferentSettingsDoNotInterfere(t *testing.T) {
	// 5500 entries: 242,000 bytes by the v0 link estimate (basic), about
	// 300,000 bytes of block by the v1-2025 estimate (HAMT).
	const entries = 5500
	zeros := make([]byte, 1<<20)
	profiles := []ImportOptions{{}, {CIDVersion: 1}, {Profile: ProfileV1}}

	type result struct{ file, dir cid.Cid }
	importAll := func(c *Content, o ImportOptions) (result, error) {
		ctx := context.Background()
		f, err := c.Add(ctx, "zeros", files.NewBytesFile(zeros), o, nil)
		if err != nil {
			return result{}, err
		}
		d, err := c.Add(ctx, "dir", bigDir(entries), o, nil)
		return result{f, d}, err
	}

	c := MustMemContent(t)
	want := make([]result, len(profiles))
	for i, o := range profiles {
		r, err := importAll(c, o)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = r
	}
	if got := dirType(t, c, want[0].dir); got != ft.TDirectory {
		t.Fatalf("v0 directory: type %v, want basic", got)
	}
	if got := dirType(t, c, want[2].dir); got != ft.THAMTShard {
		t.Fatalf("v1-2025 directory: type %v, want HAMT", got)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 2*len(profiles))
	for round := range 2 {
		for i, o := range profiles {
			wg.Go(func() {
				got, err := importAll(MustMemContent(t), o)
				if err != nil {
					errs <- err
					return
				}
				if got != want[i] {
					errs <- fmt.Errorf("round %d profile %d: got %v, want %v", round, i, got, want[i])
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestAddPathSkipsHiddenFilesLikeKubo(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, dir+"/a.txt", []byte("a"))
	mustWrite(t, dir+"/.hidden", []byte("h"))
	c := MustMemContent(t)
	ctx := context.Background()
	var last int64
	root, err := c.AddPath(ctx, dir, ImportOptions{}, func(n int64) { last = n })
	if err != nil {
		t.Fatal(err)
	}
	if last != 1 {
		t.Errorf("progress ended at %d, want 1", last)
	}
	nd, err := c.dag.Get(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	links := nd.Links()
	if len(links) != 1 || links[0].Name != "a.txt" {
		t.Fatalf("links %v, want only a.txt", links)
	}
	withHidden, err := c.AddPath(ctx, dir, ImportOptions{Hidden: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if withHidden == root {
		t.Fatal("Hidden did not include the dot-file")
	}

	out := t.TempDir() + "/out"
	if err := c.Get(ctx, withHidden, out, nil); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a.txt": "a", ".hidden": "h"} {
		got := mustRead(t, out+"/"+name)
		if !bytes.Equal(got, []byte(want)) {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
}
