package index

import (
	"encoding/json"
	"fmt"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/document"
	bleveindex "github.com/blevesearch/bleve_index_api"
)

// Options of the fields, taken from the field mappings newMapping uses.
var (
	optText    = textField("").Options()
	optKeyword = keywordField().Options()
	optStored  = storedOnly().Options()
)

// bleveDocument is the bleve document of id's record r: what the mapping
// would make of r's fields, built directly. bleve's reflective walk of a
// map cost about 8 µs a document, and its TokenFrequency allocates every
// term's entry and location list on its own. A delisted thing keeps only
// its record, so that it matches nothing but Relist can bring it back.
// Queries still find fields and analyzers through the mapping;
// TestBleveDocumentMatchesTheMapping keeps the two in step.
func (ix *Index) bleveDocument(id string, r *record, delisted bool) (*document.Document, error) {
	rec, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", id, err)
	}
	d := &document.Document{Fields: make([]document.Field, 0, 16)}
	d.SetID(id)
	d.Fields = append(d.Fields, newField(fRec, nil, rec, optStored, nil))
	if delisted {
		return d, nil
	}
	l := langSuffix(r.Language)
	an := ix.analyzers[l]
	d.Fields = append(d.Fields, newField(fTitle+l, []uint64{0}, []byte(r.Title), optText, an))
	for i, k := range r.Keywords {
		d.Fields = append(d.Fields, newField(fTitle+l, []uint64{uint64(i + 1)}, []byte(k), optText, an))
	}
	for i, f := range r.facetTerms() {
		d.Fields = append(d.Fields, newField(fFacet, []uint64{uint64(i)}, []byte(f), optKeyword, nil))
	}
	d.Fields = append(d.Fields,
		newField(fPublished, nil, []byte(r.Published.UTC().Format(sortTime)), optKeyword, nil),
		newField(fLikes, nil, fmt.Appendf(nil, "%010d", r.Likes), optKeyword, nil))
	if r.Summary != "" {
		d.Fields = append(d.Fields, newField(fSummary+l, nil, []byte(r.Summary), optText, an))
	}
	people := ix.analyzers[plainLang]
	for i, p := range r.people() {
		d.Fields = append(d.Fields, newField(fPeople, []uint64{uint64(i)}, []byte(p), optText, people))
	}
	return d, nil
}

// stateDocument is the bleve document of a state value.
func stateDocument(key string, v []byte) *document.Document {
	d := &document.Document{Fields: []document.Field{newField(fState, nil, append([]byte{'='}, v...), optStored, nil)}}
	d.SetID(key)
	return d
}

// field is a bleve document field whose analysis builds its term
// frequencies with a few allocations for all terms, where bleve's
// TokenFrequency makes three per term. Without an analyzer the whole
// value is one term, as bleve's keyword analyzer makes it.
type field struct {
	name     string
	pos      []uint64
	opts     bleveindex.FieldIndexingOptions
	value    []byte
	analyzer analysis.Analyzer
	length   int
	freqs    bleveindex.TokenFrequencies
}

var _ document.Field = (*field)(nil)

func newField(name string, pos []uint64, value []byte, opts bleveindex.FieldIndexingOptions, an analysis.Analyzer) *field {
	return &field{name: name, pos: pos, opts: opts, value: value, analyzer: an}
}

// Name is the field's name.
func (f *field) Name() string { return f.name }

// ArrayPositions is where the value sits in an array field.
func (f *field) ArrayPositions() []uint64 { return f.pos }

// Options are the field's indexing options.
func (f *field) Options() bleveindex.FieldIndexingOptions { return f.opts }

// Value is the field's text.
func (f *field) Value() []byte { return f.value }

// Text is the field's text as a string (bleve's TextField interface).
func (f *field) Text() string { return string(f.value) }

// NumPlainTextBytes is the length of the text.
func (f *field) NumPlainTextBytes() uint64 { return uint64(len(f.value)) }

// EncodedFieldType marks a text field.
func (f *field) EncodedFieldType() byte { return 't' }

// AnalyzedLength is the number of tokens Analyze found.
func (f *field) AnalyzedLength() int { return f.length }

// AnalyzedTokenFrequencies are the terms Analyze found.
func (f *field) AnalyzedTokenFrequencies() bleveindex.TokenFrequencies { return f.freqs }

// Size estimates the memory the field holds, for bleve's statistics.
func (f *field) Size() int {
	return 96 + len(f.name) + 8*len(f.pos) + 2*len(f.value) + 64*len(f.freqs)
}

// Analyze tokenizes the value and counts its terms.
func (f *field) Analyze() {
	var tokens analysis.TokenStream
	if f.analyzer != nil {
		tokens = f.analyzer.Analyze(f.value)
	} else {
		tokens = analysis.TokenStream{{End: len(f.value), Term: f.value, Position: 1, Type: analysis.AlphaNumeric}}
	}
	f.length = len(tokens)
	f.freqs = tokenFrequencies(tokens, f.pos, f.opts.IncludeTermVectors())
}

// tokenFrequencies is bleve's analysis.TokenFrequency with the terms,
// their keys and their location lists each cut from one allocation.
func tokenFrequencies(tokens analysis.TokenStream, pos []uint64, vectors bool) bleveindex.TokenFrequencies {
	freqs := make(bleveindex.TokenFrequencies, len(tokens))
	// The slab's capacity is the number of tokens, so it never moves and
	// the map's pointers into it stay good.
	slab := make([]bleveindex.TokenFreq, 0, len(tokens))
	n := 0
	for _, t := range tokens {
		n += len(t.Term)
	}
	keys := make([]byte, 0, n)
	for _, t := range tokens {
		keys = append(keys, t.Term...)
	}
	all := string(keys) // one copy; every key is a substring of it
	key := func(at int, t *analysis.Token) string { return all[at : at+len(t.Term)] }
	at := 0
	for _, t := range tokens {
		k := key(at, t)
		at += len(t.Term)
		tf, ok := freqs[k]
		if !ok {
			slab = append(slab, bleveindex.TokenFreq{Term: t.Term})
			tf = &slab[len(slab)-1]
			freqs[k] = tf
		}
		tf.SetFrequency(tf.Frequency() + 1)
	}
	if !vectors {
		return freqs
	}
	// Each term's locations are a window of one slice, filled in token
	// order by appends that stay within the window's capacity.
	locs := make([]bleveindex.TokenLocation, len(tokens))
	ptrs := make([]*bleveindex.TokenLocation, len(tokens))
	from := 0
	for i := range slab {
		to := from + slab[i].Frequency()
		slab[i].Locations = ptrs[from:from:to]
		from = to
	}
	at = 0
	for i, t := range tokens {
		tf := freqs[key(at, t)]
		at += len(t.Term)
		locs[i] = bleveindex.TokenLocation{ArrayPositions: pos, Start: t.Start, End: t.End, Position: t.Position}
		tf.Locations = append(tf.Locations, &locs[i])
	}
	return freqs
}
