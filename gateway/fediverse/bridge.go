package fediverse

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/microcosm-cc/bluemonday"

	"github.com/lyceum-oer/lyceum/gateway/httpsig"
	"github.com/lyceum-oer/lyceum/node/ratelimit"
)

// Deliverer takes activities to remote inboxes: *delivery.Queue.
type Deliverer interface {
	// EnqueueBatch stores the delivery of body to every inbox, to be
	// signed with keyID's key when it is sent; once it returns nil the
	// deliveries survive a crash.
	EnqueueBatch(ctx context.Context, keyID string, body []byte, inboxes []string) error
}

// Config is the bridge's plain-data configuration.
type Config struct {
	// PublicURL is the https base URL the fediverse reaches the gateway at
	// (gateway.public_url); every ID the bridge emits starts with it.
	// Required.
	PublicURL string
	// DBPath is the bridge's SQLite file ($LYCEUM_PATH/fediverse.db).
	DBPath string
	// AuthorizedFetch makes actor, object and collection documents answer
	// only signed GETs (Mastodon's "secure mode"); the instance actor,
	// WebFinger and NodeInfo stay open.
	AuthorizedFetch bool
	// TrustedProxies are the networks whose X-Forwarded-Host and
	// X-Forwarded-Proto are believed (a TLS reverse proxy).
	TrustedProxies []netip.Prefix
	// Client makes the bridge's own GETs (actors, keys, NodeInfo,
	// WebFinger); it should refuse private addresses
	// (delivery.NewHTTPClient). Required.
	Client *http.Client
	// Delivery takes outgoing activities. Required.
	Delivery Deliverer
	// Version is the Lyceum release NodeInfo reports; "" = the one in
	// the node's agent version (lyceum/VERSION).
	Version string
	// InboxRate is how many inbox POSTs per second one remote server (the
	// host of the verified signing actor) may make, in bursts of ten times
	// that; 0 = 20.
	InboxRate float64
	// InboxIPRate is how many requests that need a signature verified
	// (inbox POSTs, and signed GETs under AuthorizedFetch) one client
	// address may make per second before it is verified, in bursts of ten
	// times that; an IPv6 client counts by its /64. Over it, the request
	// is answered 429 before any key is fetched. 0 = InboxRate.
	InboxIPRate float64
	// RateLimitEntries bounds how many client addresses, and how many
	// remote servers, the rate limits track each; the least recently seen
	// is forgotten first. 0 = 10000.
	RateLimitEntries int
	// MaxKeyFetches bounds the fetches of signing keys under way at once;
	// a request whose key waits too long for one is answered 503. 0 = 8.
	MaxKeyFetches int
	// KeyFailureTTL is how long a key that could not be fetched is not
	// fetched again (requests signed with it are refused at once); 0 = 5
	// minutes.
	KeyFailureTTL time.Duration
	// KeyFailureEntries bounds how many such failures are remembered;
	// 0 = 10000.
	KeyFailureEntries int
	// KeyRefreshMinAge is how old a cached key must be before a signature
	// that does not verify with it makes the bridge fetch it again (the
	// key may have been rotated); younger, the signature is refused
	// without a fetch. 0 = 5 minutes.
	KeyRefreshMinAge time.Duration
	// MaxInboxBytes bounds an inbox POST's body; 0 = 256 KiB.
	MaxInboxBytes int64
	// KeyBits is the size of the RSA keys made for bridged actors; 0 = 2048.
	KeyBits int
	// Logger; nil = slog.Default().
	Logger *slog.Logger
}

// Bridge is the ActivityPub side of a node.
type Bridge struct {
	cfg  Config
	svc  Services
	db   *store
	log  *slog.Logger
	base *url.URL
	host string // host[:port] of the public URL, the WebFinger domain

	clientLimit *ratelimit.Keyed // before authentication, by client address
	serverLimit *ratelimit.Keyed // after it, by the signing actor's host
	keyFetch    *keyFetches      // bounds the key fetches signed requests cause

	keyMu sync.Mutex // serialises first-use key generation
	keys  map[string]*rsa.PrivateKey

	scanMu    sync.Mutex // guards scannedAt
	scannedAt time.Time  // last scan for collections without a username

	verifier   *httpsig.Verifier
	sanitize   *bluemonday.Policy
	repliesSem chan struct{} // bounds background replies fetches

	// ctx is the bridge's lifetime, for its own goroutines; Close cancels
	// it and waits for them.
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started bool
	goMu    sync.Mutex // orders goBackground's wg.Add before Close's wg.Wait
	closing bool
}

