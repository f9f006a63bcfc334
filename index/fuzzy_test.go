package index

import (
	"slices"
	"testing"

	bleveindex "github.com/blevesearch/bleve_index_api"
	"github.com/blevesearch/vellum"
)

// TestFuzzyTermsLikeBleve checks fuzzyTerms, which runs one automaton over
// each segment, against bleve's FieldDictFuzzy on an index of several
// segments.
func TestFuzzyTermsLikeBleve(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Index) {
		ix := open()
		g := newGenerator(13)
		for range 4 {
			MustApply(t, ix, g.batch(300)...)
		}
		adv, err := ix.bi.Advanced()
		if err != nil {
			t.Fatal(err)
		}
		rd, err := adv.Reader()
		if err != nil {
			t.Fatal(err)
		}
		defer rd.Close()
		dfas := map[string]vellum.Automaton{}
		for _, c := range [][2]string{{"summary_en", "fracton"}, {"title_en", "geometri"}, {"summary_fr", "vocabulair"}, {"summary_xx", "breukn"}, {"summary_en", "zzzzzz"}} {
			var err error
			got := ix.fuzzyTerms(rd, c[0], c[1], dfas, &err)
			if err != nil {
				t.Fatal(err)
			}
			fd, err := rd.(bleveindex.IndexReaderFuzzy).FieldDictFuzzy(c[0], c[1], 1, "")
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for e, err := fd.Next(); e != nil && err == nil; e, err = fd.Next() {
				want = append(want, e.Term)
			}
			fd.Close()
			if !slices.Equal(got, want[:min(len(want), maxFuzzyTerms)]) {
				t.Errorf("%s %s: %q, bleve: %q", c[0], c[1], got, want)
			}
			if c[1] != "zzzzzz" && len(got) == 0 {
				t.Errorf("%s %s: no terms", c[0], c[1])
			}
		}
	})
}
