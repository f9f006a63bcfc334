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

	"github.com/lyceum-oer/lyceum/node/api"
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
	Moodle  MoodleConfig  `toml:"moodle"`
	Limits  LimitsConfig  `toml:"limits"`
}

// MoodleConfig is what Moodle's "Share to MoodleNet" finds on this node
// (gateway/moodle): it is served when gateway.public_url is https.
type MoodleConfig struct {
	// Enabled serves the OAuth 2 server and MoodleNet's create call.
	Enabled bool `toml:"enabled"`
	// AllowedSites, when not empty, are the only Moodle sites (base URLs
	// such as https://moodle.example.edu) that may register; empty lets
	// any site register.
	AllowedSites []string `toml:"allowed_sites"`
	// RegistrationsPerHour is how many registrations one client address
	// may make per hour, after a burst of five.
	RegistrationsPerHour float64 `toml:"registrations_per_hour"`
}

// validate checks the moodle keys.
func (m MoodleConfig) validate() []error {
	var errs []error
	for i, s := range m.AllowedSites {
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			errs = append(errs, fmt.Errorf("moodle.allowed_sites[%d]: %q is not an https base URL like https://moodle.example.edu", i, s))
		}
	}
	if !(m.RegistrationsPerHour > 0) || m.RegistrationsPerHour > 1e6 {
		errs = append(errs, fmt.Errorf("moodle.registrations_per_hour: %v: want a rate above 0", m.RegistrationsPerHour))
	}
	return errs
}

// LimitsConfig bounds what other nodes, fediverse servers and HTTP
// clients can make the node hold or do: every cache and queue keyed by
// remote input has its bound here.
type LimitsConfig struct {
	// HTTPConnsPerIP is how many HTTP connections one client IP may hold
	// open at once (trusted proxies excepted); 0 = no limit.
	HTTPConnsPerIP int `toml:"http_conns_per_ip"`
	// HTTPBodyTimeout is how long a request body may take to arrive; for
	// uploads, how long one may go without progress.
	HTTPBodyTimeout Duration `toml:"http_body_timeout"`
	// RateLimitedClients bounds the clients (IPs, peers, actors) whose
	// request rates are remembered; the least recently seen are forgotten.
	RateLimitedClients int `toml:"rate_limited_clients"`
	// SyncCacheEntries and SyncCacheMiB bound the log entries a peer sent
	// with a log head, kept for the backfill that follows.
	SyncCacheEntries int   `toml:"sync_cache_entries"`
	SyncCacheMiB     int64 `toml:"sync_cache_mib"`
	// BackfillMemoryMiB is how much of a missing log a backfill keeps in
	// memory; the rest waits in a file in the repo until it is stored.
	BackfillMemoryMiB int64 `toml:"backfill_memory_mib"`
	// BackfillMaxEntries is the longest stretch of one log a backfill
	// fetches at once; the next sync fetches the rest.
	BackfillMaxEntries int `toml:"backfill_max_entries"`
	// PendingBackfills bounds the logs waiting to be backfilled.
	PendingBackfills int `toml:"pending_backfills"`
	// HeldEntries and HeldMiB bound the entries gossip brought above a
	// gap in a log, held until the gap closes.
	HeldEntries int   `toml:"held_entries"`
	HeldMiB     int64 `toml:"held_mib"`
	// CommunityPostsPerMinute is how many posts one actor may make per
	// minute in a community hosted here (bursts of as many); more are
	// stored but not announced until the author's node delivers them
	// again.
	CommunityPostsPerMinute float64 `toml:"community_posts_per_minute"`
	// DeliveriesPerSecond is how many posts one peer may deliver straight
	// to this node's communities per second (bursts of ten times that).
	DeliveriesPerSecond float64 `toml:"deliveries_per_second"`
	// FediverseKeyFailures bounds the remote keys remembered as
	// unfetchable.
	FediverseKeyFailures int `toml:"fediverse_key_failures"`
	// ActorKeys bounds the actors' public keys kept ready for checking
	// signatures (a third of a check is preparing the key).
	ActorKeys int `toml:"actor_keys"`
	// FindTimeout bounds how long cat, get, pin and car export wait for
	// the first block of a CID that no peer has offered, before saying that
	// no provider was found.
	FindTimeout Duration `toml:"find_timeout"`
}

// DefaultLimits are the limits every profile starts with.
func DefaultLimits() LimitsConfig {
	return LimitsConfig{
		HTTPConnsPerIP:          128,
		HTTPBodyTimeout:         Duration(time.Minute),
		RateLimitedClients:      100_000,
		SyncCacheEntries:        256,
		SyncCacheMiB:            64,
		BackfillMemoryMiB:       32,
		BackfillMaxEntries:      1_000_000,
		PendingBackfills:        10_000,
		HeldEntries:             4096,
		HeldMiB:                 64,
		CommunityPostsPerMinute: 30,
		DeliveriesPerSecond:     10,
		FediverseKeyFailures:    10_000,
		ActorKeys:               8192,
		FindTimeout:             Duration(30 * time.Second),
	}
}

