package httpsig

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// Limits on what ParseSignature and DigestSHA256 accept. A Mastodon
// Signature header is about 600 bytes; these leave room for 8192-bit keys
// and long key ids while refusing what no server sends.
const (
	// MaxHeaderLen is the longest Signature header accepted, in bytes.
	MaxHeaderLen = 8 << 10
	// MaxKeyIDLen is the longest keyId accepted, in bytes.
	MaxKeyIDLen = 2048
	// MaxSignedHeaders is the most entries the headers parameter may list.
	MaxSignedHeaders = 32
	// MaxSignatureLen is the longest decoded signature accepted, in bytes
	// (an RSA-8192 signature).
	MaxSignatureLen = 1024
	// MaxDigestHeaderLen is the longest Digest header accepted, in bytes.
	MaxDigestHeaderLen = 1024
)

// Params are the parameters of a Signature header.
type Params struct {
	// KeyID names the key that made the signature: usually an actor URL
	// with a #main-key fragment, sometimes a URL of its own.
	KeyID string
	// Algorithm is the algorithm parameter, lower-cased, or "" when absent.
	Algorithm string
	// Headers are the signed header names, lower-cased, in signing order.
	// When the parameter is absent it is ["date"], as Mastodon assumes.
	Headers []string
	// Signature is the decoded signature.
	Signature []byte
	// Created and Expires are the (created) and (expires) parameters as
	// Unix seconds, 0 when absent.
	Created, Expires int64
}

// Signs reports whether name (lower case) is among the signed headers.
func (p Params) Signs(name string) bool {
	for _, h := range p.Headers {
		if h == name {
			return true
		}
	}
	return false
}

// ParseSignature parses the value of a Signature header strictly:
// comma-separated name=value pairs, values quoted (created and expires
// may be bare digits), no duplicate names, keyId and signature present,
// the signature valid base64, everything within the Max* limits. Unknown
// parameters are ignored. Every error wraps ErrMalformed.
func ParseSignature(header string) (Params, error) {
	var p Params
	if len(header) > MaxHeaderLen {
		return p, fmt.Errorf("%w: Signature header is %d bytes, over %d", ErrMalformed, len(header), MaxHeaderLen)
	}
	seen := map[string]bool{}
	var sig, headers string
	haveHeaders := false
	s := header
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			break
		}
		name, value, rest, err := nextParam(s)
		if err != nil {
			return Params{}, err
		}
		s = rest
		lname := strings.ToLower(name)
		if seen[lname] {
			return Params{}, fmt.Errorf("%w: parameter %q repeated", ErrMalformed, name)
		}
		seen[lname] = true
		switch lname {
		case "keyid":
			p.KeyID = value
		case "algorithm":
			p.Algorithm = strings.ToLower(value)
		case "headers":
			headers, haveHeaders = value, true
		case "signature":
			sig = value
		case "created":
			p.Created, err = parseUnix(value)
		case "expires":
			p.Expires, err = parseUnix(value)
		}
		if err != nil {
			return Params{}, fmt.Errorf("%w: %s: %v", ErrMalformed, name, err)
		}
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			break
		}
		if s[0] != ',' {
			return Params{}, fmt.Errorf("%w: expected ',' after %s", ErrMalformed, name)
		}
		s = s[1:]
	}
	if p.KeyID == "" {
		return Params{}, fmt.Errorf("%w: no keyId", ErrMalformed)
	}
	if len(p.KeyID) > MaxKeyIDLen {
		return Params{}, fmt.Errorf("%w: keyId longer than %d bytes", ErrMalformed, MaxKeyIDLen)
	}
	if sig == "" {
		return Params{}, fmt.Errorf("%w: no signature", ErrMalformed)
	}
	if base64.StdEncoding.DecodedLen(len(sig)) > MaxSignatureLen+3 {
		return Params{}, fmt.Errorf("%w: signature longer than %d bytes", ErrMalformed, MaxSignatureLen)
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return Params{}, fmt.Errorf("%w: signature is not base64: %v", ErrMalformed, err)
	}
	if len(raw) == 0 || len(raw) > MaxSignatureLen {
		return Params{}, fmt.Errorf("%w: signature of %d bytes", ErrMalformed, len(raw))
	}
	p.Signature = raw
	if !haveHeaders {
		p.Headers = []string{"date"}
		return p, nil
	}
	fields := strings.Fields(headers)
	if len(fields) == 0 {
		return Params{}, fmt.Errorf("%w: empty headers parameter", ErrMalformed)
	}
	if len(fields) > MaxSignedHeaders {
		return Params{}, fmt.Errorf("%w: %d signed headers, over %d", ErrMalformed, len(fields), MaxSignedHeaders)
	}
	p.Headers = make([]string, 0, len(fields))
	for _, f := range fields {
		f = strings.ToLower(f)
		if !validHeaderName(f) {
			return Params{}, fmt.Errorf("%w: bad header name %q", ErrMalformed, f)
		}
		if p.Signs(f) {
			return Params{}, fmt.Errorf("%w: header %q signed twice", ErrMalformed, f)
		}
		p.Headers = append(p.Headers, f)
	}
	return p, nil
}

