package index

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// corpusDoc is one resource of the search corpus.
type corpusDoc struct {
	id, title, summary, lang, license, subject, typ, level string
	published                                              time.Time
	likes                                                  int
}

var corpus = []corpusDoc{
	{"en-frac", "Adding fractions", "A worksheet on equivalent fractions and common denominators.", "en", "CC-BY-4.0", "0541", "assessment", "1", t0, 3},
	{"en-cell", "The living cell", "Running experiments with microscopes: what fractions of a cell are water?", "en", "CC-BY-SA-4.0", "0511", "experiment", "2", t0.Add(1 * time.Hour), 1},
	{"en-words", "Fractions are equivalent", "Words about numbers.", "en-GB", "CC0-1.0", "0541", "reading", "1", t0.Add(2 * time.Hour), 0},
	{"fr-frac", "Les fractions équivalentes", "Une fiche sur les mathématiques au collège.", "fr", "CC-BY-4.0", "0541", "assessment", "2", t0.Add(3 * time.Hour), 5},
	{"es-hist", "Historia de España", "Las civilizaciones antiguas en la península.", "es", "CC-BY-4.0", "0222", "reading", "3", t0.Add(4 * time.Hour), 2},
	{"de-phys", "Physik für Anfänger", "Experimente mit Magneten und Strom.", "de", "CC-BY-NC-4.0", "0533", "experiment", "2", t0.Add(5 * time.Hour), 0},
	{"it-geo", "Geografia d'Italia", "Le regioni e i fiumi.", "it", "CC-BY-4.0", "0532", "map", "1", t0.Add(6 * time.Hour), 0},
	{"pt-bio", "Biologia celular", "Experiências com células vegetais.", "pt-BR", "CC-BY-SA-4.0", "0511", "experiment", "3", t0.Add(7 * time.Hour), 4},
	{"nl-taal", "Nederlandse grammatica", "Werkwoorden en zinnen <oefenen> & leren.", "nl", "CC0-1.0", "0231", "guides-and-tutorials", "adult", t0.Add(8 * time.Hour), 0},
}

// mustCorpus indexes corpus with its likes (each by a distinct liker).
func mustCorpus(t *testing.T, open func() *Index) *Index {
	t.Helper()
	ix := open()
	var docs []Doc
	for _, c := range corpus {
		r := resource(c.title, c.summary, c.lang)
		r.License, r.Subjects, r.LearningResourceType, r.Level, r.Published = c.license, []string{c.subject, c.subject}, c.typ, c.level, c.published
		docs = append(docs, create(alice, c.id, r))
		for i := range c.likes {
			docs = append(docs, like(fmt.Sprintf("did:key:z6MkLiker%d", i), fmt.Sprintf("like-%s-%d", c.id, i), c.id))
		}
	}
	MustApply(t, ix, docs...)
	return ix
}

func TestSearchFinds(t *testing.T) {
	cases := []struct {
		name string
		q    Query
		want []string // IDs, in order when ordered is set
		// ordered: compare order too; otherwise as a set
		ordered bool
	}{
		{"an empty query matching every resource", Query{}, []string{"en-frac", "en-cell", "en-words", "fr-frac", "es-hist", "de-phys", "it-geo", "pt-bio", "nl-taal"}, false},
		{"an English word by its stem", Query{Text: "fraction", Language: "en"}, []string{"en-frac", "en-words", "en-cell"}, false},
		{"a French word by its French stem", Query{Text: "mathématique"}, []string{"fr-frac"}, false},
		{"a Spanish word by its Spanish stem", Query{Text: "civilización"}, []string{"es-hist"}, false},
		{"a German word by its German stem", Query{Text: "Experiment", Language: "de"}, []string{"de-phys"}, false},
		{"an Italian word by its Italian stem", Query{Text: "regione"}, []string{"it-geo"}, false},
		{"a Portuguese word by its Portuguese stem", Query{Text: "célula", Language: "pt"}, []string{"pt-bio"}, false},
		{"a word of a language without an analyzer", Query{Text: "grammatica"}, []string{"nl-taal"}, false},
		{"nothing for a stop word of the document's language", Query{Text: "the", Language: "en"}, nil, false},
		{"a title match before a summary match", Query{Text: "cell", Language: "en"}, []string{"en-cell"}, true},
		{"title matches first", Query{Text: "fractions", Language: "en"}, []string{"en-frac", "en-words", "en-cell"}, true},
		{"a five-letter word with one typo", Query{Text: "fractons", Language: "en"}, []string{"en-frac", "en-words", "en-cell"}, false},
		{"no four-letter word with one typo", Query{Text: "cekl", Language: "en"}, nil, false},
		{"a quoted phrase only where the words are adjacent", Query{Text: `"equivalent fractions"`}, []string{"en-frac"}, false},
		{"a phrase and a word together", Query{Text: `"adding fractions" worksheet`}, []string{"en-frac"}, false},
		{"a phrase in the title", Query{Text: `"fractions are equivalent"`, Language: "en"}, []string{"en-words"}, false},
		{"by a full language tag", Query{Language: "pt-BR"}, []string{"pt-bio"}, false},
		{"by a primary language subtag covering regional tags", Query{Language: "en"}, []string{"en-frac", "en-cell", "en-words"}, false},
		{"by license and subject", Query{License: "CC-BY-4.0", Subject: "0541"}, []string{"en-frac", "fr-frac"}, false},
		{"by type and level", Query{Type: "experiment", Level: "2"}, []string{"en-cell", "de-phys"}, false},
		{"the newest first", Query{Sort: SortNewest, Size: 3}, []string{"nl-taal", "pt-bio", "it-geo"}, true},
		{"the most liked first", Query{Sort: SortPopular, Size: 3}, []string{"fr-frac", "pt-bio", "en-frac"}, true},
		{"the second page", Query{Sort: SortNewest, Size: 3, Page: 2}, []string{"de-phys", "es-hist", "fr-frac"}, true},
	}
	backends(t, func(t *testing.T, open func() *Index) {
		ix := mustCorpus(t, open)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := MustSearch(t, ix, tc.q)
				got := ids(r)
				want := slices.Clone(tc.want)
				if !tc.ordered {
					slices.Sort(got)
					slices.Sort(want)
				}
				if !slices.Equal(got, want) {
					t.Errorf("got %v, want %v", got, want)
				}
			})
		}
	})
}

