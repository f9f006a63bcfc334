package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/de"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/es"
	"github.com/blevesearch/bleve/v2/analysis/lang/fr"
	"github.com/blevesearch/bleve/v2/analysis/lang/it"
	"github.com/blevesearch/bleve/v2/analysis/lang/pt"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/vellum/levenshtein"
)

// ErrStaleMapping reports an on-disk index built with another mapping
// version. The index is derived state: delete the directory and rebuild it
// from the logs.
var ErrStaleMapping = errors.New("index: built with another mapping version; rebuild it")

// mappingVersion changes whenever the mapping or the document layout does.
const mappingVersion = "lyceum-index-3"

// Languages are the primary language subtags that get their own analyzer
// (stemming and stop words). Every other language goes to the plain
// analyzer (unicode tokenizer, lower case, no stemming, no stop words).
var Languages = []string{en.AnalyzerName, fr.AnalyzerName, es.AnalyzerName, de.AnalyzerName, it.AnalyzerName, pt.AnalyzerName}

// plainLang is the field suffix for languages without an analyzer, and
// for collections, communities and persons, which have no language.
const plainLang = "xx"

// plainAnalyzer is the custom analyzer used for plainLang.
const plainAnalyzer = "lyceum_plain"

// fieldLangs is Languages plus plainLang: every suffix of the text fields.
var fieldLangs = append(append([]string(nil), Languages...), plainLang)

// analyzerOf names the analyzer of the text fields with suffix l.
func analyzerOf(l string) string {
	if l == plainLang {
		return plainAnalyzer
	}
	return l
}

// Field names of the bleve documents.
const (
	fTitle   = "title_"   // + language suffix: title and keywords; analyzed
	fSummary = "summary_" // + language suffix; analyzed
	fPeople  = "people"   // creators' names and handles; plain analyzer
	// fFacet holds every filter and facet term as a facet code and a
	// value (kr for kind resource, lCC-BY-4.0, s0541, …): one keyword
	// field with doc values, so that counting five facets visits one
	// field per matching document, not five.
	fFacet     = "f"
	fPublished = "published" // sortable UTC timestamp, keyword with doc values
	fLikes     = "likes"     // zero-padded like count, keyword with doc values
	fRec       = "rec"       // stored only: the record (JSON), what a Hit shows and what Apply needs
	fState     = "state"     // the value of a state document, stored only
)

// Kinds of indexed things, the values of Query.Kind and Hit.Kind.
const (
	KindResource   = "resource"
	KindCollection = "collection"
	KindCommunity  = "community"
	KindPerson     = "person"
)

// Kinds lists every kind.
var Kinds = []string{KindResource, KindCollection, KindCommunity, KindPerson}

// Index is the search index of one node: resources derived from verified
// activities, with moderation state. It is safe for concurrent use; writes
// (Apply, Delist, Relist) are serialized by a mutex because each reads the
// state the previous one wrote.
type Index struct {
	bi         bleve.Index
	cfg        config
	analyzers  map[string]analysis.Analyzer // by language suffix, for queries and snippets
	persistent bool                         // on disk: batches are persisted in the background
	mu         sync.Mutex                   // serializes writers
	// lev builds Levenshtein automata of distance 1 for fuzzy terms; the
	// builder's tables take a moment to make, so once, on first use.
	lev func() (*levenshtein.LevenshteinAutomatonBuilder, error)
}

type config struct {
	facetSize int
}

// Option configures Open.
type Option func(*config)

// WithFacetSize sets how many terms each facet returns (default 50; ISCED-F
// has about 80 detailed fields, so raise it to see every subject).
func WithFacetSize(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.facetSize = n
		}
	}
}

