package web

import (
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// The bounds of a search from the page: the node's own (node/search.Check)
// or tighter, so that a bad query is told here, in the visitor's language.
const (
	maxSearchText  = 1000 // bytes of the search box
	maxSearchDepth = 10000
	maxSearchPage  = maxSearchDepth / pageSize
	facetsShown    = 8 // values of a facet before "more"
	facetsMax      = 30
)

// searchKinds and searchSorts are the kinds of things and the orders a
// search may ask for.
var (
	searchKinds = []string{"resource", "collection", "community", "person"}
	searchSorts = []string{"relevance", "newest", "popular"}
	// facetOrder is the order of the facets on the page.
	facetOrder = []string{"kind", "language", "subject", "level", "type", "license"}
)

// searchView is the data of the search page.
type searchView struct {
	Query   api.SearchQuery
	Problem string // why the search was refused; it then did not run
	Count   int    // how many things match
	Hits    []searchHit
	Facets  []facetGroup
	Active  []facetValue // the filters set, each with a link that removes it
	Kinds   []option
	Sorts   []option
	Prev    string // the previous page's URL, or ""
	Next    string // the next page's URL, or ""
	// Failed are the HQs (peer IDs) that did not answer; Answered how
	// many did.
	Failed   []string
	Answered int
}

// searchHit is one thing found, as the page shows it.
type searchHit struct {
	Kind      string
	KindLabel string
	Href      string
	Title     string
	Snippet   template.HTML // only <mark> is kept (safeSnippet)
	Author    actorLink
	Community actorLink
	License   string
	Language  string
	Published time.Time
	Items     int
	Likes     int
}

// facetGroup is one facet: its legend and its values with their counts.
type facetGroup struct {
	Name   string
	Label  string
	Values []facetValue // the first facetsShown
	More   []facetValue // the rest, behind "more"
}

// facetValue is one value of a facet: a link that sets it as a filter,
// or removes it when it is set.
type facetValue struct {
	Label    string
	Count    int
	Href     string
	Selected bool
}

// search is the search page: a query box, filters with their counts,
// sorting and paging, over the local index and the HQs. Every parameter
// is checked here; a bad one is a 400 page that says which.
func (a *App) search(r *http.Request, v *visitor) (response, error) {
	if !a.svc.Searcher.AllowSearch(a.client(r)) {
		return response{}, api.Errorf(api.KindRateLimited, "%s", v.t("search.limited"))
	}
	sv := searchView{Kinds: a.kindOptions(v), Sorts: sortOptions(v)}
	res := response{page: "search", title: "search.title", data: &sv}
	q, err := a.searchQuery(v, r.URL.Query())
	sv.Query = q
	if err != nil {
		sv.Problem, res.status = api.PublicMessage(err), http.StatusBadRequest
		return res, nil
	}
	result, err := a.svc.Searcher.Search(r.Context(), q)
	if api.KindOf(err) == api.KindInvalid {
		sv.Problem, res.status = api.PublicMessage(err), http.StatusBadRequest
		return res, nil
	}
	if err != nil {
		return response{}, err
	}
	a.fillSearch(v, &sv, result)
	return res, nil
}

// searchQuery reads and checks the page's parameters.
func (a *App) searchQuery(v *visitor, p url.Values) (api.SearchQuery, error) {
	q := api.SearchQuery{Text: strings.TrimSpace(p.Get("q")), Kind: p.Get("kind"), Language: p.Get("language"),
		License: p.Get("license"), Subject: p.Get("subject"), Type: p.Get("type"), Level: p.Get("level"),
		Sort: p.Get("sort"), Page: 1, Size: pageSize, Facets: true}
	bad := func(key string, args ...any) (api.SearchQuery, error) {
		return q, api.Errorf(api.KindInvalid, "%s", v.t(key, args...))
	}
	if s := p.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxSearchPage {
			q.Page = 1
			return bad("search.bad.page", maxSearchPage)
		}
		q.Page = n
	}
	switch {
	case len(q.Text) > maxSearchText || !utf8.ValidString(q.Text):
		q.Text = ""
		return bad("search.bad.text", maxSearchText)
	case q.Kind != "" && !contains(searchKinds, q.Kind):
		return bad("search.bad.kind")
	case q.Sort != "" && !contains(searchSorts, q.Sort):
		return bad("search.bad.sort")
	case q.Language != "" && !validLanguage(q.Language):
		return bad("search.bad.language")
	}
	if !validFilters(q) {
		return bad("search.bad.filter")
	}
	return q, nil
}

