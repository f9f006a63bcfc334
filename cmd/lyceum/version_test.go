package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/lyceum-oer/lyceum/node"
)

func TestVersionCommit(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	settings := func(kv ...string) *debug.BuildInfo {
		info := &debug.BuildInfo{}
		for i := 0; i < len(kv); i += 2 {
			info.Settings = append(info.Settings, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return info
	}
	for _, tc := range []struct {
		name     string
		info     *debug.BuildInfo
		override string
		want     string
	}{
		{"a clean checkout gives the revision", settings("vcs.revision", rev, "vcs.modified", "false"), "", rev},
		{"a modified work tree adds -dirty", settings("vcs.revision", rev, "vcs.modified", "true"), "", rev + "-dirty"},
		{"the ldflags override wins over the build info", settings("vcs.revision", rev, "vcs.modified", "true"), "v0.1.0", "v0.1.0"},
		{"a build with -buildvcs=false has no commit", settings("-buildvcs", "false"), "", ""},
		{"a binary without build info has no commit", nil, "", ""},
		{"vcs.modified alone is not a commit", settings("vcs.modified", "true"), "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := commitOf(tc.info, tc.override); got != tc.want {
				t.Errorf("commitOf = %q, want %q", got, tc.want)
			}
		})
	}
	if got, want := (versionInfo{Version: "1.2.3"}).String(), "1.2.3 (commit unknown)"; got != want {
		t.Errorf("unknown commit prints %q, want %q", got, want)
	}
}

// versionLine is what the binary prints: the commit is a revision (the
// tests build in a checkout) or "unknown" (CI builds with -buildvcs=false).
var versionLine = regexp.MustCompile(`^lyceum ` + regexp.QuoteMeta(node.Version) + ` \(commit ([0-9a-f]{40}(-dirty)?|unknown)\)\n$`)

func TestVersionCommandAndFlagAgree(t *testing.T) {
	repo := t.TempDir()
	out := mustLyceum(t, repo, "version")
	if !versionLine.MatchString(out) {
		t.Fatalf("lyceum version printed %q, want %s", out, versionLine)
	}
	for _, flag := range []string{"--version", "-v"} {
		if got := mustLyceum(t, repo, flag); got != out {
			t.Errorf("lyceum %s printed %q, want what lyceum version prints: %q", flag, got, out)
		}
	}

	var v versionInfo
	if err := json.Unmarshal([]byte(mustLyceum(t, repo, "version", "--json")), &v); err != nil {
		t.Fatalf("lyceum version --json: %v", err)
	}
	if v.Version != node.Version || v.Go == "" || "lyceum "+v.String()+"\n" != out {
		t.Errorf("lyceum version --json = %+v, does not match %q", v, out)
	}
	if _, err := os.Stat(filepath.Join(repo, "config.toml")); err == nil {
		t.Errorf("lyceum version created a repo")
	}
}

func TestVersionLdflagsSetTheCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary a second time")
	}
	bin := filepath.Join(t.TempDir(), "lyceum")
	build := exec.Command("go", "build", "-o", bin, "-ldflags", "-X main.commit=release-abc123", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("lyceum --version: %v", err)
	}
	if want := "lyceum " + node.Version + " (commit release-abc123)\n"; string(out) != want {
		t.Errorf("lyceum --version printed %q, want %q", out, want)
	}
}

func TestUsageHintNamesTheCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		hint string
	}{
		{"an unknown root flag points to lyceum --help", []string{"--no-such-flag"}, "Run 'lyceum --help' for usage."},
		{"an unknown subcommand flag points to its full path", []string{"pin", "add", "--no-such-flag"}, "Run 'lyceum pin add --help' for usage."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := lyceum(t, t.TempDir(), tc.args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.hint) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, exitUsage, tc.hint)
			}
		})
	}
}
