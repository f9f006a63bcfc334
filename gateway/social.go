package gateway

import (
	"net/http"
	"strconv"

	"github.com/lyceum-oer/lyceum/node/api"
)

// Unfollowed answers POST /api/v1/unfollow.
type Unfollowed struct {
	// Unfollowed is the actor as the request named it.
	Unfollowed string `json:"unfollowed"`
}

// socialRoutes are the calls of the social services: actors, resources,
// follows, likes, the feed, blocks and the views' repair.
func (s *Server) socialRoutes() {
	if s.svc.Actors != nil {
		s.handle(http.MethodPost, "/api/v1/actors", withBody(s, s.apiCreateActor))
		s.handle(http.MethodGet, "/api/v1/actors", s.apiActors)
		s.handle(http.MethodGet, "/api/v1/actors/{ref}", s.apiActor)
	}
	if s.svc.Publisher != nil {
		s.handle(http.MethodPost, "/api/v1/resources", withBody(s, s.apiPublish))
		s.handle(http.MethodPut, "/api/v1/resources/{id}", withBody(s, s.apiUpdateResource))
		s.handle(http.MethodDelete, "/api/v1/resources/{id}", s.apiDeleteResource)
	}
	if s.svc.Resources != nil {
		s.handle(http.MethodGet, "/api/v1/resources/{id}", s.apiShowResource)
	}
	if s.svc.Follower != nil {
		s.handle(http.MethodPost, "/api/v1/follow", withBody(s, s.apiFollow))
		s.handle(http.MethodPost, "/api/v1/unfollow", withBody(s, s.apiUnfollow))
	}
	if s.svc.Liker != nil {
		s.handle(http.MethodPost, "/api/v1/like", withBody(s, s.apiLike))
	}
	if s.svc.Feeds != nil {
		s.handle(http.MethodGet, "/api/v1/feed", s.apiFeed)
	}
	if s.svc.Views != nil {
		s.handle(http.MethodPost, "/api/v1/repair/rebuild-views", s.rebuild(s.svc.Views))
	}
	if s.svc.Blocker != nil {
		s.handle(http.MethodPost, "/api/v1/block", withBody(s, s.apiBlock))
	}
}

// withBody is a handler whose request body is one JSON value of type T.
func withBody[T any](s *Server, h func(w http.ResponseWriter, r *http.Request, req T)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req T
		if err := readJSON(r, &req); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.actAsBody(r, &req); err != nil {
			s.fail(w, r, err)
			return
		}
		h(w, r, req)
	}
}

func (s *Server) apiCreateActor(w http.ResponseWriter, r *http.Request, req api.CreateActorRequest) {
	// An account makes communities; a person with no account is the
	// node's management (people come with their accounts).
	if a := callerOf(r).account; a != nil && req.Type != "Group" && !a.Can(api.ActionConfigure) {
		s.fail(w, r, api.Errorf(api.KindForbidden, "your account may create communities (type Group) only: a person comes with an account"))
		return
	}
	a, err := s.svc.Actors.CreateActor(r.Context(), req)
	s.answer(w, r, a, err)
}

func (s *Server) apiActors(w http.ResponseWriter, r *http.Request) {
	as, err := s.svc.Actors.Actors(r.Context(), r.URL.Query().Get("local") == "true")
	s.answer(w, r, orEmpty(as), err)
}

func (s *Server) apiActor(w http.ResponseWriter, r *http.Request) {
	a, err := s.svc.Actors.Actor(r.Context(), r.PathValue("ref"))
	s.answer(w, r, a, err)
}

func (s *Server) apiPublish(w http.ResponseWriter, r *http.Request, req api.PublishRequest) {
	p, err := s.svc.Publisher.Publish(r.Context(), req)
	s.answer(w, r, p, err)
}

func (s *Server) apiShowResource(w http.ResponseWriter, r *http.Request) {
	v, err := s.svc.Resources.ShowResource(r.Context(), r.PathValue("id"))
	s.answer(w, r, v, err)
}

func (s *Server) apiUpdateResource(w http.ResponseWriter, r *http.Request, req api.PublishRequest) {
	p, err := s.svc.Publisher.UpdateResource(r.Context(), r.PathValue("id"), req)
	s.answer(w, r, p, err)
}

func (s *Server) apiDeleteResource(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.Publisher.DeleteResource(r.Context(), r.PathValue("id"))
	s.answer(w, r, p, err)
}

func (s *Server) apiFollow(w http.ResponseWriter, r *http.Request, req api.FollowRequest) {
	a, err := s.svc.Follower.Follow(r.Context(), req)
	s.answer(w, r, a, err)
}

func (s *Server) apiUnfollow(w http.ResponseWriter, r *http.Request, req api.FollowRequest) {
	s.answer(w, r, Unfollowed{Unfollowed: req.Actor}, s.svc.Follower.Unfollow(r.Context(), req))
}

func (s *Server) apiLike(w http.ResponseWriter, r *http.Request, req api.LikeRequest) {
	res, err := s.svc.Liker.Like(r.Context(), req)
	s.answer(w, r, res, err)
}

func (s *Server) apiFeed(w http.ResponseWriter, r *http.Request) {
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			s.fail(w, r, api.Invalidf("limit must be a whole number"))
			return
		}
		limit = n
	}
	var items []api.FeedItem
	var err error
	if f, ok := s.svc.Feeds.(PersonalFeeds); ok && callerOf(r).account != nil {
		items, err = f.FeedOf(r.Context(), api.FeedQuery{As: callerOf(r).account.Username, Limit: limit})
	} else {
		items, err = s.svc.Feeds.Feed(r.Context(), limit)
	}
	s.answer(w, r, orEmpty(items), err)
}

func (s *Server) apiBlock(w http.ResponseWriter, r *http.Request, req api.BlockRequest) {
	s.answer(w, r, req, s.svc.Blocker.Block(r.Context(), req))
}

// rebuild answers a rebuild of derived state: the views or the index.
func (s *Server) rebuild(rb Rebuilder) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		res, err := rb.Rebuild(r.Context())
		s.answer(w, r, res, err)
	}
}

// orEmpty makes a nil list the empty one: the API sends [], never null.
func orEmpty[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}
