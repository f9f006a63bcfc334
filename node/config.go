package node

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"text/template"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	toml "github.com/pelletier/go-toml/v2"
)

// MaxConfigSize bounds config.toml; a larger file is refused unread.
const MaxConfigSize = 1 << 20

// Profiles name the starting configurations `lyceum init --profile` offers.
const (
	// ProfileDesktop: a teacher's laptop behind NAT (the default).
	ProfileDesktop = "desktop"
	// ProfileServer: an institution's always-on, publicly reachable node.
	ProfileServer = "server"
	// ProfileHQ: an indexing peer: a server that indexes the whole network
	// and serves search to everyone.
	ProfileHQ = "hq"
	// ProfileTest: loopback only, random ports, no bootstrap peers, no mDNS:
	// for tests and development. Nothing outside the machine is dialled.
	ProfileTest = "test"
)

// Profiles lists the profile names in the order help texts show them.
var Profiles = []string{ProfileDesktop, ProfileServer, ProfileHQ, ProfileTest}

// Config is the node's configuration, as config.toml holds it. It is plain
// data; DefaultConfig gives every field its documented default.
type Config struct {
	// Profile the repo was created with; informational.
	Profile string        `toml:"profile"`
	Swarm   SwarmConfig   `toml:"swarm"`
	DHT     DHTConfig     `toml:"dht"`
	HTTP    HTTPConfig    `toml:"http"`
	Import  ImportConfig  `toml:"import"`
	Provide ProvideConfig `toml:"provide"`
	Search  SearchConfig  `toml:"search"`
	Gateway GatewayConfig `toml:"gateway"`
}

// GatewayConfig is the public side of the HTTP server: HTTPS and the
// ActivityPub bridge to the fediverse.
type GatewayConfig struct {
	// PublicURL is the base URL the fediverse reaches this node at, e.g.
	// https://lyceum.example.org (no path). Empty leaves the ActivityPub
	// bridge off. Everything the bridge emits starts with it.
	PublicURL string `toml:"public_url"`
	// TLSCert and TLSKey are PEM files: when both are set, the HTTP server
	// speaks HTTPS itself. Leave them empty behind a TLS reverse proxy.
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
	// TrustedProxies are the addresses or networks (CIDR) of reverse
	// proxies whose X-Forwarded-Host and X-Forwarded-Proto are believed.
	TrustedProxies []string `toml:"trusted_proxies"`
	// AuthorizedFetch makes actor, object and collection documents answer
	// only signed requests (Mastodon's secure mode).
	AuthorizedFetch bool `toml:"authorized_fetch"`
	// AllowPrivateNetworks are networks (CIDR) that outgoing fediverse
	// requests may reach although they are private, loopback or
	// link-local; by default only public addresses are dialled.
	AllowPrivateNetworks []string `toml:"allow_private_networks"`
	// InboxRate is the inbox POSTs per second one remote server may make,
	// with bursts of ten times that.
	InboxRate float64 `toml:"inbox_rate"`
}

// TrustedProxyPrefixes parses gateway.trusted_proxies.
func (g GatewayConfig) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	return parsePrefixes("gateway.trusted_proxies", g.TrustedProxies)
}

// AllowedPrivatePrefixes parses gateway.allow_private_networks.
func (g GatewayConfig) AllowedPrivatePrefixes() ([]netip.Prefix, error) {
	return parsePrefixes("gateway.allow_private_networks", g.AllowPrivateNetworks)
}

