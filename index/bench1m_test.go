package index

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// bench1MEnv names a directory for Benchmark1M; without it the benchmark
// is skipped (it builds a million documents).
const bench1MEnv = "LYCEUM_BENCH_1M"

const bench1MDocs = 1_000_000

// Benchmark1M builds (once) an on-disk index of one million generated
// resources in $LYCEUM_BENCH_1M/lyceum, reporting the build rate, the
// full-build time and the bytes per document on disk; then it runs the
// three queries of BenchmarkQuery on it and reports their p50 and p99,
// and prints the peak RSS of the process (VmHWM; the figures of the
// parent benchmark are printed, as Go shows no metrics of a benchmark with
// sub-benchmarks). Build only, then query the built index in a second
// process to get the peak RSS of opening and querying alone:
//
//	LYCEUM_BENCH_1M=/tmp/idx1m go test -run '^$' -bench 'Benchmark1M/none' -timeout 60m ./index/
//	LYCEUM_BENCH_1M=/tmp/idx1m go test -run '^$' -bench 'Benchmark1M' -benchtime=300x -timeout 60m ./index/
func Benchmark1M(b *testing.B) {
	dir := os.Getenv(bench1MEnv)
	if dir == "" {
		b.Skip("set " + bench1MEnv + " to a directory to build and query a 1M-document index")
	}
	path := filepath.Join(dir, "lyceum")
	ctx := context.Background()
	_, statErr := os.Stat(path)
	ix, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	if statErr != nil {
		g := newGenerator(3)
		start := time.Now()
		for i := range bench1MDocs / benchBatch {
			if err := ix.ApplyThrough(ctx, g.batch(benchBatch), uint64(i+1)); err != nil {
				b.Fatal(err)
			}
		}
		if err := ix.Sync(ctx); err != nil {
			b.Fatal(err)
		}
		el := time.Since(start)
		fmt.Printf("1M: built %d documents in %s: %.0f docs/s; peak RSS while building %d MiB\n", bench1MDocs, el.Round(time.Second), bench1MDocs/el.Seconds(), peakRSS()>>20)
	}
	var bytes int64
	filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				bytes += fi.Size()
			}
		}
		return nil
	})
	fmt.Printf("1M: %d bytes on disk: %.0f B/doc\n", bytes, float64(bytes)/bench1MDocs)
	if n, err := ix.Count(); err != nil || n != bench1MDocs {
		b.Fatalf("Count = %d, %v", n, err)
	}
	queries := lyceumQueries(ix)
	for _, name := range []string{"match", "match+2filters+facets", "fuzzy"} {
		b.Run(name, func(b *testing.B) { runQueries(b, queries[name]) })
	}
	fmt.Printf("1M: peak RSS of the process (VmHWM): %d MiB\n", peakRSS()>>20)
}

// lyceumQueries are the three benchmark queries on our index.
func lyceumQueries(ix *Index) map[string]func(i int) error {
	ctx := context.Background()
	return map[string]func(i int) error{
		"match": func(i int) error {
			_, err := ix.Search(ctx, Query{Text: benchWords[i%len(benchWords)]})
			return err
		},
		"match+2filters+facets": func(i int) error {
			_, err := ix.Search(ctx, Query{Text: benchWords[i%len(benchWords)], License: "CC-BY-4.0", Level: "2", Facets: true})
			return err
		},
		"fuzzy": func(i int) error {
			_, err := ix.Search(ctx, Query{Text: benchTypos[i%len(benchTypos)]})
			return err
		},
	}
}

// peakRSS is the process's peak resident set (VmHWM), in bytes; 0 where
// /proc is missing.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
