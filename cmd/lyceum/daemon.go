package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/lyceum-oer/lyceum/gateway"
	"github.com/lyceum-oer/lyceum/node"
)

func (a *app) initCommand() *cobra.Command {
	var profile string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a repo: identity, config.toml and content store",
		Long: `Create a repo in $LYCEUM_PATH (default ~/.lyceum): a new Ed25519
identity, a config.toml in which every key is explained, an API token and an
empty content store.

Profiles: desktop (a laptop behind NAT; the default), server (an always-on,
reachable node: DHT server, more connections), test (loopback only, random
ports, no bootstrap peers: for tests and development).`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := node.InitRepo(a.repoPath, profile); err != nil {
				return err
			}
			repo, err := node.OpenRepo(a.repoPath)
			if err != nil {
				return err
			}
			defer repo.Close()
			if a.jsonOut {
				return a.printJSON(map[string]string{"repo": a.repoPath, "peer_id": repo.PeerID().String(), "profile": profile})
			}
			fmt.Fprintf(a.stdout, "initialised a %s repo in %s\npeer ID: %s\n", profile, a.repoPath, repo.PeerID())
			return nil
		},
	}
	cmd.Flags().StringVar(&profile, "profile", node.ProfileDesktop, "starting configuration: "+strings.Join(node.Profiles, ", "))
	a.addJSONFlag(cmd)
	return cmd
}

// daemonFlags are the command-line overrides of config.toml.
type daemonFlags struct {
	profile   string
	swarm     []string
	http      string
	bootstrap string
	offline   bool
}

func (a *app) daemonCommand() *cobra.Command {
	var f daemonFlags
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Run the node: libp2p host, DHT, bitswap and the HTTP server",
		Long: `Run the node until Ctrl-C. On first run it creates the repo (see
'lyceum init'). The HTTP server carries the /ipfs/ gateway, the JSON API that
the other commands use, and /metrics; its address is written to
$LYCEUM_PATH/api while the daemon runs.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runDaemon(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.profile, "profile", node.ProfileDesktop, "profile of the repo created on first run: "+strings.Join(node.Profiles, ", "))
	fl.StringArrayVar(&f.swarm, "swarm", nil, "swarm listen multiaddr (repeatable; replaces swarm.listen)")
	fl.StringVar(&f.http, "http", "", "HTTP server HOST:PORT (replaces http.listen)")
	fl.StringVar(&f.bootstrap, "bootstrap", "", "bootstrap peers: none, or comma-separated multiaddrs (replaces swarm.bootstrap)")
	fl.BoolVar(&f.offline, "offline", false, "no networking: serve and manage local content only")
	return cmd
}

func (f daemonFlags) apply(c node.Config) (node.Config, error) {
	if len(f.swarm) > 0 {
		c.Swarm.Listen = f.swarm
	}
	if f.http != "" {
		c.HTTP.Listen = f.http
	}
	switch f.bootstrap {
	case "":
	case "none":
		c.Swarm.Bootstrap = []string{}
	default:
		c.Swarm.Bootstrap = strings.Split(f.bootstrap, ",")
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

func (a *app) runDaemon(ctx context.Context, f daemonFlags) error {
	if !node.IsInitialized(a.repoPath) {
		if err := node.InitRepo(a.repoPath, f.profile); err != nil {
			return err
		}
		fmt.Fprintf(a.stderr, "initialised a %s repo in %s\n", f.profile, a.repoPath)
	}
	repo, err := node.OpenRepo(a.repoPath)
	if err != nil {
		return err
	}
	cfg, err := f.apply(repo.Config())
	if err != nil {
		repo.Close()
		return err
	}
	repo.SetConfig(cfg)

	// Take the HTTP port before starting the network, so that a taken port
	// fails fast and touches nothing.
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		repo.Close()
		return &node.Error{Kind: node.KindUnavailable, Msg: fmt.Sprintf("cannot listen on %s for HTTP (is another daemon running? choose another port with --http)", cfg.HTTP.Listen), Err: err}
	}
	var opts []node.Option
	opts = append(opts, node.WithLogger(a.log))
	if f.offline {
		opts = append(opts, node.WithOffline())
	}
	n, err := node.New(repo, opts...)
	if err != nil {
		ln.Close()
		repo.Close()
		return err
	}
	defer func() {
		if err := n.Close(); err != nil {
			a.log.Warn("close node", "err", err)
		}
	}()

	bridge, stopBridge, err := a.startFediverse(cfg, repo, n)
	if err != nil {
		ln.Close()
		return err
	}
	// Deferred after the node's Close, so run before it: the bridge and
	// its queue stop once the HTTP server has stopped taking requests.
	defer stopBridge()
	proxies, err := cfg.Gateway.TrustedProxyPrefixes()
	if err != nil {
		ln.Close()
		return err
	}
	gwCfg := gateway.Config{
		Token:          repo.APIToken(),
		Blocks:         n.BlockService(),
		Metrics:        n.Metrics(),
		Logger:         a.log,
		BodyTimeout:    time.Duration(cfg.Limits.HTTPBodyTimeout),
		ConnsPerIP:     cfg.Limits.HTTPConnsPerIP,
		TrustedProxies: proxies,
	}
	if bridge != nil {
		gwCfg.Fediverse = bridge
	}
	srv, err := gateway.New(gwCfg, n, n, n, n)
	if err != nil {
		ln.Close()
		return err
	}
	serveErr := make(chan error, 1)
	scheme := "http"
	if cfg.Gateway.TLSCert != "" {
		scheme = "https"
		go func() { serveErr <- srv.ServeTLS(ln, cfg.Gateway.TLSCert, cfg.Gateway.TLSKey) }()
	} else {
		go func() { serveErr <- srv.Serve(ln) }()
	}
	apiURL := scheme + "://" + ln.Addr().String()
	if err := repo.WriteAPIAddr(apiURL); err != nil {
		return fmt.Errorf("record API address: %w", err)
	}
	defer func() { _ = repo.RemoveAPIAddr() }()

	id := n.ID()
	fmt.Fprintf(a.stdout, "peer ID: %s\n", id.PeerID)
	for _, addr := range id.Addrs {
		fmt.Fprintf(a.stdout, "swarm listening on %s\n", addr)
	}
	if f.offline {
		fmt.Fprintln(a.stdout, "offline: no networking")
	}
	fmt.Fprintf(a.stdout, "HTTP server (web, API, /ipfs/ gateway) on %s\n", apiURL)
	if bridge != nil {
		fmt.Fprintf(a.stdout, "fediverse bridge (ActivityPub) at %s\n", cfg.Gateway.PublicURL)
	}
	fmt.Fprintln(a.stdout, "daemon is ready")

	select {
	case <-ctx.Done():
		fmt.Fprintln(a.stderr, "shutting down (Ctrl-C again to force)")
	case err := <-serveErr:
		if err != nil {
			return fmt.Errorf("HTTP server: %w", err)
		}
	}
	// A second signal while shutting down ends the process at once.
	force := make(chan os.Signal, 1)
	signal.Notify(force, os.Interrupt, syscall.SIGTERM)
	defer func() {
		signal.Stop(force)
		close(force)
	}()
	go func() {
		if _, ok := <-force; ok {
			fmt.Fprintln(a.stderr, "forced exit")
			os.Exit(exitInterrupted)
		}
	}()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		a.log.Warn("HTTP shutdown", "err", err)
	}
	return nil
}
