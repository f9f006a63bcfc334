package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

// facetedResult is a search's answer with every facet, one HQ that
// answered and one that did not.
func facetedResult(q api.SearchQuery) (api.SearchResult, error) {
	return api.SearchResult{Total: 45, Page: q.Page, Next: q.Page + 1,
		Hits: []api.SearchHit{
			{ID: contentCID("r1"), Kind: "resource", Title: "Fractions", Snippet: "<mark>fractions</mark> for year 6", AuthorHandle: "ada@" + testPeer,
				Author: adaDID, License: "CC-BY-4.0", Language: "de", Published: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), Likes: 3},
			{ID: groupDID, Kind: "community", Title: "Maths teachers", Author: groupDID, AuthorHandle: "maths@" + farPeer},
			{ID: farDID, Kind: "person", Title: "Far Away", Author: farDID, AuthorHandle: "far@" + farPeer},
			{ID: contentCID("c1"), Kind: "collection", Title: "Unit", Author: adaDID, AuthorHandle: "ada@" + testPeer, Items: 4},
		},
		Facets: map[string][]api.FacetCount{
			"kind":     {{Term: "resource", Count: 40}, {Term: "community", Count: 5}},
			"language": {{Term: "de", Count: 30}, {Term: "fr", Count: 10}, {Term: "not a tag!", Count: 2}},
			"subject":  {{Term: "0541", Count: 12}, {Term: "1234", Count: 9}},
			"level":    {{Term: "1", Count: 7}, {Term: "adult", Count: 2}},
			"type":     {{Term: "assessment", Count: 4}},
			"license":  {{Term: "CC-BY-4.0", Count: 20}, {Term: "LicenseRef-all-rights-reserved", Count: 1}},
		},
		Answered: []string{"12D3KooWhqOne"}, Failed: []string{"12D3KooWhqDown"}, Errors: map[string]string{"12D3KooWhqDown": "timeout"},
	}, nil
}

func TestSearchShowsFacetsByNameInFrench(t *testing.T) {
	n := newContentNode()
	n.search = facetedResult
	ca := newContentApp(t, n, Config{})
	res, body := ca.client(t, "bob", "fr").get("/search?q=fractions&level=1&sort=newest")
	if res.StatusCode != 200 {
		t.Fatalf("search: %d", res.StatusCode)
	}
	cat, _ := loadCatalogs()
	mustContain(t, "the French search page", body, `<html lang="fr">`, "45 résultats",
		"allemand", "français", cat.name("fr", "subject", "0541"), "Enseignement primaire", "Éducation des adultes",
		cat.name("fr", "type", "assessment"), cat.name("fr", "license", "CC-BY-4.0"), "Ressources", "Communautés",
		"<mark>fractions</mark> for year 6", `<a href="/r/`+contentCID("r1")+`">Fractions</a>`, `<a href="/g/maths@`+farPeer+`">Maths teachers</a>`,
		`<a href="/@far@`+farPeer+`">Far Away</a>`, `<a href="/c/`+contentCID("c1")+`">Unit</a>`,
		"1 pôle de recherche n&#39;a pas répondu", "<code>12D3KooWhqDown</code>", "Résultats de ce nœud et de 1 pôle de recherche.",
		`aria-current="true"`, `value="newest" selected`, `<input type="hidden" name="level" value="1">`, "Page suivante")
	// Codes nobody can name are left out; no raw code is shown.
	mustNotContain(t, "the French search page", body, "not a tag!", ">1234<", ">0541<", ">CC-BY-4.0<", ">de<")
	// A facet's link sets its filter and goes back to page 1; a set one
	// removes it.
	mustContain(t, "the links", body, `href="/search?language=de&amp;level=1&amp;q=fractions&amp;sort=newest"`,
		`href="/search?q=fractions&amp;sort=newest"`, `href="/search?level=1&amp;page=2&amp;q=fractions&amp;sort=newest"`)
	q := n.searches[0]
	if q.Text != "fractions" || q.Level != "1" || q.Sort != "newest" || q.Page != 1 || q.Size != pageSize || !q.Facets {
		t.Fatalf("asked %+v", q)
	}
}

func TestSearchParametersAreChecked(t *testing.T) {
	n := newContentNode()
	n.search = facetedResult
	ca := newContentApp(t, n, Config{})
	cc := ca.client(t, "", "en")
	for _, tc := range []struct{ query, message string }{
		{"page=999999", "The page must be a number from 1 to 500."},
		{"page=0", "The page must be a number from 1 to 500."},
		{"page=-3", "The page must be a number from 1 to 500."},
		{"page=abc", "The page must be a number from 1 to 500."},
		{"page=99999999999999999999999", "The page must be a number from 1 to 500."},
		{"sort=cheapest", "Sort by best match, newest first or most liked."},
		{"kind=spaceship", "Choose resources, collections, communities or people."},
		{"license=WTFPL", "One of the filters is not known."},
		{"subject=1234", "One of the filters is not known."},
		{"level=13", "One of the filters is not known."},
		{"type=poem", "One of the filters is not known."},
		{"language=" + url.QueryEscape("<script>"), "This language is not known."},
		{"q=" + strings.Repeat("x", 1001), "The search text is too long: use at most 1000 characters."},
		{"q=%ff%fe", "The search text is too long"},
	} {
		res, body := cc.get("/search?" + tc.query)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.message) || !strings.Contains(body, `role="search"`) {
			t.Errorf("%.40s: %d, want 400 with %q", tc.query, res.StatusCode, tc.message)
		}
		if strings.Contains(body, "<script>") {
			t.Errorf("%.40s: a parameter shows unescaped", tc.query)
		}
	}
	if len(n.searches) != 0 {
		t.Fatalf("bad searches reached the node: %v", n.searches)
	}
	// The node refuses what this page let through: 400, not 500.
	n.search = func(api.SearchQuery) (api.SearchResult, error) { return api.SearchResult{}, api.Invalidf("too deep") }
	if res, body := cc.get("/search?q=x&page=500"); res.StatusCode != 400 || !strings.Contains(body, "too deep") {
		t.Fatalf("a refused search: %d", res.StatusCode)
	}
	// Too many searches: 429.
	n.refuse = true
	if res, body := cc.get("/search?q=x"); res.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many searches") {
		t.Fatalf("rate limited: %d", res.StatusCode)
	}
}

func TestEmptySearchBrowses(t *testing.T) {
	n := newContentNode()
	ca := newContentApp(t, n, Config{})
	res, body := ca.client(t, "", "en").get("/search")
	if res.StatusCode != 200 || !strings.Contains(body, "Nothing found.") || !strings.Contains(body, "0 results") {
		t.Fatalf("an empty search: %d", res.StatusCode)
	}
}
