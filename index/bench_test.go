package index

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

const benchBatch = 1000

// benchDir holds the on-disk indexes of one benchmark process; TestMain
// removes it.
var benchDir = sync.OnceValue(func() string {
	d, err := os.MkdirTemp("", "lyceum-index-bench-")
	if err != nil {
		panic(err)
	}
	return d
})

var benchDirUsed bool

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDirUsed {
		os.RemoveAll(benchDir())
	}
	os.Exit(code)
}

func tempBenchDir(b *testing.B, name string) string {
	benchDirUsed = true
	d, err := os.MkdirTemp(benchDir(), name)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkIngest measures ApplyThrough of batches of 1000 generated
// Creates into an on-disk index, and a final Sync, so that every document
// counted is persisted; one op is one batch.
func BenchmarkIngest(b *testing.B) {
	ix, err := Open(filepath.Join(tempBenchDir(b, "ingest"), "idx"))
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	g := newGenerator(1)
	ctx := context.Background()
	var busy time.Duration
	i := uint64(0)
	for b.Loop() {
		b.StopTimer()
		docs := g.batch(benchBatch)
		b.StartTimer()
		start := time.Now()
		i++
		if err := ix.ApplyThrough(ctx, docs, i); err != nil {
			b.Fatal(err)
		}
		busy += time.Since(start)
	}
	start := time.Now()
	if err := ix.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	busy += time.Since(start)
	b.ReportMetric(float64(b.N*benchBatch)/busy.Seconds(), "docs/s")
}

// BenchmarkIngestBleveDefaults indexes the same records with bleve's
// default mapping (dynamic fields, _all) in batches of the same size.
func BenchmarkIngestBleveDefaults(b *testing.B) {
	bi, err := bleve.New(filepath.Join(tempBenchDir(b, "defaults"), "idx"), bleve.NewIndexMapping())
	if err != nil {
		b.Fatal(err)
	}
	defer bi.Close()
	g := newGenerator(1)
	var busy time.Duration
	for b.Loop() {
		b.StopTimer()
		docs := g.batch(benchBatch)
		b.StartTimer()
		start := time.Now()
		if err := defaultsBatch(bi, docs); err != nil {
			b.Fatal(err)
		}
		busy += time.Since(start)
	}
	b.ReportMetric(float64(b.N*benchBatch)/busy.Seconds(), "docs/s")
}

func defaultsBatch(bi bleve.Index, docs []Doc) error {
	batch := bi.NewBatch()
	for _, d := range docs {
		id, f := flatten(d)
		if err := batch.Index(id, f); err != nil {
			return err
		}
	}
	return bi.Batch(batch)
}

const benchQueryDocs = 100_000

type benchIndexes struct {
	ix       *Index
	defaults bleve.Index
}

// bench100k builds both 100k-document indexes once per process.
var bench100k = sync.OnceValues(func() (*benchIndexes, error) {
	benchDirUsed = true
	dir, err := os.MkdirTemp(benchDir(), "q")
	if err != nil {
		return nil, err
	}
	ix, err := Open(filepath.Join(dir, "lyceum"))
	if err != nil {
		return nil, err
	}
	bi, err := bleve.New(filepath.Join(dir, "defaults"), bleve.NewIndexMapping())
	if err != nil {
		return nil, err
	}
	g := newGenerator(2)
	for range benchQueryDocs / benchBatch {
		docs := g.batch(benchBatch)
		if err := ix.Apply(context.Background(), docs); err != nil {
			return nil, err
		}
		if err := defaultsBatch(bi, docs); err != nil {
			return nil, err
		}
	}
	return &benchIndexes{ix: ix, defaults: bi}, nil
})

// Query words: realistic teacher queries, topic words of big and small
// subjects (fractions and geometry in mathematics, vocabulary and grammar
// in languages, energy in physics, photosynthesis in biology, revolution
// in history, democracy in civics), from 0.8 % to 5.5 % of the generated
// documents (see TestGeneratorIsRealistic); and typos of them (one edit
// each) for the fuzzy case.
var (
	benchWords = []string{"fractions", "energy", "democracy", "photosynthesis", "grammar", "geometry", "vocabulary", "revolution"}
	benchTypos = []string{"fractons", "enrgy", "democrasy", "photosynthesys", "gramar", "geomtry", "vocabulry", "revolutin"}
)

// benchQueryNames are the three benchmark queries, in the order reported.
var benchQueryNames = []string{"match", "match+2filters+facets", "fuzzy"}

// benchQueries maps each of benchQueryNames to a function that runs the
// query for benchWords[i%len(benchWords)] and returns its total hits.
type benchQueries map[string]func(i int) (uint64, error)

// BenchmarkQuery runs three queries on 100,000 documents on our index and
// on the bleve-defaults index, and reports per-query p50 and p99.
func BenchmarkQuery(b *testing.B) {
	idx, err := bench100k()
	if err != nil {
		b.Fatal(err)
	}
	lyceum, defaults := lyceumQueries(idx.ix), defaultsQueries(idx.defaults)
	printSelectivity(b, "100k lyceum", benchQueryDocs, lyceum)
	printSelectivity(b, "100k bleve-defaults", benchQueryDocs, defaults)
	for _, name := range benchQueryNames {
		b.Run("lyceum/"+name, func(b *testing.B) { runQueries(b, lyceum[name]) })
		b.Run("bleve-defaults/"+name, func(b *testing.B) { runQueries(b, defaults[name]) })
	}
}

// defaultsQueries are the three benchmark queries on a bleve-defaults
// index: a match query on _all, the same with licence and level filters
// and five facets, and a fuzzy query (one edit) on _all.
func defaultsQueries(bi bleve.Index) benchQueries {
	return benchQueries{
		"match": func(i int) (uint64, error) {
			return defaultsSearch(bi, bleve.NewMatchQuery(benchWords[i%len(benchWords)]), false)
		},
		"match+2filters+facets": func(i int) (uint64, error) {
			lic := bleve.NewMatchPhraseQuery("CC-BY-4.0")
			lic.SetField("License")
			lvl := bleve.NewMatchQuery("2")
			lvl.SetField("Level")
			return defaultsSearch(bi, bleve.NewConjunctionQuery(bleve.NewMatchQuery(benchWords[i%len(benchWords)]), lic, lvl), true)
		},
		"fuzzy": func(i int) (uint64, error) {
			q := bleve.NewFuzzyQuery(benchTypos[i%len(benchTypos)])
			q.SetFuzziness(1)
			return defaultsSearch(bi, q, false)
		},
	}
}

func defaultsSearch(bi bleve.Index, q query.Query, facets bool) (uint64, error) {
	req := bleve.NewSearchRequestOptions(q, DefaultSize, 0, false)
	req.Fields = []string{"*"}
	req.Highlight = bleve.NewHighlightWithStyle("html")
	if facets {
		for _, f := range []string{"Language", "License", "Subjects", "Type", "Level"} {
			req.AddFacet(f, bleve.NewFacetRequest(f, 50))
		}
	}
	sr, err := bi.Search(req)
	if err != nil {
		return 0, err
	}
	return sr.Total, nil
}

// printSelectivity prints how many of the n documents each query matches
// for each of benchWords, so that reports can state the selectivity.
func printSelectivity(b *testing.B, label string, n int, qs benchQueries) {
	for i, w := range benchWords {
		var line strings.Builder
		fmt.Fprintf(&line, "%s selectivity: %-15s", label, w)
		for _, name := range benchQueryNames {
			total, err := qs[name](i)
			if err != nil {
				b.Fatal(err)
			}
			what := name
			if name == "fuzzy" {
				what += "(" + benchTypos[i] + ")"
			}
			fmt.Fprintf(&line, "  %s %d (%.2f %%)", what, total, 100*float64(total)/float64(n))
		}
		fmt.Println(line.String())
	}
}

func runQueries(b *testing.B, run func(i int) (uint64, error)) {
	durs := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		start := time.Now()
		if _, err := run(i); err != nil {
			b.Fatal(err)
		}
		durs = append(durs, time.Since(start))
		i++
	}
	slices.Sort(durs)
	b.ReportMetric(float64(durs[len(durs)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(durs[(len(durs)*99)/100].Microseconds()), "p99-µs")
}
