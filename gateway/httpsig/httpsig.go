package httpsig

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The kinds of verification failure. Verify wraps exactly one of them;
// test with errors.Is. Status maps them to HTTP statuses.
var (
	// ErrNoSignature: the request carries no Signature header.
	ErrNoSignature = errors.New("request is not signed")
	// ErrMalformed: the Signature, Digest or Date header cannot be parsed,
	// or a signed header is missing from the request.
	ErrMalformed = errors.New("malformed signature")
	// ErrAlgorithm: the algorithm is neither rsa-sha256 nor hs2019.
	ErrAlgorithm = errors.New("unsupported signature algorithm")
	// ErrNotSigned: a header that must be signed is not (Mastodon's
	// "signature strength": (request-target), date, host on GET, digest on
	// POST).
	ErrNotSigned = errors.New("required header not signed")
	// ErrStale: the signature was made too far in the future or has
	// expired.
	ErrStale = errors.New("signature outside the accepted time window")
	// ErrDigest: the Digest header is missing, offers no SHA-256, or does
	// not match the body.
	ErrDigest = errors.New("digest does not match the body")
	// ErrKeyUnavailable: the key could not be fetched, is not RSA, is too
	// small, or is not the key the keyId names.
	ErrKeyUnavailable = errors.New("signing key unavailable")
	// ErrBadSignature: the signature does not verify with the key, even
	// after refetching it.
	ErrBadSignature = errors.New("signature does not verify")
)

// Status is the HTTP status a server answers for a verification error:
// 400 for a malformed request, 401 for every other signature failure
// (Mastodon answers 401 to all of them), 500 for anything else.
func Status(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrMalformed):
		return http.StatusBadRequest
	case errors.Is(err, ErrNoSignature), errors.Is(err, ErrAlgorithm), errors.Is(err, ErrNotSigned),
		errors.Is(err, ErrStale), errors.Is(err, ErrDigest), errors.Is(err, ErrKeyUnavailable),
		errors.Is(err, ErrBadSignature):
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// Message is what to tell the sender of a request that failed
// verification with err: what was wrong with its request, never why a key
// could not be fetched or refetched (a dial error would make the verifier
// a port scanner of the networks it can reach; such causes belong in the
// node's log). It is the error's text for the kinds that describe the
// request itself (a malformed or expired signature, a wrong digest), and
// a fixed sentence for the others.
func Message(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrKeyUnavailable):
		return "unknown key: no usable public key could be obtained for the keyId"
	case errors.Is(err, ErrBadSignature):
		return "signature could not be verified"
	case errors.Is(err, ErrNoSignature), errors.Is(err, ErrMalformed), errors.Is(err, ErrAlgorithm),
		errors.Is(err, ErrNotSigned), errors.Is(err, ErrStale), errors.Is(err, ErrDigest):
		return err.Error()
	}
	return "signature could not be verified"
}

