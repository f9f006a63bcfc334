package moodle

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/lyceum-oer/lyceum/gateway/clientip"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/ratelimit"
)

// The paths of the surface. ConsentPath is the web app's.
const (
	DiscoveryPath = "/.well-known/oauth-authorization-server"
	RegisterPath  = "/oauth/register"
	TokenPath     = "/oauth/token"
	ConsentPath   = "/oauth/authorize"
	CreatePath    = "/.pkg/@moodlenet/ed-resource/basic/v1/create"
)

// MaxResourceBytes is the largest backup Moodle shares
// (resource_sender::MAX_FILESIZE, 1.07 GB), and the default bound here.
const MaxResourceBytes = 1_070_000_000

// Server answers Moodle.
type Server struct {
	base     string // the node's public URL, without a trailing slash
	svc      Services
	o        options
	log      *slog.Logger
	register *ratelimit.Keyed // registrations per client
	badAuth  *ratelimit.Keyed // failed client or bearer authentications per client
}

// Option configures New.
type Option func(*options)

type options struct {
	allowed         []string
	registerPerHour float64
	registerBurst   int
	keys            int
	proxies         []netip.Prefix
	maxResource     int64
	maxExpanded     int64
	log             *slog.Logger
	drafts          func(id int64) string
}

// WithAllowedSites restricts registration to the Moodle sites listed:
// base URLs (https://moodle.example.edu, or with a path for a Moodle in a
// folder) that the client_uri and every redirect_uri must start with. None
// (the default) leaves registration open to any site.
func WithAllowedSites(sites ...string) Option {
	return func(o *options) { o.allowed = append(o.allowed, sites...) }
}

// WithRegistrationRate allows each client address burst registrations,
// then perHour (defaults 5 and 10).
func WithRegistrationRate(perHour float64, burst int) Option {
	return func(o *options) { o.registerPerHour, o.registerBurst = perHour, burst }
}

// WithRateLimitedKeys bounds the client addresses the rate limits
// remember (10,000).
func WithRateLimitedKeys(n int) Option { return func(o *options) { o.keys = n } }

// WithTrustedProxies names the reverse proxies whose X-Forwarded-For
// names the client, for the rate limits.
func WithTrustedProxies(p []netip.Prefix) Option { return func(o *options) { o.proxies = p } }

// WithMaxResource bounds a shared backup (MaxResourceBytes).
func WithMaxResource(n int64) Option { return func(o *options) { o.maxResource = n } }

// WithMaxExpanded bounds the bytes a backup may expand to when it is read
// for its moodle_backup.xml (32 GiB).
func WithMaxExpanded(n int64) Option { return func(o *options) { o.maxExpanded = n } }

// WithLogger sets the logger (slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithDraftPage sets the path of a draft's page in the web app, which
// the create call answers as its homepage (/publish?draft=ID).
func WithDraftPage(f func(id int64) string) Option { return func(o *options) { o.drafts = f } }

// New builds the surface for a node whose public base URL is publicURL:
// https, or http on a loopback address (tests).
func New(publicURL string, svc Services, opts ...Option) (*Server, error) {
	if svc.OAuth == nil || svc.Files == nil || svc.Drafts == nil {
		return nil, errors.New("moodle: a service is missing")
	}
	if err := CheckPublicURL(publicURL); err != nil {
		return nil, err
	}
	o := options{registerPerHour: 10, registerBurst: 5, keys: 10_000, maxResource: MaxResourceBytes, maxExpanded: 32 << 30,
		log: slog.Default(), drafts: func(id int64) string { return fmt.Sprintf("/publish?draft=%d", id) }}
	for _, opt := range opts {
		opt(&o)
	}
	for i, s := range o.allowed {
		if !api.RedirectURIOK(s) {
			return nil, fmt.Errorf("moodle: allowed site %q is not an https URL", s)
		}
		o.allowed[i] = strings.TrimRight(s, "/")
	}
	if o.registerPerHour <= 0 || o.registerBurst <= 0 || o.keys <= 0 || o.maxResource <= 0 {
		return nil, errors.New("moodle: rates and bounds must be above 0")
	}
	return &Server{
		base: strings.TrimRight(publicURL, "/"), svc: svc, o: o, log: o.log.With("component", "moodle"),
		register: ratelimit.New(o.registerPerHour/3600, o.registerBurst, o.keys),
		badAuth:  ratelimit.New(10.0/60, 30, o.keys),
	}, nil
}

