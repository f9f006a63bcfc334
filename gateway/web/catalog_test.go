package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/lyceum-oer/lyceum/activity"
)

// TestCatalogsAreComplete: English and French have the same keys, each
// with the same fmt verbs in the same order.
func TestCatalogsAreComplete(t *testing.T) {
	c, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	verbs := regexp.MustCompile(`%[sdvq]`)
	en, fr := c.msgs["en"], c.msgs["fr"]
	for k, s := range en {
		f, ok := fr[k]
		if !ok {
			t.Errorf("fr lacks %q", k)
			continue
		}
		if a, b := strings.Join(verbs.FindAllString(s, -1), ""), strings.Join(verbs.FindAllString(f, -1), ""); a != b {
			t.Errorf("%q: en has verbs %q, fr %q", k, a, b)
		}
		if strings.TrimSpace(f) == "" {
			t.Errorf("fr %q is empty", k)
		}
	}
	for k := range fr {
		if _, ok := en[k]; !ok {
			t.Errorf("en lacks %q", k)
		}
	}
}

// TestEveryKeyUsedExists: each key a template or the Go code asks for is
// in the catalogs (a missing one would show as its key).
func TestEveryKeyUsedExists(t *testing.T) {
	c, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	tmpl := regexp.MustCompile(`\b(t|tn) "([a-z0-9_.]+)"`)
	goKey := regexp.MustCompile(`\.(?:t|tn|flash)\("([a-z0-9_.]+)"|"((?:notice|error|form)\.[a-z0-9_.]+)"`)
	err = fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFS.ReadFile(p)
		for _, m := range tmpl.FindAllStringSubmatch(string(b), -1) {
			key := m[2]
			if m[1] == "tn" {
				key += ".one"
				used[m[2]+".other"] = true
			}
			used[key] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	goFiles, _ := filepath.Glob("*.go")
	for _, name := range goFiles {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goKey.FindAllStringSubmatch(string(b), -1) {
			used[m[1]+m[2]] = true
		}
	}
	var missing []string
	for k := range used {
		if _, ok := c.msgs["en"][k]; !ok {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("keys used but not in the catalogs: %v", missing)
	}
}

// TestEveryCodeHasAFrenchName: no subject, level, licence, type or
// audience shows as a code in French.
func TestEveryCodeHasAFrenchName(t *testing.T) {
	c, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range vocabTables {
		for code := range c.vocab["en"][table] {
			if c.vocab["fr"][table][code] == "" {
				t.Errorf("no French name for %s %q", table, code)
			}
		}
	}
	if n := c.name("fr", "level", "1"); n == "" || n == "1" {
		t.Errorf("level 1 in French = %q", n)
	}
	if got := c.languageName("fr", "de"); got != "allemand" {
		t.Errorf("German in French = %q", got)
	}
	if got := c.languageName("en", "fr"); got != "French" {
		t.Errorf("French in English = %q", got)
	}
	if len(activity.Vocab().Subjects) == 0 {
		t.Fatal("no subjects")
	}
}

func TestLanguageMatch(t *testing.T) {
	c, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	for accept, want := range map[string]string{
		"": "en", "fr-CA,fr;q=0.9,en;q=0.8": "fr", "de-DE": "en", "en-GB": "en", strings.Repeat("x", 5000): "en", ";;;,": "en",
	} {
		if got := c.match(accept); got != want {
			t.Errorf("match(%.20q) = %q, want %q", accept, got, want)
		}
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/search?q=x": "/search?q=x", "": "/", "//evil.example/": "/", "/\\evil.example": "/", "https://evil.example/": "/",
		"javascript:alert(1)": "/", "/r/abc": "/r/abc",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}
