package index

import (
	"context"
	"slices"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// TestFacetsCountLikeBleve checks the facet counts of facetQuery against
// bleve's own facet builder on the same index: several segments, a
// delisted resource, and queries that match everything, a filter, a word,
// and a word with two filters.
func TestFacetsCountLikeBleve(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Index) {
		ix := fourSegmentsOneDelisted(t, open(), 11)
		lic := term(fFacet, facetTerm(FacetLicense, "CC-BY-4.0"))
		lvl := term(fFacet, facetTerm(FacetLevel, "2"))
		word := term(fSummary+"en", "fraction")
		for name, q := range map[string]query.Query{
			"every kind":             anyKind(),
			"a filter":               lic,
			"a word":                 word,
			"a word and two filters": bleve.NewConjunctionQuery(word, lic, lvl),
		} {
			t.Run(name, func(t *testing.T) {
				want := bleve.NewSearchRequestOptions(q, 10, 0, false)
				want.AddFacet(fFacet, bleve.NewFacetRequest(fFacet, 1<<20))
				wr, err := ix.bi.Search(want)
				if err != nil {
					t.Fatal(err)
				}
				fq := &facetQuery{Query: q}
				gr, err := ix.bi.Search(bleve.NewSearchRequestOptions(fq, 10, 0, false))
				if err != nil || fq.err != nil {
					t.Fatal(err, fq.err)
				}
				if gr.Total != wr.Total || wr.Total == 0 {
					t.Fatalf("total %d, bleve's %d", gr.Total, wr.Total)
				}
				var wantCounts []facetTermCount
				for _, tf := range wr.Facets[fFacet].Terms.Terms() {
					wantCounts = append(wantCounts, facetTermCount{tf.Term, tf.Count})
				}
				if !slices.Equal(fq.counts, wantCounts) {
					t.Errorf("counts\n%v\nbleve's\n%v", fq.counts, wantCounts)
				}
			})
		}
	})
}

// TestFiltersMatchLikeAConjunction checks that filterQuery matches the
// documents a conjunction of the query and the filter terms matches.
func TestFiltersMatchLikeAConjunction(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Index) {
		ix := fourSegmentsOneDelisted(t, open(), 12)
		word := term(fSummary+"en", "fraction")
		for name, filters := range map[string][]string{
			"one filter":              {facetTerm(FacetLicense, "CC-BY-4.0")},
			"two filters":             {facetTerm(FacetLicense, "CC-BY-4.0"), facetTerm(FacetLevel, "2")},
			"a filter nothing has":    {facetTerm(FacetLicense, "none")},
			"the kind and a language": {facetTerm(FacetKind, KindResource), facetTerm(FacetLanguage, "en")},
		} {
			t.Run(name, func(t *testing.T) {
				must := []query.Query{word}
				for _, f := range filters {
					must = append(must, term(fFacet, f))
				}
				ids := func(q query.Query) []string {
					sr, err := ix.bi.Search(bleve.NewSearchRequestOptions(q, 10000, 0, false))
					if err != nil {
						t.Fatal(err)
					}
					var out []string
					for _, h := range sr.Hits {
						out = append(out, h.ID)
					}
					slices.Sort(out)
					return out
				}
				want, got := ids(bleve.NewConjunctionQuery(must...)), ids(&filterQuery{Query: word, terms: filters})
				if !slices.Equal(got, want) || (len(want) == 0 && name != "a filter nothing has") {
					t.Errorf("filtered: %d documents, conjunction: %d", len(got), len(want))
				}
			})
		}
	})
}

// fourSegmentsOneDelisted fills ix with four batches of 300 generated
// resources (four segments) and delists the first one.
func fourSegmentsOneDelisted(t *testing.T, ix *Index, seed uint64) *Index {
	t.Helper()
	g := newGenerator(seed)
	var first string
	for range 4 {
		docs := g.batch(300)
		if first == "" {
			first = docs[0].CID
		}
		MustApply(t, ix, docs...)
	}
	if err := ix.Delist(context.Background(), first, "spam"); err != nil {
		t.Fatal(err)
	}
	return ix
}