// CheckPublicURL checks that u can be an OAuth issuer: Moodle refuses any
// but https (loopback http is allowed, for tests).
func CheckPublicURL(u string) error {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || p.RawQuery != "" || p.Fragment != "" ||
		!(p.Scheme == "https" || p.Scheme == "http" && api.Loopback(p.Hostname())) {
		return api.Invalidf("gateway.public_url %s: Moodle shares only to an https URL (behind a TLS proxy, or with tls_cert and tls_key)", api.Quote(u))
	}
	return nil
}

// Register adds the surface's handlers to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+DiscoveryPath, s.discovery)
	mux.HandleFunc("POST "+RegisterPath, s.registerClient)
	mux.HandleFunc("POST "+TokenPath, s.token)
	mux.HandleFunc("POST "+CreatePath, s.create)
}

// IsUpload reports whether r is a share, whose body deadline moves with
// its progress.
func (s *Server) IsUpload(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == CreatePath
}

// metadata is the authorization server's metadata (RFC 8414 §2). Moodle
// makes an endpoint of every member ending in _endpoint, and keeps
// scopes_supported as the scopes it registers with.
type metadata struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	RegistrationEndpoint  string   `json:"registration_endpoint"`
	ScopesSupported       []string `json:"scopes_supported"`
	ResponseTypes         []string `json:"response_types_supported"`
	GrantTypes            []string `json:"grant_types_supported"`
	TokenAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
	ServiceDocumentation  string   `json:"service_documentation,omitempty"`
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, metadata{
		Issuer: s.base, AuthorizationEndpoint: s.base + ConsentPath, TokenEndpoint: s.base + TokenPath,
		RegistrationEndpoint: s.base + RegisterPath, ScopesSupported: api.OAuthScopes(),
		ResponseTypes: []string{"code"}, GrantTypes: []string{"authorization_code", "refresh_token"},
		TokenAuthMethods: []string{"client_secret_basic", "client_secret_post"},
	})
}

// client is what the rate limits count a request by.
func (s *Server) client(r *http.Request) string { return clientip.Key(r, s.o.proxies) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// oauthError answers an OAuth refusal (RFC 6749 §5.2): 401 for a client
// that failed to authenticate, 400 otherwise, 500 for the node's own
// failure (logged).
func (s *Server) oauthError(w http.ResponseWriter, r *http.Request, err error) {
	var oe *api.OAuthError
	status, body := http.StatusBadRequest, map[string]string{}
	switch {
	case errors.As(err, &oe):
		body["error"], body["error_description"] = oe.Code, oe.Msg
		switch oe.Code {
		case api.OAuthInvalidClient:
			status = http.StatusUnauthorized
			s.badAuth.Allow(s.client(r))
			if _, _, basic := r.BasicAuth(); basic {
				w.Header().Set("WWW-Authenticate", `Basic realm="lyceum"`)
			}
		case api.OAuthUnavailable:
			status = http.StatusServiceUnavailable
		}
	case api.KindOf(err) == api.KindRateLimited:
		status = http.StatusTooManyRequests
		body["error"], body["error_description"] = "slow_down", api.PublicMessage(err)
	default:
		s.log.Error("OAuth call failed", "path", r.URL.Path, "err", err)
		status = http.StatusInternalServerError
		body["error"], body["error_description"] = "server_error", "the node could not complete the request"
	}
	writeJSON(w, status, body)
}

// apiError is the create call's error body: the API's
// {"error": {"kind", "message"}}, with the multipart part or JSON member
// at fault.
type apiError struct {
	Error apiErrorDetail `json:"error"`
}

type apiErrorDetail struct {
	Kind    api.Kind `json:"kind"`
	Message string   `json:"message"`
	Field   string   `json:"field,omitempty"`
}

// fieldError is a refusal that names the part or member at fault.
type fieldError struct {
	field  string
	status int // 0: the kind's
	err    error
}

func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

func badField(field, format string, args ...any) error {
	return &fieldError{field: field, err: api.Invalidf(format, args...)}
}

// fail answers the create call's error.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	kind := api.KindOf(err)
	status := kind.HTTPStatus()
	d := apiErrorDetail{Kind: kind, Message: api.PublicMessage(err)}
	var fe *fieldError
	if errors.As(err, &fe) {
		d.Field = fe.field
		if fe.status != 0 {
			status = fe.status
		}
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="lyceum", error="invalid_token"`)
	}
	if kind == api.KindInternal {
		s.log.Error("share from Moodle failed", "err", err)
	}
	writeJSON(w, status, apiError{Error: d})
}