// Sign signs r for sending now with key, named keyID in the signature
// (for a bridged actor, its URL with the #main-key fragment). It sets
// Date and, when the request has a body (body non-nil, or method POST, PUT
// or PATCH), Digest to the SHA-256 of body, which must be the exact bytes
// sent; when r.Body is nil it is set to body. The Signature header signs
// "(request-target) host date digest" (with a body) or
// "(request-target) host date" with rsa-sha256. Host is r.Host, or
// r.URL.Host when r.Host is empty. Call it again before every retry: the
// signature is only accepted for about an hour.
func Sign(r *http.Request, body []byte, keyID string, key *rsa.PrivateKey, now time.Time) error {
	if key == nil {
		return errors.New("sign: no key")
	}
	if keyID == "" || strings.ContainsAny(keyID, "\"\\\r\n") {
		return fmt.Errorf("sign: bad key id %q", keyID)
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	if host == "" {
		return errors.New("sign: request has no host")
	}
	r.Header.Set("Date", now.UTC().Format(http.TimeFormat))
	headers := "(request-target) host date"
	hasBody := body != nil || r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch
	if hasBody {
		r.Header.Set("Digest", Digest(body))
		headers += " digest"
		if r.Body == nil && len(body) > 0 {
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
	}
	var b strings.Builder
	for i, h := range strings.Fields(headers) {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(h)
		b.WriteString(": ")
		switch h {
		case "(request-target)":
			b.WriteString(strings.ToLower(r.Method) + " " + r.URL.RequestURI())
		case "host":
			b.WriteString(host)
		default:
			b.WriteString(r.Header.Get(h))
		}
	}
	sum := sha256.Sum256([]byte(b.String()))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return fmt.Errorf("sign %s: %w", keyID, err)
	}
	r.Header.Set("Signature", fmt.Sprintf(`keyId="%s",algorithm="rsa-sha256",headers="%s",signature="%s"`,
		keyID, headers, base64.StdEncoding.EncodeToString(sig)))
	return nil
}

// PublicKey is an actor's public key as its actor document publishes it.
type PublicKey struct {
	// ID is the key's id (publicKey.id), often the actor URL + "#main-key".
	ID string
	// Owner is the actor the key belongs to (publicKey.owner). Callers
	// must check it against the actor of the activity they accept.
	Owner string
	// Key is the RSA key (from publicKey.publicKeyPem).
	Key *rsa.PublicKey
}

// KeyFetcher finds the public key a keyId names.
type KeyFetcher interface {
	// FetchKey returns the key named by keyID: a key URL (with or without
	// a #fragment) or an actor URL whose document holds the key. With
	// refresh false it may answer from a cache; with refresh true (asked
	// once when a signature does not verify with the cached key, which may
	// have been rotated) it should fetch the key again and update the
	// cache, unless the cached key was itself fetched so recently that a
	// rotation is unlikely: then it returns the cached key, so that forged
	// signatures cannot make it fetch on every request. The returned key's
	// ID or Owner must equal keyID. Errors are reported to callers as
	// ErrKeyUnavailable, wrapping the fetcher's error.
	FetchKey(ctx context.Context, keyID string, refresh bool) (PublicKey, error)
}

// Verifier checks the HTTP Signatures of incoming requests. It is safe
// for concurrent use.
type Verifier struct {
	keys     KeyFetcher
	now      func() time.Time
	skew     time.Duration
	validity time.Duration
	minBits  int
}

// VerifierOption configures a Verifier.
type VerifierOption func(*Verifier)

// WithClock sets the clock the time window is checked against (default
// time.Now).
func WithClock(now func() time.Time) VerifierOption { return func(v *Verifier) { v.now = now } }

// WithClockSkew sets the clock skew tolerated on either side of the
// window (default one hour, Mastodon's CLOCK_SKEW_MARGIN).
func WithClockSkew(d time.Duration) VerifierOption { return func(v *Verifier) { v.skew = d } }

// WithValidity sets how long a signature without (expires) stays valid
// after its Date or (created) (default five minutes, as Mastodon). The
// validity of any signature is capped at twelve hours
// (Mastodon's EXPIRATION_WINDOW_LIMIT).
func WithValidity(d time.Duration) VerifierOption { return func(v *Verifier) { v.validity = d } }

// WithMinKeyBits sets the smallest RSA key accepted (default 2048).
func WithMinKeyBits(n int) VerifierOption { return func(v *Verifier) { v.minBits = n } }

// The defaults, Mastodon's.
const (
	DefaultClockSkew = time.Hour
	DefaultValidity  = 5 * time.Minute
	// MaxValidity caps any signature's lifetime, as Mastodon's
	// EXPIRATION_WINDOW_LIMIT does.
	MaxValidity = 12 * time.Hour
)

// NewVerifier returns a Verifier that fetches keys with f.
func NewVerifier(f KeyFetcher, opts ...VerifierOption) *Verifier {
	v := &Verifier{keys: f, now: time.Now, skew: DefaultClockSkew, validity: DefaultValidity, minBits: 2048}
	for _, o := range opts {
		o(v)
	}
	return v
}

// Verify checks r's signature over its headers and body (the exact bytes
// read from r.Body, which Verify does not read) and returns the key that
// made it. The caller must check that key.Owner is the actor of the
// activity. Errors wrap one of the Err* kinds of this package (and, with
// ErrKeyUnavailable, the KeyFetcher's error); answer the sender with
// Status and Message, not with the error's text.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (PublicKey, error) {
	vals := r.Header.Values("Signature")
	switch len(vals) {
	case 0:
		return PublicKey{}, ErrNoSignature
	case 1:
	default:
		return PublicKey{}, fmt.Errorf("%w: %d Signature headers", ErrMalformed, len(vals))
	}
	p, err := ParseSignature(vals[0])
	if err != nil {
		return PublicKey{}, err
	}
	if p.Algorithm != "" && p.Algorithm != "rsa-sha256" && p.Algorithm != "hs2019" {
		return PublicKey{}, fmt.Errorf("%w: %q", ErrAlgorithm, clip(p.Algorithm))
	}
	if err := checkStrength(r, p, body); err != nil {
		return PublicKey{}, err
	}
	if err := v.checkWindow(r, p); err != nil {
		return PublicKey{}, err
	}
	if p.Signs("digest") {
		want, err := DigestSHA256(r.Header.Get("Digest"))
		if err != nil {
			return PublicKey{}, err
		}
		got := sha256.Sum256(body)
		if subtle.ConstantTimeCompare(want, got[:]) != 1 {
			return PublicKey{}, ErrDigest
		}
	}
	hashes, err := signingHashes(r, p)
	if err != nil {
		return PublicKey{}, err
	}
	key, err := v.fetch(ctx, p.KeyID, false)
	if err != nil {
		return PublicKey{}, err
	}
	if verifies(key.Key, hashes, p.Signature) {
		return key, nil
	}
	// The key may have been rotated since it was cached.
	fresh, err := v.fetch(ctx, p.KeyID, true)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w (refetching the key: %v)", ErrBadSignature, err)
	}
	if !fresh.Key.Equal(key.Key) && verifies(fresh.Key, hashes, p.Signature) {
		return fresh, nil
	}
	return PublicKey{}, fmt.Errorf("%w: key %s", ErrBadSignature, p.KeyID)
}

