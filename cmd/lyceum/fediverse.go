package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lyceum-oer/lyceum/gateway/fediverse"
	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
)

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
	const base = "/api/v1/fediverse/"
	cmd.AddCommand(
		fediverseRead(a, "requests ACTOR", "List the follow requests waiting for a locked local actor", exactArgs(1, "a local actor"),
			func(args []string) string { return base + "requests/" + url.PathEscape(args[0]) },
			func(rs []fediverse.FollowRequest) error {
				return printTable(a, rs, func(r fediverse.FollowRequest) []string { return []string{r.ID, r.Software, r.Since} })
			}),
		a.fediversePolicy("approve ACTOR REMOTE_ACTOR_URL", "Approve a follow request of a locked local actor (sends Accept)", "approve", 2),
		a.fediversePolicy("reject ACTOR REMOTE_ACTOR_URL", "Reject a follow request of a locked local actor (sends Reject)", "reject", 2),
		a.fediversePolicy("lock ACTOR", "Make a local actor approve its fediverse followers (manuallyApprovesFollowers)", "lock", 1),
		a.fediversePolicy("unlock ACTOR", "Let anyone follow a local actor again; waiting requests are approved", "unlock", 1),
		fediverseRead(a, "followers ACTOR", "List a local actor's followers on the fediverse", exactArgs(1, "a local actor"),
			func(args []string) string { return base + "followers/" + url.PathEscape(args[0]) },
			func(fs []fediverse.RemoteActor) error {
				return printTable(a, fs, func(f fediverse.RemoteActor) []string {
					return []string{f.ID, f.Software, firstOf(f.SharedInbox, f.Inbox)}
				})
			}),
		fediverseRead(a, "following ACTOR", "List the fediverse actors a local actor follows", exactArgs(1, "a local actor"),
			func(args []string) string { return base + "following/" + url.PathEscape(args[0]) },
			func(fs map[string]string) error {
				a.none(len(fs), "none")
				for id, st := range fs {
					fmt.Fprintf(a.stdout, "%s\t%s\n", id, st)
				}
				return nil
			}),
		fediverseRead(a, "interactions ID", "Comments, likes and boosts a resource received from the fediverse", exactArgs(1, "a resource ID"),
			func(args []string) string { return base + "interactions/" + url.PathEscape(args[0]) }, a.printInteractions),
		fediverseRead(a, "timeline", "Posts and boosts of the fediverse actors followed from here", exactArgs(0, "no arguments"),
			func([]string) string { return base + "timeline" }, a.printInteractions),
		fediverseRead(a, "flags", "Reports (Flag) received from the fediverse, for the moderators", exactArgs(0, "no arguments"),
			func([]string) string { return base + "flags" },
			func(fs []fediverse.Flag) error {
				return printTable(a, fs, func(f fediverse.Flag) []string {
					return []string{f.At.Format(time.DateTime), f.Actor, strings.Join(f.Objects, " "), f.Content}
				})
			}),
		a.fediverseAction("follow HANDLE", "Follow a fediverse actor (name@host or actor URL) as a local actor", "follow", 1),
		a.fediverseAction("unfollow ACTOR_URL", "Stop following a fediverse actor", "unfollow", 1),
		a.fediverseAction("reply POST_URL TEXT", "Reply to a fediverse post", "reply", 2),
		a.fediverseAction("like POST_URL", "Like a fediverse post", "like", 1),
		a.fediverseAction("boost POST_URL", "Boost a fediverse post", "boost", 1))
	return cmd
}

// fediverseRead is a command that reads a T from the bridge at the path
// its arguments name, and prints it as JSON or with print.
func fediverseRead[T any](a *app, use, short string, nargs cobra.PositionalArgs, path func(args []string) string, print func(T) error) *cobra.Command {
	cmd := &cobra.Command{
		Use: use, Short: short, Args: nargs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var v T
			if err := a.fediverseCall(cmd.Context(), http.MethodGet, path(args), nil, &v); err != nil {
				return err
			}
			if a.jsonOut {
				return a.printJSON(v)
			}
			return print(v)
		},
	}
	a.addJSONFlag(cmd)
	return cmd
}

// printTable prints one tab-aligned line of cells per row to a.stdout;
// an empty list says "none" on a.stderr.
func printTable[T any](a *app, rows []T, cells func(T) []string) error {
	a.none(len(rows), "none")
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(cells(r), "\t"))
	}
	return tw.Flush()
}

// fediverseAction is a command that acts as a local actor (--as) on a
// remote actor or post named by its arguments.
func (a *app) fediverseAction(use, short, action string, nargs int) *cobra.Command {
	var as string
	cmd := &cobra.Command{
		Use: use, Short: short, Args: exactArgs(nargs, use),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := fediverse.ActionRequest{As: as}
			switch action {
			case "follow":
				req.Handle = args[0]
			case "unfollow":
				req.Remote = args[0]
			case "reply":
				req.Object, req.Text = args[0], args[1]
			default:
				req.Object = args[0]
			}
			return a.fediversePost(cmd, action, req)
		},
	}
	cmd.Flags().StringVar(&as, "as", "", "the local actor acting (username)")
	_ = cmd.MarkFlagRequired("as")
	a.addJSONFlag(cmd)
	return cmd
}

// fediversePolicy is a call about a local actor (and, for approve and
// reject, a remote one), with positional arguments.
func (a *app) fediversePolicy(use, short, action string, nargs int) *cobra.Command {
	cmd := &cobra.Command{
		Use: use, Short: short, Args: exactArgs(nargs, use),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := fediverse.ActionRequest{As: args[0]}
			if nargs == 2 {
				req.Remote = args[1]
			}
			return a.fediversePost(cmd, action, req)
		},
	}
	a.addJSONFlag(cmd)
	return cmd
}

// fediversePost sends an action to the bridge and says it is done.
func (a *app) fediversePost(cmd *cobra.Command, action string, req fediverse.ActionRequest) error {
	var out any
	if err := a.fediverseCall(cmd.Context(), http.MethodPost, "/api/v1/fediverse/"+action, req, &out); err != nil {
		return err
	}
	if a.jsonOut {
		return a.printJSON(out)
	}
	fmt.Fprintf(a.stdout, "%s: done\n", action)
	return nil
}

func (a *app) printInteractions(its []fediverse.Interaction) error {
	return printTable(a, its, func(it fediverse.Interaction) []string {
		return []string{it.Published.Format(time.DateTime), it.Kind, it.Actor, it.Content}
	})
}

// fediverseCall makes a management call to the running daemon.
func (a *app) fediverseCall(ctx context.Context, method, path string, in, out any) error {
	addr, token, err := node.ReadAPI(a.repoPath)
	if err != nil {
		return api.Wrap(api.KindUnavailable, "no daemon is running: the fediverse bridge runs in `lyceum daemon`", err)
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
		return api.Wrap(api.KindUnavailable, "cannot reach the daemon", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusNotFound && len(data) > 0 && data[0] != '{' {
		return api.Errorf(api.KindUnavailable, "the daemon runs without the fediverse bridge: set gateway.public_url in config.toml")
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Kind    api.Kind `json:"kind"`
				Message string   `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error.Kind != "" {
			return api.Errorf(e.Error.Kind, "%s", e.Error.Message)
		}
		return fmt.Errorf("daemon answered %s", resp.Status)
	}
	return json.Unmarshal(data, out)
}
