package daemon_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/daemon"
)

// BenchmarkPagesAtTenThousandResources renders the web app's main pages
// over HTTP on a real daemon (SQLite views, bleve index) holding 10,000
// resources — one with 50 comments and 10 versions — as a signed-in
// person (an admin, for /admin) whose feed follows the author, and reports each page's p50 and
// p99 (server time plus one loopback round trip). search-only is the
// node's search alone, the same query as the search page's: the page's
// p99 less search-only's is what the page adds.
func BenchmarkPagesAtTenThousandResources(b *testing.B) {
	// One client, many searches: the per-client limit is lifted.
	repo, _ := mustRepo(b, func(c *node.Config) { c.Search.RateLimit = 1e6 })
	d, err := daemon.New(repo, daemon.WithOffline(), daemon.WithListener(loopback(b)))
	if err != nil {
		b.Fatal(err)
	}
	defer closeDaemon(b, d)
	ctx := context.Background()
	n := d.Node()
	for name, role := range map[string]api.Role{"ada": api.RoleMember, "bob": api.RoleAdmin} {
		if _, err := n.Accounts().CreateAccount(ctx, api.CreateAccountRequest{Username: name, Password: "correct horse battery staple", Role: role}); err != nil {
			b.Fatal(err)
		}
	}
	licenses := []string{"CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "CC-BY-NC-4.0"}
	var first string
	for i := range 10000 {
		p, err := n.Social().Publish(ctx, api.PublishRequest{As: "ada", URL: fmt.Sprintf("https://example.org/r/%d", i),
			Title: fmt.Sprintf("Fractions and ratios, sheet %d", i), Summary: "Adding fractions with unlike denominators, step by step.",
			License: licenses[i%len(licenses)], Language: []string{"en", "fr"}[i%2], Subjects: []string{"0541"}, Level: "2", Type: "assessment"})
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			first = p.ID
		}
	}
	for i := range 9 {
		if _, err := n.Social().UpdateResource(ctx, first, api.PublishRequest{As: "ada", Title: fmt.Sprintf("Fractions, revision %d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 50 {
		if _, err := n.Social().Comment(ctx, api.CommentRequest{As: "bob", Resource: first, Content: fmt.Sprintf("Comment %d: it went well with my class.", i)}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := n.Social().Follow(ctx, api.FollowRequest{As: "bob", Actor: "ada"}); err != nil {
		b.Fatal(err)
	}
	q := api.SearchQuery{Text: "fractions", License: "CC-BY-4.0", Sort: "newest", Page: 1, Size: 20, Facets: true}
	waitIndexed(b, n.Search(), q, 2500)
	s, err := n.Accounts().Login(ctx, api.LoginRequest{Username: "bob", Password: "correct horse battery staple"}, "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("search-only", func(b *testing.B) {
		reportPercentiles(b, func() {
			if _, err := n.Search().Search(ctx, q); err != nil {
				b.Fatal(err)
			}
		})
	})
	for _, path := range []string{"/", "/search?q=fractions&license=CC-BY-4.0&sort=newest", "/r/" + first, "/@ada", "/publish", "/settings", "/admin"} {
		b.Run(path, func(b *testing.B) {
			reportPercentiles(b, func() { getPage(b, d.URL()+path, s.Token) })
		})
	}
}

// waitIndexed waits until the node's index answers q with want hits.
func waitIndexed(b *testing.B, s interface {
	Search(context.Context, api.SearchQuery) (api.SearchResult, error)
}, q api.SearchQuery, want uint64) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		res, err := s.Search(context.Background(), q)
		if err == nil && res.Total >= want {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("the index has %d of %d hits after 2 minutes (%v)", res.Total, want, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// reportPercentiles runs do once per op and reports its p50 and p99.
func reportPercentiles(b *testing.B, do func()) {
	var times []time.Duration
	for b.Loop() {
		t0 := time.Now()
		do()
		times = append(times, time.Since(t0))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	at := func(p float64) float64 {
		return float64(times[min(len(times)-1, int(float64(len(times))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// getPage GETs a page of the web app with a session and reads it whole.
func getPage(b *testing.B, u, token string) {
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: "lyceum_session", Value: token})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		b.Fatal(err)
	}
	if resp.StatusCode != 200 {
		b.Fatalf("GET %s: %s", u, resp.Status)
	}
}
