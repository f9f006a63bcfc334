package fediverse

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
)

// limiter rate-limits requests per key: a client address before
// authentication, a verified server after it. It tracks at most a fixed
// number of keys and forgets the least recently seen one first, so that a
// flood of new keys cannot grow it without bound, and cannot reset the
// limits of the keys that keep sending either (as forgetting every key at
// once would).
type limiter struct {
	rate  rate.Limit
	burst int

	mu   sync.Mutex
	keys *simplelru.LRU[string, *rate.Limiter]
}

// newLimiter allows each key perSecond requests, in bursts of burst, and
// tracks at most size keys.
func newLimiter(perSecond, burst float64, size int) (*limiter, error) {
	keys, err := simplelru.NewLRU[string, *rate.Limiter](size, nil)
	if err != nil {
		return nil, fmt.Errorf("rate limiter of %d entries: %w", size, err)
	}
	return &limiter{rate: rate.Limit(perSecond), burst: int(burst) + 1, keys: keys}, nil
}

// allow reports whether key may make one more request now.
func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.keys.Get(key)
	if !ok {
		lim = rate.NewLimiter(l.rate, l.burst)
		l.keys.Add(key, lim)
	}
	return lim.Allow()
}

// clientKey is what limits before authentication count by: the client's
// address, an IPv6 client's /64 (one host is commonly given a whole /64,
// so single addresses would cost it nothing), "" when it cannot be told.
func clientKey(r *http.Request, trusted []netip.Prefix) string {
	ip := clientIP(r, trusted)
	if !ip.IsValid() {
		return ""
	}
	if ip.Is6() {
		p, err := ip.WithZone("").Prefix(64)
		if err == nil {
			return p.String()
		}
	}
	return ip.String()
}

// clientIP is the address of the client, as the gateway tells it: the
// connection's, or, when the connection comes from a trusted proxy, the
// nearest address in X-Forwarded-For that is not one of the proxies (a
// proxy appends the address it saw; what is left of it is whatever the
// client wrote). A header a proxy of ours did not write (an entry that is
// not an address) leaves the connection's address.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	ip := ap.Addr().Unmap()
	if !inPrefixes(ip, trusted) {
		return ip
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hops = append(hops, h)
			}
		}
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(hops[i])
		if err != nil {
			return ip
		}
		if hop = hop.Unmap(); !inPrefixes(hop, trusted) {
			return hop
		}
	}
	return ip
}

func inPrefixes(ip netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
