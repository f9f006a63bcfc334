package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The rough edges a new operator hit (issue 20), each as it was met.
func TestRoughEdges(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	mustLyceum(t, repo, "init", "--profile", "test")

	t.Run("an unknown command is a usage error", func(t *testing.T) {
		r := lyceum(t, repo, "nosuch")
		if r.code != exitUsage || !strings.Contains(r.stderr, `unknown command "nosuch"`) || !strings.Contains(r.stderr, "lyceum --help") {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	})
	t.Run("empty lists say so on stderr, and print nothing on stdout", func(t *testing.T) {
		for _, args := range [][]string{{"pin", "ls"}, {"actor", "ls"}, {"collection", "ls"}} {
			r := lyceum(t, repo, args...)
			if r.code != 0 || r.stdout != "" || strings.TrimSpace(r.stderr) == "" {
				t.Errorf("%v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
			}
		}
	})
	t.Run("a bad CAR says what failed once", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.car")
		if err := os.WriteFile(bad, []byte("not a CAR at all"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := lyceum(t, repo, "car", "import", bad)
		if r.code != exitInvalid || strings.Count(r.stderr, "import CAR") != 1 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	})
	mustLyceum(t, repo, "actor", "create", "alice", "--name", "Alice Martin")
	t.Run("publish errors speak the request's words", func(t *testing.T) {
		r := lyceum(t, repo, "publish", "https://example.org/x", "--title", "Fractions", "--language", "en")
		if r.code != exitInvalid || !strings.Contains(r.stderr, "license: is required") || strings.Contains(r.stderr, "object.") || strings.Contains(r.stderr, "sign Create") {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	})
	out := mustLyceum(t, repo, "publish", "https://example.org/fractions", "--title", "Fractions", "--license", "CC-BY-4.0",
		"--language", "fr", "--subject", "0541", "--level", "2", "--type", "assessment", "--json")
	id := jsonField(t, out, "id").(string)
	mustLyceum(t, repo, "update", id, "--title", "Fractions, revised")
	t.Run("show names every code and the author", func(t *testing.T) {
		show := mustLyceum(t, repo, "show", id)
		for _, want := range []string{"Fractions, revised", "Alice Martin (alice@", "CC-BY-4.0 — Creative Commons Attribution 4.0 International",
			"fr — French", "0541 — Mathematics", "2 — Lower secondary education", "assessment — Assessment", "https://example.org/fractions", "v2", "v1"} {
			if !strings.Contains(show, want) {
				t.Errorf("show lacks %q:\n%s", want, show)
			}
		}
		if strings.Contains(show, "did:key") {
			t.Errorf("show names the author by DID:\n%s", show)
		}
	})
	t.Run("search names the author and every facet", func(t *testing.T) {
		out := mustLyceum(t, repo, "search", "fractions")
		// The index may not have the second version yet: the resource is
		// found by its ID.
		for _, want := range []string{"id " + id, "by Alice Martin (alice@", "fr — French", "0541 — Mathematics", "language (--language):"} {
			if !strings.Contains(out, want) {
				t.Errorf("search lacks %q:\n%s", want, out)
			}
		}
	})
}

func TestFacetsAreNamed(t *testing.T) {
	for _, c := range []struct{ facet, term, want string }{
		{"language", "fr", "fr — French"},
		{"subject", "0541", "0541 — Mathematics"},
		{"license", "CC0-1.0", "CC0-1.0 — Creative Commons Zero v1.0 Universal"},
		{"level", "2", "2 — Lower secondary education"},
		{"type", "assessment", "assessment — Assessment"},
		{"kind", "resource", "resource"},
		{"subject", "12345", "12345"},
	} {
		if got := facetLabel(c.facet, c.term); got != c.want {
			t.Errorf("facetLabel(%s, %s) = %q, want %q", c.facet, c.term, got, c.want)
		}
	}
}
