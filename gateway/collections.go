package gateway

import (
	"context"
	"net/http"

	"github.com/lyceum-oer/lyceum/node"
)

// Collections is what the gateway needs of the node's collections. The
// social service passed to New provides it when it has collections
// (*node.Node does); otherwise the routes are not served.
type Collections interface {
	// CreateCollection signs a Create of an empty collection owned by as.
	CreateCollection(ctx context.Context, as, title, summary string) (node.CollectionResult, error)
	// UpdateCollection renames a collection; empty fields keep their value.
	UpdateCollection(ctx context.Context, as, id, title, summary string) (node.CollectionResult, error)
	// DeleteCollection publishes its tombstone.
	DeleteCollection(ctx context.Context, as, id string) (node.CollectionResult, error)
	// AddToCollection and RemoveFromCollection change its items.
	AddToCollection(ctx context.Context, as, id, resourceID string) (node.CollectionResult, error)
	RemoveFromCollection(ctx context.Context, as, id, resourceID string) (node.CollectionResult, error)
	// Collections lists an actor's collections ("" = every local actor's).
	Collections(ctx context.Context, owner string) ([]node.CollectionInfo, error)
	// ShowCollection gives a collection with its items in order.
	ShowCollection(ctx context.Context, id string) (node.CollectionView, error)
}

// CollectionRequest is the body of POST /api/v1/collections and PUT
// /api/v1/collections/{id}.
type CollectionRequest struct {
	As      string `json:"as,omitempty"`
	Title   string `json:"title,omitempty"`
	Summary string `json:"summary,omitempty"`
}

// CollectionItemRequest is the body of POST and DELETE
// /api/v1/collections/{id}/items.
type CollectionItemRequest struct {
	As       string `json:"as,omitempty"`
	Resource string `json:"resource"`
}

func (s *Server) collectionRoutes() {
	c, ok := s.social.(Collections)
	if !ok {
		return
	}
	s.mux.HandleFunc("POST /api/v1/collections", s.requireToken(func(w http.ResponseWriter, r *http.Request) {
		var req CollectionRequest
		if err := readJSON(r, &req); err != nil {
			s.fail(w, r, err)
			return
		}
		res, err := c.CreateCollection(r.Context(), req.As, req.Title, req.Summary)
		s.answer(w, r, res, err)
	}))
	s.mux.HandleFunc("GET /api/v1/collections", s.requireToken(func(w http.ResponseWriter, r *http.Request) {
		ls, err := c.Collections(r.Context(), r.URL.Query().Get("owner"))
		s.answer(w, r, ls, err)
	}))
	s.mux.HandleFunc("GET /api/v1/collections/{id}", s.requireToken(func(w http.ResponseWriter, r *http.Request) {
		v, err := c.ShowCollection(r.Context(), r.PathValue("id"))
		s.answer(w, r, v, err)
	}))
	s.mux.HandleFunc("PUT /api/v1/collections/{id}", s.requireToken(func(w http.ResponseWriter, r *http.Request) {
		var req CollectionRequest
		if err := readJSON(r, &req); err != nil {
			s.fail(w, r, err)
			return
		}
		res, err := c.UpdateCollection(r.Context(), req.As, r.PathValue("id"), req.Title, req.Summary)
		s.answer(w, r, res, err)
	}))
	s.mux.HandleFunc("DELETE /api/v1/collections/{id}", s.requireToken(func(w http.ResponseWriter, r *http.Request) {
		res, err := c.DeleteCollection(r.Context(), r.URL.Query().Get("as"), r.PathValue("id"))
		s.answer(w, r, res, err)
	}))
	items := func(remove bool) http.HandlerFunc {
		return s.requireToken(func(w http.ResponseWriter, r *http.Request) {
			var req CollectionItemRequest
			if err := readJSON(r, &req); err != nil {
				s.fail(w, r, err)
				return
			}
			f := c.AddToCollection
			if remove {
				f = c.RemoveFromCollection
			}
			res, err := f(r.Context(), req.As, r.PathValue("id"), req.Resource)
			s.answer(w, r, res, err)
		})
	}
	s.mux.HandleFunc("POST /api/v1/collections/{id}/items", items(false))
	s.mux.HandleFunc("DELETE /api/v1/collections/{id}/items", items(true))
}
