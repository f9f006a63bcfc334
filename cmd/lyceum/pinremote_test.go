package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lyceum-oer/lyceum/node"
)

// A Lyceum node pins to another one through `lyceum pin remote`: the
// service and its token are kept in the repo (0600, the token never
// printed), `pin remote add` waits until the other node has fetched the
// file from this one (which it dials from the request's origins), ls
// lists it, rm unpins it there; bad input gets the usual exit codes.
func TestPinRemoteToAnotherLyceumNode(t *testing.T) {
	server := filepath.Join(t.TempDir(), "server")
	mustLyceum(t, server, "init", "--profile", "test")
	mustLyceumIn(t, server, adaPassword+"\n", "user", "add", "--password-stdin", "ada")
	token := strings.TrimSpace(mustLyceum(t, server, "user", "token", "create", "ada", "pins from the school", "--scope", "pinning"))
	if !strings.HasPrefix(token, "lyp_") {
		t.Fatalf("a pinning token: %q", token)
	}
	startDaemon(t, server)
	addr, _, err := node.ReadAPI(server)
	if err != nil {
		t.Fatal(err)
	}
	endpoint := addr + "/api/pinning/v1"

	school := filepath.Join(t.TempDir(), "school")
	startDaemon(t, school)
	c := strings.TrimSpace(mustLyceum(t, school, "add", "-q", writeFile(t, t.TempDir(), "lesson.pdf", pseudoRandom(3<<20, 9))))

	mustLyceum(t, school, "pin", "remote", "service", "add", "main", endpoint, token)
	mustLyceum(t, school, "pin", "remote", "service", "add", "wrong", endpoint, "lyp_"+strings.Repeat("A", 43))
	full := strings.TrimSpace(mustLyceum(t, server, "user", "token", "create", "ada", "everything"))
	mustLyceum(t, school, "pin", "remote", "service", "add", "full", endpoint, full)
	if st, err := os.Stat(filepath.Join(school, "pin-services.json")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("services file: %v %v", st.Mode(), err)
	}
	if out := mustLyceum(t, school, "pin", "remote", "service", "ls", "--json"); strings.Contains(out, token) || !strings.Contains(out, endpoint) {
		t.Fatalf("service ls --json: %s", out)
	}
	if out := mustLyceum(t, school, "pin", "remote", "add", c, "--service", "main", "--name", "lesson"); !strings.Contains(out, "pinned") {
		t.Fatalf("pin remote add: %s", out)
	}
	if !strings.Contains(mustLyceum(t, server, "pin", "ls"), c) {
		t.Fatal("the server has no pin of the file")
	}
	if out := mustLyceum(t, school, "pin", "remote", "ls", "--service", "main", "--json"); !strings.Contains(out, c) || !strings.Contains(out, `"lesson"`) {
		t.Fatalf("pin remote ls: %s", out)
	}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"pin", "remote", "add", "not-a-cid", "--service", "main"}, exitInvalid},
		{[]string{"pin", "remote", "ls", "--service", "nowhere"}, exitNotFound},
		{[]string{"pin", "remote", "ls", "--service", "wrong"}, exitDenied},
		{[]string{"pin", "remote", "ls", "--service", "main", "--status", "done"}, exitInvalid},
		{[]string{"pin", "remote", "service", "add", "main", endpoint, token}, exitConflict},
		{[]string{"pin", "remote", "service", "add", "x", "ftp://example.org", token}, exitInvalid},
		{[]string{"pin", "remote", "rm", "--service", "main"}, exitUsage},
		{[]string{"pin", "remote", "ls", "--service", "full"}, exitDenied},
	} {
		if r := lyceum(t, school, tc.args...); r.code != tc.code || strings.Contains(r.stdout+r.stderr, token) {
			t.Errorf("lyceum %s: exit %d, want %d\n%s%s", strings.Join(tc.args, " "), r.code, tc.code, r.stdout, r.stderr)
		}
	}
	mustLyceum(t, school, "pin", "remote", "rm", "--service", "main", "--cid", c)
	if strings.Contains(mustLyceum(t, server, "pin", "ls"), c) {
		t.Fatal("pin remote rm left the pin on the server")
	}
	mustLyceum(t, school, "pin", "remote", "service", "rm", "wrong")
	if out := mustLyceum(t, school, "pin", "remote", "service", "ls"); strings.Contains(out, "wrong") || !strings.Contains(out, "main") {
		t.Fatalf("service ls after rm: %s", out)
	}
}