// Open opens the on-disk index at path, creating it if missing. An empty
// path makes an in-memory index, for tests and short-lived nodes.
//
// Durability: Apply returns once its batch is searchable; scorch persists
// it in the background ("unsafe_batch"), so a crash loses the batches not
// yet persisted. Nothing acknowledged is lost: the index is derived from
// the actors' logs, which the node stores durably before it acknowledges
// anything, and ApplyThrough records in the same batch how far into the
// log the index has got. After a crash, Checkpoint reports what was
// persisted and the caller feeds the index the rest again (Apply is
// idempotent). What is not derived from the logs, Delist and Relist, waits
// until persisted; so do Sync and Close. Waiting for every batch to be
// persisted (bleve's default) costs a segment file and two fsyncs per
// batch on the path of ingest.
func Open(path string, opts ...Option) (*Index, error) {
	cfg := config{facetSize: 50}
	for _, o := range opts {
		o(&cfg)
	}
	var (
		bi  bleve.Index
		err error
	)
	switch {
	case path == "":
		// scorch without a path keeps everything in memory; the same
		// engine as on disk, so both answer alike (upsidedown, bleve's
		// NewMemOnly, lacks the fuzzy term dictionary Search uses).
		bi, err = bleve.NewUsing("", newMapping(), scorch.Name, scorch.Name, nil)
	default:
		if _, statErr := os.Stat(path); statErr == nil {
			bi, err = bleve.OpenUsing(path, map[string]any{"unsafe_batch": true})
		} else if errors.Is(statErr, os.ErrNotExist) {
			bi, err = bleve.NewUsing(path, newMapping(), scorch.Name, scorch.Name, map[string]any{"unsafe_batch": true})
		} else {
			err = statErr
		}
	}
	if err != nil {
		return nil, fmt.Errorf("index: open %q: %w", path, err)
	}
	v, err := bi.GetInternal([]byte(keyMappingVersion))
	if err != nil {
		bi.Close()
		return nil, fmt.Errorf("index: open %q: %w", path, err)
	}
	switch {
	case v == nil:
		if err := bi.SetInternal([]byte(keyMappingVersion), []byte(mappingVersion)); err != nil {
			bi.Close()
			return nil, fmt.Errorf("index: open %q: %w", path, err)
		}
	case string(v) != mappingVersion:
		bi.Close()
		return nil, fmt.Errorf("index: open %q: found %q, want %q: %w", path, v, mappingVersion, ErrStaleMapping)
	}
	ix := &Index{bi: bi, cfg: cfg, analyzers: map[string]analysis.Analyzer{}, persistent: path != ""}
	ix.lev = sync.OnceValues(func() (*levenshtein.LevenshteinAutomatonBuilder, error) {
		return levenshtein.NewLevenshteinAutomatonBuilder(1, true)
	})
	for _, l := range fieldLangs {
		an := bi.Mapping().AnalyzerNamed(analyzerOf(l))
		if an == nil {
			bi.Close()
			return nil, fmt.Errorf("index: open %q: no analyzer %q", path, analyzerOf(l))
		}
		ix.analyzers[l] = withWordTokenizer(an)
	}
	return ix, nil
}

// Close persists what has been applied and closes the index.
func (ix *Index) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	syncErr := ix.Sync(ctx)
	if err := ix.bi.Close(); err != nil {
		return fmt.Errorf("index: close: %w", err)
	}
	if syncErr != nil {
		return fmt.Errorf("index: close: %w", syncErr)
	}
	return nil
}

// Sync waits until everything applied so far is persisted.
func (ix *Index) Sync(ctx context.Context) error {
	ix.mu.Lock()
	b := ix.bi.NewBatch()
	b.SetInternal([]byte(keySync), []byte(strconv.FormatInt(time.Now().UnixNano(), 10)))
	wait := ix.persisted(b)
	err := ix.bi.Batch(b)
	ix.mu.Unlock()
	if err != nil {
		return fmt.Errorf("index: sync: %w", err)
	}
	return wait(ctx)
}

// persisted arranges for b's persistence to be waited for: the returned
// function blocks until scorch has persisted b (at once for an in-memory
// index).
func (ix *Index) persisted(b *bleve.Batch) func(context.Context) error {
	if !ix.persistent {
		return func(context.Context) error { return nil }
	}
	done := make(chan error, 1)
	b.SetPersistedCallback(func(err error) { done <- err })
	return func(ctx context.Context) error {
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("index: persist: %w", err)
			}
			return nil
		case <-ctx.Done():
			return fmt.Errorf("index: persist: %w", ctx.Err())
		}
	}
}

