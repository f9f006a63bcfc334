package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// `lyceum backup` works through a running daemon and on a stopped repo;
// `lyceum restore` makes a repo that has the same node and content, and
// refuses to overwrite one.
func TestBackupAndRestoreThroughTheCLI(t *testing.T) {
	dir := t.TempDir()
	repo := filepath.Join(dir, "repo")
	d := startDaemon(t, repo)
	file := writeFile(t, dir, "plan.txt", []byte("a lesson plan\n"))
	c := strings.TrimSpace(mustLyceum(t, repo, "add", "-q", file))
	id := jsonField(t, mustLyceum(t, repo, "id", "--json"), "peer_id")
	online := filepath.Join(dir, "online.tar.gz")
	if out := mustLyceum(t, repo, "backup", "--json", online); jsonField(t, out, "node_id") != id {
		t.Fatalf("backup through the daemon: %s", out)
	}
	d.stop(t)
	offline := filepath.Join(dir, "offline.tar.gz")
	mustLyceum(t, repo, "backup", offline)

	for i, archive := range []string{online, offline} {
		restored := filepath.Join(dir, "restored"+itoa(i))
		mustLyceum(t, restored, "restore", archive)
		if got := jsonField(t, mustLyceum(t, restored, "id", "--json"), "peer_id"); got != id {
			t.Fatalf("restored node %v, want %v", got, id)
		}
		if got := mustLyceum(t, restored, "cat", c); got != "a lesson plan\n" {
			t.Fatalf("cat from the restored repo: %q", got)
		}
		if r := lyceum(t, restored, "restore", archive); r.code != exitConflict {
			t.Fatalf("restore over a repo: exit %d, want %d\n%s", r.code, exitConflict, r.stderr)
		}
	}
	bad := writeFile(t, dir, "bad.tar.gz", []byte("not an archive"))
	if r := lyceum(t, filepath.Join(dir, "never"), "restore", bad); r.code != exitInvalid {
		t.Fatalf("restore of a bad archive: exit %d, want %d\n%s", r.code, exitInvalid, r.stderr)
	}
}
