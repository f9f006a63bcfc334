package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const (
	adaPassword = "correct horse battery staple"
	bobPassword = "a long enough passphrase"
)

// lyceumIn runs the binary on repo with stdin as its standard input.
func lyceumIn(tb testing.TB, repo, stdin string, args ...string) result {
	tb.Helper()
	cmd := exec.Command(lyceumBin, args...)
	cmd.Env = append(os.Environ(), "LYCEUM_PATH="+repo)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		tb.Fatalf("run lyceum %v: %v", args, err)
	}
	return result{out.String(), errOut.String(), code}
}

func mustLyceumIn(tb testing.TB, repo, stdin string, args ...string) string {
	tb.Helper()
	r := lyceumIn(tb, repo, stdin, args...)
	if r.code != 0 {
		tb.Fatalf("lyceum %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func decodeJSON[T any](tb testing.TB, out string) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		tb.Fatalf("not JSON: %v\n%s", err, out)
	}
	return v
}

// Without a daemon, the account commands work on the repo: accounts,
// roles, passwords, tokens, registration and invitations, with clear
// errors and exit codes.
func TestUserCommandsOnTheRepo(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	mustLyceum(t, repo, "init", "--profile", "test")
	out := mustLyceumIn(t, repo, adaPassword+"\n", "user", "add", "--admin", "--password-stdin", "ada", "--json")
	if jsonField(t, out, "role") != "admin" || jsonField(t, out, "actor") == "" {
		t.Fatalf("user add --admin: %s", out)
	}
	out = mustLyceumIn(t, repo, bobPassword+"\r\n", "user", "add", "bob", "--display-name", "Bob Martin", "--password-stdin")
	if !strings.Contains(out, "member account bob (active)") {
		t.Fatalf("user add: %s", out)
	}
	list := decodeJSON[[]map[string]any](t, mustLyceum(t, repo, "user", "list", "--json"))
	if len(list) != 2 || list[1]["display_name"] != "Bob Martin" {
		t.Fatalf("user list: %v", list)
	}
	if !strings.Contains(mustLyceum(t, repo, "actor", "ls"), "bob") {
		t.Fatal("bob's person is not among the node's actors")
	}
	mustLyceum(t, repo, "user", "role", "bob", "moderator")
	mustLyceum(t, repo, "user", "disable", "bob")
	if out := mustLyceum(t, repo, "user", "list", "--status", "disabled"); !strings.Contains(out, "bob") || strings.Contains(out, "ada") {
		t.Fatalf("user list --status disabled:\n%s", out)
	}
	mustLyceum(t, repo, "user", "enable", "bob")
	mustLyceumIn(t, repo, "another long passphrase\n", "user", "passwd", "bob", "--password-stdin")

	secret := strings.TrimSpace(mustLyceum(t, repo, "user", "token", "create", "bob", "backup script"))
	if !regexp.MustCompile(`^lyc_[A-Za-z0-9_-]{43}$`).MatchString(secret) {
		t.Fatalf("token create printed %q", secret)
	}
	toks := decodeJSON[[]map[string]any](t, mustLyceum(t, repo, "user", "token", "list", "bob", "--json"))
	if len(toks) != 1 || toks[0]["name"] != "backup script" || strings.Contains(mustLyceum(t, repo, "user", "token", "list", "bob"), secret) {
		t.Fatalf("token list: %v", toks)
	}
	mustLyceum(t, repo, "user", "token", "revoke", "bob", "1")

	if out := mustLyceum(t, repo, "registration"); out != "registration: invitation\n" {
		t.Fatalf("registration: %q", out)
	}
	mustLyceum(t, repo, "registration", "approval")
	if jsonField(t, mustLyceum(t, repo, "registration", "--json"), "mode") != "approval" {
		t.Fatal("the mode did not change")
	}
	code := strings.TrimSpace(mustLyceum(t, repo, "invite", "--role", "moderator", "--days", "3", "--note", "for Carol"))
	if len(code) != 22 {
		t.Fatalf("invite printed %q", code)
	}
	invs := decodeJSON[[]map[string]any](t, mustLyceum(t, repo, "invite", "list", "--json"))
	if len(invs) != 1 || invs[0]["role"] != "moderator" || invs[0]["note"] != "for Carol" {
		t.Fatalf("invite list: %v", invs)
	}
	mustLyceum(t, repo, "invite", "revoke", "1")

	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		says  string
	}{
		{"no terminal for the password", "", []string{"user", "add", "carol"}, exitUsage, "--password-stdin"},
		{"a weak password", "password\n", []string{"user", "add", "carol", "--password-stdin"}, exitInvalid, "password"},
		{"no password at all", "\n", []string{"user", "add", "carol", "--password-stdin"}, exitInvalid, "no password"},
		{"a taken username", bobPassword, []string{"user", "add", "bob", "--password-stdin"}, exitConflict, "taken"},
		{"--admin with another role", bobPassword, []string{"user", "add", "carol", "--admin", "--role", "member", "--password-stdin"}, exitUsage, "disagree"},
		{"an unknown role", "", []string{"user", "role", "bob", "owner"}, exitInvalid, "choose admin, moderator or member"},
		{"the last admin", "", []string{"user", "disable", "ada"}, exitConflict, "active administrator"},
		{"an unknown account", bobPassword, []string{"user", "passwd", "nobody", "--password-stdin"}, exitNotFound, "no account"},
		{"a bad token ID", "", []string{"user", "token", "revoke", "bob", "one"}, exitUsage, "token ID"},
		{"an unknown mode", "", []string{"registration", "sometimes"}, exitInvalid, "choose open"},
		{"two modes", "", []string{"registration", "open", "closed"}, exitUsage, "at most one"},
		{"a long invitation", "", []string{"invite", "--days", "365"}, exitInvalid, "1 to 90 days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := lyceumIn(t, repo, tt.stdin, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.says) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", r.code, tt.code, r.stderr, tt.says)
			}
		})
	}
	for _, cmd := range [][]string{{"user"}, {"user", "add"}, {"user", "token", "create"}, {"registration"}, {"invite"}} {
		if out := mustLyceum(t, repo, append(cmd, "--help")...); !strings.Contains(out, "Usage:") {
			t.Errorf("%v --help: %s", cmd, out)
		}
	}
}

