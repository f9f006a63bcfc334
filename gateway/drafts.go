package gateway

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/lyceum-oer/lyceum/node/api"
)

// Drafts keeps the publications accounts have not finished. A draft is
// its account's alone: every method names the account, and another
// account's draft is KindNotFound, never KindForbidden, so IDs do not
// leak.
type Drafts interface {
	// SaveDraft saves a new draft when id is 0, else over the account's
	// draft id; KindNotFound for an unknown account or draft,
	// KindConflict when the account keeps the most drafts it may,
	// KindInvalid for fields over the limits.
	SaveDraft(ctx context.Context, username string, id int64, title string, fields map[string][]string) (api.Draft, error)
	// Drafts lists the account's drafts, the last saved first.
	Drafts(ctx context.Context, username string) ([]api.Draft, error)
	// Draft returns one of the account's drafts.
	Draft(ctx context.Context, username string, id int64) (api.Draft, error)
	// DeleteDraft deletes one of the account's drafts.
	DeleteDraft(ctx context.Context, username string, id int64) error
}

// DraftDeleted answers the deletion of a draft.
type DraftDeleted struct {
	Deleted int64 `json:"deleted"` // its ID
}

// draftRoutes are the calls of drafts: an account's own (its personal
// token: "as" is the account), or any account's for the operator, who
// names it in "as".
func (s *Server) draftRoutes() {
	if s.svc.Drafts == nil {
		return
	}
	s.handle(http.MethodGet, "/api/v1/drafts", s.apiDrafts)
	s.handle(http.MethodPost, "/api/v1/drafts", withBody(s, s.apiSaveDraft))
	s.handle(http.MethodGet, "/api/v1/drafts/{id}", s.apiDraft)
	s.handle(http.MethodDelete, "/api/v1/drafts/{id}", s.apiDeleteDraft)
}

// errNoDraftAccount refuses the operator's draft call that names no
// account: drafts are an account's, and the operator has none.
var errNoDraftAccount = api.Invalidf("drafts are an account's: name it with \"as\" (its username)")

// draftOwner is the account whose drafts a query-string call is about.
func draftOwner(r *http.Request) (string, error) {
	as := r.URL.Query().Get("as")
	if as == "" {
		return "", errNoDraftAccount
	}
	return as, nil
}

func (s *Server) apiDrafts(w http.ResponseWriter, r *http.Request) {
	username, err := draftOwner(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ds, err := s.svc.Drafts.Drafts(r.Context(), username)
	s.answer(w, r, orEmpty(ds), err)
}

func (s *Server) apiSaveDraft(w http.ResponseWriter, r *http.Request, req api.DraftRequest) {
	if req.As == "" {
		s.fail(w, r, errNoDraftAccount)
		return
	}
	title, fields := api.DraftFields(req)
	d, err := s.svc.Drafts.SaveDraft(r.Context(), req.As, 0, title, fields)
	s.answer(w, r, d, err)
}

func (s *Server) apiDraft(w http.ResponseWriter, r *http.Request) {
	username, id, ok := s.draftRef(w, r)
	if !ok {
		return
	}
	d, err := s.svc.Drafts.Draft(r.Context(), username, id)
	s.answer(w, r, d, err)
}

// draftRef reads whose draft and which one a request names, or answers
// the error and reports false.
func (s *Server) draftRef(w http.ResponseWriter, r *http.Request) (string, int64, bool) {
	username, err := draftOwner(r)
	if err != nil {
		s.fail(w, r, err)
		return "", 0, false
	}
	id, ok := s.pathID(w, r)
	return username, id, ok
}

func (s *Server) apiDeleteDraft(w http.ResponseWriter, r *http.Request) {
	username, id, ok := s.draftRef(w, r)
	if !ok {
		return
	}
	s.answer(w, r, DraftDeleted{Deleted: id}, s.svc.Drafts.DeleteDraft(r.Context(), username, id))
}

// SaveDraft saves a new draft of the account req.As.
func (c *Client) SaveDraft(ctx context.Context, req api.DraftRequest) (api.Draft, error) {
	var out api.Draft
	return out, c.call(ctx, http.MethodPost, "/api/v1/drafts", req, &out)
}

// Drafts lists the drafts of the account as, the last saved first.
func (c *Client) Drafts(ctx context.Context, as string) ([]api.Draft, error) {
	var out []api.Draft
	return out, c.call(ctx, http.MethodGet, "/api/v1/drafts?as="+url.QueryEscape(as), nil, &out)
}

// Draft returns the draft id of the account as.
func (c *Client) Draft(ctx context.Context, as string, id int64) (api.Draft, error) {
	var out api.Draft
	return out, c.call(ctx, http.MethodGet, "/api/v1/drafts/"+strconv.FormatInt(id, 10)+"?as="+url.QueryEscape(as), nil, &out)
}

// DeleteDraft deletes the draft id of the account as.
func (c *Client) DeleteDraft(ctx context.Context, as string, id int64) error {
	return c.call(ctx, http.MethodDelete, "/api/v1/drafts/"+strconv.FormatInt(id, 10)+"?as="+url.QueryEscape(as), nil, &DraftDeleted{})
}
