package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// benchNode is a node holding 10,000 resources, a long feed, a resource
// with many comments and versions, and a search that answers a full page
// with every facet.
func benchNode(tb testing.TB) (*contentNode, string) {
	tb.Helper()
	n := newContentNode()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	licenses := []string{"CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "CC-BY-NC-4.0"}
	for i := 9999; i >= 0; i-- { // newest first: each goes at the end
		r := sampleResource(fmt.Sprintf("Resource number %d about fractions and ratios", i), start.Add(time.Duration(i)*time.Minute))
		r.ID = contentCID(fmt.Sprint("resource ", i))
		r.License = licenses[i%len(licenses)]
		r.Author = []string{adaDID, bobDID, farDID}[i%3]
		n.addResource(r, []string{"ada@" + testPeer, "bob@" + testPeer, "far@" + farPeer}[i%3])
	}
	n.feeds["ada"] = n.items[:2000]
	// One resource with a history, sources, adaptations and a discussion.
	id := n.items[0].ResourceID
	v := n.views[id]
	for i := range 10 {
		v.Versions = append(v.Versions, api.FeedItem{Version: uint64(10 - i), Published: start, FileCID: contentCID(fmt.Sprint("v", i))})
	}
	for i := range 5 {
		v.DerivedFrom = append(v.DerivedFrom, n.items[100+i].ResourceID)
	}
	v.Latest.DerivedFrom = v.DerivedFrom
	v.AdaptedBy = n.items[200:210]
	n.views[id] = v
	for i := range 50 {
		n.comments[id] = append(n.comments[id], api.Comment{Author: bobDID, AuthorName: "Bob", AuthorHandle: "bob@" + testPeer,
			Content: fmt.Sprintf("Comment %d: thank you, I used it with my class.\nIt went well.", i), Published: start})
	}
	var subjects []api.FacetCount
	for i, s := range activity.Vocab().Subjects {
		subjects = append(subjects, api.FacetCount{Term: s.Code, Count: 1000 - i})
	}
	n.search = func(q api.SearchQuery) (api.SearchResult, error) {
		res, _ := facetedResult(q)
		res.Total = 10000
		res.Facets["subject"] = subjects
		res.Hits = nil
		for _, it := range n.items[:pageSize] {
			res.Hits = append(res.Hits, api.SearchHit{ID: it.ResourceID, Kind: "resource", Title: it.Title, Snippet: "about <mark>fractions</mark> and ratios",
				Author: it.Author, AuthorHandle: it.AuthorHandle, License: it.License, Language: it.Language, Published: it.Published})
		}
		return res, nil
	}
	return n, id
}

// benchPages are the pages measured.
func benchPages(id string) []string {
	return []string{"/", "/search?q=fractions&license=CC-BY-4.0&sort=newest", "/r/" + id, "/@ada", "/publish"}
}

// renderTimes renders path rounds times, as ada, and returns each
// render's time, sorted.
func renderTimes(tb testing.TB, mux http.Handler, token, path string, rounds int) []time.Duration {
	tb.Helper()
	times := make([]time.Duration, 0, rounds)
	for range rounds {
		req := httptest.NewRequest("GET", path, nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: token})
		w := httptest.NewRecorder()
		t0 := time.Now()
		mux.ServeHTTP(w, req)
		times = append(times, time.Since(t0))
		if w.Code != 200 {
			tb.Fatalf("%s: %d", path, w.Code)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return times
}

func percentile(times []time.Duration, p float64) time.Duration {
	return times[min(len(times)-1, int(float64(len(times))*p))]
}

// benchMux is the app over benchNode, with ada signed in.
func benchMux(tb testing.TB) (http.Handler, string, string) {
	n, id := benchNode(tb)
	sess := &contentSessions{sessions: map[string]api.Session{}}
	s := api.Session{Token: "bench", CSRF: randomToken(), Expires: time.Now().Add(time.Hour),
		Account: api.Account{Username: "ada", Role: api.RoleMember, Status: api.StatusActive, Language: "fr", Actor: adaDID}}
	sess.sessions[s.Token] = s
	app, err := New(Config{}, n.services(sess))
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	app.Register(mux)
	return mux, s.Token, id
}

// BenchmarkContentPages renders the home, search, resource, profile and
// publish pages of a node holding 10,000 resources (fakes: the time is
// the web app's own), and reports each page's p99.
func BenchmarkContentPages(b *testing.B) {
	mux, token, id := benchMux(b)
	for _, path := range benchPages(id) {
		b.Run(path, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				times = append(times, renderTimes(b, mux, token, path, 1)...)
			}
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			b.ReportMetric(float64(percentile(times, 0.99).Microseconds()), "p99-µs")
			b.ReportMetric(float64(percentile(times, 0.50).Microseconds()), "p50-µs")
		})
	}
}
