package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/ipfs/boxo/blockservice"
	boxogw "github.com/ipfs/boxo/gateway"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/ratelimit"
)

// Config is the gateway's plain-data configuration.
type Config struct {
	// Token is the node's API token, the operator's: it may make every
	// call of the API (the CLI reads it from $LYCEUM_PATH/api.token).
	// Personal API tokens (Services.Accounts) make the calls the
	// permission table lets their account make. Required.
	Token string
	// Blocks serves /ipfs/; nil leaves the IPFS gateway out.
	Blocks blockservice.BlockService
	// Metrics, when set, is served at /metrics and receives the gateway's
	// own metrics.
	Metrics *prometheus.Registry
	// MaxUploadBytes bounds one add or CAR import; 0 = DefaultMaxUpload.
	MaxUploadBytes int64
	// Logger; nil = slog.Default().
	Logger *slog.Logger
	// Fediverse, when set, mounts the ActivityPub bridge
	// (gateway/fediverse): /.well-known/webfinger, host-meta, nodeinfo,
	// /ap/ and its management calls under /api/v1/fediverse/.
	Fediverse Mounter
	// Web, when set, is the web app (gateway/web): it serves "/" and the
	// pages below it in place of the plain front page.
	Web WebApp
	// Moodle, when set, is what Moodle's "Share to MoodleNet" speaks to
	// (gateway/moodle): OAuth 2 discovery, registration and tokens, and
	// MoodleNet's create call.
	Moodle WebApp
	// Pinning, when set, is the IPFS Pinning Service API
	// (gateway/pinning), under /api/pinning/v1.
	Pinning WebApp
	// BodyTimeout is how long a request body may take to arrive; for
	// uploads, how long one may go without progress. 0 =
	// DefaultBodyTimeout.
	BodyTimeout time.Duration
	// ConnsPerIP caps the connections one client IP holds open at once
	// (Serve and ServeTLS); 0 = no cap.
	ConnsPerIP int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (for rate limits) and which the connection cap exempts.
	TrustedProxies []netip.Prefix
}

// Mounter is a part of the HTTP surface that brings its own handlers.
type Mounter interface {
	// Register adds the part's public handlers to mux.
	Register(mux *http.ServeMux)
	// APIRoutes are the part's management calls under /api/v1/, by
	// "METHOD /path" pattern: each returns its answer or its error. The
	// gateway puts each behind the API token, lists it in its route table
	// and answers it as the rest of the API.
	APIRoutes() map[string]func(r *http.Request) (any, error)
}

// WebApp is a part of the HTTP surface that brings its own handlers
// and long uploads: the web app, the Moodle surface.
type WebApp interface {
	// Register adds the part's pages, calls and assets to mux.
	Register(mux *http.ServeMux)
	// IsUpload reports whether r is one of the part's long uploads, whose
	// body deadline moves with its progress.
	IsUpload(r *http.Request) bool
}

// DefaultMaxUpload is the largest upload the API takes by default.
const DefaultMaxUpload = 16 << 30

// Server is the node's HTTP surface.
type Server struct {
	cfg     Config
	svc     Services
	log     *slog.Logger
	mux     *http.ServeMux
	routes  []Route      // the JSON API, as registered
	handler http.Handler // mux, guarded
	panics  prometheus.Counter
	srv     *http.Server
	// badTokens limits, per client, the calls with bad bearer tokens.
	badTokens *ratelimit.Keyed
	// setupErrs are New's errors in registering routes.
	setupErrs []error
}

