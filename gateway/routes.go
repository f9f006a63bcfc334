package gateway

import (
	"fmt"
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
	// Token is true when the call needs an API token: the node's or a
	// personal one (Rule says which accounts may).
	Token bool
	// Rule is who may make the call.
	Rule Rule
}

// Routes lists the JSON API's routes the server registered, in the order
// they were registered.
func (s *Server) Routes() []Route { return slices.Clone(s.routes) }

// handle registers one route of the JSON API on the mux and in the route
// table, behind its rule of the permission table (permissions.go). A
// route missing from the table is an error New returns.
func (s *Server) handle(method, path string, h http.HandlerFunc) {
	rule, ok := ruleOf(method, path)
	if !ok {
		s.setupErrs = append(s.setupErrs, fmt.Errorf("route %s %s is not in the permission table", method, path))
		return
	}
	s.handleRule(method, path, rule, h)
}

// handleRule registers a route with its rule.
func (s *Server) handleRule(method, path string, rule Rule, h http.HandlerFunc) {
	s.routes = append(s.routes, Route{Method: method, Path: path, Token: !rule.Public, Rule: rule})
	s.mux.HandleFunc(method+" "+path, s.guardRoute(rule, h))
}

// mountAPI registers a part's management calls, given as "METHOD /path"
// patterns, with their rule in the permission table or else mountedRule.
func (s *Server) mountAPI(routes map[string]func(r *http.Request) (any, error)) {
	patterns := make([]string, 0, len(routes))
	for p := range routes {
		patterns = append(patterns, p)
	}
	slices.Sort(patterns)
	for _, p := range patterns {
		method, path, _ := strings.Cut(p, " ")
		call := routes[p]
		rule, ok := ruleOf(method, path)
		if !ok {
			rule = mountedRule
		}
		s.handleRule(method, path, rule, func(w http.ResponseWriter, r *http.Request) {
			v, err := call(r)
			s.answer(w, r, v, err)
		})
	}
}
