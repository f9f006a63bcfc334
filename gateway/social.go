package gateway

import (
	"context"
	"net/http"
	"strconv"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node"
)

// Social is what the gateway needs of the node's social services: actors,
// publishing, follows and feeds.
type Social interface {
	// CreateActor makes a local Person or Group with its own key.
	CreateActor(ctx context.Context, username, name, summary string, typ activity.ActorType) (node.ActorInfo, error)
	// Actors lists known actors (local ones only if localOnly).
	Actors(ctx context.Context, localOnly bool) ([]node.ActorInfo, error)
	// Actor finds one known actor by DID, handle or local username.
	Actor(ctx context.Context, ref string) (node.ActorInfo, error)
	// Publish signs and announces a new resource.
	Publish(ctx context.Context, req node.PublishRequest) (node.Published, error)
	// UpdateResource publishes a new version; DeleteResource a tombstone.
	UpdateResource(ctx context.Context, id string, req node.PublishRequest) (node.Published, error)
	DeleteResource(ctx context.Context, id string) (node.Published, error)
	// ShowResource returns a resource with its versions.
	ShowResource(ctx context.Context, id string) (node.ResourceView, error)
	// Follow and Unfollow an actor or community as a local actor.
	Follow(ctx context.Context, as, ref string) (node.ActorInfo, error)
	Unfollow(ctx context.Context, as, ref string) error
	// Like signs a Like of a resource and returns its CID.
	Like(ctx context.Context, as, id string) (string, error)
	// Feed lists what the followed actors and communities published.
	Feed(ctx context.Context, limit int) ([]node.FeedItem, error)
	// RebuildViews replays the stored logs into fresh views.
	RebuildViews(ctx context.Context) (int, error)
	// BlockActor drops everything from an actor from now on.
	BlockActor(ctx context.Context, did, reason string) error
}

// BlockRequest is the body of POST /api/v1/block.
type BlockRequest struct {
	Actor  string `json:"actor"`
	Reason string `json:"reason,omitempty"`
}

// ActorRequest is the body of POST /api/v1/actors.
type ActorRequest struct {
	Username string `json:"username"`
	Name     string `json:"name,omitempty"`
	Summary  string `json:"summary,omitempty"`
	Type     string `json:"type,omitempty"` // Person (default) or Group
}

// FollowRequest is the body of POST /api/v1/follow and /api/v1/unfollow.
type FollowRequest struct {
	As    string `json:"as,omitempty"`
	Actor string `json:"actor"`
}

// LikeRequest is the body of POST /api/v1/like.
type LikeRequest struct {
	As string `json:"as,omitempty"`
	ID string `json:"id"`
}

// LikeResponse answers POST /api/v1/like.
type LikeResponse struct {
	ActivityCID string `json:"activity_cid"`
}

// RebuildResponse answers POST /api/v1/repair/rebuild-views.
type RebuildResponse struct {
	Replayed int `json:"replayed"`
}

func (s *Server) socialRoutes() {
	if s.social == nil {
		return
	}
	s.mux.HandleFunc("POST /api/v1/actors", s.requireToken(s.apiCreateActor))
	s.mux.HandleFunc("GET /api/v1/actors", s.requireToken(s.apiActors))
	s.mux.HandleFunc("GET /api/v1/actors/{ref}", s.requireToken(s.apiActor))
	s.mux.HandleFunc("POST /api/v1/resources", s.requireToken(s.apiPublish))
	s.mux.HandleFunc("GET /api/v1/resources/{id}", s.requireToken(s.apiShowResource))
	s.mux.HandleFunc("PUT /api/v1/resources/{id}", s.requireToken(s.apiUpdateResource))
	s.mux.HandleFunc("DELETE /api/v1/resources/{id}", s.requireToken(s.apiDeleteResource))
	s.mux.HandleFunc("POST /api/v1/follow", s.requireToken(s.apiFollow))
	s.mux.HandleFunc("POST /api/v1/unfollow", s.requireToken(s.apiUnfollow))
	s.mux.HandleFunc("POST /api/v1/like", s.requireToken(s.apiLike))
	s.mux.HandleFunc("GET /api/v1/feed", s.requireToken(s.apiFeed))
	s.mux.HandleFunc("POST /api/v1/repair/rebuild-views", s.requireToken(s.apiRebuildViews))
	s.mux.HandleFunc("POST /api/v1/block", s.requireToken(s.apiBlock))
	s.collectionRoutes()
}

