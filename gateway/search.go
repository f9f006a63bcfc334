package gateway

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/lyceum-oer/lyceum/node"
)

// Search is what the gateway needs for search and HQ moderation.
type Search interface {
	// Search asks the local index and the configured HQs.
	Search(ctx context.Context, q node.SearchQuery) (node.SearchResult, error)
	// AllowSearch applies the rate limit to one client.
	AllowSearch(client string) bool
	// Delist hides a resource from this node's results; Relist undoes it.
	Delist(ctx context.Context, id, reason string) error
	Relist(ctx context.Context, id string) error
	// RebuildIndex re-creates the search index from the stored logs.
	RebuildIndex(ctx context.Context) (int, error)
}

// DelistRequest is the body of POST /api/v1/hq/delist and relist.
type DelistRequest struct {
	ID     string `json:"id"`
	Reason string `json:"reason,omitempty"`
}

// IndexRebuildResponse answers POST /api/v1/index/rebuild.
type IndexRebuildResponse struct {
	Documents int `json:"documents"`
}

func (s *Server) searchRoutes() {
	if s.search == nil {
		return
	}
	// Search is public, as HQ serves it to everyone, and rate-limited.
	s.mux.HandleFunc("GET /api/v1/search", s.apiSearch)
	s.mux.HandleFunc("POST /api/v1/hq/delist", s.requireToken(s.apiDelist))
	s.mux.HandleFunc("POST /api/v1/hq/relist", s.requireToken(s.apiRelist))
	s.mux.HandleFunc("POST /api/v1/index/rebuild", s.requireToken(s.apiRebuildIndex))
}

// SearchQueryFromURL reads the search parameters of DESIGN.md:
// q, kind, language, license, subject, type, level, sort, page, size, and
// facets (true or false; by default facets come with the first page only,
// as counting them visits every match).
func SearchQueryFromURL(v url.Values) (node.SearchQuery, error) {
	q := node.SearchQuery{
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
				return q, &node.Error{Kind: node.KindInvalid, Msg: p.name + " must be a whole number from 1"}
			}
			*p.dst = n
		}
	}
	switch q.Sort {
	case "", "relevance", "newest", "popular":
	default:
		return q, &node.Error{Kind: node.KindInvalid, Msg: "sort must be relevance, newest or popular"}
	}
	switch q.Kind {
	case "", "resource", "collection", "community", "person":
	default:
		return q, &node.Error{Kind: node.KindInvalid, Msg: "kind must be resource, collection, community or person"}
	}
	switch f := v.Get("facets"); f {
	case "":
		q.Facets = q.Page <= 1
	default:
		b, err := strconv.ParseBool(f)
		if err != nil {
			return q, &node.Error{Kind: node.KindInvalid, Msg: "facets must be true or false"}
		}
		q.Facets = b
	}
	return q, nil
}

func (s *Server) apiSearch(w http.ResponseWriter, r *http.Request) {
	if !s.search.AllowSearch(s.clientIP(r)) {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": map[string]string{"kind": "rate_limited", "message": "too many searches: slow down"}})
		return
	}
	q, err := SearchQueryFromURL(r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	res, err := s.search.Search(r.Context(), q)
	s.answer(w, r, res, err)
}

func (s *Server) apiDelist(w http.ResponseWriter, r *http.Request) {
	var req DelistRequest
	if err := readJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	s.answer(w, r, req, s.search.Delist(r.Context(), req.ID, req.Reason))
}

func (s *Server) apiRelist(w http.ResponseWriter, r *http.Request) {
	var req DelistRequest
	if err := readJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	s.answer(w, r, req, s.search.Relist(r.Context(), req.ID))
}

func (s *Server) apiRebuildIndex(w http.ResponseWriter, r *http.Request) {
	n, err := s.search.RebuildIndex(r.Context())
	s.answer(w, r, IndexRebuildResponse{Documents: n}, err)
}

// Search asks the node's search API.
func (c *Client) Search(ctx context.Context, q node.SearchQuery) (node.SearchResult, error) {
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
	var out node.SearchResult
	return out, c.getJSON(ctx, http.MethodGet, "/api/v1/search?"+v.Encode(), nil, "", &out)
}

// Delist hides a resource from the node's search results.
func (c *Client) Delist(ctx context.Context, id, reason string) error {
	var out DelistRequest
	return c.postJSON(ctx, http.MethodPost, "/api/v1/hq/delist", DelistRequest{ID: id, Reason: reason}, &out)
}

// Relist undoes Delist.
func (c *Client) Relist(ctx context.Context, id string) error {
	var out DelistRequest
	return c.postJSON(ctx, http.MethodPost, "/api/v1/hq/relist", DelistRequest{ID: id}, &out)
}

// RebuildIndex re-creates the node's search index.
func (c *Client) RebuildIndex(ctx context.Context) (int, error) {
	var out IndexRebuildResponse
	return out.Documents, c.getJSON(ctx, http.MethodPost, "/api/v1/index/rebuild", nil, "", &out)
}
