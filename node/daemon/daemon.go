package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/lyceum-oer/lyceum/gateway"
	"github.com/lyceum-oer/lyceum/gateway/delivery"
	"github.com/lyceum-oer/lyceum/gateway/fediverse"
	"github.com/lyceum-oer/lyceum/gateway/moodle"
	"github.com/lyceum-oer/lyceum/gateway/pinning"
	"github.com/lyceum-oer/lyceum/gateway/web"
	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/pinsvc"
	"github.com/lyceum-oer/lyceum/node/swarm"
)

// Option configures New.
type Option func(*options)

type options struct {
	offline  bool
	log      *slog.Logger
	nodeOpts []node.Option
	listener net.Listener
}

// WithOffline runs the node without networking (node.WithOffline); the
// HTTP server and the fediverse bridge still run.
func WithOffline() Option { return func(o *options) { o.offline = true } }

// WithLogger sets the logger of the daemon and of everything it starts;
// the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithNodeOptions passes options to node.New (the simulator's host,
// memory store, sync interval…).
func WithNodeOptions(opts ...node.Option) Option {
	return func(o *options) { o.nodeOpts = append(o.nodeOpts, opts...) }
}

// WithListener serves HTTP on l instead of listening on http.listen of
// the repo's configuration. The daemon owns l: Close (or a failed New)
// closes it.
func WithListener(l net.Listener) Option { return func(o *options) { o.listener = l } }

// Daemon is a running node with its HTTP server and, when configured, its
// fediverse bridge and delivery queue.
type Daemon struct {
	log  *slog.Logger
	repo *node.Repo
	ln   net.Listener
	url  string

	node   *node.Node
	reach  *swarm.Reachability // AutoNAT's verdict, for the dashboard
	queue  *delivery.Queue     // nil without the bridge
	bridge *fediverse.Bridge   // nil without the bridge
	http   *gateway.Server
	pins   *pinsvc.Service // the Pinning Service's requests and workers

	// stopPins ends the pinning workers, which close pinsDone.
	stopPins context.CancelFunc
	pinsDone chan struct{}

	// stopQueue ends the queue's workers, which close queueDone.
	stopQueue context.CancelFunc
	queueDone chan struct{}

	// setup is the first-admin setup link printed at start; nil when the
	// node has an admin.
	setup *SetupLink

	// served is closed when the HTTP server stops serving; serveErr says
	// why, when it failed.
	served   chan struct{}
	serveErr error

	closeOnce sync.Once
	closeErr  error
}

