package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
	nodedaemon "github.com/lyceum-oer/lyceum/node/daemon"
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
reachable node: DHT server, more connections), hq (a server that indexes
the whole network and answers other nodes' searches: relay service, even
more connections), test (loopback only, random ports, no bootstrap peers:
for tests and development).`,
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
	profileOn bool // --profile was given
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
			f.profileOn = cmd.Flags().Changed("profile")
			return a.runDaemon(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.profile, "profile", node.ProfileDesktop, "profile of the repo created on first run: "+strings.Join(node.Profiles, ", ")+
		" (to change an existing repo's: lyceum config profile apply NAME)")
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
	if _, err := node.DefaultConfig(f.profile); err != nil {
		return err
	}
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
	// --profile chooses the defaults of a new repo; an existing repo's
	// profile is in its config.toml, and running with another one must
	// not look as if it had worked.
	if have := repo.Config().Profile; f.profileOn && f.profile != have {
		repo.Close()
		return api.Invalidf("the repo at %s has the %s profile; --profile only chooses the profile of a new repo: run `lyceum config profile apply %s` to change it, then start the daemon again",
			a.repoPath, have, f.profile)
	}
	cfg, err := f.apply(repo.Config())
	if err != nil {
		repo.Close()
		return err
	}
	repo.SetConfig(cfg)
	opts := []nodedaemon.Option{nodedaemon.WithLogger(a.log)}
	if f.offline {
		opts = append(opts, nodedaemon.WithOffline())
	}
	d, err := nodedaemon.New(repo, opts...)
	if err != nil {
		return err
	}
	a.printReady(d, cfg, f.offline)

	select {
	case <-ctx.Done():
		fmt.Fprintln(a.stderr, "shutting down (Ctrl-C again to force)")
	case <-d.Done():
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
	failed := d.Err()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Close(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		a.log.Warn("shut down", "err", err)
	}
	return failed
}

// printReady says where the daemon listens, then that it is ready: the
// tests and scripts wait for that last line.
func (a *app) printReady(d *nodedaemon.Daemon, cfg node.Config, offline bool) {
	id := d.Node().Swarm().ID()
	fmt.Fprintf(a.stdout, "peer ID: %s\n", id.PeerID)
	for _, addr := range id.Addrs {
		fmt.Fprintf(a.stdout, "swarm listening on %s\n", addr)
	}
	if offline {
		fmt.Fprintln(a.stdout, "offline: no networking")
	}
	fmt.Fprintf(a.stdout, "HTTP server (web, API, /ipfs/ gateway) on %s\n", d.URL())
	if d.Bridge() != nil {
		fmt.Fprintf(a.stdout, "fediverse bridge (ActivityPub) at %s\n", cfg.Gateway.PublicURL)
	}
	if link, ok := d.Setup(); ok {
		fmt.Fprintln(a.stderr, link)
	}
	fmt.Fprintln(a.stdout, "daemon is ready")
	// Starting (opening the index, parsing the web app's templates,
	// migrations) leaves garbage: collect it and hand the pages back now,
	// since the daemon collects less often than Go's default (see run).
	debug.FreeOSMemory()
}
