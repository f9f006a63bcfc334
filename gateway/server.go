package gateway

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/files"
	boxogw "github.com/ipfs/boxo/gateway"
	"github.com/ipfs/go-cid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lyceum-oer/lyceum/node"
)

// Content is what the gateway needs of the node's content layer.
type Content interface {
	// AddFiles imports an uploaded file or folder and returns its root.
	AddFiles(ctx context.Context, name string, f files.Node, o node.AddOptions, progress func(int64)) (cid.Cid, error)
	// Cat opens a file; the size is the file's whole length.
	Cat(ctx context.Context, c cid.Cid) (io.ReadSeekCloser, int64, error)
	// Size is the UnixFS size of a file or folder.
	Size(ctx context.Context, c cid.Cid) (int64, error)
	// Pin pins recursively, fetching what is missing; Unpin undoes it.
	Pin(ctx context.Context, c cid.Cid) error
	Unpin(ctx context.Context, c cid.Cid) error
	// Pins lists the recursive pins.
	Pins(ctx context.Context) ([]cid.Cid, error)
	// GC removes unpinned blocks and says how many.
	GC(ctx context.Context) (int, error)
	// ExportCAR streams the DAG under c; ImportCAR stores and pins a CAR.
	ExportCAR(ctx context.Context, c cid.Cid, w io.Writer) error
	ImportCAR(ctx context.Context, r io.Reader) (node.CARImport, error)
	// Stat summarises repo and network.
	Stat(ctx context.Context) (node.Stat, error)
}

// Network is what the gateway needs of the node's peer-to-peer side.
type Network interface {
	// ID describes the node.
	ID() node.Identity
	// Connect dials a peer by full multiaddr and returns its peer ID.
	Connect(ctx context.Context, addr string) (string, error)
	// Peers lists the open connections.
	Peers() []node.Peer
}

// Config is the gateway's plain-data configuration.
type Config struct {
	// Token guards the node-management API (add, pin, gc, connect…). The
	// CLI reads it from $LYCEUM_PATH/api.token. Required.
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
	// (gateway/fediverse): /.well-known/webfinger, host-meta, nodeinfo and
	// /ap/.
	Fediverse Mounter
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

// Mounter is a part of the HTTP surface that registers its own handlers.
type Mounter interface {
	// Register adds the part's public handlers to mux.
	Register(mux *http.ServeMux)
	// API serves the part's management calls under /api/v1/fediverse/;
	// the gateway puts them behind the API token.
	API() http.Handler
}

// DefaultMaxUpload is the largest upload the API takes by default.
const DefaultMaxUpload = 16 << 30

// Server is the node's HTTP surface.
type Server struct {
	cfg     Config
	content Content
	network Network
	social  Social
	search  Search
	log     *slog.Logger
	mux     *http.ServeMux
	handler http.Handler // mux, guarded
	panics  prometheus.Counter
	srv     *http.Server
}

// New builds the HTTP surface over the node's services; social and search
// may be nil (that part of the API is left out).
func New(cfg Config, content Content, network Network, social Social, search Search) (*Server, error) {
	if cfg.Token == "" {
		return nil, errors.New("gateway: no API token")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxUploadBytes == 0 {
		cfg.MaxUploadBytes = DefaultMaxUpload
	}
	s := &Server{cfg: cfg, content: content, network: network, social: social, search: search, log: cfg.Logger.With("component", "gateway"), mux: http.NewServeMux()}
	var err error
	if s.panics, err = newPanicCounter(cfg.Metrics); err != nil {
		return nil, fmt.Errorf("gateway: metrics: %w", err)
	}
	s.handler = s.guard(s.mux)
	s.routes()
	s.socialRoutes()
	s.searchRoutes()
	if cfg.Blocks != nil {
		backend, err := boxogw.NewBlocksBackend(cfg.Blocks)
		if err != nil {
			return nil, fmt.Errorf("gateway: IPFS backend: %w", err)
		}
		gwConf := boxogw.Config{
			DeserializedResponses: true,
			NoDNSLink:             true, // no DNS look-ups on behalf of clients
			RetrievalTimeout:      30 * time.Second,
		}
		if cfg.Metrics != nil {
			gwConf.MetricsRegistry = cfg.Metrics
		}
		ipfsHandler := boxogw.NewHandler(gwConf, backend)
		s.mux.Handle("/ipfs/", ipfsHandler)
	}
	if cfg.Fediverse != nil {
		cfg.Fediverse.Register(s.mux)
		s.mux.Handle("/api/v1/fediverse/", s.requireToken(cfg.Fediverse.API().ServeHTTP))
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

// requireToken wraps a management endpoint: it answers 401 unless the
// request carries the node's API token.
func (s *Server) requireToken(h http.HandlerFunc) http.HandlerFunc {
	want := []byte("Bearer " + s.cfg.Token)
	return func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			s.fail(w, r, &node.Error{Kind: node.KindUnauthorized, Msg: "this call needs the node's API token (Authorization: Bearer <$LYCEUM_PATH/api.token>)"})
			return
		}
		h(w, withTrust(r))
	}
}

// errorBody is the JSON every API error is sent as.
type errorBody struct {
	Error struct {
		Kind    node.Kind `json:"kind"`
		Message string    `json:"message"`
	} `json:"error"`
}

// statusOf maps an error kind to its HTTP status.
func statusOf(k node.Kind) int {
	switch k {
	case node.KindInvalid:
		return http.StatusBadRequest
	case node.KindNotFound:
		return http.StatusNotFound
	case node.KindConflict:
		return http.StatusConflict
	case node.KindUnauthorized:
		return http.StatusUnauthorized
	case node.KindUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// fail answers err: its kind as the status, and a message. The node's
// operator (a request with the API token) reads the whole error, causes
// included; anyone else only its public message, never the node's
// internals. Internal errors are logged.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	kind := node.KindOf(err)
	var body errorBody
	body.Error.Kind = kind
	body.Error.Message = node.PublicMessage(err)
	if trusted(r) {
		body.Error.Message = err.Error()
	}
	if kind == node.KindInternal {
		s.log.Error("HTTP call failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, statusOf(kind), body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
