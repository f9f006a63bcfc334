package ipfs

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
)

const crashChildEnv = "LYCEUM_IPFS_CRASH_CHILD_DIR"

// TestStoreSurvivesKill runs adds in a child process, kills it with
// SIGKILL mid-stream, and checks that every add the child acknowledged is
// still pinned and readable.
func TestStoreSurvivesKill(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStoreSurvivesKill$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []cid.Cid
	sc := bufio.NewScanner(out)
	for sc.Scan() && len(acked) < 5 {
		c, err := cid.Decode(sc.Text())
		if err != nil {
			continue // test framework output
		}
		acked = append(acked, c)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if len(acked) < 5 {
		t.Fatalf("child acknowledged only %d adds", len(acked))
	}

	s := MustOpenStore(t, dir)
	c := New(s, nil, WithLogger(quietLogger()))
	pins, err := c.Pins(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GC(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, root := range acked {
		if !slices.ContainsFunc(pins, root.Equals) {
			t.Errorf("acknowledged add %d (%s) is not pinned", i, root)
			continue
		}
		equalBytes(t, MustCat(t, c, root), randomBytes(uint64(7000+i), 512<<10))
	}
}

// crashChild adds pinned files forever, printing each CID once Add returns.
func crashChild(dir string) {
	s, err := OpenStore(dir, WithStoreLogger(quietLogger()))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	c := New(s, nil, WithLogger(quietLogger()))
	for i := 0; ; i++ {
		root, err := c.Add(context.Background(), "crash", files.NewBytesFile(randomBytes(uint64(7000+i), 512<<10)), ImportOptions{Pin: true}, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println(root)
	}
}