// parsePrefixes reads CIDR networks or single addresses.
func parsePrefixes(key string, ss []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(ss))
	for i, s := range ss {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, invalidf("%s[%d]: %q is neither an address nor a CIDR network", key, i, s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// validate checks the gateway keys.
func (g GatewayConfig) validate() []error {
	var errs []error
	if g.PublicURL != "" {
		u, err := url.Parse(g.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
			strings.TrimRight(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("gateway.public_url: %q is not a base URL like https://lyceum.example.org", g.PublicURL))
		}
	}
	if (g.TLSCert == "") != (g.TLSKey == "") {
		errs = append(errs, fmt.Errorf("gateway.tls_cert and gateway.tls_key: give both files or neither"))
	}
	if _, err := g.TrustedProxyPrefixes(); err != nil {
		errs = append(errs, err)
	}
	if _, err := g.AllowedPrivatePrefixes(); err != nil {
		errs = append(errs, err)
	}
	if !(g.InboxRate > 0) || g.InboxRate > 1e6 {
		errs = append(errs, fmt.Errorf("gateway.inbox_rate: %v: want a rate above 0", g.InboxRate))
	}
	return errs
}

// SearchConfig is where searches go, and, on an HQ, what it indexes.
type SearchConfig struct {
	// HQs are the indexing peers searched besides the local index: full
	// multiaddrs or peer IDs. Several are allowed; any may be down.
	HQs []string `toml:"hqs"`
	// Timeout is how long a search waits for the HQs.
	Timeout Duration `toml:"timeout"`
	// Indexer subscribes to every public activity (lyceum/1/index) and
	// backfills every log it sees a gap in: what an HQ does.
	Indexer bool `toml:"indexer"`
	// RateLimit is the searches per second one client may make (HTTP: per
	// IP; libp2p: per peer), with bursts of twice that.
	RateLimit float64 `toml:"rate_limit"`
}

// SwarmConfig is the libp2p side of the node.
type SwarmConfig struct {
	// Listen holds the multiaddrs the node accepts peers on.
	Listen []string `toml:"listen"`
	// Bootstrap holds the full multiaddrs (with /p2p/ID) of the peers the
	// node joins the network through.
	Bootstrap []string `toml:"bootstrap"`
	// ConnLow and ConnHigh are the connection manager's water marks.
	ConnLow  int `toml:"conn_low"`
	ConnHigh int `toml:"conn_high"`
	// MaxMemoryMiB bounds libp2p's resource manager; 0 = a quarter of RAM.
	MaxMemoryMiB int64 `toml:"max_memory_mib"`
	// MDNS discovers peers on the local network.
	MDNS bool `toml:"mdns"`
	// NATPortMap asks the home router for a port mapping (UPnP, NAT-PMP).
	NATPortMap bool `toml:"nat_port_map"`
	// RelayService relays for NATed peers.
	RelayService bool `toml:"relay_service"`
	// AutoNATService answers other peers' reachability probes.
	AutoNATService bool `toml:"autonat_service"`
}

// DHTConfig is the Kademlia DHT's configuration.
type DHTConfig struct {
	// Mode is auto, client or server.
	Mode string `toml:"mode"`
	// LoopbackOnLAN keeps loopback addresses in the LAN DHT.
	LoopbackOnLAN bool `toml:"loopback_on_lan"`
}

// HTTPConfig is the HTTP server's configuration.
type HTTPConfig struct {
	// Listen is HOST:PORT for the gateway, the API and the web UI.
	Listen string `toml:"listen"`
}

// ImportConfig holds the defaults of `lyceum add`.
type ImportConfig struct {
	// Profile is unixfs-v0-2015 (Kubo's default) or unixfs-v1-2025.
	Profile string `toml:"profile"`
}

// ProvideConfig controls how the node announces its content in the DHT.
type ProvideConfig struct {
	// Enabled turns providing on.
	Enabled bool `toml:"enabled"`
	// Interval between two reprovides of everything pinned.
	Interval Duration `toml:"interval"`
}

// Duration is a time.Duration written as "22h" or "90s" in TOML.
type Duration time.Duration

// MarshalText writes the duration as Go's time.Duration does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads "22h", "90s" and the like.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (write e.g. \"22h\" or \"90s\")", b)
	}
	*d = Duration(v)
	return nil
}

// DefaultSwarmPort is the TCP and UDP port a node listens on by default.
const DefaultSwarmPort = 4101

// DefaultHTTPAddr is where the HTTP server listens by default.
const DefaultHTTPAddr = "127.0.0.1:5101"

