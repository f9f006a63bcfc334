package main

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
	"github.com/spf13/cobra"

	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
)

// profileSummaries say in one line what each profile is for, in help texts.
var profileSummaries = map[string]string{
	node.ProfileDesktop: "a laptop behind NAT (the default)",
	node.ProfileServer:  "an always-on, reachable node: DHT server, more connections",
	node.ProfileHQ:      "an indexing peer: a server that indexes the whole network and serves search",
	node.ProfileTest:    "loopback only, random ports, no bootstrap peers: tests and development",
}

func (a *app) configCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config [KEY [VALUE]]",
		Short: "Show or change config.toml",
		Long: `Show or change $LYCEUM_PATH/config.toml, as Kubo's 'ipfs config' does.

  lyceum config KEY          print the value of KEY (a dotted path: http.listen)
  lyceum config KEY VALUE    set it
  lyceum config show         print the whole configuration
  lyceum config profile apply NAME
                             apply a profile's settings to this repo

VALUE is read for the key's type: a string as is, a whole number, a number,
true or false, a duration like 30s or 22h, a list as JSON (["a","b"]) or
comma-separated (a,b; "" is the empty list). Put -- before a value that
starts with a minus: lyceum config swarm.conn_low -- -1. The new
configuration is checked as the daemon checks the file, then written at once
(a temporary file renamed over the old one); config.toml is rewritten from
its template, so comments of your own are not kept. A running daemon reads
the file when it starts: restart it for a change to take effect.

config.toml holds no secret: the API token is in api.token and the identity
in identity.key, and no command prints them.`,
		Example: `  lyceum config http.listen 0.0.0.0:5101
  lyceum config search.hqs '["/dns4/hq.example.org/tcp/4101/p2p/12D3KooW…"]'
  lyceum config limits.http_body_timeout 2m
  lyceum config swarm --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 2 {
				return usageError{cmd: "config", err: fmt.Errorf("want KEY, or KEY VALUE (quote a value with spaces)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			switch len(args) {
			case 0:
				return cmd.Help()
			case 1:
				return a.configGet(args[0])
			}
			return a.configSet(args[0], args[1])
		},
	}
	a.addJSONFlag(cmd)
	cmd.AddCommand(a.configShowCommand(), a.configProfileCommand())
	return cmd
}

// configGet prints one key or table.
func (a *app) configGet(key string) error {
	if _, err := node.LookupConfigKey(key); err != nil {
		return err
	}
	c, err := node.ReadConfigFile(a.repoPath)
	if err != nil {
		return err
	}
	v, err := c.Get(key)
	if err != nil {
		return err
	}
	if a.jsonOut {
		j, err := configJSON(v)
		if err != nil {
			return err
		}
		return a.printJSON(j)
	}
	if k, _ := node.LookupConfigKey(key); k.Table {
		b, err := toml.Marshal(v)
		if err != nil {
			return fmt.Errorf("render %s: %w", key, err)
		}
		_, err = a.stdout.Write(b)
		return err
	}
	fmt.Fprintln(a.stdout, node.FormatConfigValue(v))
	return nil
}

// configSet changes one key and says what changed.
func (a *app) configSet(key, value string) error {
	if key == "profile" {
		return api.Invalidf("the profile is changed with `lyceum config profile apply NAME`, which also sets the profile's keys")
	}
	if _, err := node.LookupConfigKey(key); err != nil {
		return err
	}
	c, err := node.ReadConfigFile(a.repoPath)
	if err != nil {
		return err
	}
	old, _ := c.Get(key)
	if err := c.Set(key, value); err != nil {
		return err
	}
	if err := node.WriteConfigFile(a.repoPath, c); err != nil {
		return err
	}
	v, _ := c.Get(key)
	return a.printChanges([]node.ConfigChange{{Key: key, Old: old, New: v}}, false)
}

// printChanges lists changed keys, and says when a running daemon has yet
// to read them.
func (a *app) printChanges(changes []node.ConfigChange, dryRun bool) error {
	running := a.daemonRunning()
	if a.jsonOut {
		out := struct {
			Changes        []node.ConfigChange `json:"changes"`
			DryRun         bool                `json:"dry_run,omitempty"`
			RestartDaemon  bool                `json:"restart_daemon"`
			ConfigFilePath string              `json:"config_file"`
		}{Changes: []node.ConfigChange{}, DryRun: dryRun, RestartDaemon: running && !dryRun && len(changes) > 0, ConfigFilePath: node.ConfigPath(a.repoPath)}
		for _, ch := range changes {
			o, err := configJSON(ch.Old)
			if err != nil {
				return err
			}
			n, err := configJSON(ch.New)
			if err != nil {
				return err
			}
			out.Changes = append(out.Changes, node.ConfigChange{Key: ch.Key, Old: o, New: n})
		}
		return a.printJSON(out)
	}
	for _, ch := range changes {
		if reflect.DeepEqual(ch.Old, ch.New) {
			fmt.Fprintf(a.stdout, "%s: %s (unchanged)\n", ch.Key, node.FormatConfigValue(ch.New))
			continue
		}
		fmt.Fprintf(a.stdout, "%s: %s -> %s\n", ch.Key, node.FormatConfigValue(ch.Old), node.FormatConfigValue(ch.New))
	}
	if running && !dryRun && len(changes) > 0 {
		fmt.Fprintln(a.stdout, "a daemon is running on this repo: the change takes effect when it restarts")
	}
	return nil
}

// daemonRunning tells whether a daemon announced its address in the repo.
// A daemon killed without shutting down leaves the file behind; the note
// it causes is then merely early.
func (a *app) daemonRunning() bool {
	_, _, err := node.ReadAPI(a.repoPath)
	return err == nil
}

func (a *app) configShowCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print the whole configuration, defaults included",
		Long: `Print the configuration the daemon would run with: config.toml with every