// Count returns the number of searchable documents (resources,
// collections, communities and persons that are neither deleted nor
// delisted).
func (ix *Index) Count() (uint64, error) {
	req := bleve.NewSearchRequestOptions(anyKind(), 0, 0, false)
	sr, err := ix.bi.Search(req)
	if err != nil {
		return 0, fmt.Errorf("index: count: %w", err)
	}
	return sr.Total, nil
}

// Checking ctx before heavy work is all we can do: bleve's Batch takes no
// context.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return nil
}

// newMapping builds the static mapping. Design:
//
//   - One document per indexed thing, with per-language text fields
//     (title_en, summary_fr, …, title_xx for other languages). A resource
//     fills only the fields of its own language, so it is analyzed with
//     the right stemmer and stop words; Search analyzes each query word
//     once per language and asks only the fields whose dictionary has the
//     result, so a French "fractions" is stemmed the French way and an
//     English one the English way without a fan-out over every field. (A
//     document type per language would analyze documents correctly too,
//     but bleve resolves a query field's analyzer from the first type
//     mapping that has the field.)
//   - No _all field and no dynamic fields: everything not listed is
//     dropped. Text fields are not stored: the record (fRec, one stored
//     field) has what a Hit shows and what Apply needs to order versions,
//     so there is no second state document per resource.
//   - Filters and facets are terms of one keyword field with doc values
//     (fFacet); published and likes are fixed-width keywords with doc
//     values for sorting (one term each, where numeric and date fields
//     index a term per precision step).
//   - Text fields keep term vectors: phrase queries need positions.
//     Snippets are highlighted from the record, not from term vectors, so
//     a search never collects match locations.
func newMapping() *mapping.IndexMappingImpl {
	im := bleve.NewIndexMapping()
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	im.DefaultAnalyzer = keyword.Name
	// The tokenizer and filter packages register themselves with bleve's
	// registry; naming them here also keeps the imports honest.
	if err := im.AddCustomAnalyzer(plainAnalyzer, map[string]any{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []any{lowercase.Name},
	}); err != nil {
		panic(err) // static configuration: a failure is a programming error
	}

	dm := bleve.NewDocumentStaticMapping()
	dm.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())

	for _, l := range fieldLangs {
		dm.AddFieldMappingsAt(fTitle+l, textField(analyzerOf(l)))
		dm.AddFieldMappingsAt(fSummary+l, textField(analyzerOf(l)))
	}
	dm.AddFieldMappingsAt(fPeople, textField(plainAnalyzer))
	for _, f := range []string{fFacet, fPublished, fLikes} {
		dm.AddFieldMappingsAt(f, keywordField())
	}
	for _, f := range []string{fState, fRec} {
		dm.AddFieldMappingsAt(f, storedOnly())
	}
	im.DefaultMapping = dm
	return im
}

// textField is an analyzed text field with term vectors (positions, for
// phrase queries), not stored.
func textField(analyzer string) *mapping.FieldMapping {
	fm := bleve.NewTextFieldMapping()
	fm.Analyzer = analyzer
	fm.Store = false
	fm.IncludeTermVectors = true
	fm.IncludeInAll = false
	fm.DocValues = false
	return fm
}

// keywordField is one term, with doc values, not stored: filters, facets
// and sort keys.
func keywordField() *mapping.FieldMapping {
	fm := bleve.NewKeywordFieldMapping()
	fm.IncludeInAll = false
	fm.IncludeTermVectors = false
	fm.DocValues = true
	fm.Store = false
	return fm
}

// storedOnly is a field returned with hits but never searched.
func storedOnly() *mapping.FieldMapping {
	fm := bleve.NewKeywordFieldMapping()
	fm.Index = false
	fm.Store = true
	fm.IncludeInAll = false
	fm.IncludeTermVectors = false
	fm.DocValues = false
	return fm
}
