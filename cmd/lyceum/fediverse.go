package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/lyceum-oer/lyceum/gateway/delivery"
	"github.com/lyceum-oer/lyceum/gateway/fediverse"
	"github.com/lyceum-oer/lyceum/node"
)

// startFediverse starts the ActivityPub bridge when gateway.public_url is
// set: its delivery queue ($LYCEUM_PATH/delivery.db) with its workers, and
// the bridge ($LYCEUM_PATH/fediverse.db) following the node's log. The
// returned stop function closes them in reverse order, after the HTTP
// server has stopped taking requests.
func (a *app) startFediverse(cfg node.Config, repo *node.Repo, n *node.Node) (*fediverse.Bridge, func(), error) {
	if cfg.Gateway.PublicURL == "" {
		return nil, func() {}, nil
	}
	allowed, err := cfg.Gateway.AllowedPrivatePrefixes()
	if err != nil {
		return nil, nil, err
	}
	proxies, err := cfg.Gateway.TrustedProxyPrefixes()
	if err != nil {
		return nil, nil, err
	}
	client := delivery.NewHTTPClient(delivery.WithAllowedNetworks(allowed),
		delivery.WithUserAgent("Lyceum/"+node.Version+" (+"+cfg.Gateway.PublicURL+")"))
	var bridge *fediverse.Bridge
	signer := delivery.SignerFunc(func(keyID string) (*rsa.PrivateKey, error) { return bridge.Key(keyID) })
	queue, err := delivery.Open(filepath.Join(repo.Path(), "delivery.db"),
		delivery.WithSigner(signer), delivery.WithHTTPClient(client), delivery.WithLogger(a.log))
	if err != nil {
		return nil, nil, &node.Error{Kind: node.KindUnavailable, Msg: "open the delivery queue", Err: err}
	}
	bridge, err = fediverse.New(fediverse.Config{
		PublicURL:         cfg.Gateway.PublicURL,
		DBPath:            filepath.Join(repo.Path(), "fediverse.db"),
		AuthorizedFetch:   cfg.Gateway.AuthorizedFetch,
		TrustedProxies:    proxies,
		Client:            client,
		Delivery:          queue,
		InboxRate:         cfg.Gateway.InboxRate,
		InboxIPRate:       cfg.Gateway.InboxIPRate,
		RateLimitEntries:  cfg.Limits.RateLimitedClients,
		MaxKeyFetches:     cfg.Gateway.MaxKeyFetches,
		KeyFailureTTL:     time.Duration(cfg.Gateway.KeyFailureTTL),
		KeyFailureEntries: cfg.Limits.FediverseKeyFailures,
		KeyRefreshMinAge:  time.Duration(cfg.Gateway.KeyRefreshMinAge),
		Logger:            a.log,
	}, n)
	if err != nil {
		queue.Close()
		return nil, nil, &node.Error{Kind: node.KindUnavailable, Msg: "start the fediverse bridge", Err: err}
	}
	registerQueueMetrics(n.Metrics(), queue)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := queue.Run(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("delivery queue stopped", "err", err)
		}
	}()
	bridge.Start()
	return bridge, func() {
		if err := bridge.Close(); err != nil {
			a.log.Warn("close the fediverse bridge", "err", err)
		}
		cancel()
		wg.Wait()
		if err := queue.Close(); err != nil {
			a.log.Warn("close the delivery queue", "err", err)
		}
	}, nil
}

// registerQueueMetrics exports the delivery queue's counters.
func registerQueueMetrics(reg *prometheus.Registry, q *delivery.Queue) {
	gauge := func(name, help string, f func(delivery.Stats) float64) {
		_ = reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "lyceum_fediverse_" + name, Help: help},
			func() float64 { return f(q.Stats()) }))
	}
	counter := func(name, help string, f func(delivery.Stats) float64) {
		_ = reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "lyceum_fediverse_" + name, Help: help},
			func() float64 { return f(q.Stats()) }))
	}
	gauge("deliveries_pending", "Deliveries stored: waiting, in flight or held for unreachable hosts.", func(s delivery.Stats) float64 { return float64(s.Pending) })
	gauge("unreachable_hosts", "Remote hosts currently marked unreachable.", func(s delivery.Stats) float64 { return float64(s.UnreachableHosts) })
	counter("delivered_total", "Deliveries a remote server accepted.", func(s delivery.Stats) float64 { return float64(s.Delivered) })
	counter("retried_total", "Delivery attempts that failed and were scheduled again.", func(s delivery.Stats) float64 { return float64(s.Retried) })
	counter("failed_total", "Deliveries dropped because the remote server refused them.", func(s delivery.Stats) float64 { return float64(s.Failed) })
	counter("expired_total", "Deliveries dropped after retrying for 48 hours.", func(s delivery.Stats) float64 { return float64(s.Expired) })
	counter("signatures_total", "HTTP Signatures made for deliveries.", func(s delivery.Stats) float64 { return float64(s.Signatures) })
}

