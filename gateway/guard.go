package gateway

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lyceum-oer/lyceum/gateway/clientip"
	"github.com/lyceum-oer/lyceum/node/api"
)

// This file guards the HTTP server against its clients: a handler's
// panic is recovered, logged, counted and answered 500; a request body
// has a deadline (uploads: a deadline that moves with their progress);
// and one IP holds a bounded number of connections.

// DefaultBodyTimeout is how long a request body may take to arrive when
// Config.BodyTimeout is zero; for uploads, how long one may go without
// progress.
const DefaultBodyTimeout = time.Minute

// guard wraps the whole surface: recovery and body deadlines.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverPanic(w, r)
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = newDeadlineBody(w, r.Body, s.cfg.BodyTimeout, s.isUpload(r))
		}
		next.ServeHTTP(w, r)
	})
}

// recoverPanic turns a handler's panic into a 500 answer, a log line with
// the stack and a count in lyceum_http_panics_total. http.ErrAbortHandler
// (a deliberate cut of a stream already under way) passes through.
func (s *Server) recoverPanic(w http.ResponseWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	s.panics.Inc()
	s.log.Error("panic in HTTP handler", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
	s.fail(w, r, errors.New("panic")) // an internal error: the caller learns nothing of it
}

// isUpload reports whether r is one of the long uploads, whose body
// deadline moves with its progress.
func (s *Server) isUpload(r *http.Request) bool {
	if r.Method == http.MethodPost && (r.URL.Path == "/api/v1/add" || r.URL.Path == "/api/v1/car") {
		return true
	}
	return s.cfg.Web != nil && s.cfg.Web.IsUpload(r) || s.cfg.Moodle != nil && s.cfg.Moodle.IsUpload(r)
}

// deadlineBody reads a request body within a deadline, set when the
// request comes in (so that it also bounds what the server discards of a
// body the handler left unread); for an upload, each read moves it on.
// Once the body has been read to its end the deadline is lifted, so that
// it cannot cut the response (net/http cancels a request whose connection
// times out in its background read).
type deadlineBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	timeout time.Duration
	moving  bool
	done    bool
}

func newDeadlineBody(w http.ResponseWriter, body io.ReadCloser, timeout time.Duration, moving bool) io.ReadCloser {
	if timeout <= 0 {
		timeout = DefaultBodyTimeout
	}
	b := &deadlineBody{ReadCloser: body, rc: http.NewResponseController(w), timeout: timeout, moving: moving}
	// Not every ResponseWriter has a connection (tests' recorders).
	_ = b.rc.SetReadDeadline(time.Now().Add(timeout))
	return b
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if b.moving && !b.done {
		_ = b.rc.SetReadDeadline(time.Now().Add(b.timeout))
	}
	n, err := b.ReadCloser.Read(p)
	if err != nil && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			err = &api.Error{Kind: api.KindInvalid, Msg: "the request body took too long to arrive", Err: err}
		}
	}
	return n, err
}

// newPanicCounter makes lyceum_http_panics_total, registered in reg when
// there is one.
func newPanicCounter(reg *prometheus.Registry) (prometheus.Counter, error) {
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "lyceum_http_panics_total",
		Help: "Panics recovered in HTTP handlers.",
	})
	if reg != nil {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// connLimiter caps the connections one IP holds open at once; a
// connection over the cap is closed as soon as it is accepted. Exempt
// networks (trusted reverse proxies, which carry many clients) have no
// cap.
type connLimiter struct {
	net.Listener
	perIP  int
	exempt []netip.Prefix

	mu   sync.Mutex
	open map[netip.Addr]int
}

// limitConns wraps l so that no IP holds more than perIP connections;
// perIP 0 returns l unchanged.
func limitConns(l net.Listener, perIP int, exempt []netip.Prefix) net.Listener {
	if perIP <= 0 {
		return l
	}
	return &connLimiter{Listener: l, perIP: perIP, exempt: exempt, open: map[netip.Addr]int{}}
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c.RemoteAddr())
		if !ip.IsValid() || clientip.In(ip, l.exempt) {
			return c, nil
		}
		l.mu.Lock()
		if l.open[ip] >= l.perIP {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.open[ip]++
		l.mu.Unlock()
		return &limitedConn{Conn: c, release: func() { l.release(ip) }}, nil
	}
}

func (l *connLimiter) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip]--; l.open[ip] <= 0 {
		delete(l.open, ip)
	}
}

// limitedConn gives its IP's slot back when closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

func remoteIP(a net.Addr) netip.Addr {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
