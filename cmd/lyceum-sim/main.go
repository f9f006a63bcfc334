// Command lyceum-sim runs the many-node simulator (simnet): hundreds of
// real Lyceum nodes in one process over simulated links, one scenario at
// a time, printing a summary table and writing JSON results and SVG
// charts.
//
//	lyceum-sim run --scenario propagation --nodes 500 --degree 8 \
//	  --latency 50ms±20ms --loss 1% --seed 1 --out results/
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/lyceum-oer/lyceum/simnet"
)

// Exit codes: as lyceum's.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitInvalid     = 3
	exitInterrupted = 130
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := &cobra.Command{Use: "lyceum-sim", Short: "Run many Lyceum nodes in one process and measure the network",
		SilenceUsage: true, SilenceErrors: true}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(runCommand(ctx, stdout, stderr), listCommand(stdout))
	err := root.ExecuteContext(ctx)
	switch {
	case err == nil:
		return exitOK
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "lyceum-sim: interrupted")
		return exitInterrupted
	case errors.As(err, new(usageError)):
		fmt.Fprintln(stderr, "lyceum-sim:", err)
		return exitUsage
	case errors.As(err, new(invalidError)):
		fmt.Fprintln(stderr, "lyceum-sim:", err)
		return exitInvalid
	default:
		fmt.Fprintln(stderr, "lyceum-sim:", err)
		if strings.Contains(err.Error(), "unknown flag") || strings.Contains(err.Error(), "unknown command") {
			return exitUsage
		}
		return exitError
	}
}

type usageError struct{ error }
type invalidError struct{ error }

func listCommand(stdout io.Writer) *cobra.Command {
	return &cobra.Command{Use: "list", Short: "List the built-in scenarios", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			for _, n := range simnet.BuiltinNames() {
				sc, err := simnet.Builtin(n)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "%-18s %-12s %d nodes, degree %d, %v±%v\n", n, sc.Kind, sc.Nodes, sc.Degree, sc.Latency.D(), sc.Jitter.D())
			}
			return nil
		}}
}

type runFlags struct {
	scenario, latency, loss, out string
	nodes, degree                int
	seed                         uint64
	rate                         float64
	duration                     time.Duration
	uplink                       int64
	variants                     []string
	quiet                        bool
	cpuProfile                   string
	timeScale                    float64
}

