package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/lyceum-oer/lyceum/gateway"
	"github.com/lyceum-oer/lyceum/gateway/pinning/client"
	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
)

// servicesFile is where `lyceum pin remote service add` keeps the remote
// services, in the repo, readable by its owner only (it holds tokens).
const servicesFile = "pin-services.json"

// maxServicesFile bounds what is read of it.
const maxServicesFile = 1 << 20

// maxServices bounds how many services it holds.
const maxServices = 100

// maxRemoteList bounds what `pin remote ls` pages through.
const maxRemoteList = 100_000

// remoteService is one pinning service the CLI knows.
type remoteService struct {
	Name     string `json:"name"`
	Endpoint string `json:"endpoint"`
	Token    string `json:"token"`
}

type servicesDoc struct {
	Services []remoteService `json:"services"`
}

var serviceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func (a *app) servicesPath() string { return filepath.Join(a.repoPath, servicesFile) }

// readServices reads the services file; a missing one is no services.
func (a *app) readServices() ([]remoteService, error) {
	f, err := os.Open(a.servicesPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the remote pinning services: %w", err)
	}
	defer f.Close()
	var doc servicesDoc
	if err := api.ReadStrict(f, maxServicesFile, &doc); err != nil {
		return nil, api.Wrap(api.KindInvalid, a.servicesPath()+" is damaged; remove it and add the services again", err)
	}
	return doc.Services, nil
}

// writeServices replaces the services file atomically, mode 0600.
func (a *app) writeServices(ss []remoteService) error {
	if _, err := os.Stat(a.repoPath); err != nil {
		return api.Wrap(api.KindNotFound, "no repo at "+a.repoPath+" (run `lyceum init` or give --repo)", err)
	}
	data, err := json.MarshalIndent(servicesDoc{Services: ss}, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(a.repoPath, servicesFile+".*")
	if err != nil {
		return fmt.Errorf("save the remote pinning services: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("save the remote pinning services: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save the remote pinning services: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save the remote pinning services: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save the remote pinning services: %w", err)
	}
	if err := os.Rename(tmp.Name(), a.servicesPath()); err != nil {
		return fmt.Errorf("save the remote pinning services: %w", err)
	}
	return nil
}

// listRemote lists the pin requests on service that match the filters,
// with the service's client.
func (a *app) listRemote(ctx context.Context, service string, cids, statuses []string, name string) (*client.Client, []api.PinRequest, error) {
	q, err := remoteQuery(cids, statuses, name)
	if err != nil {
		return nil, nil, err
	}
	cl, err := a.remoteClient(service)
	if err != nil {
		return nil, nil, err
	}
	rs, err := cl.ListAll(ctx, q, maxRemoteList)
	if err != nil {
		return nil, nil, err
	}
	return cl, rs, nil
}

// remoteClient is the client of the service named name.
func (a *app) remoteClient(name string) (*client.Client, error) {
	if name == "" {
		return nil, api.Invalidf("say which service with --service NAME (see `lyceum pin remote service ls`)")
	}
	ss, err := a.readServices()
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(ss, func(s remoteService) bool { return s.Name == name })
	if i < 0 {
		return nil, api.NotFoundf("no remote pinning service %s: add it with `lyceum pin remote service add`", api.Quote(name))
	}
	return client.New(ss[i].Endpoint, ss[i].Token)
}

func (a *app) pinRemoteCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "remote",
		Short: "Pin on remote pinning services (the IPFS Pinning Service API)",
		Long: `Ask a pinning service to keep content: another Lyceum node's pinning
service, IPFS Cluster, or a commercial service (they all speak the IPFS
Pinning Service API). Services and their tokens are kept in the repo
($LYCEUM_PATH/pin-services.json, readable by you only); tokens are never
printed.`,
		Example: `  lyceum pin remote service add school https://lyceum.school.example/api/pinning/v1 lyp_…
  lyceum pin remote add bafy… --service school --name "Fractions, grade 5"
  lyceum pin remote ls --service school --status queued,pinning,pinned,failed
  lyceum pin remote rm --service school --cid bafy…`,
	}
	cmd.AddCommand(a.pinRemoteServiceCommand(), a.pinRemoteAddCommand(), a.pinRemoteLsCommand(), a.pinRemoteRmCommand())
	return cmd
}

