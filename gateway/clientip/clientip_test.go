package clientip

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestKeyIsTheAddressTheConnectionCameFrom(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct {
		name, remote, xff, want string
	}{
		{"an IPv4 client", "203.0.113.7:5555", "", "203.0.113.7"},
		{"an IPv4-mapped client", "[::ffff:203.0.113.7]:5555", "", "203.0.113.7"},
		{"an IPv6 client counts by its /64", "[2001:db8:1:2:3:4:5:6]:5555", "", "2001:db8:1:2::/64"},
		{"X-Forwarded-For from a stranger is ignored", "203.0.113.7:5555", "198.51.100.1", "203.0.113.7"},
		{"X-Forwarded-For from a trusted proxy names the client", "10.1.2.3:5555", "198.51.100.1", "198.51.100.1"},
		{"the client cannot pick its address through the proxy", "10.1.2.3:5555", "192.0.2.66, 198.51.100.1", "198.51.100.1"},
		{"a chain of trusted proxies is walked", "10.1.2.3:5555", "198.51.100.1, 10.9.9.9", "198.51.100.1"},
		{"garbage in X-Forwarded-For leaves the proxy's address", "10.1.2.3:5555", "198.51.100.1, junk", "10.1.2.3"},
		{"an X-Forwarded-For of proxies only leaves the proxy's address", "10.1.2.3:5555", "10.4.4.4", "10.1.2.3"},
		{"an empty X-Forwarded-For entry is skipped", "10.1.2.3:5555", "198.51.100.1, ", "198.51.100.1"},
		{"an IPv6 client behind the proxy", "10.1.2.3:5555", "2001:db8::1", "2001:db8::/64"},
		{"an unparsable remote address", "pipe", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "https://lyceum.example/ap/inbox", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := Key(r, proxies); got != tc.want {
				t.Fatalf("Key = %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzKey feeds remote addresses and X-Forwarded-For headers to what
// the rate limits count by: never a panic, and always "", an address or
// an IPv6 /64.
func FuzzKey(f *testing.F) {
	f.Add("203.0.113.7:443", "")
	f.Add("10.1.2.3:5555", "198.51.100.1, 10.9.9.9")
	f.Add("[::ffff:10.1.2.3]:1", "2001:db8::1,junk")
	f.Add("[fe80::1%eth0]:1", "fe80::2%eth1")
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fe80::/10")}
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := &http.Request{RemoteAddr: remote, Header: http.Header{"X-Forwarded-For": {xff}}}
		k := Key(r, proxies)
		if k == "" {
			return
		}
		if p, err := netip.ParsePrefix(k); err == nil {
			if !p.Addr().Is6() || p.Bits() != 64 {
				t.Fatalf("key %q is a prefix other than an IPv6 /64", k)
			}
			return
		}
		if a, err := netip.ParseAddr(k); err != nil || !a.Is4() {
			t.Fatalf("key %q is not an IPv4 address (%v)", k, err)
		}
	})
}