// validLanguage reports whether s is a BCP 47 tag.
func validLanguage(s string) bool {
	if len(s) > 35 {
		return false
	}
	_, err := language.Parse(s)
	return err == nil
}

// validFilters checks the filters of the vocabularies.
func validFilters(q api.SearchQuery) bool {
	if _, ok := activity.LookupLicense(q.License); q.License != "" && !ok {
		return false
	}
	if _, ok := activity.LookupSubject(q.Subject); q.Subject != "" && !ok {
		return false
	}
	if _, ok := activity.LookupLevel(q.Level); q.Level != "" && !ok {
		return false
	}
	if _, ok := activity.LookupType(q.Type); q.Type != "" && !ok {
		return false
	}
	return true
}

// fillSearch puts a search's result on the page: hits, facets with
// their labels and links, paging, and the HQs that failed.
func (a *App) fillSearch(v *visitor, sv *searchView, res api.SearchResult) {
	peer := a.localPeer()
	sv.Count, sv.Failed, sv.Answered = int(min(res.Total, 1<<31)), res.Failed, len(res.Answered)
	sv.Hits = make([]searchHit, 0, len(res.Hits))
	for _, h := range res.Hits {
		hit := hitOf(h, peer)
		hit.KindLabel = kindName(v, h.Kind)
		sv.Hits = append(sv.Hits, hit)
	}
	base := searchParams(sv.Query)
	for _, name := range facetOrder {
		if g, ok := a.facetOf(v, name, res.Facets[name], sv.Query, base); ok {
			sv.Facets = append(sv.Facets, g)
		}
	}
	for _, name := range facetOrder {
		if set := base.Get(name); set != "" {
			sv.Active = append(sv.Active, facetValue{Label: a.facetLabel(v, name, set), Href: searchURL(base, name, ""), Selected: true})
		}
	}
	if sv.Query.Page > 1 {
		sv.Prev = searchURL(base, "page", strconv.Itoa(sv.Query.Page-1))
	}
	if res.Next > sv.Query.Page && res.Next <= maxSearchPage {
		sv.Next = searchURL(base, "page", strconv.Itoa(res.Next))
	}
}

// hitOf turns a hit into what the page shows: a link to its page.
func hitOf(h api.SearchHit, peer string) searchHit {
	out := searchHit{Kind: h.Kind, Title: h.Title, Snippet: safeSnippet(h.Snippet), Published: h.Published, Items: h.Items, Likes: h.Likes}
	// Codes this node cannot name (from another HQ) are left out.
	if _, ok := activity.LookupLicense(h.License); ok {
		out.License = h.License
	}
	if validLanguage(h.Language) {
		out.Language = h.Language
	}
	switch h.Kind {
	case "person":
		out.Href = actorLinkOf(h.AuthorHandle, h.Author, peer, false).Href
	case "community":
		out.Href = actorLinkOf(h.AuthorHandle, h.Author, peer, true).Href
	case "collection":
		out.Href = "/c/" + url.PathEscape(h.ID)
		out.Author = actorLinkOf(h.AuthorHandle, h.Author, peer, false)
	default:
		out.Href = "/r/" + url.PathEscape(h.ID)
		out.Author = actorLinkOf(h.AuthorHandle, h.Author, peer, false)
		if h.Community != "" || h.CommunityHandle != "" {
			out.Community = actorLinkOf(h.CommunityHandle, h.Community, peer, true)
		}
	}
	return out
}

