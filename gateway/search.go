package gateway

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/lyceum-oer/lyceum/gateway/clientip"
	"github.com/lyceum-oer/lyceum/node/api"
)

// searchRoutes are the calls of search and HQ moderation. Search is
// public, as an HQ serves it to everyone, and rate-limited by client.
func (s *Server) searchRoutes() {
	if s.svc.Searcher != nil {
		s.handle(http.MethodGet, "/api/v1/search", s.apiSearch)
	}
	if s.svc.Delister != nil {
		s.handle(http.MethodPost, "/api/v1/hq/delist", withBody(s, s.apiDelist))
		s.handle(http.MethodPost, "/api/v1/hq/relist", withBody(s, s.apiRelist))
	}
	if s.svc.Index != nil {
		s.handle(http.MethodPost, "/api/v1/index/rebuild", s.rebuild(s.svc.Index))
	}
}

// SearchQueryFromURL reads the search parameters of DESIGN.md:
// q, kind, language, license, subject, type, level, sort, page, size, and
// facets (true or false; by default facets come with the first page only,
// as counting them visits every match). The search room checks the
// values against the vocabularies and bounds.
func SearchQueryFromURL(v url.Values) (api.SearchQuery, error) {
	q := api.SearchQuery{
		Text: v.Get("q"), Kind: v.Get("kind"), Language: v.Get("language"), License: v.Get("license"),
		Subject: v.Get("subject"), Type: v.Get("type"), Level: v.Get("level"), Sort: v.Get("sort"),
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"page", &q.Page}, {"size", &q.Size}} {
		if s := v.Get(p.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				return q, api.Invalidf("%s must be a whole number from 1", p.name)
			}
			*p.dst = n
		}
	}
	switch q.Sort {
	case "", "relevance", "newest", "popular":
	default:
		return q, api.Invalidf("sort must be relevance, newest or popular")
	}
	switch q.Kind {
	case "", "resource", "collection", "community", "person":
	default:
		return q, api.Invalidf("kind must be resource, collection, community or person")
	}
	switch f := v.Get("facets"); f {
	case "":
		q.Facets = q.Page <= 1
	default:
		b, err := strconv.ParseBool(f)
		if err != nil {
			return q, api.Invalidf("facets must be true or false")
		}
		q.Facets = b
	}
	return q, nil
}

func (s *Server) apiSearch(w http.ResponseWriter, r *http.Request) {
	if !s.svc.Searcher.AllowSearch(clientip.Key(r, s.cfg.TrustedProxies)) {
		w.Header().Set("Retry-After", "1")
		s.fail(w, r, api.Errorf(api.KindRateLimited, "too many searches: slow down"))
		return
	}
	q, err := SearchQueryFromURL(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.svc.Searcher.Search(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) apiDelist(w http.ResponseWriter, r *http.Request, req api.DelistRequest) {
	s.answer(w, r, req, s.svc.Delister.Delist(r.Context(), req))
}

func (s *Server) apiRelist(w http.ResponseWriter, r *http.Request, req api.DelistRequest) {
	s.answer(w, r, req, s.svc.Delister.Relist(r.Context(), req))
}

// Search asks the node's search API.
func (c *Client) Search(ctx context.Context, q api.SearchQuery) (api.SearchResult, error) {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("q", q.Text)
	set("kind", q.Kind)
	v.Set("facets", strconv.FormatBool(q.Facets))
	set("language", q.Language)
	set("license", q.License)
	set("subject", q.Subject)
	set("type", q.Type)
	set("level", q.Level)
	set("sort", q.Sort)
	if q.Page > 0 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	if q.Size > 0 {
		v.Set("size", strconv.Itoa(q.Size))
	}
	var out api.SearchResult
	return out, c.call(ctx, http.MethodGet, "/api/v1/search?"+v.Encode(), nil, &out)
}

// Delist hides a resource from the node's search results.
func (c *Client) Delist(ctx context.Context, req api.DelistRequest) error {
	return c.call(ctx, http.MethodPost, "/api/v1/hq/delist", req, &api.DelistRequest{})
}

// Relist undoes Delist.
func (c *Client) Relist(ctx context.Context, req api.DelistRequest) error {
	return c.call(ctx, http.MethodPost, "/api/v1/hq/relist", req, &api.DelistRequest{})
}

// RebuildIndex re-creates the node's search index from the stored logs.
func (c *Client) RebuildIndex(ctx context.Context) (api.Rebuilt, error) {
	var out api.Rebuilt
	return out, c.call(ctx, http.MethodPost, "/api/v1/index/rebuild", nil, &out)
}
