package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/blevesearch/bleve/v2"
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
	"github.com/blevesearch/bleve/v2/mapping"
)

// ErrStaleMapping reports an on-disk index built with another mapping
// version. The index is derived state: delete the directory and rebuild it
// from the logs.
var ErrStaleMapping = errors.New("index: built with another mapping version; rebuild it")

// mappingVersion changes whenever the mapping or the document layout does.
const mappingVersion = "lyceum-index-1"

// Languages are the primary language subtags that get their own analyzer
// (stemming and stop words). Every other language goes to the plain
// analyzer (unicode tokenizer, lower case, no stemming, no stop words).
var Languages = []string{en.AnalyzerName, fr.AnalyzerName, es.AnalyzerName, de.AnalyzerName, it.AnalyzerName, pt.AnalyzerName}

// plainLang is the field suffix for languages without an analyzer.
const plainLang = "xx"

// plainAnalyzer is the custom analyzer used for plainLang.
const plainAnalyzer = "lyceum_plain"

// fieldLangs is Languages plus plainLang: every suffix of the text fields.
var fieldLangs = append(append([]string(nil), Languages...), plainLang)

// Field names of the bleve documents.
const (
	fTitle           = "title_"   // + language suffix; analyzed, stored
	fSummary         = "summary_" // + language suffix; analyzed, stored
	fLicense         = "license"
	fLanguage        = "language"     // primary subtag, for filter and facet
	fLanguageTag     = "language_tag" // full BCP 47 tag
	fSubjects        = "subjects"
	fType            = "type"
	fLevel           = "level"
	fPublished       = "published"
	fLikes           = "likes"
	fVersion         = "version"
	fAuthor          = "author"
	fAuthorHandle    = "author_handle"
	fCommunity       = "community"
	fCommunityHandle = "community_handle"
	fOrigin          = "origin"
	fFileCID         = "file_cid"
	fURL             = "url"
	fKind            = "kind"  // kindResource on every resource, nothing on state documents
	fState           = "state" // the value of a state document, stored only
)

const kindResource = "resource"

// Index is the search index of one node: resources derived from verified
// activities, with moderation state. It is safe for concurrent use; writes
// (Apply, Delist, Relist) are serialized by a mutex because each reads the
// state the previous one wrote.
type Index struct {
	bi  bleve.Index
	cfg config
	mu  sync.Mutex // serializes writers
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
// path makes an in-memory index (bleve.NewMemOnly), for tests and
// short-lived nodes.
//
// Durability: the index uses bleve's default scorch configuration, without
// "unsafe_batch", so Batch (hence Apply, Delist and Relist) returns only
// after the new segment and the internal keys are persisted. Ingest is
// slower than with unsafe_batch, but an acknowledged Apply survives a
// crash and the node can record "indexed up to seq N" right after it. The
// index is derived state anyway and can always be rebuilt from the logs.
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
		bi, err = bleve.NewMemOnly(newMapping())
	default:
		if _, statErr := os.Stat(path); statErr == nil {
			bi, err = bleve.Open(path)
		} else if errors.Is(statErr, os.ErrNotExist) {
			bi, err = bleve.New(path, newMapping())
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
	return &Index{bi: bi, cfg: cfg}, nil
}

// Close closes the index. Pending writes have already been persisted by
// the calls that made them.
func (ix *Index) Close() error {
	if err := ix.bi.Close(); err != nil {
		return fmt.Errorf("index: close: %w", err)
	}
	return nil
}

// Count returns the number of searchable documents (resources that are
// neither deleted nor delisted).
func (ix *Index) Count() (uint64, error) {
	req := bleve.NewSearchRequestOptions(term(fKind, kindResource), 0, 0, false)
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
//   - One document type, with per-language text fields (title_en,
//     summary_fr, …, title_xx for other languages). A resource fills only
//     the fields of its own language, so it is analyzed with the right
//     stemmer and stop words; a query is analyzed once per language
//     against that language's fields, so "fractions" finds a French
//     "fractions" stemmed the French way and an English one stemmed the
//     English way. A document-type-per-language mapping would analyze
//     documents correctly too, but bleve resolves a query field's analyzer
//     from the first type mapping that has the field, so queries would be
//     analyzed with one language only.
//   - No _all field (it roughly doubles the postings and we never query
//     it) and no dynamic fields: everything not listed is dropped.
//   - Only what a Hit shows is stored; filters and facets are keyword
//     fields with doc values; published and likes have doc values for
//     sorting.
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
		an := l
		if l == plainLang {
			an = plainAnalyzer
		}
		dm.AddFieldMappingsAt(fTitle+l, textField(an))
		dm.AddFieldMappingsAt(fSummary+l, textField(an))
	}
	for _, f := range []string{fLicense, fLanguage, fSubjects, fType, fLevel, fKind} {
		fm := bleve.NewKeywordFieldMapping()
		fm.IncludeInAll = false
		fm.IncludeTermVectors = false
		fm.DocValues = f != fKind
		fm.Store = f == fLicense
		dm.AddFieldMappingsAt(f, fm)
	}
	for _, f := range []string{fState, fLanguageTag, fAuthor, fAuthorHandle, fCommunity, fCommunityHandle, fOrigin, fFileCID, fURL} {
		dm.AddFieldMappingsAt(f, storedOnly())
	}
	pub := bleve.NewDateTimeFieldMapping()
	pub.IncludeInAll = false
	pub.Store = true
	pub.DocValues = true
	dm.AddFieldMappingsAt(fPublished, pub)
	likes := bleve.NewNumericFieldMapping()
	likes.IncludeInAll = false
	likes.Store = true
	likes.DocValues = true
	dm.AddFieldMappingsAt(fLikes, likes)
	ver := bleve.NewNumericFieldMapping()
	ver.IncludeInAll = false
	ver.Index = false
	ver.Store = true
	ver.DocValues = false
	dm.AddFieldMappingsAt(fVersion, ver)

	im.DefaultMapping = dm
	return im
}

// textField is an analyzed, stored text field with term vectors (needed
// for phrase queries and highlighting).
func textField(analyzer string) *mapping.FieldMapping {
	fm := bleve.NewTextFieldMapping()
	fm.Analyzer = analyzer
	fm.Store = true
	fm.IncludeTermVectors = true
	fm.IncludeInAll = false
	fm.DocValues = false
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
