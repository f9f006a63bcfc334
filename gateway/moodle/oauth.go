package moodle

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/lyceum-oer/lyceum/node/api"
)

// maxOAuthBody bounds a registration's JSON and a token request's form.
const maxOAuthBody = 64 << 10

// registerClient is open dynamic client registration (RFC 7591 §3): a
// Moodle site registers itself when its admin adds this node as its
// MoodleNet, and gets 201 with its client_id and client_secret.
func (s *Server) registerClient(w http.ResponseWriter, r *http.Request) {
	if !s.register.Allow(s.client(r)) {
		w.Header().Set("Retry-After", "3600")
		s.oauthError(w, r, api.Errorf(api.KindRateLimited, "too many registrations from this address; try again later"))
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		s.oauthError(w, r, api.OAuthErrorf(api.OAuthInvalidMetadata, "send the client metadata as application/json"))
		return
	}
	var req api.OAuthClientRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxOAuthBody))
	if err := dec.Decode(&req); err != nil {
		s.oauthError(w, r, &api.OAuthError{Code: api.OAuthInvalidMetadata, Msg: "the client metadata is not a JSON object of RFC 7591", Err: err})
		return
	}
	if err := s.allowedSite(req); err != nil {
		s.oauthError(w, r, err)
		return
	}
	c, err := s.svc.OAuth.RegisterOAuthClient(r.Context(), req)
	if err != nil {
		s.oauthError(w, r, err)
		return
	}
	s.log.Info("a Moodle site registered", "client", c.ClientID, "name", c.Name, "uri", c.URI)
	writeJSON(w, http.StatusCreated, registration{
		NewOAuthClient: c, IssuedAt: c.Created.Unix(), SecretExpiresAt: 0,
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		AuthMethod: cmpOr(req.TokenEndpointAuthMethod, "client_secret_basic"), Scope: api.ScopeMoodleNetWrite,
	})
}

// registration is the answer of a registration (RFC 7591 §3.2.1).
type registration struct {
	api.NewOAuthClient
	IssuedAt        int64    `json:"client_id_issued_at"`
	SecretExpiresAt int64    `json:"client_secret_expires_at"`
	GrantTypes      []string `json:"grant_types"`
	ResponseTypes   []string `json:"response_types"`
	AuthMethod      string   `json:"token_endpoint_auth_method"`
	Scope           string   `json:"scope"`
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// allowedSite refuses a registration of a site the admin did not list,
// when they listed any.
func (s *Server) allowedSite(req api.OAuthClientRequest) error {
	if len(s.o.allowed) == 0 {
		return nil
	}
	uris := append([]string{req.ClientURI}, req.RedirectURIs...)
	for _, u := range uris {
		if u == "" && len(uris) > 1 {
			continue
		}
		if !s.listed(u) {
			return api.OAuthErrorf(api.OAuthInvalidRedirect, "this node takes shares only from the Moodle sites its admin listed; %s is not one", api.Quote(u))
		}
	}
	return nil
}

// listed reports whether u is under one of the allowed sites: same
// scheme, host and port, and a path below the site's.
func (s *Server) listed(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	for _, site := range s.o.allowed {
		q, err := url.Parse(site)
		if err != nil || !strings.EqualFold(p.Scheme, q.Scheme) || !strings.EqualFold(p.Host, q.Host) {
			continue
		}
		if q.Path == "" || p.Path == q.Path || strings.HasPrefix(p.Path, q.Path+"/") {
			return true
		}
	}
	return false
}

// token is the token endpoint (RFC 6749 §3.2): the authorization_code
// and refresh_token grants, the client authenticated by HTTP Basic
// (client_secret_basic: Moodle URL-encodes both halves) or by the form
// (client_secret_post), never both.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if s.badAuth.Exhausted(s.client(r)) {
		w.Header().Set("Retry-After", "60")
		s.oauthError(w, r, api.Errorf(api.KindRateLimited, "too many failed client authentications from this address; try again in a minute"))
		return
	}
	// PHP's curl sends a string body as a form, with or without saying so.
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" && r.Header.Get("Content-Type") != "" {
		s.oauthError(w, r, api.OAuthErrorf(api.OAuthInvalidRequest, "send the token request as application/x-www-form-urlencoded"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOAuthBody))
	if err != nil {
		s.oauthError(w, r, &api.OAuthError{Code: api.OAuthInvalidRequest, Msg: "the request body could not be read", Err: err})
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		s.oauthError(w, r, &api.OAuthError{Code: api.OAuthInvalidRequest, Msg: "the request body is not a form", Err: err})
		return
	}
	for name, vs := range form {
		if len(vs) > 1 {
			s.oauthError(w, r, api.OAuthErrorf(api.OAuthInvalidRequest, "%s is given more than once", name))
			return
		}
	}
	id, secret, err := clientCredentials(r, form)
	if err != nil {
		s.oauthError(w, r, err)
		return
	}
	var toks api.OAuthTokens
	switch gt := form.Get("grant_type"); gt {
	case "authorization_code":
		toks, err = s.svc.OAuth.ExchangeOAuthCode(r.Context(), api.OAuthCodeExchange{ClientID: id, ClientSecret: secret,
			Code: form.Get("code"), RedirectURI: form.Get("redirect_uri")})
	case "refresh_token":
		toks, err = s.svc.OAuth.RefreshOAuthToken(r.Context(), api.OAuthRefresh{ClientID: id, ClientSecret: secret, RefreshToken: form.Get("refresh_token")})
	case "":
		err = api.OAuthErrorf(api.OAuthInvalidRequest, "grant_type is missing")
	default:
		err = api.OAuthErrorf(api.OAuthUnsupportedType, "this node grants authorization_code and refresh_token, not %s", api.Quote(gt))
	}
	if err != nil {
		s.oauthError(w, r, err)
		return
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, toks)
}

// clientCredentials are the client's ID and secret, from one place.
func clientCredentials(r *http.Request, form url.Values) (string, string, error) {
	user, pass, basic := r.BasicAuth()
	_, inForm := form["client_secret"]
	switch {
	case basic && inForm:
		return "", "", api.OAuthErrorf(api.OAuthInvalidRequest, "authenticate the client one way: HTTP Basic or the form, not both")
	case basic:
		id, err1 := url.QueryUnescape(user)
		secret, err2 := url.QueryUnescape(pass)
		if err := errors.Join(err1, err2); err != nil {
			return "", "", &api.OAuthError{Code: api.OAuthInvalidClient, Msg: "the Basic credentials are not URL-encoded", Err: err}
		}
		if f := form.Get("client_id"); f != "" && f != id {
			return "", "", api.OAuthErrorf(api.OAuthInvalidRequest, "client_id differs from the Basic credentials")
		}
		return id, secret, nil
	case inForm:
		return form.Get("client_id"), form.Get("client_secret"), nil
	}
	return "", "", api.OAuthErrorf(api.OAuthInvalidClient, "authenticate the client: client_secret_basic or client_secret_post")
}
