package gateway

import (
	"context"
	"net/http"
	"strconv"

	"github.com/lyceum-oer/lyceum/node/api"
)

// RoleRequest gives an account a role: PUT /api/v1/accounts/{username}/role.
type RoleRequest struct {
	Role api.Role `json:"role"`
}

// PasswordReset sets an account's password without its current one:
// PUT /api/v1/accounts/{username}/password.
type PasswordReset struct {
	Password string `json:"password"`
}

// RegistrationSetting is the node's registration mode:
// GET and PUT /api/v1/registration.
type RegistrationSetting struct {
	Mode api.RegistrationMode `json:"mode"`
}

// Rejected answers the rejection of a registration.
type Rejected struct {
	Rejected string `json:"rejected"` // the username
}

// Revoked answers the revocation of a token or an invitation.
type Revoked struct {
	Revoked int64 `json:"revoked"` // its ID
}

// accountRoutes are the calls about accounts: the caller's own (/me),
// the node's accounts, their tokens, registration and invitations.
func (s *Server) accountRoutes() {
	if s.svc.Tokens != nil && s.svc.AccountAdmin != nil {
		s.handle(http.MethodGet, "/api/v1/me", s.apiMe)
		s.handle(http.MethodGet, "/api/v1/me/tokens", s.apiTokens)
		s.handle(http.MethodPost, "/api/v1/me/tokens", withBody(s, s.apiCreateToken))
		s.handle(http.MethodDelete, "/api/v1/me/tokens/{id}", s.apiRevokeToken)
		s.handle(http.MethodGet, "/api/v1/accounts/{username}/tokens", s.apiTokens)
		s.handle(http.MethodPost, "/api/v1/accounts/{username}/tokens", withBody(s, s.apiCreateToken))
		s.handle(http.MethodDelete, "/api/v1/accounts/{username}/tokens/{id}", s.apiRevokeToken)
	}
	if s.svc.AccountAdmin != nil {
		s.handle(http.MethodGet, "/api/v1/accounts", s.apiAccounts)
		s.handle(http.MethodPost, "/api/v1/accounts", withBody(s, s.apiCreateAccount))
		s.handle(http.MethodGet, "/api/v1/accounts/{username}", s.apiAccount)
		s.handle(http.MethodPost, "/api/v1/accounts/{username}/approve", s.accountChange(s.svc.AccountAdmin.Approve))
		s.handle(http.MethodPost, "/api/v1/accounts/{username}/reject", s.apiReject)
		s.handle(http.MethodPut, "/api/v1/accounts/{username}/role", withBody(s, s.apiSetRole))
		s.handle(http.MethodPost, "/api/v1/accounts/{username}/disable", s.accountChange(s.svc.AccountAdmin.Disable))
		s.handle(http.MethodPost, "/api/v1/accounts/{username}/enable", s.accountChange(s.svc.AccountAdmin.Enable))
		s.handle(http.MethodPut, "/api/v1/accounts/{username}/password", withBody(s, s.apiResetPassword))
	}
	if s.svc.Registrations != nil {
		s.handle(http.MethodGet, "/api/v1/registration", s.apiRegistration)
		s.handle(http.MethodPut, "/api/v1/registration", withBody(s, s.apiSetRegistration))
		s.handle(http.MethodGet, "/api/v1/invitations", s.apiInvitations)
		s.handle(http.MethodPost, "/api/v1/invitations", withBody(s, s.apiCreateInvitation))
		s.handle(http.MethodDelete, "/api/v1/invitations/{id}", s.apiRevokeInvitation)
	}
}

var errNoAccount = api.Invalidf("the node's API token is the operator's, not an account's: " +
	"use /api/v1/accounts/{username}/… or an account's personal token")

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	c := callerOf(r)
	if c.account == nil {
		s.fail(w, r, errNoAccount)
		return
	}
	// Read again: the answer has the account as it is now.
	a, err := s.svc.AccountAdmin.Account(r.Context(), c.account.Username)
	s.answer(w, r, a, err)
}

// tokenOwner is whose tokens a call is about: the path's {username}, or
// the caller on /api/v1/me/tokens. An account may ask about its own; an
// admin may list and revoke others' too; only the operator (or the
// account itself) makes one, as a token made for another acts as them.
func (s *Server) tokenOwner(r *http.Request) (string, error) {
	c := callerOf(r)
	username := r.PathValue("username")
	if username == "" {
		if c.account == nil {
			return "", errNoAccount
		}
		return c.account.Username, nil
	}
	switch {
	case c.anonymous():
		return "", errNoToken
	case c.operator || c.account.Username == username:
		return username, nil
	case r.Method != http.MethodPost && c.account.Can(api.ActionManageAccounts):
		return username, nil
	case r.Method == http.MethodPost:
		return "", api.Errorf(api.KindForbidden, "only %s (or the node's operator) may make a token of %s", username, username)
	}
	return "", api.Errorf(api.KindForbidden, "only %s and administrators may see or revoke the tokens of %s", username, username)
}