func (v *Verifier) fetch(ctx context.Context, keyID string, refresh bool) (PublicKey, error) {
	if v.keys == nil {
		return PublicKey{}, fmt.Errorf("%w: no key fetcher", ErrKeyUnavailable)
	}
	k, err := v.keys.FetchKey(ctx, keyID, refresh)
	if err != nil {
		// The fetcher's error is wrapped too, so that its caller can tell
		// its own kinds apart (a fetcher too busy to fetch, say).
		return PublicKey{}, fmt.Errorf("%w: %s: %w", ErrKeyUnavailable, keyID, err)
	}
	if k.Key == nil {
		return PublicKey{}, fmt.Errorf("%w: %s: no RSA key", ErrKeyUnavailable, keyID)
	}
	if k.ID != keyID && k.Owner != keyID {
		return PublicKey{}, fmt.Errorf("%w: fetched key %s (owner %s) is not %s", ErrKeyUnavailable, k.ID, k.Owner, keyID)
	}
	if k.Owner == "" {
		return PublicKey{}, fmt.Errorf("%w: %s has no owner", ErrKeyUnavailable, keyID)
	}
	if bits := k.Key.N.BitLen(); bits < v.minBits {
		return PublicKey{}, fmt.Errorf("%w: %s is RSA-%d, under %d bits", ErrKeyUnavailable, keyID, bits, v.minBits)
	}
	return k, nil
}

// checkStrength enforces which headers must be signed.
func checkStrength(r *http.Request, p Params, body []byte) error {
	if !p.Signs("(request-target)") {
		return fmt.Errorf("%w: (request-target)", ErrNotSigned)
	}
	if !p.Signs("date") && !(p.Algorithm == "hs2019" && p.Signs("(created)")) {
		return fmt.Errorf("%w: date", ErrNotSigned)
	}
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && !p.Signs("host") {
		return fmt.Errorf("%w: host", ErrNotSigned)
	}
	if (r.Method == http.MethodPost || len(body) > 0) && !p.Signs("digest") {
		return fmt.Errorf("%w: digest", ErrNotSigned)
	}
	if (p.Signs("(created)") || p.Signs("(expires)")) && p.Algorithm != "hs2019" {
		return fmt.Errorf("%w: (created) and (expires) need algorithm hs2019", ErrMalformed)
	}
	if p.Signs("(created)") && p.Created == 0 {
		return fmt.Errorf("%w: (created) signed without a created parameter", ErrMalformed)
	}
	if p.Signs("(expires)") && p.Expires == 0 {
		return fmt.Errorf("%w: (expires) signed without an expires parameter", ErrMalformed)
	}
	return nil
}

