package p2p

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/prometheus/client_golang/prometheus"
)

// This file is the one request/response helper every Lyceum protocol
// runs on: one request and one answer per stream, each length-prefixed
// and bounded, within a deadline, rate-limited per peer, and served by a
// handler whose panics are recovered, logged and counted.
//
// On the wire a request is uvarint(len) ‖ payload; an answer is one status
// byte (statusOK, statusRefused, statusFailed), uvarint(len) ‖ payload,
// where the payload of a refusal or failure is a message for the caller.

// Answer statuses.
const (
	statusOK      byte = 0
	statusRefused byte = 1 // the caller's request was wrong or not allowed
	statusFailed  byte = 2 // the server could not answer; details in its logs
)

// Defaults of ServiceConfig's zero fields.
const (
	DefaultMaxRequest  = 64 << 10
	DefaultMaxResponse = 4 << 20
	DefaultTimeout     = 10 * time.Second
)

// maxRefusal bounds the message of a refusal or failure.
const maxRefusal = 1 << 10

// ServiceConfig bounds one protocol served with Serve.
type ServiceConfig struct {
	// MaxRequest is the largest request accepted, in bytes; 0 =
	// DefaultMaxRequest.
	MaxRequest int
	// MaxResponse is the largest answer sent, in bytes; 0 =
	// DefaultMaxResponse. A larger answer is a failure.
	MaxResponse int
	// Timeout bounds the whole exchange, from the stream's opening to the
	// answer's last byte; 0 = DefaultTimeout.
	Timeout time.Duration
	// PerPeer limits the rate of each peer's requests, keyed by peer ID;
	// nil = unlimited.
	PerPeer Limiter
}

// Limiter decides whether a key (here a peer ID) may make one more request
// now, and counts it if so.
type Limiter interface {
	Allow(key string) bool
}

func (c ServiceConfig) withDefaults() ServiceConfig {
	if c.MaxRequest <= 0 {
		c.MaxRequest = DefaultMaxRequest
	}
	if c.MaxResponse <= 0 {
		c.MaxResponse = DefaultMaxResponse
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// RequestHandler answers one request from a peer. An error that is a
// *Refusal is sent to the caller as it is; any other error is logged and
// the caller is told only that the request failed.
type RequestHandler func(ctx context.Context, from peer.ID, req []byte) ([]byte, error)

// Refusal is what a RequestHandler returns to tell the caller what was
// wrong with its request. Its message must be safe to show to anyone.
type Refusal struct{ Msg string }

func (r *Refusal) Error() string { return r.Msg }

// Refusef builds a Refusal.
func Refusef(format string, args ...any) error {
	return &Refusal{Msg: fmt.Sprintf(format, args...)}
}

// RemoteError is what Request returns when the peer answered with a
// refusal or a failure: Msg is the peer's message.
type RemoteError struct {
	Protocol protocol.ID
	Refused  bool // the peer refused the request (else it failed to answer)
	Msg      string
}

func (e *RemoteError) Error() string {
	if e.Refused {
		return fmt.Sprintf("%s: refused: %s", e.Protocol, e.Msg)
	}
	return fmt.Sprintf("%s: peer failed: %s", e.Protocol, e.Msg)
}

// ErrRateLimited is the refusal sent to a peer over its rate.
var ErrRateLimited = &Refusal{Msg: "rate limited: slow down"}

// Server serves request/response protocols on a libp2p host. Create it
// with NewServer; Serve registers each protocol.
type Server struct {
	host   host.Host
	log    *slog.Logger
	panics *prometheus.CounterVec // nil: not counted
	served *prometheus.CounterVec // nil: not counted
}

// NewServer returns a Server for h. With reg, it counts requests by
// protocol and outcome (lyceum_p2p_requests_total) and recovered panics
// (lyceum_p2p_handler_panics_total) there.
func NewServer(h host.Host, log *slog.Logger, reg prometheus.Registerer) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{host: h, log: log.With("component", "p2p-server")}
	if reg != nil {
		s.panics = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lyceum_p2p_handler_panics_total",
			Help: "Panics recovered in Lyceum protocol handlers, by protocol.",
		}, []string{"protocol"})
		s.served = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lyceum_p2p_requests_total",
			Help: "Requests served on Lyceum protocols, by protocol and outcome (ok, refused, failed, rate_limited, bad_request).",
		}, []string{"protocol", "outcome"})
		for _, c := range []prometheus.Collector{s.panics, s.served} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("p2p: register metrics: %w", err)
			}
		}
	}
	return s, nil
}

// Serve answers proto with fn until ctx ends (the node's lifetime: a
// handler's context is derived from it, bounded by the config's timeout)
// or the host closes.
func (s *Server) Serve(ctx context.Context, proto protocol.ID, cfg ServiceConfig, fn RequestHandler) {
	cfg = cfg.withDefaults()
	s.host.SetStreamHandler(proto, func(st network.Stream) {
		s.handle(ctx, proto, cfg, fn, st)
	})
	context.AfterFunc(ctx, func() { s.host.RemoveStreamHandler(proto) })
}

func (s *Server) count(proto protocol.ID, outcome string) {
	if s.served != nil {
		s.served.WithLabelValues(string(proto), outcome).Inc()
	}
}

