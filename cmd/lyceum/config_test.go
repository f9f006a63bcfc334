package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newTestRepo initialises a test-profile repo and returns its path.
func newTestRepo(tb testing.TB) string {
	tb.Helper()
	repo := filepath.Join(tb.TempDir(), "repo")
	mustLyceum(tb, repo, "init", "--profile", "test")
	return repo
}

func TestConfigReadsAndWritesKeys(t *testing.T) {
	repo := newTestRepo(t)
	if got := mustLyceum(t, repo, "config", "http.listen"); got != "127.0.0.1:0\n" {
		t.Errorf("config http.listen = %q", got)
	}
	out := mustLyceum(t, repo, "config", "limits.http_conns_per_ip", "64")
	if !strings.Contains(out, "limits.http_conns_per_ip: 128 -> 64") {
		t.Errorf("set did not say what changed: %q", out)
	}
	if got := mustLyceum(t, repo, "config", "limits.http_conns_per_ip"); got != "64\n" {
		t.Errorf("after set: %q", got)
	}
	mustLyceum(t, repo, "config", "gateway.trusted_proxies", "10.0.0.1, 10.1.0.0/16")
	if got := mustLyceum(t, repo, "config", "gateway.trusted_proxies"); got != `["10.0.0.1","10.1.0.0/16"]`+"\n" {
		t.Errorf("list set with commas reads %q", got)
	}
	mustLyceum(t, repo, "config", "search.timeout", "5s")
	mustLyceum(t, repo, "config", "swarm.conn_low", "--", "0")

	st, err := os.Stat(filepath.Join(repo, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("config.toml has mode %o after set, want 600", st.Mode().Perm())
	}
	// What was written is what the daemon reads: the whole config shows it.
	show := mustLyceum(t, repo, "config", "show")
	for _, want := range []string{"http_conns_per_ip = 64", "timeout = '5s'", "[limits]", "profile = 'test'"} {
		if !strings.Contains(show, want) {
			t.Errorf("config show lacks %q:\n%s", want, show)
		}
	}
	if strings.Contains(show, mustReadToken(t, repo)) {
		t.Error("config show prints the API token")
	}
	var all struct {
		Profile string
		Limits  map[string]any
		Search  map[string]any
	}
	if err := json.Unmarshal([]byte(mustLyceum(t, repo, "config", "show", "--json")), &all); err != nil {
		t.Fatal(err)
	}
	if all.Profile != "test" || all.Limits["http_conns_per_ip"] != float64(64) || all.Search["timeout"] != "5s" {
		t.Errorf("config show --json: %+v", all)
	}
	if v := jsonField(t, mustLyceum(t, repo, "config", "swarm", "--json"), "conn_low"); v != float64(0) {
		t.Errorf("config swarm --json: conn_low = %v", v)
	}
	if got := mustLyceum(t, repo, "config"); !strings.Contains(got, "lyceum config KEY VALUE") {
		t.Errorf("config without arguments does not show the help:\n%s", got)
	}
}

func mustReadToken(tb testing.TB, repo string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(repo, "api.token"))
	if err != nil {
		tb.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestConfigRefusesWithTheRightExitCode(t *testing.T) {
	repo := newTestRepo(t)
	before, _ := os.ReadFile(filepath.Join(repo, "config.toml"))
	tests := []struct {
		name string
		repo string
		args []string
		code int
		want string
	}{
		{"a misspelt key is named with the key meant", repo, []string{"config", "http.listn"}, exitInvalid, `unknown key "http.listn" (did you mean http.listen?)`},
		{"a misspelt key is refused when set", repo, []string{"config", "limits.http_conn_per_ip", "3"}, exitInvalid, "did you mean limits.http_conns_per_ip?"},
		{"a value of the wrong type", repo, []string{"config", "swarm.conn_low", "many"}, exitInvalid, "not a whole number"},
		{"a value the node refuses", repo, []string{"config", "limits.http_conns_per_ip", "--", "-1"}, exitInvalid, "limits.http_conns_per_ip: -1 is negative"},
		{"a bad duration", repo, []string{"config", "search.timeout", "soon"}, exitInvalid, "not a duration"},
		{"a table set as a value", repo, []string{"config", "limits", "1"}, exitInvalid, "is a table"},
		{"the profile key set directly", repo, []string{"config", "profile", "hq"}, exitUsage, "lyceum config profile apply hq"},
		{"too many arguments", repo, []string{"config", "a", "b", "c"}, exitUsage, "want KEY"},
		{"no repo", filepath.Join(t.TempDir(), "none"), []string{"config", "http.listen"}, exitNotFound, "no Lyceum repo"},
		{"no repo for show", filepath.Join(t.TempDir(), "none"), []string{"config", "show"}, exitNotFound, "no Lyceum repo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := lyceum(t, tt.repo, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d\n%s", r.code, tt.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr does not say %q:\n%s", tt.want, r.stderr)
			}
		})
	}
	if after, _ := os.ReadFile(filepath.Join(repo, "config.toml")); string(after) != string(before) {
		t.Error("a refused change touched config.toml")
	}
}