func TestFacetCountsEqualTheMatchingDocuments(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Index) {
		ix := mustCorpus(t, open)
		for _, q := range []Query{{}, {License: "CC-BY-4.0"}, {Type: "experiment"}, {Text: "fractions"}, {Level: "2", Size: 1}} {
			t.Run(fmt.Sprintf("for %+v", q), func(t *testing.T) {
				fq := q
				fq.Facets = true
				r := MustSearch(t, ix, fq)
				all := MustSearch(t, ix, Query{Text: q.Text, Language: q.Language, License: q.License, Subject: q.Subject, Type: q.Type, Level: q.Level, Size: MaxSize})
				want := map[string]map[string]int{}
				for _, h := range all.Hits {
					c := corpusByID(h.ID)
					for name, term := range map[string]string{FacetLanguage: primary(c.lang), FacetLicense: c.license, FacetSubject: c.subject, FacetType: c.typ, FacetLevel: c.level} {
						if want[name] == nil {
							want[name] = map[string]int{}
						}
						want[name][term]++
					}
				}
				for _, name := range []string{FacetLanguage, FacetLicense, FacetSubject, FacetType, FacetLevel} {
					got := map[string]int{}
					for _, fc := range r.Facets[name] {
						got[fc.Term] = fc.Count
					}
					if fmt.Sprint(got) != fmt.Sprint(want[name]) && !(len(got) == 0 && len(want[name]) == 0) {
						t.Errorf("facet %s = %v, want %v", name, got, want[name])
					}
				}
				if r.Total != all.Total || int(r.Total) != len(all.Hits) {
					t.Errorf("Total %d, %d; hits %d", r.Total, all.Total, len(all.Hits))
				}
			})
		}
	})
}

func corpusByID(id string) corpusDoc {
	for _, c := range corpus {
		if c.id == id {
			return c
		}
	}
	panic("no corpus doc " + id)
}

func TestSnippetMarksMatchesAndEscapesTheRest(t *testing.T) {
	ix := mustCorpus(t, func() *Index { return MustOpen(t, "") })
	r := MustSearch(t, ix, Query{Text: "werkwoorden"})
	if len(r.Hits) != 1 {
		t.Fatalf("hits %v", ids(r))
	}
	s := r.Hits[0].Snippet
	if !strings.Contains(s, "<mark>Werkwoorden</mark>") || !strings.Contains(s, "&lt;oefenen&gt; &amp; leren") || strings.Contains(s, "<oefenen>") {
		t.Errorf("snippet %q", s)
	}
}

func TestSearchPaging(t *testing.T) {
	ix := mustCorpus(t, func() *Index { return MustOpen(t, "") })
	cases := []struct {
		name           string
		q              Query
		page, size, nh int
		err            bool
	}{
		{"defaults to page 1 of 20", Query{}, 1, 20, 9, false},
		{"caps the size at 100", Query{Size: 1000}, 1, MaxSize, 9, false},
		{"returns nothing past the end", Query{Page: 5, Size: 5}, 5, 5, 0, false},
		{"refuses pages deeper than the limit", Query{Page: 1000, Size: 100}, 0, 0, 0, true},
		{"refuses an unknown sort", Query{Sort: "random"}, 0, 0, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ix.Search(t.Context(), tc.q)
			if tc.err {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Page != tc.page || r.Size != tc.size || len(r.Hits) != tc.nh || r.Total != uint64(len(corpus)) {
				t.Errorf("page %d size %d hits %d total %d", r.Page, r.Size, len(r.Hits), r.Total)
			}
		})
	}
}
