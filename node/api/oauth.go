package api

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// ScopeMoodleNetWrite is the one OAuth 2 scope a node grants: creating
// resources (drafts) of the account that consented, as Moodle's "Share
// to MoodleNet" asks for it.
const ScopeMoodleNetWrite = "@moodlenet/ed-resource:write.own"

// OAuthScopes lists the scopes a node supports, for its discovery
// document.
func OAuthScopes() []string { return []string{ScopeMoodleNetWrite} }

// ParseOAuthScope reads an OAuth scope parameter: scope tokens separated
// by spaces (Moodle sends a leading space). Empty means the default, the
// one scope; a token the node does not support is KindInvalid.
func ParseOAuthScope(s string) (string, error) {
	if len(s) > 1000 {
		return "", Invalidf("the scope is too long")
	}
	fields := strings.Fields(s)
	for _, f := range fields {
		if f != ScopeMoodleNetWrite {
			return "", Invalidf("this node does not grant the scope %s", Quote(f))
		}
	}
	return ScopeMoodleNetWrite, nil
}

// OAuthClientRequest is a dynamic client registration (RFC 7591), as
// Moodle sends it. Unknown members are ignored, as the RFC says.
type OAuthClientRequest struct {
	ClientName              string   `json:"client_name"`
	ClientURI               string   `json:"client_uri"`
	LogoURI                 string   `json:"logo_uri"`
	TOSURI                  string   `json:"tos_uri"`
	PolicyURI               string   `json:"policy_uri"`
	SoftwareID              string   `json:"software_id"`
	SoftwareVersion         Scalar   `json:"software_version"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	Scope                   string   `json:"scope"`
}

// Scalar is a JSON string, number or boolean read as its text: Moodle
// sends software_version as $CFG->version, a string or a number.
type Scalar string

// UnmarshalJSON reads any JSON scalar; null is "".
func (s *Scalar) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case nil:
		*s = ""
	case string:
		*s = Scalar(v)
	case float64, bool:
		*s = Scalar(strings.TrimSpace(string(b)))
	default:
		return fmt.Errorf("want a string or a number, not %s", b)
	}
	return nil
}

// OAuthClient is a registered client: a Moodle site.
type OAuthClient struct {
	ClientID     string    `json:"client_id"`
	Name         string    `json:"client_name"`
	URI          string    `json:"client_uri,omitempty"`
	RedirectURIs []string  `json:"redirect_uris"`
	Software     string    `json:"software_id,omitempty"`
	Version      string    `json:"software_version,omitempty"`
	Created      time.Time `json:"-"`
}

// NewOAuthClient is a client just registered: its secret is in this
// answer only.
type NewOAuthClient struct {
	OAuthClient
	Secret string `json:"client_secret"`
}

// AuthorizeRequest is a person's consent to a client, from the consent
// page: the code it makes is sent to RedirectURI.
type AuthorizeRequest struct {
	ClientID    string
	RedirectURI string
	Scope       string
}

// OAuthCodeExchange is the token endpoint's authorization_code grant,
// with the client's credentials.
type OAuthCodeExchange struct {
	ClientID, ClientSecret string
	Code                   string
	RedirectURI            string
}

// OAuthRefresh is the token endpoint's refresh_token grant.
type OAuthRefresh struct {
	ClientID, ClientSecret string
	RefreshToken           string
}

// OAuthTokens is the token endpoint's answer (RFC 6749 §5.1).
type OAuthTokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// OAuthGrant is an account's consent to a client, as its settings page
// lists it: revoking it ends its tokens.
type OAuthGrant struct {
	ID        int64     `json:"id"`
	Client    string    `json:"client_name"`
	ClientURI string    `json:"client_uri,omitempty"`
	Scope     string    `json:"scope"`
	Created   time.Time `json:"created"`
	LastUsed  time.Time `json:"last_used,omitzero"`
}

// OAuthError is a refusal in the words of RFC 6749 §5.2 (and RFC 7591
// §3.2.2): Code is what the client reads ("invalid_grant"…), Msg may be
// shown to a person.
type OAuthError struct {
	Code string
	Msg  string
	Err  error // the cause, for the logs
}

func (e *OAuthError) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Msg + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Msg
}

// Unwrap is the cause.
func (e *OAuthError) Unwrap() error { return e.Err }

// OAuthErrorf makes an OAuthError.
func OAuthErrorf(code, format string, args ...any) *OAuthError {
	return &OAuthError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// OAuth 2 error codes (RFC 6749 §5.2, RFC 7591 §3.2.2), the Code of an
// OAuthError.
const (
	OAuthInvalidClient   = "invalid_client"
	OAuthInvalidGrant    = "invalid_grant"
	OAuthInvalidRequest  = "invalid_request"
	OAuthInvalidScope    = "invalid_scope"
	OAuthInvalidRedirect = "invalid_redirect_uri"
	OAuthInvalidMetadata = "invalid_client_metadata"
	OAuthUnsupportedType = "unsupported_grant_type"
	OAuthUnavailable     = "temporarily_unavailable"
)

// MaxURI bounds the URIs a client registers.
const MaxURI = 2000

// RedirectURIOK reports whether u may be a client's redirect URI (or a
// listed Moodle site): an absolute https URL without fragment or user,
// or http on a loopback address (tests, a Moodle on the same machine).
func RedirectURIOK(u string) bool {
	if len(u) > MaxURI || !utf8.ValidString(u) {
		return false
	}
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || p.Fragment != "" || p.User != nil || strings.ContainsAny(u, "# \t\r\n") {
		return false
	}
	switch p.Scheme {
	case "https":
		return true
	case "http":
		return Loopback(p.Hostname())
	}
	return false
}

// Loopback reports whether host names this machine.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
