package index

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search/query"
	bleveindex "github.com/blevesearch/bleve_index_api"
	"github.com/blevesearch/vellum"
)

// Query is a search request. Empty filters match everything.
type Query struct {
	// Text is what the user typed: words (any of them may match) and
	// "quoted phrases" (each must match). A word of five letters or more
	// that matches nothing exactly matches the words one typo away. "" matches everything, for browsing by filters.
	Text string
	// Kind is one of Kinds; "" searches every kind.
	Kind     string
	Language string // primary subtag ("pt") or full tag ("pt-BR")
	License  string // SPDX id
	Subject  string // ISCED-F code
	Type     string // learning resource type
	Level    string // ISCED level
	// Sort is "relevance" (default), "newest" or "popular".
	Sort string
	Page int // 1-based; default 1
	Size int // default 20, at most MaxSize
	// Facets asks for facet counts of every matching document. They cost
	// a visit of each match: ask on the first page, not on every page.
	Facets bool
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

// Text limits: a query's cost grows with its words (each is looked up in
// every language's fields, and a typo expands to up to maxFuzzyTerms).
const (
	MaxTextBytes = 1000
	MaxWords     = 32
)

// QueryError reports a query that cannot be run as given; Msg says why,
// in words fit for the person who typed it.
type QueryError struct{ Msg string }

func (e *QueryError) Error() string { return "index: search: " + e.Msg }

func queryErrorf(format string, args ...any) error {
	return &QueryError{Msg: fmt.Sprintf(format, args...)}
}

// Facet names, the keys of Result.Facets.
const (
	FacetKind     = "kind"
	FacetLanguage = "language"
	FacetLicense  = "license"
	FacetSubject  = "subject"
	FacetType     = "type"
	FacetLevel    = "level"
)

// FuzzyBelow: a word of fuzzyMinRunes or more that matches fewer documents
// than this exactly is also matched with one typo: a typo that matches
// nothing is corrected, while a word that does match is not blurred into
// its neighbours (teacher3 into teacher1, teacher2, …), which would also
// cost a second set of postings on every query. The price: a typo that
// happens to be another indexed word is taken as that word.
const FuzzyBelow = 1

// Result is one page of hits with the facets of all matching documents.
type Result struct {
	Total  uint64
	Hits   []Hit
	Facets map[string][]FacetCount // keys: the Facet* names
	Page   int
	Size   int
}

// Hit is one resource, collection, community or person in a Result. It
// refers back to its origin (actor, node, URL) and its CIDs, as every HQ
// hit must.
type Hit struct {
	ID              string // stable ID: a resource's or collection's, or an actor's did:key
	Kind            string // one of Kinds
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
	Version         uint64 // resources: their version; others: the seq of the activity
	Items           int    // collections: resources listed in the Collection object itself (Add and Remove are not counted)
	Published       time.Time
	Likes           int
	Score           float64
}

// FacetCount is one term of a facet and how many matching documents have it.
type FacetCount struct {
	Term  string
	Count int
}

// Title (and keywords) weigh this much more than the summary, and names of
// people this much.
const (
	titleBoost  = 3
	peopleBoost = 2
)

// A typo match weighs this much of an exact one.
const fuzzyWeight = 0.5

// Words of at least this many letters match with one typo.
const fuzzyMinRunes = 5

// maxFuzzyTerms bounds the terms one word expands to.
const maxFuzzyTerms = 64

var phraseRE = regexp.MustCompile(`"([^"]*)"`)

// Search runs q. Delisted and deleted things never appear.
func (ix *Index) Search(ctx context.Context, q Query) (Result, error) {
	if err := ctxErr(ctx); err != nil {
		return Result{}, err
	}
	page, size := max(q.Page, 1), q.Size
	if size <= 0 {
		size = DefaultSize
	}
	size = min(size, MaxSize)
	// page is bounded before it is multiplied: (page-1)*size overflowed
	// into a negative offset that bleve panicked on.
	if page > MaxDepth/size {
		return Result{}, queryErrorf("page %d of %d results is deeper than the %d results that can be paged through", page, size, MaxDepth)
	}
	from := (page - 1) * size
	if q.Kind != "" && !slices.Contains(Kinds, q.Kind) {
		return Result{}, queryErrorf("unknown kind %q (want one of %s)", q.Kind, strings.Join(Kinds, ", "))
	}
	if len(q.Text) > MaxTextBytes {
		return Result{}, queryErrorf("the text is longer than %d bytes", MaxTextBytes)
	}
	if len(words(q.Text)) > MaxWords {
		return Result{}, queryErrorf("the text has more than %d words", MaxWords)
	}

	langs := fieldLangs
	if q.Language != "" {
		langs = []string{langSuffix(q.Language)}
	}
	adv, err := ix.bi.Advanced()
	if err != nil {
		return Result{}, fmt.Errorf("index: search: %w", err)
	}
	rd, err := adv.Reader()
	if err != nil {
		return Result{}, fmt.Errorf("index: search: %w", err)
	}
	plan, err := ix.plan(ctx, rd, q.Text, langs)
	rd.Close()
	if err != nil {
		return Result{}, fmt.Errorf("index: search: %w", err)
	}
	var filters []string
	for _, f := range [][2]string{{FacetKind, q.Kind}, {FacetLicense, q.License}, {FacetSubject, q.Subject}, {FacetType, q.Type}, {FacetLevel, q.Level}, {FacetLanguage, primary(q.Language)}} {
		if f[1] != "" {
			filters = append(filters, facetTerm(f[0], f[1]))
		}
	}
	var top query.Query
	switch {
	case plan.text && plan.q == nil:
		top = bleve.NewMatchNoneQuery() // words that match nothing
	case plan.q != nil && len(filters) > 0:
		top = &filterQuery{Query: plan.q, terms: filters}
	case plan.q != nil:
		top = plan.q
	case len(filters) == 0:
		top = anyKind() // not match-all: skip state documents
	case len(filters) == 1:
		top = term(fFacet, filters[0])
	default:
		must := make([]query.Query, len(filters))
		for i, f := range filters {
			must[i] = term(fFacet, f)
		}
		top = bleve.NewConjunctionQuery(must...)
	}

	var facets *facetQuery
	if q.Facets {
		facets = &facetQuery{Query: top}
		top = facets
	}
	req := bleve.NewSearchRequestOptions(top, size, from, false)
	req.Fields = []string{fRec}
	// No "_id" tie-breaker: it makes bleve load the ID of every match.
	// Ties keep the index order, stable for one snapshot.
	switch q.Sort {
	case SortNewest:
		req.SortBy([]string{"-" + fPublished})
	case SortPopular:
		req.SortBy([]string{"-" + fLikes, "-" + fPublished})
	case "", SortRelevance:
		if !plan.text {
			req.SortBy([]string{"-" + fPublished}) // every score is equal
		}
	default:
		return Result{}, queryErrorf("unknown sort %q", q.Sort)
	}

	sr, err := ix.bi.SearchInContext(ctx, req)
	if err != nil {
		return Result{}, fmt.Errorf("index: search: %w", err)
	}
	res := Result{Total: sr.Total, Page: page, Size: size, Hits: make([]Hit, 0, len(sr.Hits)), Facets: map[string][]FacetCount{}}
	for _, h := range sr.Hits {
		var r record
		if err := json.Unmarshal([]byte(str(h.Fields[fRec])), &r); err != nil {
			return Result{}, fmt.Errorf("index: search: record of %s: %w", h.ID, err)
		}
		hit := Hit{
			ID:              h.ID,
			Kind:            r.Kind,
			Title:           r.Title,
			Score:           h.Score,
			License:         r.License,
			Language:        r.Language,
			Author:          r.Author,
			AuthorHandle:    r.AuthorHandle,
			Community:       r.Community,
			CommunityHandle: r.CommunityHandle,
			Origin:          r.Origin,
			FileCID:         r.FileCID,
			URL:             r.URL,
			Version:         r.Version,
			Items:           r.Items,
			Published:       r.Published,
			Likes:           r.Likes,
		}
		if !plan.text {
			hit.Score = 0
		}
		hit.Snippet = ix.snippet(r.Summary, langSuffix(r.Language), plan.marks[langSuffix(r.Language)])
		res.Hits = append(res.Hits, hit)
	}
	if facets != nil {
		if facets.err != nil {
			return Result{}, fmt.Errorf("index: search: facets: %w", facets.err)
		}
		for _, t := range facets.counts {
			name, v, ok := parseFacetTerm(t.term)
			if !ok || len(res.Facets[name]) >= ix.cfg.facetSize {
				continue
			}
			res.Facets[name] = append(res.Facets[name], FacetCount{Term: v, Count: t.count})
		}
		for _, name := range []string{FacetKind, FacetLanguage, FacetLicense, FacetSubject, FacetType, FacetLevel} {
			if res.Facets[name] == nil {
				res.Facets[name] = []FacetCount{}
			}
		}
	}
	return res, nil
}

// anyKind matches every indexed thing and no state document.
func anyKind() query.Query {
	qs := make([]query.Query, len(Kinds))
	for i, k := range Kinds {
		qs[i] = term(fFacet, facetTerm(FacetKind, k))
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// plan is the query for what the user typed, with the analyzed terms to
// mark in snippets, per language suffix.
type plan struct {
	q     query.Query // nil when nothing matches
	text  bool        // the user typed words or phrases
	marks map[string]map[string]bool
}

// plan turns what the user typed into a query over the title, summary and
// people fields of langs. Every quoted phrase must match; at least one of
// the other words must (OR, ranked by how many match and where: an AND
// would fail on words that are stop words in the document's language but
// not in the others).
//
// Each word is analyzed once per language and looked up in that
// language's term dictionaries; the query asks only the fields that have
// the term, so an unfiltered query costs what the languages that know the
// word cost, not a fan-out over every field. Words of fuzzyMinRunes or
// more that match fewer than FuzzyBelow documents exactly match the terms
// one typo away instead, found in the same dictionaries.
func (ix *Index) plan(ctx context.Context, rd bleveindex.IndexReader, text string, langs []string) (plan, error) {
	p := plan{marks: map[string]map[string]bool{}}
	mark := func(l, t string) {
		if p.marks[l] == nil {
			p.marks[l] = map[string]bool{}
		}
		p.marks[l][t] = true
	}
	var err error
	count := func(field, t string) uint64 {
		if err != nil {
			return 0
		}
		tfr, e := rd.TermFieldReader(ctx, []byte(t), field, false, false, false)
		if e != nil {
			err = e
			return 0
		}
		defer tfr.Close()
		return tfr.Count()
	}
	type fieldOf struct {
		field, lang string // lang: the suffix of the field's analyzer
		boost       float64
		marks       bool // snippets show the field's matches
	}
	var fields []fieldOf
	for _, l := range langs {
		fields = append(fields, fieldOf{fTitle + l, l, titleBoost, true}, fieldOf{fSummary + l, l, 1, true})
	}
	fields = append(fields, fieldOf{fPeople, plainLang, peopleBoost, false})

	var must []query.Query
	for _, m := range phraseRE.FindAllStringSubmatch(text, -1) {
		ph := strings.Join(words(m[1]), " ")
		if ph == "" {
			continue
		}
		p.text = true
		var alts []query.Query
		for _, f := range fields {
			terms := ix.analyze(f.lang, ph)
			if len(terms) == 0 {
				continue
			}
			ok := true
			for _, t := range terms {
				if count(f.field, t) == 0 {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
			for _, t := range terms {
				if f.marks {
					mark(f.lang, t)
				}
			}
			alts = append(alts, phrase(f.field, ph, f.boost))
		}
		if len(alts) == 0 {
			return p, err // a phrase that is nowhere: nothing matches
		}
		must = append(must, disjunction(alts))
	}
	var should []query.Query
	for _, w := range words(phraseRE.ReplaceAllString(text, " ")) {
		p.text = true
		var (
			alts  []query.Query
			exact uint64
		)
		analyzed := map[string][]string{}
		for _, f := range fields {
			ts, ok := analyzed[f.lang]
			if !ok {
				ts = ix.analyze(f.lang, w)
				analyzed[f.lang] = ts
			}
			for _, t := range ts {
				if n := count(f.field, t); n > 0 {
					exact += n
					alts = append(alts, termBoost(f.field, t, f.boost))
					if f.marks {
						mark(f.lang, t)
					}
				}
			}
		}
		if exact < FuzzyBelow && utf8.RuneCountInString(w) >= fuzzyMinRunes {
			n := 0
			dfas := map[string]vellum.Automaton{}
			for _, f := range fields {
				for _, t := range analyzed[f.lang] {
					for _, ft := range ix.fuzzyTerms(rd, f.field, t, dfas, &err) {
						if ft == t || n >= maxFuzzyTerms {
							continue
						}
						n++
						alts = append(alts, termBoost(f.field, ft, f.boost*fuzzyWeight))
						if f.marks {
							mark(f.lang, ft)
						}
					}
				}
			}
		}
		should = append(should, alts...)
	}
	if err != nil {
		return p, err
	}
	if len(should) > 0 {
		must = append(must, disjunction(should))
	}
	switch len(must) {
	case 0:
	case 1:
		p.q = must[0]
	default:
		p.q = bleve.NewConjunctionQuery(must...)
	}
	if p.text && len(must) == 0 {
		p.q = nil
	}
	return p, nil
}

// fuzzyTerms lists the terms of field one edit away from t, in order, at
// most maxFuzzyTerms. One word is looked up in up to fifteen fields, and
// bleve builds the Levenshtein automaton of the term again for each; on
// a scorch snapshot the automaton is built once per term (dfas caches
// it for one query) and run over each segment's dictionary here.
func (ix *Index) fuzzyTerms(rd bleveindex.IndexReader, field, t string, dfas map[string]vellum.Automaton, errp *error) []string {
	if *errp != nil {
		return nil
	}
	if snap, ok := rd.(*scorch.IndexSnapshot); ok {
		a, ok := dfas[t]
		if !ok {
			lb, err := ix.lev()
			if err == nil {
				a, err = lb.BuildDfa(t, 1)
			}
			if err != nil {
				*errp = err
				return nil
			}
			dfas[t] = a
		}
		seen := map[string]bool{}
		for _, ss := range snap.Segments() {
			dict, err := ss.Segment().Dictionary(field)
			if err != nil {
				*errp = err
				return nil
			}
			it := dict.AutomatonIterator(a, nil, nil)
			for {
				e, err := it.Next()
				if err != nil {
					*errp = err
					return nil
				}
				if e == nil {
					break
				}
				seen[e.Term] = true
			}
		}
		out := slices.Sorted(maps.Keys(seen))
		return out[:min(len(out), maxFuzzyTerms)]
	}
	fr, ok := rd.(bleveindex.IndexReaderFuzzy)
	if !ok {
		return nil
	}
	fd, err := fr.FieldDictFuzzy(field, t, 1, "")
	if err != nil {
		*errp = err
		return nil
	}
	defer fd.Close()
	var out []string
	for len(out) < maxFuzzyTerms {
		e, err := fd.Next()
		if err != nil {
			*errp = err
			return nil
		}
		if e == nil {
			break
		}
		out = append(out, e.Term)
	}
	return out
}

// analyze returns the terms the analyzer of language suffix l makes of s.
func (ix *Index) analyze(l, s string) []string {
	an := ix.analyzers[l]
	if an == nil {
		return nil
	}
	var out []string
	for _, tok := range an.Analyze([]byte(s)) {
		out = append(out, string(tok.Term))
	}
	return out
}

func disjunction(qs []query.Query) query.Query {
	if len(qs) == 1 {
		return qs[0]
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// words splits s into letter-or-digit runs. Splitting before analysis
// lets each word get its own fuzziness.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func termBoost(field, t string, boost float64) query.Query {
	q := bleve.NewTermQuery(t)
	q.SetField(field)
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
