package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/lyceum-oer/lyceum/node"
)

// commit is the VCS revision a release build sets with
//
//	go build -ldflags "-X main.commit=$(git rev-parse HEAD)" ./cmd/lyceum
//
// It is the one package-level variable of the command, because -X can set
// nothing else, and nothing writes it at run time. Empty, the revision comes
// from the build info that `go build` records in a git checkout.
var commit string

// unknownCommit is what the version says when the build recorded no
// revision: -buildvcs=false (as in CI), a build outside a checkout, or
// `go run` of a module without VCS stamping.
const unknownCommit = "unknown"

// versionInfo is what `lyceum version` and `lyceum --version` report.
type versionInfo struct {
	// Version is the Lyceum release (node.Version).
	Version string `json:"version"`
	// Commit is the git revision, with "-dirty" when the work tree had
	// changes, or "" when unknown.
	Commit string `json:"commit"`
	// Go is the toolchain the binary was built with.
	Go string `json:"go"`
}

// String is the one-line form both `lyceum version` and `lyceum --version`
// print after "lyceum ".
func (v versionInfo) String() string {
	c := v.Commit
	if c == "" {
		c = unknownCommit
	}
	return fmt.Sprintf("%s (commit %s)", v.Version, c)
}

// currentVersion describes this binary.
func currentVersion() versionInfo {
	info, _ := debug.ReadBuildInfo()
	return versionInfo{Version: node.Version, Commit: commitOf(info, commit), Go: runtime.Version()}
}

// commitOf picks the revision: the -ldflags override when set, else the
// build info's vcs.revision with "-dirty" when vcs.modified is true, else ""
// (unknown). info may be nil (a binary built without module support).
func commitOf(info *debug.BuildInfo, override string) string {
	if override != "" {
		return override
	}
	if info == nil {
		return ""
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" && dirty {
		rev += "-dirty"
	}
	return rev
}

// setVersion wires `lyceum --version` (and -v) to print what `lyceum
// version` prints.
func setVersion(root *cobra.Command, v versionInfo) {
	root.Version = v.String()
	root.SetVersionTemplate("lyceum {{.Version}}\n")
}

func (a *app) versionCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version and the commit it was built from",
		Long: `Print the Lyceum version and the git commit the binary was built from
("-dirty" when the work tree had changes; "unknown" when the build recorded
none, as with -buildvcs=false). 'lyceum --version' prints the same line.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			v := currentVersion()
			if a.jsonOut {
				return a.printJSON(v)
			}
			_, err := fmt.Fprintf(a.stdout, "lyceum %s\n", v)
			return err
		},
	}
	a.addJSONFlag(cmd)
	return cmd
}
