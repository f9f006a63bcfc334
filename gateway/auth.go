package gateway

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/lyceum-oer/lyceum/gateway/clientip"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/ratelimit"
)

// This file tells who makes an API call from its bearer token: the
// node's operator (the node's API token, $LYCEUM_PATH/api.token), an
// account (one of its personal API tokens, lyc_…), or nobody. Failed
// tokens are limited per client, before any look-up.

// MaxAuthorization bounds the Authorization header the API reads: a
// personal token is 47 characters, the node's 64.
const MaxAuthorization = 512

// Limits on failed bearer tokens per client (IP): a burst, then one every
// ten seconds; the clients remembered are bounded.
const (
	badTokenBurst   = 20
	badTokenRate    = 0.1
	badTokenClients = 10_000
)

func newBadTokenLimit() *ratelimit.Keyed {
	return ratelimit.New(badTokenRate, badTokenBurst, badTokenClients)
}

// caller is who made an API call.
type caller struct {
	// operator: the call carried the node's API token, which may do
	// everything and reads whole errors.
	operator bool
	// account is the account of a personal API token; nil otherwise.
	account *api.Account
	// rule is the permission of the route called.
	rule Rule
}

// anonymous reports whether the call carried no token.
func (c caller) anonymous() bool { return !c.operator && c.account == nil }

// by is the caller as the accounts room names who acts: the account's
// username, or api.Operator.
func (c caller) by() string {
	if c.account != nil {
		return c.account.Username
	}
	if c.operator {
		return api.Operator
	}
	return ""
}

type callerKey struct{}

func withCaller(r *http.Request, c caller) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
}

// callerOf is who made r, as the route's guard found.
func callerOf(r *http.Request) caller {
	c, _ := r.Context().Value(callerKey{}).(caller)
	return c
}

// trusted reports whether r carried the node's API token: its caller is
// the node's operator, who may see the causes of errors.
func trusted(r *http.Request) bool { return callerOf(r).operator }

// withTrust marks r as the operator's.
func withTrust(r *http.Request) *http.Request { return withCaller(r, caller{operator: true}) }

var (
	errNoToken = api.Errorf(api.KindUnauthorized,
		"this call needs an API token: the node's ($LYCEUM_PATH/api.token) or a personal one (lyc_…), as Authorization: Bearer <token>")
	errBadScheme = api.Errorf(api.KindUnauthorized,
		"the Authorization header must be one \"Bearer <token>\" with a token of letters, digits and -._~+/=")
	errBadToken = api.Errorf(api.KindUnauthorized,
		"this API token is not valid: use the node's API token ($LYCEUM_PATH/api.token) or a personal token (lyc_…) that was not revoked")
	errTooManyBadTokens = api.Errorf(api.KindRateLimited,
		"too many calls with bad API tokens from your network; wait a few minutes")
)

// authenticate tells who made r from its Authorization header. A request
// without one is anonymous; a header that is malformed, or whose token
// is neither the node's nor a valid personal token, is refused and
// counts against the client's limit of failures.
func (s *Server) authenticate(r *http.Request) (caller, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return caller{}, nil
	}
	client := clientip.Key(r, s.cfg.TrustedProxies)
	if s.badTokens.Exhausted(client) {
		return caller{}, errTooManyBadTokens
	}
	tok, ok := "", len(values) == 1
	if ok {
		tok, ok = bearerToken(values[0])
	}
	if !ok {
		s.badTokens.Allow(client)
		return caller{}, errBadScheme
	}
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.Token)) == 1 {
		return caller{operator: true}, nil
	}
	if s.svc.Accounts == nil || !strings.HasPrefix(tok, "lyc_") {
		s.badTokens.Allow(client)
		return caller{}, errBadToken
	}
	a, err := s.svc.Accounts.Authenticate(r.Context(), tok)
	switch api.KindOf(err) {
	case api.KindInternal:
		if err != nil {
			return caller{}, err // the node's failure, not the client's
		}
		return caller{account: &a}, nil
	case api.KindUnauthorized, api.KindForbidden:
		s.badTokens.Allow(client)
	}
	return caller{}, err
}

// bearerToken reads "Bearer <token>" (the scheme in any case, RFC 6750's
// b64token), bounded by MaxAuthorization.
func bearerToken(h string) (string, bool) {
	if len(h) > MaxAuthorization {
		return "", false
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.Trim(tok, " ")
	body := strings.TrimRight(tok, "=")
	if body == "" {
		return "", false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			return "", false
		}
	}
	return tok, true
}

// failAuth answers a refused token: 401 with the challenge of RFC 6750,
// or 429 for a client over its limit of failures.
func (s *Server) failAuth(w http.ResponseWriter, r *http.Request, err error) {
	switch api.KindOf(err) {
	case api.KindUnauthorized:
		challenge := `Bearer realm="lyceum"`
		if err != errNoToken {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	case api.KindRateLimited:
		w.Header().Set("Retry-After", "60")
	}
	s.fail(w, r, err)
}
