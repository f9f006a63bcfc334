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
	// Another person follows the collection by its ID, and stops.
	mustLyceum(t, repo, "actor", "create", "bea")
	if out := mustLyceum(t, repo, "follow", col, "--as", "bea"); !strings.Contains(out, "following collection "+col) {
		t.Fatalf("follow a collection: %s", out)
	}
	mustLyceum(t, repo, "unfollow", col, "--as", "bea")
	if r := lyceum(t, repo, "unfollow", col, "--as", "bea"); r.code != exitNotFound {
		t.Fatalf("unfollow twice: exit %d %s", r.code, r.stderr)
	}
	if r := lyceum(t, repo, "follow", col, "--as", "alice"); r.code != exitInvalid {
		t.Fatalf("follow one's own collection: exit %d %s", r.code, r.stderr)
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

// Two daemons federating over HTTPS: a locked person approves a follower
// from the CLI, and a collection, followed from the other node like any
// Group, boosts the resource added to it.
func TestLockedActorAndCollectionAcrossTwoDaemons(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two daemons")
	}
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	t.Setenv("SSL_CERT_FILE", certFile)
	addrA, addrB := freeAddr(t), freeAddr(t)
	repoA := fediverseRepo(t, addrA, certFile, keyFile)
	repoB := fediverseRepo(t, addrB, certFile, keyFile)
	startDaemon(t, repoA, "--offline", "--http", addrA)
	startDaemon(t, repoB, "--offline", "--http", addrB)
	mustLyceum(t, repoA, "actor", "create", "alice")
	mustLyceum(t, repoB, "actor", "create", "bob")
	aliceURL := "https://" + addrA + "/ap/users/alice"
	bobURL := "https://" + addrB + "/ap/users/bob"
	following := func(who string) string {
		var f map[string]string
		_ = json.Unmarshal([]byte(mustLyceum(t, repoB, "fediverse", "following", "bob", "--json")), &f)
		return f[who]
	}

	mustLyceum(t, repoA, "fediverse", "lock", "alice")
	mustLyceum(t, repoB, "fediverse", "follow", "--as", "bob", "alice@"+addrA)
	waitCLI(t, "bob's request on A", func() bool {
		return strings.Contains(mustLyceum(t, repoA, "fediverse", "requests", "alice"), bobURL)
	})
	if st := following(aliceURL); st == "accepted" {
		t.Fatal("a locked actor accepted a follow by itself")
	}
	if r := lyceum(t, repoA, "fediverse", "approve", "alice", "https://"+addrB+"/ap/users/nobody"); r.code != exitNotFound {
		t.Fatalf("approve of no request: exit %d %s", r.code, r.stderr)
	}
	mustLyceum(t, repoA, "fediverse", "approve", "alice", bobURL)
	waitCLI(t, "the follow accepted on B", func() bool { return following(aliceURL) == "accepted" })
	if out := mustLyceum(t, repoA, "fediverse", "requests", "alice"); strings.Contains(out, bobURL) {
		t.Fatalf("request still listed: %s", out)
	}

	out := mustLyceum(t, repoA, "publish", "https://example.org/fractions", "--as", "alice", "--title", "Fractions worksheet",
		"--license", "CC-BY-4.0", "--language", "en", "--json")
	id := jsonField(t, out, "id").(string)
	col := jsonField(t, mustLyceum(t, repoA, "collection", "create", "Starter pack", "--as", "alice", "--json"), "id").(string)
	collURL := "https://" + addrA + "/ap/users/starter-pack"
	mustLyceum(t, repoB, "fediverse", "follow", "--as", "bob", "starter-pack@"+addrA)
	waitCLI(t, "the collection's follow accepted", func() bool { return following(collURL) == "accepted" })
	mustLyceum(t, repoA, "collection", "add", col, id)
	waitCLI(t, "the collection's boost on B", func() bool {
		var its []map[string]any
		_ = json.Unmarshal([]byte(mustLyceum(t, repoB, "fediverse", "timeline", "--json")), &its)
		for _, it := range its {
			if it["kind"] == "boost" && it["actor"] == collURL && strings.HasSuffix(it["object"].(string), "/ap/resources/"+id) {
				return true
			}
		}
		return false
	})
}
