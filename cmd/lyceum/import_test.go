package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/gateway"
	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
)

// readImport decodes `lyceum import-resources --json`.
func readImport(tb testing.TB, out string) importReport {
	tb.Helper()
	var rep importReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		tb.Fatalf("not an import report: %v\n%s", err, out)
	}
	return rep
}

// lineOf is the report of one line.
func lineOf(tb testing.TB, rep importReport, line int) importLine {
	tb.Helper()
	for _, l := range rep.Lines {
		if l.Line == line {
			return l
		}
	}
	tb.Fatalf("no line %d in the report: %+v", line, rep.Lines)
	return importLine{}
}

// apiClient is a client of the daemon on repo with the node's token.
func apiClient(tb testing.TB, repo string) *gateway.Client {
	tb.Helper()
	addr, token, err := node.ReadAPI(repo)
	if err != nil {
		tb.Fatal(err)
	}
	return gateway.NewClient(addr, token)
}

// importFixture is a daemon with an account alice, a folder of files and
// a web server of files on loopback.
type importFixture struct {
	repo, dir string
	secret    string // a file outside dir
	web       *httptest.Server
	client    *gateway.Client
	// slow is closed the first time /slow.pdf is asked for; that answer
	// waits until the request is cut, the next ones come at once.
	slow     chan struct{}
	slowOnce sync.Once
}

func newImportFixture(t *testing.T) *importFixture {
	t.Helper()
	f := &importFixture{repo: filepath.Join(t.TempDir(), "repo"), dir: t.TempDir(), slow: make(chan struct{})}
	startDaemon(t, f.repo)
	mustLyceumIn(t, f.repo, "correct horse battery staple\n", "user", "add", "alice", "--display-name", "Alice Martin", "--password-stdin")
	f.client = apiClient(t, f.repo)
	if err := os.MkdirAll(filepath.Join(f.dir, "files"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(f.dir, "files"), "fractions.pdf", pseudoRandom(300<<10, 7))
	writeFile(t, filepath.Join(f.dir, "files"), "atoms.pdf", pseudoRandom(20<<10, 8))
	f.secret = writeFile(t, t.TempDir(), "secret.txt", []byte("not for the manifest"))
	f.web = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cells.pdf":
			w.Header().Set("Content-Disposition", `attachment; filename="../../cells.pdf"`)
			w.Write(pseudoRandom(50<<10, 9))
		case "/big.bin":
			w.Write(pseudoRandom(200<<10, 10))
		case "/slow.pdf":
			first := false
			f.slowOnce.Do(func() { first = true; close(f.slow) })
			if first {
				<-r.Context().Done()
				return
			}
			w.Write(pseudoRandom(10<<10, 11))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.web.Close)
	return f
}