// New opens the bridge's state (cfg.DBPath) over the node's services;
// Start begins following the node's log.
func New(cfg Config, svc Services) (*Bridge, error) {
	u, err := url.Parse(strings.TrimRight(cfg.PublicURL, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("fediverse: public URL %q is not an http(s) base URL", cfg.PublicURL)
	}
	if cfg.Client == nil || cfg.Delivery == nil || cfg.DBPath == "" {
		return nil, errors.New("fediverse: Client, Delivery and DBPath are required")
	}
	if svc.Identity == nil || svc.Actors == nil || svc.Resources == nil || svc.Collections == nil || svc.Log == nil {
		return nil, errors.New("fediverse: every service is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.InboxRate <= 0 {
		cfg.InboxRate = 20
	}
	if cfg.MaxInboxBytes <= 0 {
		cfg.MaxInboxBytes = 256 << 10
	}
	if cfg.KeyBits == 0 {
		cfg.KeyBits = 2048
	}
	if cfg.InboxIPRate <= 0 {
		cfg.InboxIPRate = cfg.InboxRate
	}
	if cfg.RateLimitEntries <= 0 {
		cfg.RateLimitEntries = 10000
	}
	if cfg.MaxKeyFetches <= 0 {
		cfg.MaxKeyFetches = 8
	}
	if cfg.KeyFailureTTL <= 0 {
		cfg.KeyFailureTTL = 5 * time.Minute
	}
	if cfg.KeyFailureEntries <= 0 {
		cfg.KeyFailureEntries = 10000
	}
	if cfg.KeyRefreshMinAge <= 0 {
		cfg.KeyRefreshMinAge = 5 * time.Minute
	}
	clientLimit := ratelimit.New(cfg.InboxIPRate, int(10*cfg.InboxIPRate)+1, cfg.RateLimitEntries)
	serverLimit := ratelimit.New(cfg.InboxRate, int(10*cfg.InboxRate)+1, cfg.RateLimitEntries)
	keyFetch, err := newKeyFetches(cfg.MaxKeyFetches, cfg.KeyFailureEntries, cfg.KeyFailureTTL)
	if err != nil {
		return nil, fmt.Errorf("fediverse: %w", err)
	}
	db, err := openStore(cfg.DBPath)
	if err != nil {
		return nil, fmt.Errorf("fediverse: %w", err)
	}
	b := &Bridge{
		cfg: cfg, svc: svc, db: db, log: cfg.Logger.With("component", "fediverse"),
		base: u, host: u.Host, clientLimit: clientLimit, serverLimit: serverLimit, keyFetch: keyFetch,
		keys:     map[string]*rsa.PrivateKey{},
		sanitize: mastodonPolicy(), repliesSem: make(chan struct{}, 4),
	}
	b.verifier = httpsig.NewVerifier(b)
	b.ctx, b.cancel = context.WithCancel(context.Background())
	return b, nil
}

// Start runs the loops that turn new local activities into deliveries
// and forget old inbox activity IDs, until Close.
func (b *Bridge) Start() {
	if b.started {
		return
	}
	b.started = true
	b.goBackground(b.outboxLoop)
	b.goBackground(b.pruneLoop)
}

// goBackground runs f in a goroutine owned by the bridge: f's context is
// the bridge's lifetime, and Close waits for f to return. After Close it
// does nothing and reports false.
func (b *Bridge) goBackground(f func(ctx context.Context)) bool {
	b.goMu.Lock()
	defer b.goMu.Unlock()
	if b.closing {
		return false
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		f(b.ctx)
	}()
	return true
}

// Close stops the loop and closes the bridge's state. Deliveries already
// handed to the queue stay there.
func (b *Bridge) Close() error {
	b.goMu.Lock()
	b.closing = true
	b.goMu.Unlock()
	b.cancel()
	b.wg.Wait()
	return b.db.Close()
}

// Key returns the RSA private key for a key ID the bridge signs with
// (ACTOR#main-key), for the delivery queue's signer.
func (b *Bridge) Key(keyID string) (*rsa.PrivateKey, error) {
	owner, frag, _ := strings.Cut(keyID, "#")
	if frag != "main-key" || !strings.HasPrefix(owner, b.url("")) {
		return nil, fmt.Errorf("fediverse: %q is not one of our key IDs", keyID)
	}
	return b.keyOf(context.Background(), owner)
}

// keyOf returns the persistent key of a bridged actor URL.
func (b *Bridge) keyOf(ctx context.Context, owner string) (*rsa.PrivateKey, error) {
	b.keyMu.Lock()
	defer b.keyMu.Unlock()
	if k, ok := b.keys[owner]; ok {
		return k, nil
	}
	k, err := b.db.key(ctx, owner, b.cfg.KeyBits)
	if err != nil {
		return nil, err
	}
	b.keys[owner] = k
	return k, nil
}

// url is the public URL of a path of ours.
func (b *Bridge) url(path string) string { return b.base.String() + path }

// The paths of the bridge's documents.
const (
	pathUsers      = "/ap/users/"
	pathResources  = "/ap/resources/"
	pathActivities = "/ap/activities/"
	pathOut        = "/ap/out/"
	pathInstance   = "/ap/instance"
	pathInbox      = "/ap/inbox"
)

func (b *Bridge) actorURL(username string) string  { return b.url(pathUsers + username) }
func (b *Bridge) noteURL(resourceID string) string { return b.url(pathResources + resourceID) }
func (b *Bridge) instanceURL() string              { return b.url(pathInstance) }
func keyIDOf(actorURL string) string               { return actorURL + "#main-key" }

// localUsername returns the username of one of our actor URLs, or "".
func (b *Bridge) localUsername(actorURL string) string {
	rest, ok := strings.CutPrefix(actorURL, b.url(pathUsers))
	if !ok || rest == "" || strings.ContainsAny(rest, "/?#") {
		return ""
	}
	return rest
}

// localResource returns the resource ID of one of our Note URLs, or "".
func (b *Bridge) localResource(u string) string {
	rest, ok := strings.CutPrefix(u, b.url(pathResources))
	if !ok || rest == "" || strings.ContainsAny(rest, "/?#") {
		return ""
	}
	return rest
}
