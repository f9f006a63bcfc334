package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// `lyceum doctor` passes a new repo offline (network checks skipped, with
// what to do) and asks the daemon while one runs.
func TestDoctorThroughTheCLI(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	mustLyceum(t, repo, "init", "--profile", "test")
	out := mustLyceum(t, repo, "doctor", "--json")
	if jsonField(t, out, "ok") != true {
		t.Fatalf("doctor on a new repo: %s", out)
	}
	d := startDaemon(t, repo)
	defer d.stop(t)
	if out := mustLyceum(t, repo, "doctor"); !strings.Contains(out, "[ok]") || !strings.Contains(out, "reachability") {
		t.Fatalf("doctor through the daemon: %s", out)
	}
}