func (a *app) pinRemoteServiceCommand() *cobra.Command {
	svc := &cobra.Command{Use: "service", Short: "The remote pinning services this repo knows"}
	add := &cobra.Command{
		Use:   "add NAME ENDPOINT TOKEN",
		Short: "Add a remote pinning service",
		Long: `Add a remote pinning service under NAME. ENDPOINT is the API's base URL
(requests go to ENDPOINT/pins); a Lyceum node serves it at
https://HOST/api/pinning/v1, with a personal API token its admin makes
with 'lyceum user token create USER NAME --scope pinning'.`,
		Example: `  lyceum pin remote service add school https://lyceum.school.example/api/pinning/v1 lyp_…`,
		Args:    exactArgs(3, "a name, an endpoint URL and an access token"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, endpoint, token := args[0], args[1], args[2]
			if !serviceName.MatchString(name) {
				return usage(cmd, "service name %q: want 1 to 64 letters, digits, '.', '_' or '-'", name)
			}
			if _, err := client.New(endpoint, token); err != nil {
				return err
			}
			ss, err := a.readServices()
			if err != nil {
				return err
			}
			if slices.ContainsFunc(ss, func(s remoteService) bool { return s.Name == name }) {
				return api.Errorf(api.KindConflict, "a service named %s exists already; remove it first", api.Quote(name))
			}
			if len(ss) >= maxServices {
				return api.Errorf(api.KindConflict, "%d services, the most a repo keeps", len(ss))
			}
			if err := a.writeServices(append(ss, remoteService{Name: name, Endpoint: strings.TrimSuffix(endpoint, "/"), Token: token})); err != nil {
				return err
			}
			if u, err := url.Parse(endpoint); err == nil && u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
				fmt.Fprintf(a.stderr, "warning: %s is plain http: the token crosses the network in clear; prefer https\n", u.Host)
			}
			fmt.Fprintf(a.stderr, "added remote pinning service %s\n", name)
			return nil
		},
	}
	ls := &cobra.Command{
		Use:     "ls",
		Short:   "List the remote pinning services (never their tokens)",
		Example: `  lyceum pin remote service ls --json`,
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ss, err := a.readServices()
			if err != nil {
				return err
			}
			if a.jsonOut {
				out := []map[string]string{}
				for _, s := range ss {
					out = append(out, map[string]string{"service": s.Name, "endpoint": s.Endpoint})
				}
				return a.printJSON(map[string]any{"services": out})
			}
			a.none(len(ss), "no remote pinning services: add one with `lyceum pin remote service add`")
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			for _, s := range ss {
				fmt.Fprintf(tw, "%s\t%s\n", s.Name, s.Endpoint)
			}
			return tw.Flush()
		},
	}
	a.addJSONFlag(ls)
	rm := &cobra.Command{
		Use:     "rm NAME",
		Short:   "Forget a remote pinning service (its pins stay there)",
		Example: `  lyceum pin remote service rm school`,
		Args:    exactArgs(1, "a service name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ss, err := a.readServices()
			if err != nil {
				return err
			}
			i := slices.IndexFunc(ss, func(s remoteService) bool { return s.Name == args[0] })
			if i < 0 {
				return api.NotFoundf("no remote pinning service %s", api.Quote(args[0]))
			}
			if err := a.writeServices(slices.Delete(ss, i, i+1)); err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "removed remote pinning service %s\n", args[0])
			return nil
		},
	}
	svc.AddCommand(add, ls, rm)
	return svc
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}

