package delivery

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrForbiddenAddress is returned (wrapped) when a dial would reach an
// address the client refuses.
var ErrForbiddenAddress = errors.New("address not allowed for outgoing federation requests")

// ErrTooLarge is returned by ReadLimited when a body exceeds its limit.
var ErrTooLarge = errors.New("response body too large")

// clientConfig holds NewHTTPClient's settings.
type clientConfig struct {
	allowed     []netip.Prefix
	timeout     time.Duration
	dialTimeout time.Duration
	maxConns    int
	userAgent   string
}

// ClientOption configures NewHTTPClient.
type ClientOption func(*clientConfig)

// WithAllowedNetworks lets the client dial addresses in these prefixes even
// though they are private, loopback or link-local (tests allow loopback;
// an operator may allow a LAN peer).
func WithAllowedNetworks(p []netip.Prefix) ClientOption {
	return func(c *clientConfig) { c.allowed = append(c.allowed, p...) }
}

// WithTimeout sets the limit on a whole request, including reading the
// response body (default 30 s).
func WithTimeout(d time.Duration) ClientOption { return func(c *clientConfig) { c.timeout = d } }

// WithDialTimeout sets the limit on connecting (default 10 s).
func WithDialTimeout(d time.Duration) ClientOption {
	return func(c *clientConfig) { c.dialTimeout = d }
}

// WithMaxConnsPerHost bounds the connections to one host (default 0:
// unbounded; the Queue bounds its own concurrency per host).
func WithMaxConnsPerHost(n int) ClientOption { return func(c *clientConfig) { c.maxConns = n } }

// WithUserAgent sets the User-Agent of every request that has none
// (default "Lyceum"). Some servers refuse requests without one.
func WithUserAgent(ua string) ClientOption { return func(c *clientConfig) { c.userAgent = ua } }

// NewHTTPClient returns a client for requests to other fediverse servers.
// Its dialer refuses, after name resolution, every address that is not
// globally routable (loopback, RFC 1918 and unique-local, link-local,
// CGNAT, multicast, unspecified, documentation and reserved ranges, and
// IPv4 addresses hidden in IPv6 ones) unless allow-listed, so neither a
// crafted URL nor DNS rebinding can make it reach the operator's network.
// It follows at most 5 redirects, each dialed under the same rule.
func NewHTTPClient(opts ...ClientOption) *http.Client {
	c := clientConfig{timeout: 30 * time.Second, dialTimeout: 10 * time.Second, userAgent: "Lyceum"}
	for _, o := range opts {
		o(&c)
	}
	allowed := append([]netip.Prefix(nil), c.allowed...)
	d := &net.Dialer{
		Timeout:   c.dialTimeout,
		KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			return CheckDialAddress(address, allowed)
		},
	}
	t := &http.Transport{
		Proxy:                 nil, // a proxy would dial on our behalf, unchecked
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   4,
		MaxConnsPerHost:       c.maxConns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: c.timeout,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: &userAgent{next: t, ua: c.userAgent},
		Timeout:   c.timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("stopped after 5 redirects")
			}
			return nil
		},
	}
}

// userAgent sets a User-Agent on requests that have none.
type userAgent struct {
	next *http.Transport
	ua   string
}

func (u *userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("User-Agent") == "" && u.ua != "" {
		r = r.Clone(r.Context())
		r.Header.Set("User-Agent", u.ua)
	}
	return u.next.RoundTrip(r)
}

// CloseIdleConnections closes the idle connections of the transport.
func (u *userAgent) CloseIdleConnections() { u.next.CloseIdleConnections() }

// CheckDialAddress reports whether the client may dial address ("ip:port",
// as a net.Dialer's Control function receives it, after resolution): nil
// when the IP is globally routable or inside one of allowed, an error
// wrapping ErrForbiddenAddress otherwise.
func CheckDialAddress(address string, allowed []netip.Prefix) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q is not an IP address and port", ErrForbiddenAddress, address)
	}
	ip := ap.Addr().Unmap()
	for _, p := range allowed {
		if p.Contains(ip) {
			return nil
		}
	}
	if !Public(ip) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, ip)
	}
	return nil
}

// nonPublic are ranges that net/netip's predicates do not cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // CGNAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: hides an IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2001::/32"),       // Teredo: hides an IPv4 address
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: hides an IPv4 address
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated)
}

// Public reports whether ip is a globally routable unicast address that an
// outgoing federation request may reach.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// ReadLimited reads r to the end, failing with ErrTooLarge once it holds
// more than max bytes; responses from other servers are read through it.
func ReadLimited(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, max)
	}
	return b, nil
}

// drain reads and discards up to max bytes of a response body so the
// connection can be reused, then closes it.
func drain(body io.ReadCloser, max int64) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, max))
	body.Close()
}