// A typo in config.toml itself names the key meant, for every command.
func TestConfigFileTypoSuggestsTheKey(t *testing.T) {
	repo := newTestRepo(t)
	path := filepath.Join(repo, "config.toml")
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), "\nconn_low =", "\nconn_lo =", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"config", "show"}, {"id"}} {
		r := lyceum(t, repo, args...)
		if r.code != exitInvalid || !strings.Contains(r.stderr, `unknown key "swarm.conn_lo" (did you mean swarm.conn_low?)`) {
			t.Errorf("lyceum %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
		if strings.Contains(r.stderr, "missing") {
			t.Errorf("lyceum %s speaks of missing fields:\n%s", strings.Join(args, " "), r.stderr)
		}
	}
}

func TestConfigProfileApply(t *testing.T) {
	repo := newTestRepo(t)
	mustLyceum(t, repo, "config", "http.listen", "127.0.0.1:5999")
	dry := mustLyceum(t, repo, "config", "profile", "apply", "hq", "--dry-run")
	if !strings.Contains(dry, "would apply") || !strings.Contains(dry, "search.indexer: false -> true") {
		t.Errorf("dry run:\n%s", dry)
	}
	if got := mustLyceum(t, repo, "config", "profile"); got != "test\n" {
		t.Errorf("a dry run changed the profile to %q", got)
	}
	out := mustLyceum(t, repo, "config", "profile", "apply", "hq")
	for _, want := range []string{"profile: test -> hq", "dht.mode: auto -> server", "search.indexer: false -> true"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "http.listen") {
		t.Errorf("apply hq touched http.listen:\n%s", out)
	}
	if got := mustLyceum(t, repo, "config", "search.indexer"); got != "true\n" {
		t.Errorf("search.indexer = %q after apply hq", got)
	}
	if got := mustLyceum(t, repo, "config", "http.listen"); got != "127.0.0.1:5999\n" {
		t.Errorf("http.listen = %q after apply hq", got)
	}
	if again := mustLyceum(t, repo, "config", "profile", "apply", "hq"); !strings.Contains(again, "nothing to change") {
		t.Errorf("applying twice:\n%s", again)
	}
	var res struct {
		Changes []struct {
			Key      string
			Old, New any
		}
		RestartDaemon bool `json:"restart_daemon"`
	}
	if err := json.Unmarshal([]byte(mustLyceum(t, repo, "config", "profile", "apply", "desktop", "--json")), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) == 0 || res.Changes[0].Key != "profile" || res.Changes[0].New != "desktop" {
		t.Errorf("apply desktop --json: %+v", res)
	}
	if r := lyceum(t, repo, "config", "profile", "apply", "laptop"); r.code != exitInvalid || !strings.Contains(r.stderr, "unknown profile") {
		t.Errorf("unknown profile: exit %d\n%s", r.code, r.stderr)
	}
}

// --profile names the profile of a new repo: on an existing repo with
// another profile, the daemon refuses and says how to change it, and a
// change made while a daemon runs says it waits for a restart.
func TestDaemonProfileOnExistingRepo(t *testing.T) {
	repo := newTestRepo(t)
	r := lyceum(t, repo, "daemon", "--profile", "hq")
	if r.code != exitInvalid || !strings.Contains(r.stderr, "lyceum config profile apply hq") {
		t.Fatalf("daemon --profile hq on a test repo: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	startDaemon(t, repo) // --profile test: the repo's own, accepted
	out := mustLyceum(t, repo, "config", "limits.actor_keys", "1000")
	if !strings.Contains(out, "takes effect when it restarts") {
		t.Errorf("a change under a running daemon does not say it waits for a restart:\n%s", out)
	}
}