// facetOf labels one facet's counts, leaving out values that have no
// name (codes this node does not know, from another HQ).
func (a *App) facetOf(v *visitor, name string, counts []api.FacetCount, q api.SearchQuery, base url.Values) (facetGroup, bool) {
	set := base.Get(name)
	var values []facetValue
	for _, c := range counts {
		if c.Count <= 0 || !a.knownTerm(name, c.Term) || len(values) >= facetsMax {
			continue
		}
		fv := facetValue{Label: a.facetLabel(v, name, c.Term), Count: c.Count, Selected: c.Term == set}
		fv.Href = searchURL(base, name, c.Term)
		if fv.Selected {
			fv.Href = searchURL(base, name, "")
		}
		values = append(values, fv)
	}
	if len(values) == 0 {
		return facetGroup{}, false
	}
	sort.SliceStable(values, func(i, j int) bool {
		if values[i].Selected != values[j].Selected {
			return values[i].Selected
		}
		return values[i].Count > values[j].Count
	})
	g := facetGroup{Name: name, Label: a.facetName(v, name), Values: values}
	if len(values) > facetsShown {
		g.Values, g.More = values[:facetsShown], values[facetsShown:]
	}
	return g, true
}

// knownTerm reports whether a facet's value has a name to show.
func (a *App) knownTerm(facet, term string) bool {
	switch facet {
	case "kind":
		return contains(searchKinds, term)
	case "language":
		return validLanguage(term)
	case "license":
		_, ok := activity.LookupLicense(term)
		return ok
	case "subject":
		_, ok := activity.LookupSubject(term)
		return ok
	case "level":
		_, ok := activity.LookupLevel(term)
		return ok
	case "type":
		_, ok := activity.LookupType(term)
		return ok
	}
	return false
}

// facetLabel names a facet's value in the visitor's language.
func (a *App) facetLabel(v *visitor, facet, term string) string {
	switch facet {
	case "kind":
		return kindName(v, term)
	case "language":
		return a.i18n.languageName(v.lang, term)
	}
	return a.i18n.name(v.lang, facet, term)
}

// facetLegends are the message keys of the facets' legends; the
// licence's is the default.
var facetLegends = map[string]string{
	"kind": "search.facet.kind", "language": "search.facet.language", "subject": "search.facet.subject",
	"level": "search.facet.level", "type": "search.facet.type", "license": "search.facet.license",
}

// facetName is a facet's legend.
func (a *App) facetName(v *visitor, facet string) string {
	if key, ok := facetLegends[facet]; ok {
		return v.t(key)
	}
	return v.t("search.facet.license")
}

// kindNames are the message keys of the kinds of thing found; "" is
// every kind.
var kindNames = map[string]string{
	"resource": "search.kind.resource", "collection": "search.kind.collection",
	"community": "search.kind.community", "person": "search.kind.person",
}

// kindName names a kind of thing found.
func kindName(v *visitor, kind string) string {
	if key, ok := kindNames[kind]; ok {
		return v.t(key)
	}
	return v.t("search.kind.all")
}

func (a *App) kindOptions(v *visitor) []option {
	out := []option{{"", kindName(v, "")}}
	for _, k := range searchKinds {
		out = append(out, option{k, kindName(v, k)})
	}
	return out
}

func sortOptions(v *visitor) []option {
	return []option{{"relevance", v.t("search.sort.relevance")}, {"newest", v.t("search.sort.newest")}, {"popular", v.t("search.sort.popular")}}
}

// searchParams are a query's parameters, without its page.
func searchParams(q api.SearchQuery) url.Values {
	p := url.Values{}
	for k, s := range map[string]string{"q": q.Text, "kind": q.Kind, "language": q.Language, "license": q.License,
		"subject": q.Subject, "type": q.Type, "level": q.Level, "sort": q.Sort} {
		if s != "" {
			p.Set(k, s)
		}
	}
	return p
}

// searchURL is the search page with base's parameters and one changed
// ("" removes it); any change but the page's goes back to page 1.
func searchURL(base url.Values, name, value string) string {
	p := url.Values{}
	for k, vs := range base {
		p[k] = vs
	}
	if value == "" {
		p.Del(name)
	} else {
		p.Set(name, value)
	}
	if len(p) == 0 {
		return "/search"
	}
	return "/search?" + p.Encode()
}