// New starts a daemon on an opened repo, with the configuration the repo
// holds (after any repo.SetConfig). The daemon owns the repo from then on:
// Close releases it, and so does a failed New.
func New(repo *node.Repo, opts ...Option) (_ *Daemon, err error) {
	o := options{log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	d := &Daemon{log: o.log, repo: repo, ln: o.listener, served: make(chan struct{})}
	defer func() {
		if err != nil {
			d.abort()
		}
	}()
	cfg := repo.Config()
	if err := checkTLS(cfg.Gateway); err != nil {
		return nil, err
	}
	// Take the HTTP port before starting the network, so that a taken
	// port fails fast and touches nothing.
	if d.ln == nil {
		if d.ln, err = net.Listen("tcp", cfg.HTTP.Listen); err != nil {
			return nil, api.Wrap(api.KindUnavailable, fmt.Sprintf(
				"cannot listen on %s for HTTP (is another daemon running? choose another port with --http, or http.listen in config.toml)", cfg.HTTP.Listen), err)
		}
	}
	nodeOpts := append([]node.Option{node.WithLogger(o.log)}, o.nodeOpts...)
	if o.offline {
		nodeOpts = append(nodeOpts, node.WithOffline())
	}
	if d.node, err = node.New(repo, nodeOpts...); err != nil {
		return nil, err
	}
	if d.reach, err = d.node.Swarm().FollowReachability(); err != nil {
		return nil, fmt.Errorf("follow the node's reachability: %w", err)
	}
	if err := d.openPins(); err != nil {
		return nil, err
	}
	if cfg.Gateway.PublicURL != "" {
		if err := d.openBridge(cfg); err != nil {
			return nil, err
		}
	}
	if err := d.startHTTP(cfg); err != nil {
		return nil, err
	}
	d.startBridge()
	d.startPins()
	if err := repo.WriteAPIAddr(d.url); err != nil {
		return nil, fmt.Errorf("record the API address: %w", err)
	}
	if d.setup, err = d.makeSetupLink(context.Background(), cfg.Gateway.PublicURL); err != nil {
		return nil, err
	}
	return d, nil
}

// checkTLS loads the certificate and key the HTTP server is to serve, if
// any, so that a bad one fails New rather than the server later.
func checkTLS(g node.GatewayConfig) error {
	if g.TLSCert == "" && g.TLSKey == "" {
		return nil
	}
	if _, err := tls.LoadX509KeyPair(g.TLSCert, g.TLSKey); err != nil {
		return api.Wrap(api.KindInvalid, "gateway.tls_cert and gateway.tls_key: cannot load the certificate", err)
	}
	return nil
}

// startHTTP builds the gateway over the node's rooms and serves it on the
// listener, over TLS when gateway.tls_cert is set.
func (d *Daemon) startHTTP(cfg node.Config) error {
	proxies, err := cfg.Gateway.TrustedProxyPrefixes()
	if err != nil {
		return err
	}
	gwCfg := gateway.Config{
		Token:          d.repo.APIToken(),
		Blocks:         d.node.BlockService(),
		Metrics:        d.node.Metrics(),
		Logger:         d.log,
		BodyTimeout:    time.Duration(cfg.Limits.HTTPBodyTimeout),
		ConnsPerIP:     cfg.Limits.HTTPConnsPerIP,
		TrustedProxies: proxies,
	}
	if d.bridge != nil {
		gwCfg.Fediverse = d.bridge
	}
	app, err := web.New(web.Config{PublicURL: cfg.Gateway.PublicURL, TrustedProxies: proxies, Logger: d.log},
		webServices(d.node, d.bridge, d.reach))
	if err != nil {
		return fmt.Errorf("build the web app: %w", err)
	}
	gwCfg.Web = app
	if gwCfg.Moodle, err = d.moodleSurface(cfg, proxies); err != nil {
		return err
	}
	if gwCfg.Pinning, err = pinning.New(d.pins, d.node.Accounts(), pinning.WithLogger(d.log), pinning.WithTrustedProxies(proxies)); err != nil {
		return fmt.Errorf("build the pinning service API: %w", err)
	}
	if d.http, err = gateway.New(gwCfg, d.services()); err != nil {
		return err
	}
	scheme, serve := "http", func() error { return d.http.Serve(d.ln) }
	if cfg.Gateway.TLSCert != "" {
		scheme, serve = "https", func() error { return d.http.ServeTLS(d.ln, cfg.Gateway.TLSCert, cfg.Gateway.TLSKey) }
	}
	d.url = scheme + "://" + d.ln.Addr().String()
	go func() {
		defer close(d.served)
		if err := serve(); err != nil {
			d.serveErr = fmt.Errorf("HTTP server: %w", err)
			d.log.Error("HTTP server stopped", "err", err)
		}
	}()
	return nil
}

// moodleSurface builds what Moodle's "Share to MoodleNet" speaks to,
// when [moodle] is enabled and the public URL is https (or loopback http);
// nil otherwise.
func (d *Daemon) moodleSurface(cfg node.Config, proxies []netip.Prefix) (gateway.WebApp, error) {
	pub := cfg.Gateway.PublicURL
	if !cfg.Moodle.Enabled || pub == "" {
		return nil, nil
	}
	if err := moodle.CheckPublicURL(pub); err != nil {
		d.log.Warn("Moodle sharing is off: the public URL is not https", "public_url", pub)
		return nil, nil
	}
	accounts := d.node.Accounts()
	m, err := moodle.New(pub, moodle.Services{OAuth: accounts, Files: d.node.Content(), Drafts: accounts},
		moodle.WithAllowedSites(cfg.Moodle.AllowedSites...), moodle.WithRegistrationRate(cfg.Moodle.RegistrationsPerHour, 5),
		moodle.WithRateLimitedKeys(cfg.Limits.RateLimitedClients), moodle.WithTrustedProxies(proxies), moodle.WithLogger(d.log))
	if err != nil {
		return nil, fmt.Errorf("build the Moodle surface: %w", err)
	}
	return m, nil
}

// Node is the running node.
func (d *Daemon) Node() *node.Node { return d.node }

// Gateway is the HTTP server.
func (d *Daemon) Gateway() *gateway.Server { return d.http }

// Bridge is the fediverse bridge; nil when gateway.public_url is unset.
func (d *Daemon) Bridge() *fediverse.Bridge { return d.bridge }

// URL is the base URL of the HTTP server (http://127.0.0.1:5101, or
// https:// with a certificate): what the CLI reads from $LYCEUM_PATH/api.
func (d *Daemon) URL() string { return d.url }

// Done is closed when the HTTP server stops serving: after Close, or by
// itself when it fails (Err says why).
func (d *Daemon) Done() <-chan struct{} { return d.served }

// Err is why the HTTP server stopped serving before Close; nil while it
// serves and after a clean Close.
func (d *Daemon) Err() error {
	select {
	case <-d.served:
		return d.serveErr
	default:
		return nil
	}
}

// Close stops the daemon in the reverse order of New: the HTTP server
// (waiting for requests under way until ctx ends, then cutting them), the
// API address file, the bridge, the delivery queue, the node and the
// repo. It is safe to call more than once.
func (d *Daemon) Close(ctx context.Context) error {
	d.closeOnce.Do(func() {
		var errs []error
		if err := d.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("HTTP shutdown: %w", err), d.http.Close())
		}
		<-d.served
		errs = append(errs, d.repo.RemoveAPIAddr())
		errs = append(errs, d.stopBridge(), d.closePins(), d.reach.Close(), d.node.Close())
		d.closeErr = errors.Join(errs...)
	})
	return d.closeErr
}

// abort undoes a New that failed part-way, in reverse order.
func (d *Daemon) abort() {
	if d.http != nil {
		_ = d.http.Close()
		<-d.served
	}
	if err := d.stopBridge(); err != nil {
		d.log.Warn("stop the fediverse bridge", "err", err)
	}
	if err := d.closePins(); err != nil {
		d.log.Warn("stop the pinning service", "err", err)
	}
	if d.reach != nil {
		_ = d.reach.Close()
	}
	if d.node != nil {
		_ = d.node.Close()
	}
	if d.ln != nil {
		_ = d.ln.Close()
	}
	_ = d.repo.Close()
}
