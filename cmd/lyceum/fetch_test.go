package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nobodyHas is a CID no test node holds (the raw block of "nobody has me").
const nobodyHas = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"

// A CID that no reachable peer has: cat, get and pin say so after
// limits.find_timeout, with the not-found exit code, instead of waiting.
func TestFetchOfACIDNobodyHasSaysSo(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	mustLyceum(t, repo, "init", "--profile", "test")
	mustLyceum(t, repo, "config", "limits.find_timeout", "1s")
	startDaemon(t, repo)
	for _, args := range [][]string{{"cat", nobodyHas}, {"get", nobodyHas, "-o", filepath.Join(t.TempDir(), "x")}, {"pin", "add", nobodyHas}} {
		start := time.Now()
		r := lyceum(t, repo, args...)
		if r.code != exitNotFound || !strings.Contains(r.stderr, "no provider found for "+nobodyHas+" after 1s; is a peer that has it online?") {
			t.Errorf("lyceum %s: exit %d, %q", strings.Join(args, " "), r.code, r.stderr)
		}
		if strings.Count(r.stderr, nobodyHas) > 2 {
			t.Errorf("lyceum %s repeats itself: %q", args[0], r.stderr)
		}
		if took := time.Since(start); took > 20*time.Second {
			t.Errorf("lyceum %s took %s", args[0], took)
		}
	}
}

// Ctrl-C during a fetch says "interrupted" and exits 130: it does not
// blame the daemon, which is fine.
func TestInterruptedFetchDoesNotBlameTheDaemon(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	startDaemon(t, repo)
	for _, args := range [][]string{{"cat", nobodyHas}, {"get", nobodyHas, "-o", filepath.Join(t.TempDir(), "x")}} {
		cmd := exec.Command(lyceumBin, args...)
		cmd.Env = append(os.Environ(), "LYCEUM_PATH="+repo)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // the request is with the daemon by now
		_ = cmd.Process.Signal(syscall.SIGINT)
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInterrupted {
			t.Errorf("interrupted %s: %v, want exit %d", args[0], err, exitInterrupted)
		}
		if got := strings.TrimSpace(stderr.String()); got != "lyceum: interrupted" {
			t.Errorf("interrupted %s says %q", args[0], got)
		}
	}
	mustLyceum(t, repo, "id") // and the daemon still answers
}