func (f *importFixture) drafts(t *testing.T) []api.Draft {
	t.Helper()
	ds, err := f.client.Drafts(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// A CSV manifest with MoodleNet's codes becomes drafts with Lyceum's
// codes; every bad line is reported with its field; a rerun imports
// nothing twice, even when the state file is lost.
func TestImportCSVAsDrafts(t *testing.T) {
	f := newImportFixture(t)
	manifest := writeFile(t, f.dir, "library.csv", []byte(fmt.Sprintf(
		"source,title,description,licence,language,subject,level,type,keywords,creators\n"+
			"files/fractions.pdf,Fractions worksheet,Ten exercises.,cc-by-sa,fra,F0541,ED1,assessment,fractions;maths,Ana Silva\n"+
			"%s/cells.pdf,Cells,\"Two lines\nof description\",cc-0,eng,F0539;F0511,ED244,Guides and Tutorials,,\n"+
			"files/missing.pdf,Missing file,,cc-by,en,,,,,\n"+
			"files/atoms.pdf,Bad codes,,cc-by-xx,en,F0533,ED9,poster,,\n"+
			"%s,Outside the folder,,cc-by,en,,,,,\n"+
			"%s/nothing.pdf,Not there,,cc-by,en,,,,,\n"+
			"files/fractions.pdf,Fractions worksheet,Ten exercises.,cc-by-sa,fra,F0541,ED1,assessment,fractions;maths,Ana Silva\n"+
			"files/atoms.pdf,ab,,cc-by,en,,,,,\n",
		f.web.URL, f.secret, f.web.URL)))
	r := lyceum(t, f.repo, "import-resources", manifest, "--as", "alice", "--allow-private-urls", "--json")
	if r.code != exitInvalid {
		t.Fatalf("exit %d, want %d (lines refused)\n%s%s", r.code, exitInvalid, r.stdout, r.stderr)
	}
	rep := readImport(t, r.stdout)
	if rep.Imported != 2 || rep.Refused != 6 || rep.Mode != "drafts" {
		t.Fatalf("imported %d, refused %d (%s), want 2 and 6:\n%s", rep.Imported, rep.Refused, rep.Mode, r.stdout)
	}
	// Line 3's description takes two lines of the file: the next record
	// is on line 5.
	for _, c := range []struct {
		line         int
		field, words string
	}{
		{5, "source", "cannot read files/missing.pdf"},
		{6, "license", `"cc-by-xx" is unknown`},
		{6, "level", `"ED9" is unknown`},
		{6, "type", `"poster" is unknown`},
		{7, "source", "outside the manifest's folder"},
		{8, "source", "404 Not Found"},
		{9, "", "the same resource as line 2"},
		{10, "title", "must be 3–160 characters"},
	} {
		l := lineOf(t, rep, c.line)
		found := false
		for _, p := range l.Problems {
			found = found || p.Field == c.field && strings.Contains(p.Reason, c.words)
		}
		if l.Status != lineRefused || !found {
			t.Errorf("line %d: %s, problems %+v; want %s: …%s…", c.line, l.Status, l.Problems, c.field, c.words)
		}
	}
	if notes := lineOf(t, rep, 3).Notes; len(notes) != 2 {
		t.Errorf("line 3 notes %q, want the level and the subject broadened", notes)
	}

	ds := f.drafts(t)
	if len(ds) != 2 {
		t.Fatalf("%d drafts, want 2: %+v", len(ds), ds)
	}
	byTitle := map[string]api.DraftRequest{}
	for _, d := range ds {
		byTitle[d.Title] = d.Request()
	}
	fr := byTitle["Fractions worksheet"]
	if fr.License != "CC-BY-SA-4.0" || fr.Language != "fr" || !slices.Equal(fr.Subjects, []string{"0541"}) || fr.Level != "1" ||
		fr.Type != "assessment" || !slices.Equal(fr.Keywords, []string{"fractions", "maths"}) || fr.FileCID == "" ||
		fr.Filename != "fractions.pdf" || len(fr.Creators) != 1 || fr.Creators[0].Name != "Ana Silva" || fr.Key == "" {
		t.Errorf("the fractions draft has %+v", fr)
	}
	cells := byTitle["Cells"]
	if cells.License != "CC0-1.0" || cells.Language != "en" || !slices.Equal(cells.Subjects, []string{"053", "0511"}) || cells.Level != "2" ||
		cells.Type != "guides-and-tutorials" || cells.Filename != "cells.pdf" || cells.Summary != "Two lines\nof description" {
		t.Errorf("the cells draft has %+v", cells)
	}
	if got := mustLyceum(t, f.repo, "cat", fr.FileCID); got != string(pseudoRandom(300<<10, 7)) {
		t.Error("the draft's file is not the manifest's")
	}

	t.Run("a rerun skips what was done", func(t *testing.T) {
		rep := readImport(t, lyceum(t, f.repo, "import-resources", manifest, "--as", "alice", "--allow-private-urls", "--json").stdout)
		if rep.Imported != 0 || rep.Skipped != 2 || len(f.drafts(t)) != 2 {
			t.Fatalf("rerun: imported %d, skipped %d, %d drafts", rep.Imported, rep.Skipped, len(f.drafts(t)))
		}
	})
	t.Run("without its state file, the drafts' keys stop duplicates", func(t *testing.T) {
		if err := os.Remove(manifest + ".lyceum-import"); err != nil {
			t.Fatal(err)
		}
		rep := readImport(t, lyceum(t, f.repo, "import-resources", manifest, "--as", "alice", "--allow-private-urls", "--json").stdout)
		if rep.Imported != 0 || rep.Skipped != 2 || len(f.drafts(t)) != 2 {
			t.Fatalf("imported %d, skipped %d, %d drafts", rep.Imported, rep.Skipped, len(f.drafts(t)))
		}
	})
	t.Run("a URL of this machine is refused by default", func(t *testing.T) {
		m := writeFile(t, f.dir, "local.csv", []byte("source,title\n"+f.web.URL+"/big.bin,A local page\n"))
		r := lyceum(t, f.repo, "import-resources", m, "--as", "alice", "--json")
		l := lineOf(t, readImport(t, r.stdout), 2)
		if r.code != exitInvalid || l.Status != lineRefused || !strings.Contains(l.Problems[0].Reason, "private network") {
			t.Fatalf("exit %d, line %+v", r.code, l)
		}
	})
	t.Run("a URL larger than --max-size is refused", func(t *testing.T) {
		m := writeFile(t, f.dir, "big.csv", []byte("source,title\n"+f.web.URL+"/big.bin,A big file\n"))
		r := lyceum(t, f.repo, "import-resources", m, "--as", "alice", "--allow-private-urls", "--max-size", "100000", "--json")
		l := lineOf(t, readImport(t, r.stdout), 2)
		if l.Status != lineRefused || !strings.Contains(l.Problems[0].Reason, "--max-size") {
			t.Fatalf("line %+v", l)
		}
	})
	t.Run("an unknown column stops the manifest before anything", func(t *testing.T) {
		m := writeFile(t, f.dir, "cols.csv", []byte("source,title,colour\nfiles/atoms.pdf,Atoms,blue\n"))
		r := lyceum(t, f.repo, "import-resources", m, "--as", "alice")
		if r.code != exitInvalid || !strings.Contains(r.stderr, `unknown column "colour"`) {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	})
}

// A JSON Lines manifest published at once: the resources carry the
// mapped codes and their creators, and search finds them.
func TestImportJSONLPublished(t *testing.T) {
	f := newImportFixture(t)
	lines := []string{
		`{"source": "files/fractions.pdf", "title": "Fractions of a pizza", "description": "Ten exercises.", "license": "cc-by-sa", "language": "fra", "subject": ["F0541"], "level": "ED2", "type": "assessment", "keywords": ["fractions"], "creators": ["Ana Silva", "Bo Chen"]}`,
		`{"source": "` + f.web.URL + `/cells.pdf", "title": "Cells under the microscope", "license": "CC-BY-4.0", "language": "en", "subject": ["0511"], "level": "ADT", "type": "experiment"}`,
		``,
		`{"source": "files/atoms.pdf", "title": "No licence", "language": "en"}`,
		`{"source": "files/atoms.pdf", "title": "Colour", "license": "cc-0", "language": "en", "colour": "blue"}`,
		`{"source": "files/atoms.pdf", "title": 7, "license": "cc-0", "language": "en"}`,
		`not json`,
		`{"source": "https://example.org/x", "title": "Kept as a link", "license": "cc-0", "language": "en", "level": "ED3"}`,
	}
	manifest := writeFile(t, f.dir, "library.jsonl", []byte(strings.Join(lines, "\n")+"\n"))
	r := lyceum(t, f.repo, "import-resources", manifest, "--as", "alice", "--publish", "--links", "--allow-private-urls", "--json")
	rep := readImport(t, r.stdout)
	if r.code != exitInvalid || rep.Imported != 3 || rep.Refused != 4 {
		t.Fatalf("exit %d, imported %d, refused %d, want 3 and 4:\n%s%s", r.code, rep.Imported, rep.Refused, r.stdout, r.stderr)
	}
	for line, field := range map[int]string{4: "license", 5: "colour", 6: "title", 7: ""} {
		if l := lineOf(t, rep, line); l.Status != lineRefused || l.Problems[0].Field != field {
			t.Errorf("line %d: %+v, want refused on %q", line, l, field)
		}
	}
	var v api.ResourceView
	if err := json.Unmarshal([]byte(mustLyceum(t, f.repo, "show", lineOf(t, rep, 1).ID, "--json")), &v); err != nil {
		t.Fatal(err)
	}
	res := v.Latest
	var names []string
	for _, c := range res.Creators {
		names = append(names, c.Name+"/"+c.Role)
	}
	if res.License != "CC-BY-SA-4.0" || res.Language != "fr" || !slices.Equal(res.Subjects, []string{"0541"}) || res.Level != "2" ||
		res.Type != "assessment" || !slices.Equal(names, []string{"Alice Martin/publisher", "Ana Silva/author", "Bo Chen/author"}) {
		t.Errorf("the published resource has %+v, creators %v", res, names)
	}
	// --links keeps the URL of line 8 as a link; line 2's was a loopback
	// URL, but --links keeps every URL: it is a link too.
	if l := lineOf(t, rep, 8); l.FileCID != "" {
		t.Errorf("line 8 was stored as a file: %+v", l)
	}

	t.Run("search finds the published resources", func(t *testing.T) {
		deadline := time.Now().Add(20 * time.Second)
		for {
			var sr api.SearchResult
			if err := json.Unmarshal([]byte(mustLyceum(t, f.repo, "search", "pizza", "--json")), &sr); err != nil {
				t.Fatal(err)
			}
			if len(sr.Hits) == 1 && sr.Hits[0].ID == lineOf(t, rep, 1).ID {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("search pizza: %+v", sr.Hits)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	t.Run("a rerun publishes nothing twice", func(t *testing.T) {
		rep := readImport(t, lyceum(t, f.repo, "import-resources", manifest, "--as", "alice", "--publish", "--links", "--json").stdout)
		if rep.Imported != 0 || rep.Skipped != 3 {
			t.Fatalf("imported %d, skipped %d", rep.Imported, rep.Skipped)
		}
	})
}

// An import interrupted (Ctrl-C) in the middle of a download stops with
// exit 130; the rerun imports the rest and nothing twice.
func TestImportInterruptedAndResumed(t *testing.T) {
	f := newImportFixture(t)
	manifest := writeFile(t, f.dir, "library.csv", []byte(
		"source,title,license,language\n"+
			"files/fractions.pdf,First,cc-by,en\n"+
			"files/atoms.pdf,Second,cc-by,en\n"+
			f.web.URL+"/slow.pdf,Third,cc-by,en\n"+
			f.web.URL+"/cells.pdf,Fourth,cc-by,en\n"))
	cmd := exec.Command(lyceumBin, "import-resources", manifest, "--as", "alice", "--allow-private-urls", "--json")
	cmd.Env = append(os.Environ(), "LYCEUM_PATH="+f.repo)
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.slow:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the import never asked for the third line's URL")
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInterrupted {
		t.Fatalf("interrupted import: %v, want exit %d\n%s", err, exitInterrupted, out.String())
	}
	rep := readImport(t, out.String())
	if !rep.Interrupted || rep.Imported != 2 || len(f.drafts(t)) != 2 {
		t.Fatalf("interrupted: imported %d, %d drafts: %+v", rep.Imported, len(f.drafts(t)), rep)
	}

	rep = readImport(t, mustLyceum(t, f.repo, "import-resources", manifest, "--as", "alice", "--allow-private-urls", "--json"))
	if rep.Imported != 2 || rep.Skipped != 2 || rep.Refused != 0 {
		t.Fatalf("resumed: imported %d, skipped %d, refused %d", rep.Imported, rep.Skipped, rep.Refused)
	}
	var titles []string
	for _, d := range f.drafts(t) {
		titles = append(titles, d.Title)
	}
	slices.Sort(titles)
	if !slices.Equal(titles, []string{"First", "Fourth", "Second", "Third"}) {
		t.Fatalf("drafts %v, want each line once", titles)
	}
}

// The help shows an example manifest; a missing --as is a usage error.
func TestImportHelpAndUsage(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	out := mustLyceum(t, repo, "import-resources", "--help")
	for _, want := range []string{"source,title,description,license", `{"source": "worksheets/fractions.pdf"`, "--publish", "MANIFEST.lyceum-import"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	if r := lyceum(t, repo, "import-resources", "x.csv"); r.code != exitUsage || !strings.Contains(r.stderr, "--as") {
		t.Errorf("without --as: exit %d: %s", r.code, r.stderr)
	}
	if r := lyceum(t, repo, "import-resources", "x.xlsx", "--as", "a"); r.code != exitInvalid {
		t.Errorf("an .xlsx manifest: exit %d: %s", r.code, r.stderr)
	}
}
