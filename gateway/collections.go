package gateway

import (
	"net/http"

	"github.com/lyceum-oer/lyceum/node/api"
)

// collectionRoutes are the calls of collections: ordered, curated lists
// of resources.
func (s *Server) collectionRoutes() {
	if s.svc.Curator != nil {
		s.handle(http.MethodPost, "/api/v1/collections", withBody(s, s.apiCreateCollection))
		s.handle(http.MethodPut, "/api/v1/collections/{id}", withBody(s, s.apiUpdateCollection))
		s.handle(http.MethodDelete, "/api/v1/collections/{id}", s.apiDeleteCollection)
		s.handle(http.MethodPost, "/api/v1/collections/{id}/items", withBody(s, s.apiAddToCollection))
		s.handle(http.MethodDelete, "/api/v1/collections/{id}/items", withBody(s, s.apiRemoveFromCollection))
	}
	if s.svc.Collections != nil {
		s.handle(http.MethodGet, "/api/v1/collections", s.apiCollections)
		s.handle(http.MethodGet, "/api/v1/collections/{id}", s.apiShowCollection)
	}
}

func (s *Server) apiCreateCollection(w http.ResponseWriter, r *http.Request, req api.CollectionRequest) {
	res, err := s.svc.Curator.CreateCollection(r.Context(), req)
	s.answer(w, r, res, err)
}

func (s *Server) apiUpdateCollection(w http.ResponseWriter, r *http.Request, req api.CollectionRequest) {
	res, err := s.svc.Curator.UpdateCollection(r.Context(), r.PathValue("id"), req)
	s.answer(w, r, res, err)
}

func (s *Server) apiDeleteCollection(w http.ResponseWriter, r *http.Request) {
	res, err := s.svc.Curator.DeleteCollection(r.Context(), r.URL.Query().Get("as"), r.PathValue("id"))
	s.answer(w, r, res, err)
}

func (s *Server) apiAddToCollection(w http.ResponseWriter, r *http.Request, req api.CollectionItemRequest) {
	res, err := s.svc.Curator.AddToCollection(r.Context(), r.PathValue("id"), req)
	s.answer(w, r, res, err)
}

func (s *Server) apiRemoveFromCollection(w http.ResponseWriter, r *http.Request, req api.CollectionItemRequest) {
	res, err := s.svc.Curator.RemoveFromCollection(r.Context(), r.PathValue("id"), req)
	s.answer(w, r, res, err)
}

func (s *Server) apiCollections(w http.ResponseWriter, r *http.Request) {
	ls, err := s.svc.Collections.Collections(r.Context(), r.URL.Query().Get("owner"))
	s.answer(w, r, orEmpty(ls), err)
}

func (s *Server) apiShowCollection(w http.ResponseWriter, r *http.Request) {
	v, err := s.svc.Collections.ShowCollection(r.Context(), r.PathValue("id"))
	v.Entries = orEmpty(v.Entries)
	s.answer(w, r, v, err)
}
