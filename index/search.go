package index

import (
	"context"
	"fmt"
	"html"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	htmlhl "github.com/blevesearch/bleve/v2/search/highlight/highlighter/html"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Query is a search request. Empty filters match everything.
type Query struct {
	// Text is what the user typed: words (any of them may match; one typo
	// is forgiven in words of five letters or more) and "quoted phrases"
	// (each must match). "" matches every resource, for browsing by
	// filters.
	Text     string
	Language string // primary subtag ("pt") or full tag ("pt-BR")
	License  string // SPDX id
	Subject  string // ISCED-F code
	Type     string // learning resource type
	Level    string // ISCED level
	// Sort is "relevance" (default), "newest" or "popular".
	Sort string
	Page int // 1-based; default 1
	Size int // default 20, at most MaxSize
}

// Sort orders.
const (
	SortRelevance = "relevance"
	SortNewest    = "newest"
	SortPopular   = "popular"
)

// Paging limits. MaxDepth bounds (Page-1)*Size+Size, as deep paging costs
// memory proportional to the depth.
const (
	DefaultSize = 20
	MaxSize     = 100
	MaxDepth    = 10000
)

// Facet names, the keys of Result.Facets.
const (
	FacetLanguage = "language"
	FacetLicense  = "license"
	FacetSubject  = "subject"
	FacetType     = "type"
	FacetLevel    = "level"
)

var facetFields = map[string]string{
	FacetLanguage: fLanguage,
	FacetLicense:  fLicense,
	FacetSubject:  fSubjects,
	FacetType:     fType,
	FacetLevel:    fLevel,
}

// Result is one page of hits with the facets of all matching documents.
type Result struct {
	Total  uint64
	Hits   []Hit
	Facets map[string][]FacetCount // keys: the Facet* names
	Page   int
	Size   int
}

// Hit is one resource in a Result. It refers back to its origin (actor,
// node, URL) and its CIDs, as every HQ hit must.
type Hit struct {
	ID              string // stable resource ID
	Title           string
	Snippet         string // HTML: matched words in <mark>…</mark>, the rest escaped
	Author          string // did:key
	AuthorHandle    string
	Community       string // did:key, if posted to a community
	CommunityHandle string
	License         string
	Language        string // BCP 47
	Origin          string // peer ID of the origin node
	FileCID         string
	URL             string
	Version         uint64
	Published       time.Time
	Likes           int
	Score           float64
}

// FacetCount is one term of a facet and how many matching documents have it.
type FacetCount struct {
	Term  string
	Count int
}

// Title weighs this much more than the summary.
const titleBoost = 3

// Words of at least this many letters match with one typo.
const fuzzyMinRunes = 5

// snippetRunes bounds a snippet made without a highlight.
const snippetRunes = 200

var phraseRE = regexp.MustCompile(`"([^"]*)"`)

// Search runs q. Delisted and deleted resources never appear.
func (ix *Index) Search(ctx context.Context, q Query) (Result, error) {
	if err := ctxErr(ctx); err != nil {
		return Result{}, err
	}
	page, size := max(q.Page, 1), q.Size
	if size <= 0 {
		size = DefaultSize
	}
	size = min(size, MaxSize)
	from := (page - 1) * size
	if from+size > MaxDepth {
		return Result{}, fmt.Errorf("index: search: page %d of size %d is deeper than %d", page, size, MaxDepth)
	}

	langs := fieldLangs
	if q.Language != "" {
		langs = []string{langSuffix(q.Language)}
	}
	textQ, hasText := textQuery(q.Text, langs)
	must := []query.Query{}
	if hasText {
		must = append(must, textQ)
	}
	for field, v := range map[string]string{
		fLicense: q.License, fSubjects: q.Subject, fType: q.Type, fLevel: q.Level,
	} {
		if v != "" {
			must = append(must, term(field, v))
		}
	}
	if q.Language != "" {
		must = append(must, term(fLanguage, primary(q.Language)))
	}
	var top query.Query
	switch len(must) {
	case 0:
		top = term(fKind, kindResource) // not match-all: skip state documents
	case 1:
		top = must[0]
	default:
		top = bleve.NewConjunctionQuery(must...)
	}

	req := bleve.NewSearchRequestOptions(top, size, from, false)
	req.Fields = []string{fLicense, fLanguageTag, fAuthor, fAuthorHandle, fCommunity, fCommunityHandle, fOrigin, fFileCID, fURL, fVersion, fPublished, fLikes}
	for _, l := range langs {
		req.Fields = append(req.Fields, fTitle+l)
		if !hasText {
			req.Fields = append(req.Fields, fSummary+l)
		}
	}
	if hasText {
		req.Highlight = bleve.NewHighlightWithStyle(htmlhl.Name)
		for _, l := range langs {
			req.Highlight.AddField(fSummary + l)
		}
	}
	for name, field := range facetFields {
		req.AddFacet(name, bleve.NewFacetRequest(field, ix.cfg.facetSize))
	}
	switch q.Sort {
	case SortNewest:
		req.SortBy([]string{"-" + fPublished, "_id"})
	case SortPopular:
		req.SortBy([]string{"-" + fLikes, "-" + fPublished, "_id"})
	case "", SortRelevance:
		req.SortBy([]string{"-_score", "-" + fPublished, "_id"})
	default:
		return Result{}, fmt.Errorf("index: search: unknown sort %q", q.Sort)
	}

	sr, err := ix.bi.SearchInContext(ctx, req)
	if err != nil {
		return Result{}, fmt.Errorf("index: search: %w", err)
	}
	res := Result{Total: sr.Total, Page: page, Size: size, Hits: make([]Hit, 0, len(sr.Hits)), Facets: map[string][]FacetCount{}}
	for _, h := range sr.Hits {
		hit := Hit{
			ID:              h.ID,
			Score:           h.Score,
			License:         str(h.Fields[fLicense]),
			Language:        str(h.Fields[fLanguageTag]),
			Author:          str(h.Fields[fAuthor]),
			AuthorHandle:    str(h.Fields[fAuthorHandle]),
			Community:       str(h.Fields[fCommunity]),
			CommunityHandle: str(h.Fields[fCommunityHandle]),
			Origin:          str(h.Fields[fOrigin]),
			FileCID:         str(h.Fields[fFileCID]),
			URL:             str(h.Fields[fURL]),
		}
		if v, ok := h.Fields[fVersion].(float64); ok {
			hit.Version = uint64(v)
		}
		if v, ok := h.Fields[fLikes].(float64); ok {
			hit.Likes = int(v)
		}
		if t, err := time.Parse(time.RFC3339Nano, str(h.Fields[fPublished])); err == nil {
			hit.Published = t
		}
		for _, l := range langs {
			if t := str(h.Fields[fTitle+l]); t != "" {
				hit.Title = t
			}
			if fr := h.Fragments[fSummary+l]; len(fr) > 0 && hit.Snippet == "" {
				hit.Snippet = fr[0]
			}
			if s := str(h.Fields[fSummary+l]); s != "" && hit.Snippet == "" {
				hit.Snippet = html.EscapeString(truncate(s, snippetRunes))
			}
		}
		res.Hits = append(res.Hits, hit)
	}
	for name, fr := range sr.Facets {
		counts := []FacetCount{}
		if fr.Terms != nil {
			for _, t := range fr.Terms.Terms() {
				counts = append(counts, FacetCount{Term: t.Term, Count: t.Count})
			}
		}
		res.Facets[name] = counts
	}
	return res, nil
}

// textQuery turns what the user typed into a query over the title and
// summary fields of langs. Every quoted phrase must match; at least one of
// the other words must (OR, ranked by how many match and where: an AND
// would fail on words that are stop words in the document's language but
// not in the others).
func textQuery(text string, langs []string) (query.Query, bool) {
	var must []query.Query
	for _, m := range phraseRE.FindAllStringSubmatch(text, -1) {
		p := strings.Join(words(m[1]), " ")
		if p == "" {
			continue
		}
		var alts []query.Query
		for _, l := range langs {
			alts = append(alts, phrase(fTitle+l, p, titleBoost), phrase(fSummary+l, p, 1))
		}
		must = append(must, bleve.NewDisjunctionQuery(alts...))
	}
	rest := phraseRE.ReplaceAllString(text, " ")
	var should []query.Query
	for _, w := range words(rest) {
		fuzz := 0
		if utf8.RuneCountInString(w) >= fuzzyMinRunes {
			fuzz = 1
		}
		for _, l := range langs {
			should = append(should, match(fTitle+l, w, fuzz, titleBoost), match(fSummary+l, w, fuzz, 1))
		}
	}
	if len(should) > 0 {
		must = append(must, bleve.NewDisjunctionQuery(should...))
	}
	switch len(must) {
	case 0:
		return nil, false
	case 1:
		return must[0], true
	}
	return bleve.NewConjunctionQuery(must...), true
}

// words splits s into letter-or-digit runs. Splitting before analysis
// lets each word get its own fuzziness.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func match(field, w string, fuzz int, boost float64) query.Query {
	q := bleve.NewMatchQuery(w)
	q.SetField(field)
	q.SetFuzziness(fuzz)
	q.SetBoost(boost)
	return q
}

func phrase(field, p string, boost float64) query.Query {
	q := bleve.NewMatchPhraseQuery(p)
	q.SetField(field)
	q.SetBoost(boost)
	return q
}

func term(field, v string) query.Query {
	q := bleve.NewTermQuery(v)
	q.SetField(field)
	return q
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n])) + "…"
}
