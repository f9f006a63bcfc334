package pinning

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lyceum-oer/lyceum/gateway/clientip"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/ratelimit"
)

// DefaultPrefix is where the API is served; clients are given the
// endpoint DefaultPrefix (Kubo appends /pins).
const DefaultPrefix = "/api/pinning/v1"

// The bounds of what a request may send.
const (
	maxBody  = 64 << 10 // a Pin object
	maxQuery = 16 << 10 // a query string
)

// Pins is the service that keeps an account's pin requests. Every call
// names the account; another account's request is KindNotFound.
type Pins interface {
	// Add queues a pin request and returns it (status queued).
	Add(ctx context.Context, account string, p api.Pin) (api.PinRequest, error)
	// Get reads one request.
	Get(ctx context.Context, account, id string) (api.PinRequest, error)
	// List returns the requests matching q, newest first, with how many
	// match in all.
	List(ctx context.Context, account string, q api.PinQuery) (api.PinResults, error)
	// Replace removes request id and queues p in its place.
	Replace(ctx context.Context, account, id string, p api.Pin) (api.PinRequest, error)
	// Delete removes request id.
	Delete(ctx context.Context, account, id string) error
}

// Authenticator finds the account of a bearer token.
type Authenticator interface {
	// AuthenticatePinning returns the account of a pinning token (an
	// account's API token of scope pinning): KindUnauthorized for a token
	// that is not one or not valid, KindForbidden for one whose account is
	// not active.
	AuthenticatePinning(ctx context.Context, token string) (api.Account, error)
}

// Option configures New.
type Option func(*Handler)

// WithPrefix serves the API under prefix instead of DefaultPrefix.
func WithPrefix(prefix string) Option {
	return func(h *Handler) { h.prefix = strings.TrimSuffix(prefix, "/") }
}

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// WithTrustedProxies names the reverse proxies whose X-Forwarded-For
// says who the client is, for the limit on bad tokens.
func WithTrustedProxies(p []netip.Prefix) Option { return func(h *Handler) { h.proxies = p } }

// The limit on requests with bad tokens, per client (IP), as the
// gateway's own API has it: a burst, then one every ten seconds.
const (
	badTokenRate    = 0.1
	badTokenBurst   = 20
	badTokenClients = 10000
)

// Handler is the Pinning Service API's HTTP surface.
type Handler struct {
	pins      Pins
	auth      Authenticator
	prefix    string
	log       *slog.Logger
	proxies   []netip.Prefix
	badTokens *ratelimit.Keyed
}

// New returns the API over pins, its callers found by auth.
func New(pins Pins, auth Authenticator, opts ...Option) (*Handler, error) {
	if pins == nil || auth == nil {
		return nil, errors.New("pinning: no Pins or no Authenticator")
	}
	h := &Handler{pins: pins, auth: auth, prefix: DefaultPrefix, log: slog.Default(),
		badTokens: ratelimit.New(badTokenRate, badTokenBurst, badTokenClients)}
	for _, o := range opts {
		o(h)
	}
	if !strings.HasPrefix(h.prefix, "/") {
		return nil, fmt.Errorf("pinning: prefix %q does not start with /", h.prefix)
	}
	h.log = h.log.With("component", "pinning-api")
	return h, nil
}

// Register adds the API's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	p := h.prefix
	mux.HandleFunc("GET "+p+"/pins", h.authed(h.list))
	mux.HandleFunc("POST "+p+"/pins", h.authed(h.add))
	mux.HandleFunc("GET "+p+"/pins/{requestid}", h.authed(h.get))
	mux.HandleFunc("POST "+p+"/pins/{requestid}", h.authed(h.replace))
	mux.HandleFunc("DELETE "+p+"/pins/{requestid}", h.authed(h.delete))
}

// IsUpload reports false: the API has no long uploads.
func (h *Handler) IsUpload(*http.Request) bool { return false }

type handlerFunc func(w http.ResponseWriter, r *http.Request, account string) error

// authed checks the bearer token before f runs, and answers f's error in
// the spec's Failure shape.
func (h *Handler) authed(f handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		client := clientip.Key(r, h.proxies)
		if h.badTokens.Exhausted(client) {
			h.fail(w, api.Errorf(api.KindRateLimited, "too many requests with bad tokens; wait a minute"))
			return
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" || len(r.Header.Values("Authorization")) != 1 {
			h.badTokens.Allow(client)
			h.fail(w, api.Errorf(api.KindUnauthorized, "access token is missing: send Authorization: Bearer <token>"))
			return
		}
		a, err := h.auth.AuthenticatePinning(r.Context(), strings.TrimSpace(token))
		if err != nil {
			if k := api.KindOf(err); k != api.KindForbidden && k != api.KindInternal {
				h.badTokens.Allow(client)
				err = api.Wrap(api.KindUnauthorized, "access token is not valid", err)
			}
			h.fail(w, err)
			return
		}
		if err := f(w, r, a.Username); err != nil {
			h.fail(w, err)
		}
	}
}

// Failure is the body of every error answer, as the spec shapes it.
type Failure struct {
	Error FailureDetail `json:"error"`
}

// FailureDetail says what went wrong: Reason for machines, Details for
// people.
type FailureDetail struct {
	Reason  string `json:"reason"`
	Details string `json:"details,omitempty"`
}