func (s *Server) apiTokens(w http.ResponseWriter, r *http.Request) {
	username, err := s.tokenOwner(r)
	if err == nil {
		_, err = s.svc.AccountAdmin.Account(r.Context(), username)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ts, err := s.svc.Tokens.Tokens(r.Context(), username)
	s.answer(w, r, orEmpty(ts), err)
}

func (s *Server) apiCreateToken(w http.ResponseWriter, r *http.Request, req api.CreateTokenRequest) {
	username, err := s.tokenOwner(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Pinning tokens spend the node's storage: the admin issues them.
	if c := callerOf(r); req.Scope == api.ScopePinning && !c.operator && (c.account == nil || !c.account.Can(api.ActionManageAccounts)) {
		s.fail(w, r, api.Errorf(api.KindForbidden, "only an administrator (or the node's operator) makes pinning tokens"))
		return
	}
	t, err := s.svc.Tokens.CreateToken(r.Context(), username, req)
	s.answer(w, r, t, err)
}

func (s *Server) apiRevokeToken(w http.ResponseWriter, r *http.Request) {
	username, err := s.tokenOwner(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id, ok := s.pathID(w, r)
	if !ok {
		return
	}
	s.answer(w, r, Revoked{Revoked: id}, s.svc.Tokens.RevokeToken(r.Context(), username, id))
}

// pathID reads the path's {id}, a token's or an invitation's number.
func (s *Server) pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		s.fail(w, r, api.Invalidf("%s is not an ID (a whole number from 1)", api.Quote(v)))
		return 0, false
	}
	return id, true
}

func (s *Server) apiAccounts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := api.AccountFilter{Status: api.AccountStatus(q.Get("status")), Role: api.Role(q.Get("role")), After: q.Get("after")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.fail(w, r, api.Invalidf("limit must be a whole number from 1"))
			return
		}
		f.Limit = n
	}
	as, err := s.svc.AccountAdmin.Accounts(r.Context(), callerOf(r).by(), f)
	s.answer(w, r, orEmpty(as), err)
}

func (s *Server) apiCreateAccount(w http.ResponseWriter, r *http.Request, req api.CreateAccountRequest) {
	// The rule checked api.ActionManageAccounts: only admins make admins
	// and moderators too.
	a, err := s.svc.AccountAdmin.CreateAccount(r.Context(), req)
	s.answer(w, r, a, err)
}

func (s *Server) apiAccount(w http.ResponseWriter, r *http.Request) {
	a, err := s.svc.AccountAdmin.Account(r.Context(), r.PathValue("username"))
	s.answer(w, r, a, err)
}

// accountChange answers a change of the path's account by the caller.
func (s *Server) accountChange(change func(ctx context.Context, by, username string) (api.Account, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := change(r.Context(), callerOf(r).by(), r.PathValue("username"))
		s.answer(w, r, a, err)
	}
}

func (s *Server) apiReject(w http.ResponseWriter, r *http.Request) {
	username := r.PathValue("username")
	s.answer(w, r, Rejected{Rejected: username}, s.svc.AccountAdmin.Reject(r.Context(), callerOf(r).by(), username))
}

func (s *Server) apiSetRole(w http.ResponseWriter, r *http.Request, req RoleRequest) {
	a, err := s.svc.AccountAdmin.SetRole(r.Context(), callerOf(r).by(), r.PathValue("username"), req.Role)
	s.answer(w, r, a, err)
}

func (s *Server) apiResetPassword(w http.ResponseWriter, r *http.Request, req PasswordReset) {
	username := r.PathValue("username")
	if err := s.svc.AccountAdmin.ResetPassword(r.Context(), callerOf(r).by(), username, req.Password); err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.svc.AccountAdmin.Account(r.Context(), username)
	s.answer(w, r, a, err)
}

func (s *Server) apiRegistration(w http.ResponseWriter, r *http.Request) {
	m, err := s.svc.Registrations.RegistrationMode(r.Context())
	s.answer(w, r, RegistrationSetting{Mode: m}, err)
}

func (s *Server) apiSetRegistration(w http.ResponseWriter, r *http.Request, req RegistrationSetting) {
	err := s.svc.Registrations.SetRegistrationMode(r.Context(), callerOf(r).by(), req.Mode)
	s.answer(w, r, req, err)
}

func (s *Server) apiInvitations(w http.ResponseWriter, r *http.Request) {
	is, err := s.svc.Registrations.Invitations(r.Context(), callerOf(r).by())
	s.answer(w, r, orEmpty(is), err)
}

func (s *Server) apiCreateInvitation(w http.ResponseWriter, r *http.Request, req api.InvitationRequest) {
	inv, err := s.svc.Registrations.CreateInvitation(r.Context(), callerOf(r).by(), req)
	s.answer(w, r, inv, err)
}

func (s *Server) apiRevokeInvitation(w http.ResponseWriter, r *http.Request) {
	id, ok := s.pathID(w, r)
	if !ok {
		return
	}
	s.answer(w, r, Revoked{Revoked: id}, s.svc.Registrations.RevokeInvitation(r.Context(), callerOf(r).by(), id))
}