// handle serves one stream. It never panics: a panic in fn is recovered,
// logged with its stack, counted, and answered as a failure.
func (s *Server) handle(ctx context.Context, proto protocol.ID, cfg ServiceConfig, fn RequestHandler, st network.Stream) {
	defer st.Close()
	from := st.Conn().RemotePeer()
	_ = st.SetDeadline(time.Now().Add(cfg.Timeout))
	if cfg.PerPeer != nil && !cfg.PerPeer.Allow(string(from)) {
		s.count(proto, "rate_limited")
		_ = writeFrame(st, statusRefused, []byte(ErrRateLimited.Msg))
		return
	}
	req, err := readFrame(bufio.NewReader(st), cfg.MaxRequest)
	if err != nil {
		s.count(proto, "bad_request")
		s.log.Debug("bad request", "protocol", proto, "peer", from, "err", err)
		_ = st.Reset()
		return
	}
	hctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	answer, err := s.call(hctx, proto, from, fn, req)
	var refusal *Refusal
	switch {
	case err == nil && len(answer) > cfg.MaxResponse:
		s.count(proto, "failed")
		s.log.Warn("answer too large", "protocol", proto, "bytes", len(answer), "limit", cfg.MaxResponse)
		_ = writeFrame(st, statusFailed, []byte("answer too large"))
	case err == nil:
		s.count(proto, "ok")
		_ = writeFrame(st, statusOK, answer)
	case errors.As(err, &refusal):
		s.count(proto, "refused")
		_ = writeFrame(st, statusRefused, []byte(truncate(refusal.Msg, maxRefusal)))
	default:
		s.count(proto, "failed")
		if ctx.Err() == nil {
			s.log.Warn("request failed", "protocol", proto, "peer", from, "err", err)
		}
		_ = writeFrame(st, statusFailed, []byte("the node could not answer"))
	}
}

// call runs fn, turning a panic into an error.
func (s *Server) call(ctx context.Context, proto protocol.ID, from peer.ID, fn RequestHandler, req []byte) (answer []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			if s.panics != nil {
				s.panics.WithLabelValues(string(proto)).Inc()
			}
			s.log.Error("panic in protocol handler", "protocol", proto, "peer", from, "panic", v, "stack", string(debug.Stack()))
			answer, err = nil, fmt.Errorf("panic: %v", v)
		}
	}()
	return fn(ctx, from, req)
}

// Request sends req to p on proto and returns the answer, at most
// maxResponse bytes (0 = DefaultMaxResponse). It dials p if need be. A
// refusal or failure from the peer is a *RemoteError.
func Request(ctx context.Context, h host.Host, p peer.ID, proto protocol.ID, req []byte, maxResponse int) ([]byte, error) {
	if maxResponse <= 0 {
		maxResponse = DefaultMaxResponse
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	st, err := h.NewStream(ctx, p, proto)
	if err != nil {
		return nil, fmt.Errorf("%s: open stream to %s: %w", proto, p, err)
	}
	defer st.Close()
	dl, _ := ctx.Deadline()
	_ = st.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { _ = st.Reset() })
	defer stop()
	w := bufio.NewWriter(st)
	if err := writeLen(w, req); err != nil {
		_ = st.Reset()
		return nil, fmt.Errorf("%s: send: %w", proto, err)
	}
	if err := w.Flush(); err != nil {
		_ = st.Reset()
		return nil, fmt.Errorf("%s: send: %w", proto, err)
	}
	_ = st.CloseWrite()
	r := bufio.NewReader(st)
	status, err := r.ReadByte()
	if err != nil {
		return nil, fmt.Errorf("%s: read answer: %w", proto, contextError(ctx, err))
	}
	limit := maxResponse
	if status != statusOK {
		limit = maxRefusal
	}
	payload, err := readFrame(r, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: read answer: %w", proto, contextError(ctx, err))
	}
	switch status {
	case statusOK:
		return payload, nil
	case statusRefused, statusFailed:
		return nil, &RemoteError{Protocol: proto, Refused: status == statusRefused, Msg: string(payload)}
	}
	return nil, fmt.Errorf("%s: answer with unknown status %d", proto, status)
}

// contextError prefers the context's error to the stream reset it caused.
func contextError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// ErrFrameTooLarge reports a frame over its limit.
var ErrFrameTooLarge = errors.New("frame over its size limit")

// readFrame reads uvarint(len) ‖ payload, refusing a length over limit
// before reading the payload.
func readFrame(r *bufio.Reader, limit int) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, fmt.Errorf("frame length: %w", err)
	}
	if n > uint64(limit) {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, limit)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("frame of %d bytes: %w", n, err)
	}
	return buf, nil
}

// writeFrame writes status ‖ uvarint(len) ‖ payload.
func writeFrame(w io.Writer, status byte, payload []byte) error {
	bw := bufio.NewWriter(w)
	if err := bw.WriteByte(status); err != nil {
		return err
	}
	if err := writeLen(bw, payload); err != nil {
		return err
	}
	return bw.Flush()
}

func writeLen(w *bufio.Writer, payload []byte) error {
	var b [binary.MaxVarintLen64]byte
	if _, err := w.Write(b[:binary.PutUvarint(b[:], uint64(len(payload)))]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