// reasons are the spec's reason codes for the node's error kinds.
var reasons = map[api.Kind]string{
	api.KindInvalid:      "BAD_REQUEST",
	api.KindUnauthorized: "UNAUTHORIZED",
	api.KindForbidden:    "FORBIDDEN",
	api.KindNotFound:     "NOT_FOUND",
	api.KindConflict:     "CONFLICT",
	api.KindRateLimited:  "TOO_MANY_REQUESTS",
	api.KindUnavailable:  "UNAVAILABLE",
}

func (h *Handler) fail(w http.ResponseWriter, err error) {
	kind := api.KindOf(err)
	reason, ok := reasons[kind]
	if !ok {
		reason = "INTERNAL_SERVER_ERROR"
		h.log.Error("pinning API", "err", err)
	}
	status := kind.HTTPStatus()
	if kind == api.KindUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="lyceum pinning"`)
	}
	writeJSON(w, status, Failure{Error: FailureDetail{Reason: reason, Details: api.PublicMessage(err)}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (h *Handler) add(w http.ResponseWriter, r *http.Request, account string) error {
	p, err := ReadPin(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return err
	}
	st, err := h.pins.Add(r.Context(), account, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, st)
	return nil
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request, account string) error {
	st, err := h.pins.Get(r.Context(), account, r.PathValue("requestid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (h *Handler) replace(w http.ResponseWriter, r *http.Request, account string) error {
	p, err := ReadPin(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return err
	}
	st, err := h.pins.Replace(r.Context(), account, r.PathValue("requestid"), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, st)
	return nil
}

func (h *Handler) delete(w http.ResponseWriter, r *http.Request, account string) error {
	if err := h.pins.Delete(r.Context(), account, r.PathValue("requestid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request, account string) error {
	q, err := ParseQuery(r.URL.RawQuery)
	if err != nil {
		return err
	}
	res, err := h.pins.List(r.Context(), account, q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// ReadPin reads a Pin object: strict JSON (no unknown fields, nothing
// after it) of at most 64 KiB.
func ReadPin(body io.Reader) (api.Pin, error) {
	var p api.Pin
	if err := api.ReadStrict(body, maxBody, &p); err != nil {
		return api.Pin{}, err
	}
	return p, nil
}

// queryParams are the parameters GET /pins takes; any other is refused.
var queryParams = map[string]bool{"cid": true, "name": true, "match": true, "status": true, "before": true, "after": true, "limit": true, "meta": true}

// ParseQuery reads the query string of GET /pins: each parameter at most
// once, lists comma-separated (cid, status), times in RFC 3339, meta a
// JSON object of strings. Values are bounded here and checked further by
// the service.
func ParseQuery(raw string) (api.PinQuery, error) {
	var q api.PinQuery
	if len(raw) > maxQuery {
		return q, api.Invalidf("the query string is longer than %d bytes", maxQuery)
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return q, api.Wrap(api.KindInvalid, "bad query string", err)
	}
	for k, v := range vals {
		if !queryParams[k] {
			return q, api.Invalidf("unknown parameter %s", api.Quote(k))
		}
		if len(v) != 1 {
			return q, api.Invalidf("parameter %s given %d times", k, len(v))
		}
	}
	get := vals.Get
	if s := get("cid"); s != "" {
		q.CIDs = strings.Split(s, ",")
		if len(q.CIDs) > 10 {
			return q, api.Invalidf("cid: at most 10 CIDs")
		}
		if err := unique(q.CIDs, "cid"); err != nil {
			return q, err
		}
	}
	q.Name = get("name")
	q.Match = api.NameMatch(get("match"))
	if s := get("status"); s != "" {
		parts := strings.Split(s, ",")
		if len(parts) > 4 {
			return q, api.Invalidf("status: at most the four states")
		}
		if err := unique(parts, "status"); err != nil {
			return q, err
		}
		for _, p := range parts {
			q.Statuses = append(q.Statuses, api.PinState(p))
		}
	}
	if q.Before, err = parseTime(get("before"), "before"); err != nil {
		return q, err
	}
	if q.After, err = parseTime(get("after"), "after"); err != nil {
		return q, err
	}
	if s := get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return q, api.Invalidf("limit: %s, want a number from 1 to 1000", api.Quote(s))
		}
		q.Limit = n
	} else if vals.Has("limit") {
		return q, api.Invalidf("limit: empty, want a number from 1 to 1000")
	}
	if s := get("meta"); s != "" {
		if err := api.DecodeStrict([]byte(s), &q.Meta); err != nil {
			return q, api.Wrap(api.KindInvalid, "meta: want a JSON object of strings", err)
		}
	}
	return q, nil
}

func unique(items []string, what string) error {
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		if it == "" {
			return api.Invalidf("%s: an empty item in the list", what)
		}
		if seen[it] {
			return api.Invalidf("%s: %s given twice", what, api.Quote(it))
		}
		seen[it] = true
	}
	return nil
}

func parseTime(s, what string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if len(s) > 64 {
		return time.Time{}, api.Invalidf("%s: not an RFC 3339 time", what)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, api.Wrap(api.KindInvalid, what+": not an RFC 3339 time", err)
	}
	return t, nil
}