func runCommand(ctx context.Context, stdout, stderr io.Writer) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run a scenario (a built-in name or a .toml file)",
		Long: `Run a scenario: a built-in name (lyceum-sim list) or a scenario file.
Flags override the scenario's network and load. Results go to --out:
<scenario>.json, and <scenario>-latency-cdf.svg, -deliveries.svg and
-bytes-per-node.svg.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, err := loadScenario(f.scenario)
			if err != nil {
				return invalidError{err}
			}
			if err := applyFlags(cmd, &sc, f); err != nil {
				return usageError{err}
			}
			if err := sc.Validate(); err != nil {
				return invalidError{err}
			}
			return runScenario(ctx, sc, f, stdout, stderr)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.scenario, "scenario", "propagation", "built-in scenario name or a .toml file")
	fl.IntVar(&f.nodes, "nodes", 0, "number of nodes (default: the scenario's)")
	fl.IntVar(&f.degree, "degree", 0, "mean number of neighbours (default: the scenario's)")
	fl.StringVar(&f.latency, "latency", "", `link latency and jitter, "50ms±20ms" or "50ms+-20ms"`)
	fl.StringVar(&f.loss, "loss", "", `loss per segment, "1%" or "0.01"`)
	fl.Int64Var(&f.uplink, "uplink", -1, "bytes per second each node sends; 0 = unlimited")
	fl.Uint64Var(&f.seed, "seed", 0, "seed of the topology and schedule (default: the scenario's)")
	fl.Float64Var(&f.rate, "rate", -1, "publications per second")
	fl.DurationVar(&f.duration, "duration", 0, "length of the publication phase")
	fl.StringSliceVar(&f.variants, "variant", nil, "run only these gossip variants of the scenario")
	fl.StringVar(&f.out, "out", "results", "folder for the JSON results and SVG charts")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	fl.Float64Var(&f.timeScale, "time-scale", -1, "slow the simulation down by this factor (links, durations, GossipSub timers) and divide the measured times back")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	return cmd
}

func loadScenario(s string) (simnet.Scenario, error) {
	if strings.HasSuffix(s, ".toml") || strings.ContainsRune(s, os.PathSeparator) {
		return simnet.LoadScenario(s)
	}
	return simnet.Builtin(s)
}

// parseLatency reads "50ms±20ms", "50ms+-20ms" or "50ms".
func parseLatency(s string) (lat, jit time.Duration, err error) {
	parts := strings.SplitN(strings.ReplaceAll(s, "+-", "±"), "±", 2)
	if lat, err = time.ParseDuration(strings.TrimSpace(parts[0])); err != nil {
		return 0, 0, fmt.Errorf("--latency %q: %w", s, err)
	}
	if len(parts) == 2 {
		if jit, err = time.ParseDuration(strings.TrimSpace(parts[1])); err != nil {
			return 0, 0, fmt.Errorf("--latency %q: %w", s, err)
		}
	}
	return lat, jit, nil
}

// parseLoss reads "1%" or "0.01".
func parseLoss(s string) (float64, error) {
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return 0, fmt.Errorf("--loss %q: want e.g. 1%% or 0.01", s)
	}
	if pct {
		v /= 100
	}
	return v, nil
}

func applyFlags(cmd *cobra.Command, sc *simnet.Scenario, f runFlags) error {
	if f.nodes > 0 {
		sc.Nodes = f.nodes
		if sc.Kind == simnet.KindPopular && sc.Popular.Fetchers >= sc.Nodes {
			sc.Popular.Fetchers = sc.Nodes / 5
		}
	}
	if f.degree > 0 {
		sc.Degree = f.degree
	}
	if f.latency != "" {
		l, j, err := parseLatency(f.latency)
		if err != nil {
			return err
		}
		sc.Latency, sc.Jitter = simnet.Duration(l), simnet.Duration(j)
	}
	if f.loss != "" {
		v, err := parseLoss(f.loss)
		if err != nil {
			return err
		}
		sc.Loss = v
	}
	if f.uplink >= 0 {
		sc.Uplink = f.uplink
	}
	if cmd.Flags().Changed("seed") {
		sc.Seed = f.seed
	}
	if f.rate >= 0 {
		sc.Rate = f.rate
	}
	if f.timeScale >= 0 {
		sc.TimeScale = f.timeScale
	}
	if f.duration > 0 {
		sc.Duration = simnet.Duration(f.duration)
	}
	if len(f.variants) > 0 {
		var keep []simnet.Variant
		for _, name := range f.variants {
			found := false
			for _, v := range sc.Variants {
				if v.Name == name {
					keep, found = append(keep, v), true
				}
			}
			if !found && name == "lyceum" {
				keep, found = append(keep, simnet.Variant{Name: "lyceum"}), true
			}
			if !found {
				return fmt.Errorf("--variant %q: the scenario has no such variant", name)
			}
		}
		sc.Variants = keep
	}
	return nil
}

func runScenario(ctx context.Context, sc simnet.Scenario, f runFlags, stdout, stderr io.Writer) error {
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "scenario %s (%s): %d nodes, degree %d, %v±%v, loss %.2g, seed %d, time scale %g\n",
		sc.Name, sc.Kind, sc.Nodes, sc.Degree, sc.Latency.D(), sc.Jitter.D(), sc.Loss, sc.Seed, max(1, sc.TimeScale))
	var bar *progressbar.ProgressBar
	phase := ""
	progress := func(p string, done, total int) {
		if f.quiet {
			return
		}
		if p != phase || bar == nil {
			if bar != nil {
				_ = bar.Finish()
				fmt.Fprintln(stderr)
			}
			phase = p
			bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription(p),
				progressbar.OptionShowCount(), progressbar.OptionSetWidth(30), progressbar.OptionThrottle(200*time.Millisecond))
		}
		_ = bar.Set(done)
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	rs, err := simnet.Run(ctx, sc, progress)
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(stderr)
	}
	if len(rs) > 0 {
		if werr := writeResults(f.out, sc, rs, time.Since(start)); werr != nil {
			return werr
		}
		printTable(stdout, rs)
	}
	return err
}

func writeResults(dir string, sc simnet.Scenario, rs []*simnet.Result, took time.Duration) error {
	doc := struct {
		Scenario simnet.Scenario  `json:"scenario"`
		Seconds  float64          `json:"wall_seconds"`
		Results  []*simnet.Result `json:"results"`
	}{sc, took.Seconds(), rs}
	data, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		return err
	}
	files := map[string][]byte{
		sc.Name + ".json":               data,
		sc.Name + "-latency-cdf.svg":    simnet.LatencyCDF(rs).SVG(),
		sc.Name + "-deliveries.svg":     simnet.DeliveriesOverTime(rs).SVG(),
		sc.Name + "-bytes-per-node.svg": simnet.BytesPerNode(rs).SVG(),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func printTable(w io.Writer, rs []*simnet.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "variant\tpubs\tdelivery\tp50 ms\tp95 ms\tp99 ms\tmax ms\tdups/deliv\twire/payload\tCPU ms/deliv\tMiB/node\tcomplete\tconverge ms\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%.4f\t%.0f\t%.0f\t%.0f\t%.0f\t%.2f\t%.1f\t%.3f\t%.2f\t%.3f\t%.0f\t\n",
			r.Variant.Name, r.Published, r.DeliveryRatio, r.LatencyP50, r.LatencyP95, r.LatencyP99, r.LatencyMax,
			r.DupsPerDelivery, r.WireBytesPerPayload, r.CPUPerDeliveryMs, r.MemPerNodeMiB, r.Completeness, r.ConvergeMs)
	}
	_ = tw.Flush()
	for _, r := range rs {
		if len(r.Extra) > 0 {
			keys := make([]string, 0, len(r.Extra))
			for k := range r.Extra {
				keys = append(keys, k)
			}
			sortStrings(keys)
			var parts []string
			for _, k := range keys {
				parts = append(parts, fmt.Sprintf("%s=%.4g", k, r.Extra[k]))
			}
			fmt.Fprintf(w, "%s: %s\n", r.Variant.Name, strings.Join(parts, " "))
		}
		if len(r.WireByProtocol) > 0 {
			keys := make([]string, 0, len(r.WireByProtocol))
			for k := range r.WireByProtocol {
				keys = append(keys, k)
			}
			sort.Slice(keys, func(i, j int) bool { return r.WireByProtocol[keys[i]] > r.WireByProtocol[keys[j]] })
			var parts []string
			for _, k := range keys {
				parts = append(parts, fmt.Sprintf("%s %.2f", k, r.WireByProtocol[k]))
			}
			fmt.Fprintf(w, "%s: wire/payload by protocol: %s\n", r.Variant.Name, strings.Join(parts, ", "))
		}
		fmt.Fprintf(w, "%s: setup %.1f s, run %.1f s, CPU %.1f s\n", r.Variant.Name, r.SetupSeconds, r.RunSeconds, r.CPUSeconds)
	}
}

func sortStrings(s []string) { sort.Strings(s) }