// nextParam reads name=value from the start of s and returns the rest.
func nextParam(s string) (name, value, rest string, err error) {
	i := 0
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	if i == 0 {
		return "", "", "", fmt.Errorf("%w: expected a parameter name at %q", ErrMalformed, clip(s))
	}
	name, s = s[:i], s[i:]
	if s == "" || s[0] != '=' {
		return "", "", "", fmt.Errorf("%w: expected '=' after %s", ErrMalformed, name)
	}
	s = s[1:]
	if s != "" && s[0] == '"' {
		var b strings.Builder
		for j := 1; j < len(s); j++ {
			switch c := s[j]; {
			case c == '"':
				return name, b.String(), s[j+1:], nil
			case c == '\\':
				if j+1 >= len(s) {
					return "", "", "", fmt.Errorf("%w: unterminated escape in %s", ErrMalformed, name)
				}
				j++
				b.WriteByte(s[j])
			case c < 0x20 || c == 0x7f:
				return "", "", "", fmt.Errorf("%w: control character in %s", ErrMalformed, name)
			default:
				b.WriteByte(c)
			}
		}
		return "", "", "", fmt.Errorf("%w: unterminated quoted value of %s", ErrMalformed, name)
	}
	j := 0
	for j < len(s) && isTokenChar(s[j]) {
		j++
	}
	if j == 0 {
		return "", "", "", fmt.Errorf("%w: empty value of %s", ErrMalformed, name)
	}
	return name, s[:j], s[j:], nil
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+.^_`|~-", c) >= 0
}

// validHeaderName accepts a header field name or a (pseudo-header).
func validHeaderName(h string) bool {
	if len(h) == 0 || len(h) > 64 {
		return false
	}
	if h[0] == '(' && h[len(h)-1] == ')' {
		h = h[1 : len(h)-1]
		if h == "" {
			return false
		}
	}
	for i := 0; i < len(h); i++ {
		if !isTokenChar(h[i]) {
			return false
		}
	}
	return true
}

func parseUnix(v string) (int64, error) {
	if len(v) == 0 || len(v) > 12 {
		return 0, fmt.Errorf("bad timestamp %q", clip(v))
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad timestamp %q", clip(v))
	}
	return n, nil
}

func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// DigestSHA256 returns the SHA-256 value of a Digest header (RFC 3230:
// comma-separated algorithm=base64 pairs, algorithm names compared without
// case). It fails with ErrDigest when the header offers no SHA-256 value,
// as Mastodon does, and with ErrMalformed when it cannot be parsed.
func DigestSHA256(header string) ([]byte, error) {
	if len(header) > MaxDigestHeaderLen {
		return nil, fmt.Errorf("%w: Digest header is %d bytes, over %d", ErrMalformed, len(header), MaxDigestHeaderLen)
	}
	var found []byte
	var offered []string
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		alg, val, ok := strings.Cut(part, "=")
		if !ok || alg == "" {
			return nil, fmt.Errorf("%w: Digest entry %q is not algorithm=value", ErrMalformed, clip(part))
		}
		alg = strings.ToLower(strings.TrimSpace(alg))
		offered = append(offered, alg)
		if alg != "sha-256" {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("%w: Digest repeats SHA-256", ErrMalformed)
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(val))
		if err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("%w: SHA-256 Digest is not 32 bytes of base64", ErrDigest)
		}
		found = raw
	}
	if found == nil {
		return nil, fmt.Errorf("%w: no SHA-256 in Digest (offered %s)", ErrDigest, strings.Join(offered, ", "))
	}
	return found, nil
}

// Digest returns the Digest header value for body: "SHA-256=" and the
// base64 of its SHA-256.
func Digest(body []byte) string {
	sum := sha256.Sum256(body)
	return "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
}