// checkWindow applies Mastodon's matches_time_window?.
func (v *Verifier) checkWindow(r *http.Request, p Params) error {
	var created time.Time
	if p.Algorithm == "hs2019" && p.Created != 0 {
		created = time.Unix(p.Created, 0)
	} else {
		d := r.Header.Get("Date")
		if d == "" {
			return fmt.Errorf("%w: no Date header", ErrMalformed)
		}
		t, err := http.ParseTime(d)
		if err != nil {
			return fmt.Errorf("%w: Date %q: %v", ErrMalformed, clip(d), err)
		}
		created = t
	}
	expires := created.Add(v.validity)
	if p.Expires != 0 {
		expires = time.Unix(p.Expires, 0)
	}
	if limit := created.Add(MaxValidity); expires.After(limit) {
		expires = limit
	}
	now := v.now()
	if created.After(now.Add(v.skew)) {
		return fmt.Errorf("%w: made %s in the future", ErrStale, created.Sub(now).Round(time.Second))
	}
	if now.After(expires.Add(v.skew)) {
		return fmt.Errorf("%w: expired %s ago", ErrStale, now.Sub(expires).Round(time.Second))
	}
	return nil
}

// signingHashes returns the SHA-256 of the signing string, and when the
// request target has a query, also of the string with the path alone:
// Mastodon signs and verifies the path without the query.
func signingHashes(r *http.Request, p Params) ([][]byte, error) {
	// The target as the client sent it when it is in origin form;
	// otherwise (absolute form, or a request built in memory) from the URL.
	target := r.RequestURI
	if !strings.HasPrefix(target, "/") {
		target = r.URL.RequestURI()
	}
	targets := []string{target}
	if i := strings.IndexByte(target, '?'); i >= 0 {
		targets = append(targets, target[:i])
	}
	var out [][]byte
	for _, t := range targets {
		s, err := signingString(r, p, t)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256([]byte(s))
		out = append(out, sum[:])
	}
	return out, nil
}

func signingString(r *http.Request, p Params, target string) (string, error) {
	var b strings.Builder
	for i, h := range p.Headers {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(h)
		b.WriteString(": ")
		switch h {
		case "(request-target)":
			b.WriteString(strings.ToLower(r.Method) + " " + target)
		case "(created)":
			fmt.Fprintf(&b, "%d", p.Created)
		case "(expires)":
			fmt.Fprintf(&b, "%d", p.Expires)
		case "host":
			host := r.Header.Get("Host")
			if host == "" {
				host = r.Host
			}
			if host == "" {
				host = r.URL.Host
			}
			if host == "" {
				return "", fmt.Errorf("%w: signed header host missing", ErrMalformed)
			}
			b.WriteString(host)
		default:
			if strings.HasPrefix(h, "(") {
				return "", fmt.Errorf("%w: unknown pseudo-header %s", ErrMalformed, h)
			}
			vals := r.Header.Values(h)
			if len(vals) == 0 {
				return "", fmt.Errorf("%w: signed header %s missing", ErrMalformed, h)
			}
			for j, val := range vals {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString(strings.TrimSpace(val))
			}
		}
	}
	return b.String(), nil
}

func verifies(key *rsa.PublicKey, hashes [][]byte, sig []byte) bool {
	for _, h := range hashes {
		if rsa.VerifyPKCS1v15(key, crypto.SHA256, h, sig) == nil {
			return true
		}
	}
	return false
}

// MaxPEMLen is the longest publicKeyPem ParsePublicKeyPEM accepts.
const MaxPEMLen = 16 << 10

// ParsePublicKeyPEM parses an actor's publicKeyPem: a PKIX "PUBLIC KEY"
// block (what Mastodon publishes) or a PKCS #1 "RSA PUBLIC KEY" block,
// holding an RSA key.
func ParsePublicKeyPEM(s string) (*rsa.PublicKey, error) {
	if len(s) > MaxPEMLen {
		return nil, fmt.Errorf("public key PEM is %d bytes, over %d", len(s), MaxPEMLen)
	}
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("public key: no PEM block")
	}
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("public key: %T is not RSA", k)
		}
		return rk, nil
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("public key: PEM block of type %q", block.Type)
}

// PublicKeyPEM encodes key as the PKIX "PUBLIC KEY" PEM block actor
// documents publish in publicKeyPem.
func PublicKeyPEM(key *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}