// DefaultConfig returns the configuration of a new repo with the given
// profile.
func DefaultConfig(profile string) (Config, error) {
	c := Config{
		Profile: profile,
		Swarm: SwarmConfig{
			Listen: []string{
				fmt.Sprintf("/ip4/0.0.0.0/tcp/%d", DefaultSwarmPort),
				fmt.Sprintf("/ip4/0.0.0.0/udp/%d/quic-v1", DefaultSwarmPort),
				fmt.Sprintf("/ip6/::/tcp/%d", DefaultSwarmPort),
				fmt.Sprintf("/ip6/::/udp/%d/quic-v1", DefaultSwarmPort),
			},
			ConnLow:  32,
			ConnHigh: 96,
			MDNS:     true,
		},
		DHT:     DHTConfig{Mode: "auto"},
		HTTP:    HTTPConfig{Listen: DefaultHTTPAddr},
		Import:  ImportConfig{Profile: "unixfs-v0-2015"},
		Provide: ProvideConfig{Enabled: true, Interval: Duration(22 * time.Hour)},
		Search:  SearchConfig{HQs: []string{}, Timeout: Duration(3 * time.Second), RateLimit: 20},
		Gateway: GatewayConfig{TrustedProxies: []string{}, AllowPrivateNetworks: []string{}, InboxRate: 20},
	}
	for _, a := range dht.DefaultBootstrapPeers {
		c.Swarm.Bootstrap = append(c.Swarm.Bootstrap, a.String())
	}
	switch profile {
	case ProfileDesktop, "":
		c.Profile = ProfileDesktop
		c.Swarm.NATPortMap = true
	case ProfileServer:
		c.Swarm.ConnLow, c.Swarm.ConnHigh = 200, 600
		c.Swarm.MDNS = false
		c.Swarm.AutoNATService = true
		c.DHT.Mode = "server"
	case ProfileHQ:
		c.Swarm.ConnLow, c.Swarm.ConnHigh = 500, 2000
		c.Swarm.MDNS = false
		c.Swarm.AutoNATService = true
		c.Swarm.RelayService = true
		c.DHT.Mode = "server"
		c.Search.Indexer = true
		c.Search.RateLimit = 50
	case ProfileTest:
		c.Swarm.Listen = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
		c.Swarm.Bootstrap = []string{}
		c.Swarm.MDNS = false
		c.Swarm.MaxMemoryMiB = 256
		c.DHT.LoopbackOnLAN = true
		c.HTTP.Listen = "127.0.0.1:0"
		c.Gateway.AllowPrivateNetworks = []string{"127.0.0.0/8", "::1/128"}
	default:
		return Config{}, invalidf("unknown profile %q (want one of %s)", profile, strings.Join(Profiles, ", "))
	}
	return c, nil
}

// Validate checks every field and names the first one that is wrong.
func (c Config) Validate() error {
	var errs []error
	for i, a := range c.Swarm.Listen {
		if _, err := ma.NewMultiaddr(a); err != nil {
			errs = append(errs, fmt.Errorf("swarm.listen[%d]: %q is not a multiaddr: %v", i, a, err))
		}
	}
	if _, err := c.BootstrapPeers(); err != nil {
		errs = append(errs, err)
	}
	if c.Swarm.ConnLow < 0 || c.Swarm.ConnHigh < c.Swarm.ConnLow {
		errs = append(errs, fmt.Errorf("swarm.conn_low/conn_high: want 0 <= conn_low <= conn_high, have %d and %d", c.Swarm.ConnLow, c.Swarm.ConnHigh))
	}
	if c.Swarm.MaxMemoryMiB < 0 {
		errs = append(errs, fmt.Errorf("swarm.max_memory_mib: %d is negative", c.Swarm.MaxMemoryMiB))
	}
	switch c.DHT.Mode {
	case "auto", "client", "server":
	default:
		errs = append(errs, fmt.Errorf("dht.mode: %q is not auto, client or server", c.DHT.Mode))
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
		errs = append(errs, fmt.Errorf("http.listen: %q is not HOST:PORT: %v", c.HTTP.Listen, err))
	}
	switch c.Import.Profile {
	case "unixfs-v0-2015", "unixfs-v1-2025":
	default:
		errs = append(errs, fmt.Errorf("import.profile: %q is not unixfs-v0-2015 or unixfs-v1-2025", c.Import.Profile))
	}
	for i, hq := range c.Search.HQs {
		if strings.HasPrefix(hq, "/") {
			m, err := ma.NewMultiaddr(hq)
			if err == nil {
				_, err = peer.AddrInfoFromP2pAddr(m)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("search.hqs[%d]: %q is not a multiaddr ending in /p2p/<peer ID>: %v", i, hq, err))
			}
		} else if _, err := peer.Decode(hq); err != nil {
			errs = append(errs, fmt.Errorf("search.hqs[%d]: %q is not a multiaddr or peer ID: %v", i, hq, err))
		}
	}
	if c.Search.Timeout < 0 || c.Search.RateLimit <= 0 {
		errs = append(errs, fmt.Errorf("search: timeout must be positive and rate_limit above 0"))
	}
	if c.Provide.Interval < 0 {
		errs = append(errs, fmt.Errorf("provide.interval: %s is negative", time.Duration(c.Provide.Interval)))
	}
	errs = append(errs, c.Gateway.validate()...)
	if len(errs) > 0 {
		return &Error{Kind: KindInvalid, Msg: "config: " + errors.Join(errs...).Error()}
	}
	return nil
}