// New builds the HTTP surface over the node's services: the JSON API of
// every service set in svc, the OpenAPI document that describes it, the
// IPFS gateway when cfg.Blocks is set, the fediverse bridge when
// cfg.Fediverse is, and /metrics.
func New(cfg Config, svc Services) (*Server, error) {
	if cfg.Token == "" {
		return nil, errors.New("gateway: no API token")
	}
	if svc.Identity == nil {
		return nil, errors.New("gateway: no Identity service")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxUploadBytes == 0 {
		cfg.MaxUploadBytes = DefaultMaxUpload
	}
	s := &Server{cfg: cfg, svc: svc, log: cfg.Logger.With("component", "gateway"), mux: http.NewServeMux(), badTokens: newBadTokenLimit()}
	var err error
	if s.panics, err = newPanicCounter(cfg.Metrics); err != nil {
		return nil, fmt.Errorf("gateway: metrics: %w", err)
	}
	if s.handler, err = countRequests(cfg.Metrics, s.guard(s.mux)); err != nil { // metrics.go
		return nil, fmt.Errorf("gateway: metrics: %w", err)
	}
	if cfg.Web != nil {
		cfg.Web.Register(s.mux)
	} else {
		s.mux.HandleFunc("GET /{$}", s.home)
	}
	s.handle(http.MethodGet, "/api/v1/openapi.json", serveOpenAPI)
	s.nodeRoutes()
	s.contentRoutes()
	s.socialRoutes()
	s.collectionRoutes()
	s.searchRoutes()
	s.accountRoutes()
	s.draftRoutes()
	if err := errors.Join(s.setupErrs...); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if cfg.Blocks != nil {
		if err := s.mountIPFS(cfg); err != nil {
			return nil, err
		}
	}
	if cfg.Moodle != nil {
		cfg.Moodle.Register(s.mux)
	}
	if cfg.Pinning != nil {
		cfg.Pinning.Register(s.mux)
	}
	if cfg.Fediverse != nil {
		cfg.Fediverse.Register(s.mux)
		s.mountAPI(cfg.Fediverse.APIRoutes())
	}
	if cfg.Metrics != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Metrics, promhttp.HandlerOpts{}))
	}
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	return s, nil
}

// mountIPFS serves /ipfs/ with boxo's gateway over cfg.Blocks.
func (s *Server) mountIPFS(cfg Config) error {
	backend, err := boxogw.NewBlocksBackend(cfg.Blocks)
	if err != nil {
		return fmt.Errorf("gateway: IPFS backend: %w", err)
	}
	gwConf := boxogw.Config{
		DeserializedResponses: true,
		NoDNSLink:             true, // no DNS look-ups on behalf of clients
		RetrievalTimeout:      30 * time.Second,
	}
	if cfg.Metrics != nil {
		gwConf.MetricsRegistry = cfg.Metrics
	}
	s.mux.Handle("/ipfs/", sandboxContent(boxogw.NewHandler(gwConf, backend)))
	return nil
}

// Handler is the whole HTTP surface, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers on l until Shutdown; it returns nil after a clean shutdown.
func (s *Server) Serve(l net.Listener) error {
	err := s.srv.Serve(limitConns(l, s.cfg.ConnsPerIP, s.cfg.TrustedProxies))
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// ServeTLS answers HTTPS on l with the PEM certificate chain and key in
// the files certFile and keyFile, until Shutdown.
func (s *Server) ServeTLS(l net.Listener, certFile, keyFile string) error {
	err := s.srv.ServeTLS(limitConns(l, s.cfg.ConnsPerIP, s.cfg.TrustedProxies), certFile, keyFile)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops taking requests and waits for those under way until ctx
// ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

// errorBody is the JSON every API error is sent as:
// {"error": {"kind": "not_found", "message": "…"}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

// errorDetail is the kind and message of an API error.
type errorDetail struct {
	Kind    api.Kind `json:"kind"`
	Message string   `json:"message"`
}

// fail answers err: its kind as the status, and a message. The node's
// operator (a request with the API token) reads the whole error, causes
// included; anyone else only its public message, never the node's
// internals. Internal errors are logged.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	kind := api.KindOf(err)
	body := errorBody{Error: errorDetail{Kind: kind, Message: api.PublicMessage(err)}}
	if trusted(r) {
		body.Error.Message = err.Error()
	}
	if kind == api.KindInternal {
		s.log.Error("HTTP call failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, kind.HTTPStatus(), body)
}

// answer writes v, or the error.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// MaxJSONBody bounds the JSON bodies the API reads.
const MaxJSONBody = 64 << 10

// readJSON decodes a request body of at most MaxJSONBody bytes holding
// one JSON value and nothing else, with no unknown fields.
func readJSON(r *http.Request, v any) error {
	if err := api.ReadStrict(r.Body, MaxJSONBody, v); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	return nil
}

// Close stops the server at once, cutting the requests under way: for
// when Shutdown ran out of time.
func (s *Server) Close() error { return s.srv.Close() }