// With a daemon running, the commands go through its API; a fresh
// node's daemon prints the setup link until it has an admin, and a
// token made from the CLI calls the API as its account.
func TestUserCommandsThroughTheDaemon(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	d := startDaemon(t, repo)
	mustLyceumIn(t, repo, adaPassword+"\n", "user", "add", "--admin", "--password-stdin", "ada")
	secret := strings.TrimSpace(mustLyceum(t, repo, "user", "token", "create", "ada", "script"))
	addr, err := os.ReadFile(filepath.Join(repo, "api"))
	if err != nil {
		t.Fatal(err)
	}
	me := func() (int, string) {
		req, _ := http.NewRequest(http.MethodGet, strings.TrimSpace(string(addr))+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	if status, body := me(); status != http.StatusOK || !strings.Contains(body, `"username": "ada"`) {
		t.Fatalf("GET /api/v1/me with the CLI's token: %d %s", status, body)
	}
	mustLyceum(t, repo, "user", "token", "revoke", "ada", "1")
	if status, _ := me(); status != http.StatusUnauthorized {
		t.Fatalf("a revoked token: %d", status)
	}
	d.stop(t)
	if !regexp.MustCompile(`Open http://127\.0\.0\.1:\d+/setup\?token=[A-Za-z0-9_-]{43} to create this node's first admin \(valid until `).MatchString(d.stderr.String()) {
		t.Fatalf("the daemon did not print the setup link:\n%s", d.stderr)
	}
	again := startDaemon(t, repo)
	again.stop(t)
	if strings.Contains(again.stderr.String(), "/setup?token=") {
		t.Fatalf("a node with an admin printed a setup link:\n%s", again.stderr)
	}
}
