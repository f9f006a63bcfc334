package index

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestCheckpointSurvivesClose(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "idx")
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	g := newGenerator(7)
	for i := uint64(1); i <= 3; i++ {
		if err := ix.ApplyThrough(ctx, g.batch(10), i*10); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if cp, err := ix.Checkpoint(); err != nil || cp != 30 {
		t.Fatalf("Checkpoint = %d, %v; want 30", cp, err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix = MustOpen(t, dir)
	if cp, err := ix.Checkpoint(); err != nil || cp != 30 {
		t.Fatalf("after reopen: Checkpoint = %d, %v; want 30", cp, err)
	}
	if n, _ := ix.Count(); n != 30 {
		t.Errorf("after reopen: Count = %d, want 30", n)
	}
}

// crashChildEnv makes the test binary the child of TestCrashKeepsDocumentsAndCheckpointTogether.
const crashChildEnv = "LYCEUM_INDEX_CRASH_CHILD"

// A crash (the process exits without Close) may lose the batches not yet
// persisted, but never splits a batch from its checkpoint: what the
// checkpoint says was applied is there, and nothing after it.
func TestCrashKeepsDocumentsAndCheckpointTogether(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		ix, err := Open(dir)
		if err != nil {
			os.Exit(2)
		}
		g := newGenerator(9)
		for i := uint64(1); i <= 40; i++ {
			if err := ix.ApplyThrough(context.Background(), g.batch(25), i); err != nil {
				os.Exit(3)
			}
		}
		os.Exit(0) // no Close, no Sync: like kill -9 after the last Apply
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := filepath.Join(t.TempDir(), "idx")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashKeepsDocumentsAndCheckpointTogether$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	ix := MustOpen(t, dir)
	cp, err := ix.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	n, err := ix.Count()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("persisted through batch %d of 40", cp)
	if n != cp*25 {
		t.Fatalf("checkpoint %d but %d documents, want %d", cp, n, cp*25)
	}
	// Feeding the rest again completes the index.
	g := newGenerator(9)
	for i := uint64(1); i <= 40; i++ {
		docs := g.batch(25)
		if i > cp {
			if err := ix.ApplyThrough(context.Background(), docs, i); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n, _ := ix.Count(); n != 1000 {
		t.Errorf("after catch-up: Count = %d, want 1000", n)
	}
}

func TestDelistIsPersistedBeforeItReturns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "idx")
	ix := MustOpen(t, dir)
	MustApply(t, ix, create(alice, rid, resource("Adding fractions", "s", "en")))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ix.Delist(ctx, rid, "spam"); err != nil {
		t.Fatal(err)
	}
	// Delisting again with the same reason writes nothing and returns.
	if err := ix.Delist(ctx, rid, "spam"); err != nil {
		t.Fatal(err)
	}
	if err := ix.Relist(ctx, "never-delisted"); err != nil {
		t.Fatal(err)
	}
}
