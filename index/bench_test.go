package index

import (
	"context"
	"os"
	"path/filepath"
	"slices"
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

// Query words: common, mid-frequency and rare English words, and typos
// of five-letter-plus words for the fuzzy case.
var (
	benchWords = []string{"fractions", "energy", "democracy", "photosynthesis", "exercises", "geometry", "vocabulary", "revolution"}
	benchTypos = []string{"fractons", "enrgy", "democrasy", "photosynthesys", "exercices", "geometyr", "vocabulry", "revolutin"}
)

// BenchmarkQuery runs three queries on 100,000 documents on our index and
// on the bleve-defaults index, and reports per-query p50 and p99.
func BenchmarkQuery(b *testing.B) {
	idx, err := bench100k()
	if err != nil {
		b.Fatal(err)
	}
	lyceum := lyceumQueries(idx.ix)
	defaults := map[string]func(i int) error{
		"match": func(i int) error {
			return defaultsSearch(idx.defaults, bleve.NewMatchQuery(benchWords[i%len(benchWords)]), false)
		},
		"match+2filters+facets": func(i int) error {
			lic := bleve.NewMatchPhraseQuery("CC-BY-4.0")
			lic.SetField("License")
			lvl := bleve.NewMatchQuery("2")
			lvl.SetField("Level")
			return defaultsSearch(idx.defaults, bleve.NewConjunctionQuery(bleve.NewMatchQuery(benchWords[i%len(benchWords)]), lic, lvl), true)
		},
		"fuzzy": func(i int) error {
			q := bleve.NewFuzzyQuery(benchTypos[i%len(benchTypos)])
			q.SetFuzziness(1)
			return defaultsSearch(idx.defaults, q, false)
		},
	}
	for _, name := range []string{"match", "match+2filters+facets", "fuzzy"} {
		b.Run("lyceum/"+name, func(b *testing.B) { runQueries(b, lyceum[name]) })
		b.Run("bleve-defaults/"+name, func(b *testing.B) { runQueries(b, defaults[name]) })
	}
}

func defaultsSearch(bi bleve.Index, q query.Query, facets bool) error {
	req := bleve.NewSearchRequestOptions(q, DefaultSize, 0, false)
	req.Fields = []string{"*"}
	req.Highlight = bleve.NewHighlightWithStyle("html")
	if facets {
		for _, f := range []string{"Language", "License", "Subjects", "Type", "Level"} {
			req.AddFacet(f, bleve.NewFacetRequest(f, 50))
		}
	}
	_, err := bi.Search(req)
	return err
}

func runQueries(b *testing.B, run func(i int) error) {
	durs := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		start := time.Now()
		if err := run(i); err != nil {
			b.Fatal(err)
		}
		durs = append(durs, time.Since(start))
		i++
	}
	slices.Sort(durs)
	b.ReportMetric(float64(durs[len(durs)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(durs[(len(durs)*99)/100].Microseconds()), "p99-µs")
}
