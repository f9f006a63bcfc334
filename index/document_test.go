package index

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/document"
	bleveindex "github.com/blevesearch/bleve_index_api"
)

// mappedDocument is the record as the mapping is given it: the reference
// that bleveDocument must build, field for field, without the mapping.
func mappedDocument(r *record, delisted bool) map[string]any {
	b, _ := json.Marshal(r)
	rec := string(b)
	if delisted {
		return map[string]any{fRec: rec}
	}
	l := langSuffix(r.Language)
	m := map[string]any{
		fRec:       rec,
		fTitle + l: append([]string{r.Title}, r.Keywords...),
		fFacet:     r.facetTerms(),
		fPublished: r.Published.UTC().Format(sortTime),
		fLikes:     fmt.Sprintf("%010d", r.Likes),
	}
	if r.Summary != "" {
		m[fSummary+l] = r.Summary
	}
	if p := r.people(); len(p) > 0 {
		m[fPeople] = p
	}
	return m
}

// analyzedFields describes each analyzed field of d, keyed by name and
// array positions, in a form two documents can be compared in.
func analyzedFields(d *document.Document) map[string]string {
	out := map[string]string{}
	d.VisitFields(func(f bleveindex.Field) {
		f.Analyze()
		key := fmt.Sprintf("%s%v", f.Name(), f.ArrayPositions())
		var b strings.Builder
		fmt.Fprintf(&b, "opts=%v value=%q len=%d type=%c\n", f.Options(), f.Value(), f.AnalyzedLength(), f.EncodedFieldType())
		freqs := f.AnalyzedTokenFrequencies()
		for _, term := range slices.Sorted(maps.Keys(freqs)) {
			tf := freqs[term]
			fmt.Fprintf(&b, "  %q term=%q freq=%d", term, tf.Term, tf.Frequency())
			for _, loc := range tf.Locations {
				fmt.Fprintf(&b, " [%d-%d @%d %v]", loc.Start, loc.End, loc.Position, loc.ArrayPositions)
			}
			b.WriteString("\n")
		}
		out[key] = b.String()
	})
	return out
}

// TestBleveDocumentMatchesTheMapping checks that the documents built
// directly are the ones the mapping makes of the same records: same
// fields, options, values, terms, frequencies and locations, for every
// kind, every language, delisted or not.
func TestBleveDocumentMatchesTheMapping(t *testing.T) {
	ix := MustOpen(t, "")
	g := newGenerator(7)
	var recs []*record
	for range 60 {
		d := g.next()
		recs = append(recs, newResourceRecord(&d))
	}
	recs = append(recs,
		&record{Kind: KindResource, Title: "L'élève n'a pas vu l'œuvre", Summary: "Les élèves étudient les fractions.", Language: "fr-CA",
			Keywords: []string{"fractions", "fractions"}, Creators: []string{"Émile Zola"}, AuthorHandle: "emile@node", Likes: 12,
			Published: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))},
		&record{Kind: KindPerson, Title: "Ada Lovelace", Language: "xx"},
		&record{Kind: KindCommunity, Title: "Math teachers", Summary: "We share worksheets", CommunityHandle: "math@node"},
		&record{Kind: KindCollection, Title: "Año escolar", Language: "es", Subjects: []string{"0541", "0533"}, Items: 3},
	)
	for i, r := range recs {
		for _, delisted := range []bool{false, true} {
			id := fmt.Sprintf("doc%d", i)
			want := document.NewDocument(id)
			if err := ix.bi.Mapping().MapDocument(want, mappedDocument(r, delisted)); err != nil {
				t.Fatal(err)
			}
			got, err := ix.bleveDocument(id, r, delisted)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID() != id || got.HasComposite() {
				t.Fatalf("record %d: ID %q, composite %v", i, got.ID(), got.HasComposite())
			}
			w, g := analyzedFields(want), analyzedFields(got)
			for k := range w {
				if w[k] != g[k] {
					t.Errorf("record %d (delisted %v), field %s:\nmapping: %s\ndirect:  %s", i, delisted, k, w[k], g[k])
				}
			}
			for k := range g {
				if _, ok := w[k]; !ok {
					t.Errorf("record %d (delisted %v): field %s is not in the mapping's document", i, delisted, k)
				}
			}
		}
	}
	state := stateDocument("t/x", []byte("did:key:z6MkAlice"))
	want := document.NewDocument("t/x")
	if err := ix.bi.Mapping().MapDocument(want, map[string]any{fState: "=did:key:z6MkAlice"}); err != nil {
		t.Fatal(err)
	}
	if w, g := analyzedFields(want), analyzedFields(state); !maps.Equal(w, g) {
		t.Errorf("state document:\nmapping: %v\ndirect:  %v", w, g)
	}
}

// TestTokenFrequenciesMatchBleve compares tokenFrequencies with bleve's
// TokenFrequency on texts with repeated terms, with and without term
// vectors.
func TestTokenFrequenciesMatchBleve(t *testing.T) {
	ix := MustOpen(t, "")
	for _, text := range []string{"", "a", "the cat and the hat and the bat", "fractions fractions Fractions équations", strings.Repeat("x y ", 300)} {
		tokens := ix.analyzers[plainLang].Analyze([]byte(text))
		for _, vectors := range []bool{false, true} {
			opts := bleveindex.IndexField
			if vectors {
				opts |= bleveindex.IncludeTermVectors
			}
			pos := []uint64{2}
			want := analysis.TokenFrequency(tokens, pos, opts)
			got := tokenFrequencies(tokens, pos, vectors)
			if len(got) != len(want) {
				t.Fatalf("%q: %d terms, want %d", text, len(got), len(want))
			}
			for k, w := range want {
				g := got[k]
				if g == nil || string(g.Term) != string(w.Term) || g.Frequency() != w.Frequency() || len(g.Locations) != len(w.Locations) {
					t.Fatalf("%q vectors %v: term %q: got %+v, want %+v", text, vectors, k, g, w)
				}
				for i := range w.Locations {
					gl, wl := g.Locations[i], w.Locations[i]
					if gl.Start != wl.Start || gl.End != wl.End || gl.Position != wl.Position || !slices.Equal(gl.ArrayPositions, wl.ArrayPositions) {
						t.Fatalf("%q: term %q location %d: got %+v, want %+v", text, k, i, *gl, *wl)
					}
				}
			}
		}
	}
}