// validate checks the limits.
func (l LimitsConfig) validate() []error {
	var errs []error
	positive := func(key string, ok bool) {
		if !ok {
			errs = append(errs, fmt.Errorf("limits.%s: must be above 0", key))
		}
	}
	if l.HTTPConnsPerIP < 0 {
		errs = append(errs, fmt.Errorf("limits.http_conns_per_ip: %d is negative (0 = no limit)", l.HTTPConnsPerIP))
	}
	positive("http_body_timeout", l.HTTPBodyTimeout > 0)
	positive("rate_limited_clients", l.RateLimitedClients > 0)
	positive("sync_cache_entries", l.SyncCacheEntries > 0)
	positive("sync_cache_mib", l.SyncCacheMiB > 0)
	positive("backfill_memory_mib", l.BackfillMemoryMiB > 0)
	positive("backfill_max_entries", l.BackfillMaxEntries > 0)
	positive("pending_backfills", l.PendingBackfills > 0)
	positive("held_entries", l.HeldEntries > 0)
	positive("held_mib", l.HeldMiB > 0)
	positive("community_posts_per_minute", l.CommunityPostsPerMinute > 0)
	positive("deliveries_per_second", l.DeliveriesPerSecond > 0)
	positive("fediverse_key_failures", l.FediverseKeyFailures > 0)
	positive("actor_keys", l.ActorKeys > 0)
	positive("find_timeout", l.FindTimeout > 0)
	return errs
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
	// InboxRate is the inbox POSTs per second one remote server (the host
	// of the verified signer) may make, with bursts of ten times that.
	InboxRate float64 `toml:"inbox_rate"`
	// InboxIPRate is the signed requests per second one client address
	// may make before its signature is checked, with bursts of ten times
	// that: over it, the request is refused before any key is fetched.
	InboxIPRate float64 `toml:"inbox_ip_rate"`
	// MaxKeyFetches bounds the fetches of remote signing keys under way
	// at once.
	MaxKeyFetches int `toml:"max_key_fetches"`
	// KeyRefreshMinAge is how old a cached remote key must be before a
	// signature that fails with it makes the bridge fetch it again.
	KeyRefreshMinAge Duration `toml:"key_refresh_min_age"`
	// KeyFailureTTL is how long a key that could not be fetched is not
	// asked for again.
	KeyFailureTTL Duration `toml:"key_failure_ttl"`
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
			return nil, api.Invalidf("%s[%d]: %q is neither an address nor a CIDR network", key, i, s)
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
	if !(g.InboxIPRate > 0) || g.InboxIPRate > 1e6 {
		errs = append(errs, fmt.Errorf("gateway.inbox_ip_rate: %v: want a rate above 0", g.InboxIPRate))
	}
	if g.MaxKeyFetches < 1 {
		errs = append(errs, fmt.Errorf("gateway.max_key_fetches: %d: want at least 1", g.MaxKeyFetches))
	}
	if g.KeyRefreshMinAge <= 0 || g.KeyFailureTTL <= 0 {
		errs = append(errs, fmt.Errorf("gateway.key_refresh_min_age and key_failure_ttl: want durations above 0"))
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
		Gateway: GatewayConfig{TrustedProxies: []string{}, AllowPrivateNetworks: []string{}, InboxRate: 20, InboxIPRate: 20,
			MaxKeyFetches: 8, KeyRefreshMinAge: Duration(5 * time.Minute), KeyFailureTTL: Duration(5 * time.Minute)},
		Moodle: MoodleConfig{Enabled: true, AllowedSites: []string{}, RegistrationsPerHour: 10},
		Limits: DefaultLimits(),
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
		return Config{}, api.Invalidf("unknown profile %q (want one of %s)", profile, strings.Join(Profiles, ", "))
	}
	return c, nil
}

// Validate checks every field and names the first one that is wrong.
func (c Config) Validate() error {
	var errs []error
	switch c.Profile {
	case "", ProfileDesktop, ProfileServer, ProfileHQ, ProfileTest:
	default:
		errs = append(errs, fmt.Errorf("profile: %q is not one of %s", c.Profile, strings.Join(Profiles, ", ")))
	}
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
	errs = append(errs, c.Moodle.validate()...)
	errs = append(errs, c.Limits.validate()...)
	if len(errs) > 0 {
		return &api.Error{Kind: api.KindInvalid, Msg: "config: " + errors.Join(errs...).Error()}
	}
	return nil
}