key the file leaves out filled in from the profile's defaults. There is no
secret in it to hide: the API token (api.token) and the identity
(identity.key) are files of their own.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := node.ReadConfigFile(a.repoPath)
			if err != nil {
				return err
			}
			if a.jsonOut {
				j, err := configJSON(c)
				if err != nil {
					return err
				}
				return a.printJSON(j)
			}
			b, err := toml.Marshal(c)
			if err != nil {
				return fmt.Errorf("render config: %w", err)
			}
			_, err = a.stdout.Write(b)
			return err
		},
	}
	a.addJSONFlag(cmd)
	return cmd
}

func (a *app) configProfileCommand() *cobra.Command {
	// Profiles that set the same keys are listed together.
	var lines []string
	var sets []string
	setOf := map[string][]string{}
	for _, p := range node.Profiles {
		lines = append(lines, fmt.Sprintf("  %-8s %s", p, profileSummaries[p]))
		keys, _ := node.ProfileKeys(p)
		set := strings.Join(slices.DeleteFunc(keys, func(k string) bool { return k == "profile" }), ", ")
		if setOf[set] == nil {
			sets = append(sets, set)
		}
		setOf[set] = append(setOf[set], p)
	}
	for _, set := range sets {
		lines = append(lines, fmt.Sprintf("\nKeys set by %s: %s.", strings.Join(setOf[set], ", "), set))
	}
	profiles := strings.Join(lines, "\n")
	profile := &cobra.Command{
		Use:   "profile",
		Short: "Print the repo's profile; apply another with 'profile apply NAME'",
		Long:  "Print the profile of the repo. Profiles:\n\n" + profiles,
		// `lyceum config profile hq` reads like setting the key: say how.
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{cmd: "config profile", err: fmt.Errorf("to change the profile: lyceum config profile apply %s", args[0])}
			}
			return a.configGet("profile")
		},
	}
	a.addJSONFlag(profile)
	var dryRun bool
	apply := &cobra.Command{
		Use:   "apply NAME",
		Short: "Apply a profile's settings to this repo and say what changed",
		Long: `Set the keys a profile decides to that profile's values, and the profile
key to NAME; every other key keeps its value. The keys of the test profile
(loopback addresses, no bootstrap peers…) are set by it alone, so applying
hq to a node keeps its listen addresses and bootstrap peers.

` + profiles,
		Example:   "  lyceum config profile apply hq --dry-run\n  lyceum config profile apply hq",
		Args:      exactArgs(1, "one profile: "+strings.Join(node.Profiles, ", ")),
		ValidArgs: node.Profiles,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := node.ReadConfigFile(a.repoPath)
			if err != nil {
				return err
			}
			next, err := node.ApplyProfile(c, args[0])
			if err != nil {
				return err
			}
			changes := node.DiffConfig(c, next)
			if len(changes) == 0 {
				if a.jsonOut {
					return a.printChanges(nil, dryRun)
				}
				fmt.Fprintf(a.stdout, "nothing to change: the repo has the %s profile's settings\n", args[0])
				return nil
			}
			if !dryRun {
				if err := node.WriteConfigFile(a.repoPath, next); err != nil {
					return err
				}
			}
			if !a.jsonOut {
				verb := "applied"
				if dryRun {
					verb = "would apply"
				}
				fmt.Fprintf(a.stdout, "%s the %s profile to %s:\n", verb, args[0], node.ConfigPath(a.repoPath))
			}
			return a.printChanges(changes, dryRun)
		},
	}
	apply.Flags().BoolVar(&dryRun, "dry-run", false, "say what would change, change nothing")
	a.addJSONFlag(apply)
	profile.AddCommand(apply)
	return profile
}

// configJSON turns a configuration, a table or a value into what JSON
// shows, with the TOML key names.
func configJSON(v any) (any, error) {
	switch x := v.(type) {
	case node.Duration:
		return node.FormatConfigValue(x), nil
	case string, bool, int64, float64, []string:
		return x, nil
	}
	b, err := toml.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("render config: %w", err)
	}
	var m map[string]any
	if err := toml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("render config: %w", err)
	}
	return m, nil
}