// localOrigins are the running daemon's addresses, for the service to
// dial; none when no daemon runs.
func (a *app) localOrigins(ctx context.Context) []string {
	addr, token, err := node.ReadAPI(a.repoPath)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	id, err := gateway.NewClient(addr, token).ID(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range id.Addrs {
		if len(out) == 20 {
			break
		}
		if !strings.Contains(m, "/p2p/") {
			m += "/p2p/" + id.PeerID
		}
		out = append(out, m)
	}
	return out
}

func (a *app) pinRemoteAddCommand() *cobra.Command {
	var service, name string
	var background bool
	cmd := &cobra.Command{
		Use:   "add CID --service NAME",
		Short: "Ask a remote service to pin a CID",
		Long: `Ask the remote service to pin CID recursively. The running daemon's
addresses go with the request as origins, so that the service can fetch
from this node. Without --background, wait until the service says pinned
(or failed).`,
		Example: `  lyceum pin remote add bafy… --service school --name "Fractions, grade 5"
  lyceum pin remote add bafy… --service school --background --json`,
		Args: exactArgs(1, "one CID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cid.Decode(args[0])
			if err != nil {
				return api.Wrap(api.KindInvalid, fmt.Sprintf("%s is not a CID", api.Quote(args[0])), err)
			}
			cl, err := a.remoteClient(service)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := cl.Add(ctx, api.Pin{CID: c.String(), Name: name, Origins: a.localOrigins(ctx)})
			if err != nil {
				return err
			}
			for !background && (st.Status == api.PinQueued || st.Status == api.PinPinning) {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(500 * time.Millisecond):
				}
				if st, err = cl.Get(ctx, st.RequestID); err != nil {
					return err
				}
			}
			if a.jsonOut {
				if err := a.printJSON(st); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(a.stdout, "%s\t%s\t%s\n", st.Pin.CID, st.Status, st.Pin.Name)
			}
			if st.Status == api.PinFailed {
				return api.Errorf(api.KindUnavailable, "the service could not pin %s: %s", c, st.Info["status_details"])
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&service, "service", "", "the remote service, by the name given to 'pin remote service add'")
	cmd.Flags().StringVar(&name, "name", "", "a name for the pin, to find it later")
	cmd.Flags().BoolVar(&background, "background", false, "do not wait for the pin to finish")
	a.addJSONFlag(cmd)
	return cmd
}

// remoteQuery builds a query from the flags of ls and rm.
func remoteQuery(cids, statuses []string, name string) (api.PinQuery, error) {
	q := api.PinQuery{Name: name}
	for _, s := range cids {
		c, err := cid.Decode(s)
		if err != nil {
			return q, api.Wrap(api.KindInvalid, fmt.Sprintf("%s is not a CID", api.Quote(s)), err)
		}
		q.CIDs = append(q.CIDs, c.String())
	}
	for _, s := range statuses {
		st := api.PinState(s)
		if !st.Valid() {
			return q, api.Invalidf("status %s: want queued, pinning, pinned or failed", api.Quote(s))
		}
		q.Statuses = append(q.Statuses, st)
	}
	if len(q.Statuses) == 0 {
		q.Statuses = []api.PinState{api.PinPinned}
	}
	return q, nil
}

func (a *app) pinRemoteLsCommand() *cobra.Command {
	var service, name string
	var cids, statuses []string
	cmd := &cobra.Command{
		Use:   "ls --service NAME",
		Short: "List the pin requests on a remote service",
		Example: `  lyceum pin remote ls --service school
  lyceum pin remote ls --service school --status queued,pinning,failed --cid bafy… --json`,
		Args: exactArgs(0, "no arguments (filter with --cid, --name, --status)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, rs, err := a.listRemote(cmd.Context(), service, cids, statuses, name)
			if err != nil {
				return err
			}
			if a.jsonOut {
				if rs == nil {
					rs = []api.PinRequest{}
				}
				return a.printJSON(map[string]any{"pins": rs})
			}
			a.none(len(rs), "no pin requests match")
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			for _, r := range rs {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Pin.CID, r.Status, r.Pin.Name)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&service, "service", "", "the remote service")
	cmd.Flags().StringVar(&name, "name", "", "only pins with this name")
	cmd.Flags().StringSliceVar(&cids, "cid", nil, "only pins of these CIDs (comma-separated, at most 10)")
	cmd.Flags().StringSliceVar(&statuses, "status", nil, "only pins in these states: queued, pinning, pinned, failed (default pinned)")
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) pinRemoteRmCommand() *cobra.Command {
	var service, name string
	var cids, statuses []string
	var force bool
	cmd := &cobra.Command{
		Use:   "rm --service NAME --cid CID",
		Short: "Remove pin requests from a remote service",
		Long: `Remove the pin requests that match --cid (and --name, --status; the
default status is pinned). More than one match needs --force.`,
		Example: `  lyceum pin remote rm --service school --cid bafy…
  lyceum pin remote rm --service school --cid bafy… --status failed --force`,
		Args: exactArgs(0, "no arguments (say which pins with --cid)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(cids) == 0 && name == "" {
				return usage(cmd, "say which pins to remove with --cid (or --name)")
			}
			cl, rs, err := a.listRemote(cmd.Context(), service, cids, statuses, name)
			if err != nil {
				return err
			}
			if len(rs) == 0 {
				return api.NotFoundf("no pin request matches")
			}
			if len(rs) > 1 && !force {
				return api.Errorf(api.KindConflict, "%d pin requests match; remove them all with --force", len(rs))
			}
			for _, r := range rs {
				if err := cl.Delete(cmd.Context(), r.RequestID); err != nil {
					return err
				}
				if !a.jsonOut {
					fmt.Fprintf(a.stdout, "removed %s\t%s\n", r.Pin.CID, r.RequestID)
				}
			}
			if a.jsonOut {
				return a.printJSON(map[string]any{"removed": len(rs)})
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&service, "service", "", "the remote service")
	cmd.Flags().StringVar(&name, "name", "", "only pins with this name")
	cmd.Flags().StringSliceVar(&cids, "cid", nil, "pins of these CIDs")
	cmd.Flags().StringSliceVar(&statuses, "status", nil, "only pins in these states (default pinned)")
	cmd.Flags().BoolVar(&force, "force", false, "remove every match when there are several")
	a.addJSONFlag(cmd)
	return cmd
}
