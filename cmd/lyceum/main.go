// Command lyceum runs a Lyceum node (`lyceum daemon`) and manages it: add,
// get and pin content, connect to peers, import and export CAR files. While
// a daemon holds the repo, the commands talk to it over its HTTP API;
// without one, those that need no network work on the repo directly.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
)

// Exit codes, documented in the README and in `lyceum --help`.
const (
	exitOK          = 0
	exitError       = 1 // unexpected failure
	exitUsage       = 2 // bad flags or arguments
	exitInvalid     = 3 // bad input: CID, multiaddr, CAR, config
	exitNotFound    = 4 // no repo, no such content
	exitUnavailable = 5 // daemon, peer or port unavailable; repo locked
	exitConflict    = 6 // already exists
	exitDenied      = 7 // the API refused the token, or the account may not
	exitInterrupted = 130
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// app carries what every command shares; it is built once per run.
type app struct {
	repoPath string
	jsonOut  bool
	quiet    bool
	logLevel string
	timeout  time.Duration
	cancel   context.CancelFunc
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
	log      *slog.Logger
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if a.cancel != nil {
		a.cancel()
	}
	if err == nil {
		return exitOK
	}
	if isUnknownCommand(err) {
		fmt.Fprintf(stderr, "lyceum: %v\nRun 'lyceum --help' for the commands.\n", err)
		return exitUsage
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "lyceum: %v\nRun '%s --help' for usage.\n", ue.err, strings.TrimSpace("lyceum "+ue.cmd))
		return exitUsage
	}
	if errors.Is(err, context.DeadlineExceeded) && api.KindOf(err) == api.KindInternal {
		err = api.Wrap(api.KindUnavailable, "timed out", err)
	}
	if ctx.Err() != nil {
		// Whatever failed, failed because the user stopped it: say that,
		// not what the stop broke (a request to the daemon, a fetch).
		fmt.Fprintln(stderr, "lyceum: interrupted")
		return exitInterrupted
	}
	fmt.Fprintf(stderr, "lyceum: %v\n", err)
	switch api.KindOf(err) {
	case api.KindInvalid:
		return exitInvalid
	case api.KindNotFound:
		return exitNotFound
	case api.KindUnavailable, api.KindRateLimited:
		return exitUnavailable
	case api.KindConflict:
		return exitConflict
	case api.KindUnauthorized, api.KindForbidden:
		return exitDenied
	}
	return exitError
}

// isUnknownCommand reports whether err is cobra's refusal of a command
// it does not know (it has no type of its own).
func isUnknownCommand(err error) bool {
	return strings.HasPrefix(err.Error(), "unknown command ")
}

// usageError marks errors in how the command was called.
type usageError struct {
	cmd string
	err error
}

func (u usageError) Error() string { return u.err.Error() }

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "lyceum",
		Short: "A peer-to-peer network for open educational resources",
		Long: `lyceum runs a Lyceum node and manages it.

Start a node with 'lyceum daemon' (it creates the repo in $LYCEUM_PATH,
default ~/.lyceum, on first run). While it runs, the other commands talk to
it over its HTTP API; without it, those that need no network work on the
repo directly.

Exit codes: 0 ok, 1 error, 2 usage, 3 invalid input, 4 not found,
5 unavailable (daemon, peer, port or repo lock), 6 already exists,
7 refused (API token, or not allowed), 130 interrupted.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
				return usageError{cmd: "", err: fmt.Errorf("--log-level %q: want debug, info, warn or error", a.logLevel)}
			}
			a.log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
			if os.Getenv("GOGC") == "" {
				// Moving content allocates a block's size several times
				// per block, and each collection scans the whole live heap
				// (the index, the host): collecting at 3× the live heap
				// instead of 2× took the gateway's 256 MiB from 0.65 s to
				// 0.4 s, and a command's 5× (a small heap, for seconds) a
				// 256 MiB add from 1.9 s to 1.35 s (docs/BENCHMARKS.md).
				if cmd.Name() == "daemon" {
					debug.SetGCPercent(200)
				} else {
					debug.SetGCPercent(400)
				}
			}
			if a.timeout > 0 {
				ctx, cancel := context.WithTimeout(cmd.Context(), a.timeout)
				a.cancel = cancel
				cmd.SetContext(ctx)
			}
			return nil
		},
	}
	root.PersistentFlags().StringVar(&a.repoPath, "repo", node.DefaultRepoPath(), "repo directory (also $LYCEUM_PATH)")
	root.PersistentFlags().DurationVar(&a.timeout, "timeout", 0, "give up after this long, e.g. 30s (default: never)")
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{cmd: strings.TrimSpace(strings.TrimPrefix(cmd.CommandPath(), root.Name())), err: err}
	})
	setVersion(root, currentVersion())
	root.AddCommand(
		a.initCommand(),
		a.daemonCommand(),
		a.idCommand(),
		a.connectCommand(),
		a.peersCommand(),
		a.addCommand(),
		a.getCommand(),
		a.catCommand(),
		a.pinCommand(),
		a.gcCommand(),
		a.carCommand(),
		a.statCommand(),
		a.versionCommand(),
		a.actorCommand(),
		a.communityCommand(),
		a.publishCommand(),
		a.updateCommand(),
		a.deleteCommand(),
		a.feedCommand(),
		a.showCommand(),
		a.repairCommand(),
		a.blockCommand(),
		a.searchCommand(),
		a.hqCommand(),
		a.indexCommand(),
		a.backupCommand(),
		a.restoreCommand(),
		a.doctorCommand(),
	)
	root.AddCommand(a.followCommands()...)
	root.AddCommand(a.fediverseCommand())
	root.AddCommand(a.collectionCommand())
	root.AddCommand(a.userCommand(), a.registrationCommand(), a.inviteCommand())
	root.AddCommand(a.configCommand())
	root.AddCommand(a.vocabCommand())
	root.AddCommand(a.importCommand())
	checkVocabFlags(root, "search", "publish", "update")
	return root
}

// exactArgs is cobra.ExactArgs with a usage error.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{cmd: cmd.CommandPath()[len("lyceum "):], err: fmt.Errorf("want %s", what)}
		}
		return nil
	}
}
