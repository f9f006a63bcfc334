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

	"github.com/blevesearch/bleve/v2"
)

// bench1MEnv names a directory for Benchmark1M; without it the benchmark
// is skipped (it builds a million documents).
const bench1MEnv = "LYCEUM_BENCH_1M"

const bench1MDocs = 1_000_000

// Benchmark1M builds (once) on-disk indexes of the same one million
// generated resources, ours in $LYCEUM_BENCH_1M/lyceum and one with
// bleve's defaults (default mapping with _all, batches of 1,000, each
// waited for until persisted) in $LYCEUM_BENCH_1M/defaults. For each it
// reports the build rate, the full-build time and the bytes per document
// on disk; then it prints how many documents each query matches, runs the
// three queries of BenchmarkQuery and reports their p50 and p99, and
// prints the peak RSS of the process (VmHWM; the figures of the parent
// benchmarks are printed, as Go shows no metrics of a benchmark with
// sub-benchmarks). Build each index alone, one at a time, then query each
// in a process of its own, so that the peak RSS is that of opening and
// querying that index alone:
//
//	LYCEUM_BENCH_1M=/tmp/idx1m go test -run '^$' -bench 'Benchmark1M/lyceum/none' -timeout 60m ./index/          # build ours
//	LYCEUM_BENCH_1M=/tmp/idx1m go test -run '^$' -bench 'Benchmark1M/bleve-defaults/none' -timeout 60m ./index/  # build the defaults one
//	LYCEUM_BENCH_1M=/tmp/idx1m go test -run '^$' -bench 'Benchmark1M/lyceum' -benchtime=300x -timeout 60m ./index/
//	LYCEUM_BENCH_1M=/tmp/idx1m go test -run '^$' -bench 'Benchmark1M/bleve-defaults' -benchtime=300x -timeout 60m ./index/
func Benchmark1M(b *testing.B) {
	dir := os.Getenv(bench1MEnv)
	if dir == "" {
		b.Skip("set " + bench1MEnv + " to a directory to build and query 1M-document indexes")
	}
	b.Run("lyceum", func(b *testing.B) { bench1MLyceum(b, filepath.Join(dir, "lyceum")) })
	b.Run("bleve-defaults", func(b *testing.B) { bench1MDefaults(b, filepath.Join(dir, "defaults")) })
}

func bench1MLyceum(b *testing.B, path string) {
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
		// A full rebuild applies RebuildBatch documents per batch (see
		// RebuildBatch); the bleve-defaults build below keeps 1,000.
		for i := range bench1MDocs / RebuildBatch {
			if err := ix.ApplyThrough(ctx, g.batch(RebuildBatch), uint64(i+1)); err != nil {
				b.Fatal(err)
			}
		}
		if err := ix.Sync(ctx); err != nil {
			b.Fatal(err)
		}
		print1MBuild("lyceum", time.Since(start))
	}
	print1MDisk("lyceum", path)
	if n, err := ix.Count(); err != nil || n != bench1MDocs {
		b.Fatalf("Count = %d, %v", n, err)
	}
	run1MQueries(b, "lyceum", lyceumQueries(ix))
}

func bench1MDefaults(b *testing.B, path string) {
	var (
		bi  bleve.Index
		err error
	)
	_, statErr := os.Stat(path)
	if statErr == nil {
		bi, err = bleve.Open(path)
	} else {
		bi, err = bleve.New(path, bleve.NewIndexMapping())
	}
	if err != nil {
		b.Fatal(err)
	}
	defer bi.Close()
	if statErr != nil {
		// The generator and its seed are those of ours: the same records.
		g := newGenerator(3)
		start := time.Now()
		for range bench1MDocs / benchBatch {
			if err := defaultsBatch(bi, g.batch(benchBatch)); err != nil {
				b.Fatal(err)
			}
		}
		print1MBuild("bleve-defaults", time.Since(start))
	}
	print1MDisk("bleve-defaults", path)
	if n, err := bi.DocCount(); err != nil || n != bench1MDocs {
		b.Fatalf("DocCount = %d, %v", n, err)
	}
	run1MQueries(b, "bleve-defaults", defaultsQueries(bi))
}

func print1MBuild(label string, el time.Duration) {
	fmt.Printf("1M %s: built %d documents in %s: %.0f docs/s; peak RSS while building %d MiB\n", label, bench1MDocs, el.Round(time.Second), bench1MDocs/el.Seconds(), peakRSS()>>20)
}

func print1MDisk(label, path string) {
	var bytes int64
	filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				bytes += fi.Size()
			}
		}
		return nil
	})
	fmt.Printf("1M %s: %d bytes on disk: %.0f B/doc\n", label, bytes, float64(bytes)/bench1MDocs)
}

// run1MQueries prints the selectivity of the queries, runs them as
// sub-benchmarks and prints the peak RSS of the process.
func run1MQueries(b *testing.B, label string, qs benchQueries) {
	printSelectivity(b, "1M "+label, bench1MDocs, qs)
	for _, name := range benchQueryNames {
		b.Run(name, func(b *testing.B) { runQueries(b, qs[name]) })
	}
	fmt.Printf("1M %s: peak RSS of the process (VmHWM): %d MiB\n", label, peakRSS()>>20)
}

// lyceumQueries are the three benchmark queries on our index.
func lyceumQueries(ix *Index) benchQueries {
	ctx := context.Background()
	search := func(q Query) (uint64, error) {
		r, err := ix.Search(ctx, q)
		return r.Total, err
	}
	return benchQueries{
		"match": func(i int) (uint64, error) {
			return search(Query{Text: benchWords[i%len(benchWords)]})
		},
		"match+2filters+facets": func(i int) (uint64, error) {
			return search(Query{Text: benchWords[i%len(benchWords)], License: "CC-BY-4.0", Level: "2", Facets: true})
		},
		"fuzzy": func(i int) (uint64, error) {
			return search(Query{Text: benchTypos[i%len(benchTypos)]})
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
