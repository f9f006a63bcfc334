package gateway

import (
	"net/http"
	"slices"
	"strings"
)

// Route is one call of the JSON API as the gateway serves it: what the
// OpenAPI document (openapi.json) must describe.
type Route struct {
	// Method is the HTTP method: GET, POST, PUT or DELETE.
	Method string
	// Path is the pattern, with {name} for a path parameter:
	// /api/v1/pins/{cid}.
	Path string
	// Token is true when the call needs the node's API token.
	Token bool
}

// Routes lists the JSON API's routes the server registered, in the order
// they were registered.
func (s *Server) Routes() []Route { return slices.Clone(s.routes) }

// handle registers one route of the JSON API on the mux and in the route
// table; a route with token set answers 401 without the API token, and
// any other recognises the token when it is there (the operator reads
// whole errors).
func (s *Server) handle(method, path string, token bool, h http.HandlerFunc) {
	s.routes = append(s.routes, Route{Method: method, Path: path, Token: token})
	if token {
		h = s.requireToken(h)
	} else {
		h = s.recogniseToken(h)
	}
	s.mux.HandleFunc(method+" "+path, h)
}

// manage registers a management call: one that needs the API token.
func (s *Server) manage(method, path string, h http.HandlerFunc) { s.handle(method, path, true, h) }

// mountAPI registers a part's management calls, given as "METHOD /path"
// patterns, behind the API token.
func (s *Server) mountAPI(routes map[string]func(r *http.Request) (any, error)) {
	patterns := make([]string, 0, len(routes))
	for p := range routes {
		patterns = append(patterns, p)
	}
	slices.Sort(patterns)
	for _, p := range patterns {
		method, path, _ := strings.Cut(p, " ")
		call := routes[p]
		s.manage(method, path, func(w http.ResponseWriter, r *http.Request) {
			v, err := call(r)
			s.answer(w, r, v, err)
		})
	}
}