// fediverseCommand is `lyceum fediverse …`: the bridge as the node's
// owner sees it. It needs the daemon (the bridge runs there).
func (a *app) fediverseCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fediverse",
		Short: "The ActivityPub bridge: followers, follows, replies, likes and boosts with Mastodon & co",
		Long: `The ActivityPub bridge runs in the daemon when gateway.public_url is set.
People on Mastodon, GoToSocial, Pleroma or Lemmy follow @name@host of a local
person, community or collection; these commands show what came back and act
as a local actor towards the fediverse. A locked actor approves each
follower (lock, requests, approve, reject, unlock).`,
	}
	var as string
	call := func(ctx context.Context, method, path string, in, out any) error {
		return a.fediverseCall(ctx, method, path, in, out)
	}
	followers := &cobra.Command{
		Use: "followers ACTOR", Short: "List a local actor's followers on the fediverse", Args: exactArgs(1, "a local actor"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var fs []fediverse.RemoteActor
			if err := call(cmd.Context(), http.MethodGet, "/api/v1/fediverse/followers/"+url.PathEscape(args[0]), nil, &fs); err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(fs)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			for _, f := range fs {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", f.ID, f.Software, firstOf(f.SharedInbox, f.Inbox))
			}
			return tw.Flush()
		},
	}
	following := &cobra.Command{
		Use: "following ACTOR", Short: "List the fediverse actors a local actor follows", Args: exactArgs(1, "a local actor"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var fs map[string]string
			if err := call(cmd.Context(), http.MethodGet, "/api/v1/fediverse/following/"+url.PathEscape(args[0]), nil, &fs); err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(fs)
			}
			for id, st := range fs {
				fmt.Fprintf(a.stdout, "%s\t%s\n", id, st)
			}
			return nil
		},
	}
	interactions := &cobra.Command{
		Use: "interactions ID", Short: "Comments, likes and boosts a resource received from the fediverse", Args: exactArgs(1, "a resource ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var its []fediverse.Interaction
			if err := call(cmd.Context(), http.MethodGet, "/api/v1/fediverse/interactions/"+url.PathEscape(args[0]), nil, &its); err != nil {
				return err
			}
			return a.printInteractions(its)
		},
	}
	timeline := &cobra.Command{
		Use: "timeline", Short: "Posts and boosts of the fediverse actors followed from here", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var its []fediverse.Interaction
			if err := call(cmd.Context(), http.MethodGet, "/api/v1/fediverse/timeline", nil, &its); err != nil {
				return err
			}
			return a.printInteractions(its)
		},
	}
	flags := &cobra.Command{
		Use: "flags", Short: "Reports (Flag) received from the fediverse, for the moderators", Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var fs []fediverse.Flag
			if err := call(cmd.Context(), http.MethodGet, "/api/v1/fediverse/flags", nil, &fs); err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(fs)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			for _, f := range fs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.At.Format(time.DateTime), f.Actor, strings.Join(f.Objects, " "), f.Content)
			}
			return tw.Flush()
		},
	}
	action := func(use, short, field string, nargs int) *cobra.Command {
		c := &cobra.Command{
			Use: use, Short: short, Args: exactArgs(nargs, use),
			RunE: func(cmd *cobra.Command, args []string) error {
				req := fediverse.ActionRequest{As: as}
				switch field {
				case "follow":
					req.Handle = args[0]
				case "unfollow":
					req.Remote = args[0]
				case "reply":
					req.Object, req.Text = args[0], args[1]
				default:
					req.Object = args[0]
				}
				var out any
				if err := call(cmd.Context(), http.MethodPost, "/api/v1/fediverse/"+field, req, &out); err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(out)
				}
				fmt.Fprintf(a.stdout, "%s: done\n", field)
				return nil
			},
		}
		c.Flags().StringVar(&as, "as", "", "the local actor acting (username)")
		_ = c.MarkFlagRequired("as")
		a.addJSONFlag(c)
		return c
	}
	requests := &cobra.Command{
		Use: "requests ACTOR", Short: "List the follow requests waiting for a locked local actor", Args: exactArgs(1, "a local actor"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var rs []fediverse.FollowRequest
			if err := call(cmd.Context(), http.MethodGet, "/api/v1/fediverse/requests/"+url.PathEscape(args[0]), nil, &rs); err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(rs)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			for _, r := range rs {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Software, r.Since)
			}
			return tw.Flush()
		},
	}
	// policy is a call about a local actor (and, for approve and reject,
	// a remote one), with positional arguments.
	policy := func(use, short, action string, nargs int) *cobra.Command {
		c := &cobra.Command{
			Use: use, Short: short, Args: exactArgs(nargs, use),
			RunE: func(cmd *cobra.Command, args []string) error {
				req := fediverse.ActionRequest{As: args[0]}
				if nargs == 2 {
					req.Remote = args[1]
				}
				var out any
				if err := call(cmd.Context(), http.MethodPost, "/api/v1/fediverse/"+action, req, &out); err != nil {
					return err
				}
				if a.jsonOut {
					return a.printJSON(out)
				}
				fmt.Fprintf(a.stdout, "%s: done\n", action)
				return nil
			},
		}
		a.addJSONFlag(c)
		return c
	}
	for _, c := range []*cobra.Command{followers, following, interactions, timeline, flags, requests} {
		a.addJSONFlag(c)
	}
	cmd.AddCommand(requests,
		policy("approve ACTOR REMOTE_ACTOR_URL", "Approve a follow request of a locked local actor (sends Accept)", "approve", 2),
		policy("reject ACTOR REMOTE_ACTOR_URL", "Reject a follow request of a locked local actor (sends Reject)", "reject", 2),
		policy("lock ACTOR", "Make a local actor approve its fediverse followers (manuallyApprovesFollowers)", "lock", 1),
		policy("unlock ACTOR", "Let anyone follow a local actor again; waiting requests are approved", "unlock", 1))
	cmd.AddCommand(followers, following, interactions, timeline, flags,
		action("follow HANDLE", "Follow a fediverse actor (name@host or actor URL) as a local actor", "follow", 1),
		action("unfollow ACTOR_URL", "Stop following a fediverse actor", "unfollow", 1),
		action("reply POST_URL TEXT", "Reply to a fediverse post", "reply", 2),
		action("like POST_URL", "Like a fediverse post", "like", 1),
		action("boost POST_URL", "Boost a fediverse post", "boost", 1))
	return cmd
}

func (a *app) printInteractions(its []fediverse.Interaction) error {
	if a.jsonOut {
		return a.printJSON(its)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for _, it := range its {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.Published.Format(time.DateTime), it.Kind, it.Actor, it.Content)
	}
	return tw.Flush()
}

// fediverseCall makes a management call to the running daemon.
func (a *app) fediverseCall(ctx context.Context, method, path string, in, out any) error {
	addr, token, err := node.ReadAPI(a.repoPath)
	if err != nil {
		return &node.Error{Kind: node.KindUnavailable, Msg: "no daemon is running: the fediverse bridge runs in `lyceum daemon`", Err: err}
	}
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, addr+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return &node.Error{Kind: node.KindUnavailable, Msg: "cannot reach the daemon", Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusNotFound && len(data) > 0 && data[0] != '{' {
		return &node.Error{Kind: node.KindUnavailable, Msg: "the daemon runs without the fediverse bridge: set gateway.public_url in config.toml"}
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Kind    node.Kind `json:"kind"`
				Message string    `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error.Kind != "" {
			return &node.Error{Kind: e.Error.Kind, Msg: e.Error.Message}
		}
		return fmt.Errorf("daemon answered %s", resp.Status)
	}
	return json.Unmarshal(data, out)
}