// ListenAddrs parses swarm.listen.
func (c Config) ListenAddrs() ([]ma.Multiaddr, error) {
	out := make([]ma.Multiaddr, 0, len(c.Swarm.Listen))
	for _, a := range c.Swarm.Listen {
		m, err := ma.NewMultiaddr(a)
		if err != nil {
			return nil, invalidf("swarm.listen: %q is not a multiaddr: %v", a, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// BootstrapPeers parses swarm.bootstrap.
func (c Config) BootstrapPeers() ([]peer.AddrInfo, error) {
	var addrs []ma.Multiaddr
	for i, a := range c.Swarm.Bootstrap {
		m, err := ma.NewMultiaddr(a)
		if err != nil {
			return nil, invalidf("swarm.bootstrap[%d]: %q is not a multiaddr: %v", i, a, err)
		}
		addrs = append(addrs, m)
	}
	infos, err := peer.AddrInfosFromP2pAddrs(addrs...)
	if err != nil {
		return nil, invalidf("swarm.bootstrap: every address must end in /p2p/<peer ID>: %v", err)
	}
	return infos, nil
}

// ParseConfig reads a config.toml strictly: unknown keys, wrong types, a
// file over MaxConfigSize and invalid values are errors that name the key.
// Keys the file leaves out keep their DefaultConfig(profile) values.
func ParseConfig(r io.Reader) (Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxConfigSize+1))
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	if len(data) > MaxConfigSize {
		return Config{}, invalidf("config: larger than %d bytes", MaxConfigSize)
	}
	var probe struct {
		Profile string `toml:"profile"`
	}
	// The profile picks the defaults; a file that cannot be read for it
	// fails below, with the strict decoder's message.
	_ = toml.Unmarshal(data, &probe)
	c, err := DefaultConfig(probe.Profile)
	if err != nil {
		return Config{}, err
	}
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		var strict *toml.StrictMissingError
		if errors.As(err, &strict) {
			return Config{}, invalidf("config: %s", strings.TrimSpace(strict.String()))
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			msg := de.Error()
			if k := de.Key(); len(k) > 0 {
				msg = strings.Join(k, ".") + ": " + msg
			} else if k := keyAtLine(data, row); k != "" {
				msg = k + ": " + msg
			}
			return Config{}, invalidf("config: line %d column %d: %s", row, col, msg)
		}
		return Config{}, invalidf("config: %v", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// keyAtLine names the key set on line row (1-based) of a TOML file, with
// its table: "swarm.conn_low". It reads simple files only, which is what
// config.toml is; on anything else it returns "".
func keyAtLine(data []byte, row int) string {
	lines := strings.Split(string(data), "\n")
	if row < 1 || row > len(lines) {
		return ""
	}
	key, _, ok := strings.Cut(lines[row-1], "=")
	if !ok {
		return ""
	}
	key = strings.TrimSpace(key)
	for i := row - 2; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
			return strings.Trim(l, "[] ") + "." + key
		}
	}
	return key
}

// WriteConfig writes c as a config.toml in which every key is explained.
func WriteConfig(w io.Writer, c Config) error {
	q := func(s string) string {
		b, _ := toml.Marshal(map[string]string{"v": s})
		return strings.TrimSpace(strings.TrimPrefix(string(b), "v = "))
	}
	list := func(xs []string) string {
		if len(xs) == 0 {
			return "[]"
		}
		var b strings.Builder
		b.WriteString("[\n")
		for _, x := range xs {
			b.WriteString("  " + q(x) + ",\n")
		}
		b.WriteString("]")
		return b.String()
	}
	t := template.Must(template.New("config").Funcs(template.FuncMap{"q": q, "list": list, "dur": func(d Duration) string { return q(time.Duration(d).String()) }}).Parse(configTemplate))
	return t.Execute(w, c)
}

const configTemplate = `# Lyceum node configuration.
# Every key is optional: a key left out takes the default of the profile.
# Unknown keys are an error, so that a typo never goes unnoticed.

# The profile this repo was created with: desktop, server or test.
# It chooses the defaults of every key below.
profile = {{q .Profile}}

[swarm]
# Multiaddrs the node accepts other peers on (TCP and QUIC).
listen = {{list .Swarm.Listen}}
# Full multiaddrs (ending in /p2p/<peer ID>) of the peers the node joins the
# network through: by default the public IPFS bootstrap peers. Empty: none.
bootstrap = {{list .Swarm.Bootstrap}}
# The connection manager trims connections above conn_high down to conn_low.
conn_low = {{.Swarm.ConnLow}}
conn_high = {{.Swarm.ConnHigh}}
# Memory libp2p may use, in MiB; 0 = a quarter of the machine's memory.
max_memory_mib = {{.Swarm.MaxMemoryMiB}}
# Find and announce peers on the local network (mDNS).
mdns = {{.Swarm.MDNS}}
# Ask the home router to forward the swarm port (UPnP, NAT-PMP).
nat_port_map = {{.Swarm.NATPortMap}}
# Relay traffic for peers behind NAT (for well-connected nodes).
relay_service = {{.Swarm.RelayService}}
# Tell other peers whether they are reachable (AutoNAT service).
autonat_service = {{.Swarm.AutoNATService}}

[dht]
# auto: serve the DHT once reachable from outside; client: never serve;
# server: always serve (institutions, HQ).
mode = {{q .DHT.Mode}}
# Keep loopback addresses in the LAN DHT so nodes on one machine find each
# other (tests, development).
loopback_on_lan = {{.DHT.LoopbackOnLAN}}

[http]
# HOST:PORT of the HTTP server: the web UI, the JSON API and the /ipfs/
# gateway. The API's node-management calls need the token in api.token.
listen = {{q .HTTP.Listen}}

[import]
# Default UnixFS settings of ` + "`lyceum add`" + `: unixfs-v0-2015 (Kubo's default:
# CIDv0, 256 KiB chunks, 174 links per node) or unixfs-v1-2025 (CIDv1, 1 MiB
# chunks, raw leaves, 1024 links per node).
profile = {{q .Import.Profile}}

[provide]
# Announce pinned content in the DHT so that other IPFS nodes find it.
enabled = {{.Provide.Enabled}}
# How often everything pinned is announced again.
interval = {{dur .Provide.Interval}}

[search]
# HQs (indexing peers) searched besides the local index, in parallel: full
# multiaddrs (…/p2p/<peer ID>) or peer IDs. Any of them may be down.
hqs = {{list .Search.HQs}}
# How long a search waits for the HQs before answering with what it has.
timeout = {{dur .Search.Timeout}}
# Index every public activity of the network and backfill every log with a
# gap (what an HQ does).
indexer = {{.Search.Indexer}}
# Searches per second one client may make (per IP over HTTP, per peer over
# libp2p), with bursts of twice that.
rate_limit = {{.Search.RateLimit}}

[gateway]
# The public base URL of this node for the fediverse (ActivityPub), e.g.
# "https://lyceum.example.org". Empty: the ActivityPub bridge is off. Other
# servers look WebFinger up over https, so serve HTTPS (tls_cert/tls_key
# below) or put a TLS reverse proxy in front.
public_url = {{q .Gateway.PublicURL}}
# PEM certificate chain and key: when both are set, the HTTP server speaks
# HTTPS on http.listen. Empty behind a TLS reverse proxy.
tls_cert = {{q .Gateway.TLSCert}}
tls_key = {{q .Gateway.TLSKey}}
# Addresses or CIDR networks of reverse proxies whose X-Forwarded-Host and
# X-Forwarded-Proto headers are believed; nobody else's are.
trusted_proxies = {{list .Gateway.TrustedProxies}}
# Answer ActivityPub document fetches only when signed (Mastodon's secure
# mode); WebFinger, NodeInfo and the instance actor stay open.
authorized_fetch = {{.Gateway.AuthorizedFetch}}
# CIDR networks that outgoing fediverse requests may reach although they
# are private, loopback or link-local (by default only public addresses).
allow_private_networks = {{list .Gateway.AllowPrivateNetworks}}
# Inbox deliveries per second one remote server may make (bursts of ten
# times that); more are answered 429.
inbox_rate = {{.Gateway.InboxRate}}
`