// answer writes v, or the error.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) apiCreateActor(w http.ResponseWriter, r *http.Request) {
	var req ActorRequest
	if err := readJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	typ := activity.Person
	if req.Type != "" {
		typ = activity.ActorType(req.Type)
	}
	a, err := s.social.CreateActor(r.Context(), req.Username, req.Name, req.Summary, typ)
	s.answer(w, r, a, err)
}

func (s *Server) apiActors(w http.ResponseWriter, r *http.Request) {
	as, err := s.social.Actors(r.Context(), r.URL.Query().Get("local") == "true")
	s.answer(w, r, as, err)
}

func (s *Server) apiActor(w http.ResponseWriter, r *http.Request) {
	a, err := s.social.Actor(r.Context(), r.PathValue("ref"))
	s.answer(w, r, a, err)
}

func (s *Server) apiPublish(w http.ResponseWriter, r *http.Request) {
	var req node.PublishRequest
	if err := readJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Path != "" {
		// A path names a file on the daemon's disk: only the CLI on the
		// same machine uploads first and sends file_cid instead.
		s.fail(w, r, &node.Error{Kind: node.KindInvalid, Msg: "path is not accepted over HTTP: upload the file with /api/v1/add and send file_cid"})
		return
	}
	p, err := s.social.Publish(r.Context(), req)
	s.answer(w, r, p, err)
}

func (s *Server) apiShowResource(w http.ResponseWriter, r *http.Request) {
	v, err := s.social.ShowResource(r.Context(), r.PathValue("id"))
	s.answer(w, r, v, err)
}

func (s *Server) apiUpdateResource(w http.ResponseWriter, r *http.Request) {
	var req node.PublishRequest
	if err := readJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	req.Path = ""
	p, err := s.social.UpdateResource(r.Context(), r.PathValue("id"), req)
	s.answer(w, r, p, err)
}

func (s *Server) apiDeleteResource(w http.ResponseWriter, r *http.Request) {
	p, err := s.social.DeleteResource(r.Context(), r.PathValue("id"))
	s.answer(w, r, p, err)
}

func (s *Server) apiFollow(w http.ResponseWriter, r *http.Request) {
	var req FollowRequest
	if err := readJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.social.Follow(r.Context(), req.As, req.Actor)
	s.answer(w, r, a, err)
}

func (s *Server) apiUnfollow(w http.ResponseWriter, r *http.Request) {
	var req FollowRequest
	if err := readJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	err := s.social.Unfollow(r.Context(), req.As, req.Actor)
	s.answer(w, r, map[string]string{"unfollowed": req.Actor}, err)
}

func (s *Server) apiLike(w http.ResponseWriter, r *http.Request) {
	var req LikeRequest
	if err := readJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.social.Like(r.Context(), req.As, req.ID)
	s.answer(w, r, LikeResponse{ActivityCID: c}, err)
}

func (s *Server) apiFeed(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	items, err := s.social.Feed(r.Context(), limit)
	s.answer(w, r, items, err)
}

func (s *Server) apiBlock(w http.ResponseWriter, r *http.Request) {
	var req BlockRequest
	if err := readJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	s.answer(w, r, req, s.social.BlockActor(r.Context(), req.Actor, req.Reason))
}

func (s *Server) apiRebuildViews(w http.ResponseWriter, r *http.Request) {
	n, err := s.social.RebuildViews(r.Context())
	s.answer(w, r, RebuildResponse{Replayed: n}, err)
}
