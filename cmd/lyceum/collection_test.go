package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// Collections work on the repo offline and through a running daemon's
// API, with the usual exit codes.
func TestCollectionCommands(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	mustLyceum(t, repo, "init", "--profile", "test")
	mustLyceum(t, repo, "actor", "create", "alice")
	publish := func(title string) string {
		out := mustLyceum(t, repo, "publish", "https://example.org/"+strings.ToLower(title), "--title", title,
			"--license", "CC-BY-4.0", "--language", "en", "--json")
		return jsonField(t, out, "id").(string)
	}
	a, b := publish("Fractions"), publish("Decimals")
	// Offline.
	col := jsonField(t, mustLyceum(t, repo, "collection", "create", "Number sense", "--summary", "Year 6", "--json"), "id").(string)
	mustLyceum(t, repo, "collection", "add", col, b)
	mustLyceum(t, repo, "collection", "add", col, a, "--as", "alice")
	if out := mustLyceum(t, repo, "collection", "add", col, a); !strings.Contains(out, "unchanged") {
		t.Fatalf("second add: %s", out)
	}
	show := mustLyceum(t, repo, "collection", "show", col)
	if i, j := strings.Index(show, "Decimals"), strings.Index(show, "Fractions"); i < 0 || j < i {
		t.Fatalf("show:\n%s", show)
	}
	if r := lyceum(t, repo, "collection", "remove", col, "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"); r.code != exitNotFound {
		t.Fatalf("remove of an absent item: exit %d %s", r.code, r.stderr)
	}
	if r := lyceum(t, repo, "collection", "create", "x"); r.code != exitInvalid {
		t.Fatalf("too short a title: exit %d %s", r.code, r.stderr)
	}
	if r := lyceum(t, repo, "collection", "add", col); r.code != exitUsage {
		t.Fatalf("missing argument: exit %d", r.code)
	}
	// Through the daemon.
	startDaemon(t, repo)
	mustLyceum(t, repo, "collection", "remove", col, b)
	mustLyceum(t, repo, "collection", "update", col, "--title", "Number sense (Y6)")
	var v struct {
		Title   string `json:"title"`
		Entries []struct {
			ResourceID string `json:"resource_id"`
		} `json:"entries"`
	}
	if err := json.Unmarshal([]byte(mustLyceum(t, repo, "collection", "show", col, "--json")), &v); err != nil {
		t.Fatal(err)
	}
	if v.Title != "Number sense (Y6)" || len(v.Entries) != 1 || v.Entries[0].ResourceID != a {
		t.Fatalf("show --json: %+v", v)
	}
	var ls []map[string]any
	json.Unmarshal([]byte(mustLyceum(t, repo, "collection", "ls", "alice", "--json")), &ls)
	if len(ls) != 1 || ls[0]["id"] != col || ls[0]["items"] != 1.0 {
		t.Fatalf("ls: %v", ls)
	}
	if r := lyceum(t, repo, "collection", "show", "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"); r.code != exitNotFound {
		t.Fatalf("show unknown: exit %d %s", r.code, r.stderr)
	}
	mustLyceum(t, repo, "collection", "delete", col)
	if out := mustLyceum(t, repo, "collection", "ls"); strings.Contains(out, col) {
		t.Fatalf("deleted collection listed: %s", out)
	}
}