// ListenAddrs parses swarm.listen.
func (c Config) ListenAddrs() ([]ma.Multiaddr, error) {
	out := make([]ma.Multiaddr, 0, len(c.Swarm.Listen))
	for _, a := range c.Swarm.Listen {
		m, err := ma.NewMultiaddr(a)
		if err != nil {
			return nil, api.Invalidf("swarm.listen: %q is not a multiaddr: %v", a, err)
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
			return nil, api.Invalidf("swarm.bootstrap[%d]: %q is not a multiaddr: %v", i, a, err)
		}
		addrs = append(addrs, m)
	}
	infos, err := peer.AddrInfosFromP2pAddrs(addrs...)
	if err != nil {
		return nil, api.Invalidf("swarm.bootstrap: every address must end in /p2p/<peer ID>: %v", err)
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
		return Config{}, api.Invalidf("config: larger than %d bytes", MaxConfigSize)
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
			return Config{}, unknownKeys(strict)
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
			return Config{}, api.Invalidf("config: line %d column %d: %s", row, col, msg)
		}
		return Config{}, api.Invalidf("config: %v", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// unknownKeys says which keys of the file are not Config's, where, and
// which known key each was perhaps meant to be.
func unknownKeys(strict *toml.StrictMissingError) error {
	msgs := make([]string, 0, len(strict.Errors))
	for _, de := range strict.Errors {
		row, col := de.Position()
		msgs = append(msgs, fmt.Sprintf("line %d column %d: %s", row, col, unknownKey(strings.Join(de.Key(), ".")).Error()))
	}
	return api.Invalidf("config: %s", strings.Join(msgs, "; "))
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

# The profile this repo was created with: desktop, server, hq or test.
# It chooses the defaults of every key below; change it with
# ` + "`lyceum config profile apply NAME`" + `, which also sets the profile's keys.
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
# Inbox deliveries per second one remote server may make, counted once its
# signature is checked (bursts of ten times that); more are answered 429.
inbox_rate = {{.Gateway.InboxRate}}
# Signed requests per second one client address may make before its
# signature is checked (bursts of ten times that): more are answered 429
# before any key is fetched.
inbox_ip_rate = {{.Gateway.InboxIPRate}}
# Fetches of remote signing keys under way at once.
max_key_fetches = {{.Gateway.MaxKeyFetches}}
# How old a cached remote key must be before a signature that fails with
# it makes the bridge fetch the key again (it may have been rotated).
key_refresh_min_age = {{dur .Gateway.KeyRefreshMinAge}}
# How long a key that could not be fetched is not asked for again.
key_failure_ttl = {{dur .Gateway.KeyFailureTTL}}

[moodle]
# Moodle's "Share to MoodleNet" (Moodle 4.2 to 5.1): with an https
# public_url, the node is an OAuth 2 server that Moodle sites register
# with, and takes their shared backups as drafts of the teacher who
# consented. Set the node's https URL as the MoodleNet URL in Moodle.
enabled = {{.Moodle.Enabled}}
# The only Moodle sites (https base URLs) that may register; empty: any.
allowed_sites = {{list .Moodle.AllowedSites}}
# Registrations one client address may make per hour, after a burst of 5.
registrations_per_hour = {{.Moodle.RegistrationsPerHour}}

[limits]
# What other nodes, fediverse servers and HTTP clients can make this node
# hold or do. Every cache and queue filled from outside is bounded here.
# HTTP connections one client IP may hold open at once (trusted proxies
# excepted); 0 = no limit.
http_conns_per_ip = {{.Limits.HTTPConnsPerIP}}
# How long a request body may take to arrive; for uploads, how long one
# may go without progress.
http_body_timeout = {{dur .Limits.HTTPBodyTimeout}}
# Clients (IPs, peers, actors) whose request rates are remembered.
rate_limited_clients = {{.Limits.RateLimitedClients}}
# Log entries a peer sent with a log head, kept for the backfill that
# follows: at most this many logs and MiB.
sync_cache_entries = {{.Limits.SyncCacheEntries}}
sync_cache_mib = {{.Limits.SyncCacheMiB}}
# MiB of a missing log a backfill keeps in memory (the rest waits in a file
# in the repo), and the longest stretch of a log fetched at once.
backfill_memory_mib = {{.Limits.BackfillMemoryMiB}}
backfill_max_entries = {{.Limits.BackfillMaxEntries}}
# Logs waiting to be backfilled.
pending_backfills = {{.Limits.PendingBackfills}}
# Entries gossip brought above a gap in a log, held until the gap closes:
# at most this many, and MiB.
held_entries = {{.Limits.HeldEntries}}
held_mib = {{.Limits.HeldMiB}}
# Posts one actor may make per minute in a community hosted here; more are
# stored but not announced until the author's node delivers them again.
community_posts_per_minute = {{.Limits.CommunityPostsPerMinute}}
# Posts one peer may deliver straight to this node's communities per second.
deliveries_per_second = {{.Limits.DeliveriesPerSecond}}
# Remote signing keys remembered as unfetchable.
fediverse_key_failures = {{.Limits.FediverseKeyFailures}}
# Actors' public keys kept ready for checking signatures.
actor_keys = {{.Limits.ActorKeys}}
# How long cat, get, pin and car export look for a peer that has a CID
# before saying that none was found.
find_timeout = {{dur .Limits.FindTimeout}}
`
