package clientip

import (
	"net/http"
	"net/netip"
	"strings"
)

// Of is the address of the client that made r: the connection's, or, when
// the connection comes from a trusted proxy, the nearest address in
// X-Forwarded-For that is not one of the proxies (a proxy appends the
// address it saw; what is left of the header is whatever the client
// wrote). A header a proxy of ours did not write (an entry that is not an
// address) leaves the connection's address. The zero Addr when the
// connection's address cannot be read.
func Of(r *http.Request, trusted []netip.Prefix) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	ip := ap.Addr().Unmap()
	if !In(ip, trusted) {
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
		if hop = hop.Unmap(); !In(hop, trusted) {
			return hop
		}
	}
	return ip
}

// Key is what limits count a client by: its address (Of), or for IPv6 its
// /64 (one host is commonly given a whole /64, so single addresses would
// cost it nothing); "" when it cannot be told.
func Key(r *http.Request, trusted []netip.Prefix) string {
	ip := Of(r, trusted)
	if !ip.IsValid() {
		return ""
	}
	if ip.Is6() {
		if p, err := ip.WithZone("").Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}

// In reports whether ip is in one of ps.
func In(ip netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
