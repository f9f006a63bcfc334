package manifest

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// readAll reads every entry of a manifest, or the error that stopped it.
func readAll(tb testing.TB, data string, f Format, o Options) ([]Entry, error) {
	tb.Helper()
	rd, err := NewReader(strings.NewReader(data), f, o)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for {
		e, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
}

// mustReadAll is readAll that fails the test on an error.
func mustReadAll(tb testing.TB, data string, f Format, o Options) []Entry {
	tb.Helper()
	es, err := readAll(tb, data, f, o)
	if err != nil {
		tb.Fatal(err)
	}
	return es
}

func TestMoodleNetCodesMapToLyceums(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"a MoodleNet licence", "cc-by-nc-sa", "CC-BY-NC-SA-4.0"},
		{"MoodleNet's public domain", "cc-0", "CC0-1.0"},
		{"MoodleNet's other open licence", "other-open", "LicenseRef-other-open"},
		{"MoodleNet's copyrighted", "restricted-copyright", "LicenseRef-all-rights-reserved"},
		{"an SPDX id in lower case", "cc-by-4.0", "CC-BY-4.0"},
		{"a deed's URL", "https://creativecommons.org/licenses/by-sa/4.0/", "CC-BY-SA-4.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got, ok := mapLicense(c.in); !ok || got != c.want {
				t.Errorf("mapLicense(%q) = %q, %v; want %q", c.in, got, ok, c.want)
			}
		})
	}
	for in, want := range map[string]string{"ED0": "0", "ed2": "2", "ED8": "8", "ADT": "adult", "3": "3", "adult": "adult", "ED24": "2", "ED344": "3", "ED02": "0"} {
		if got, _, ok := mapLevel(in); !ok || got != want {
			t.Errorf("mapLevel(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"ED9", "ED", "ED1234", "9", "ED-1", "EDx"} {
		if got, _, ok := mapLevel(in); ok {
			t.Errorf("mapLevel(%q) = %q, want refused", in, got)
		}
	}
	for in, want := range map[string]string{
		"F0533": "0533", "0533": "0533", "f05": "05", "F053": "053",
		"F0530": "053", "F0539": "053", "F050": "05", "F0588": "05", "F058": "05", "F0000": "00", "F1015": "1015",
	} {
		if got, _, ok := mapSubject(in); !ok || got != want {
			t.Errorf("mapSubject(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"F", "F5", "F12345", "Physics", "F05x3", "G0533"} {
		if got, _, ok := mapSubject(in); ok {
			t.Errorf("mapSubject(%q) = %q, want refused", in, got)
		}
	}
	for in, want := range map[string]string{"eng": "en", "fra": "fr", "pt-br": "pt-BR", "haw": "haw", "EN": "en"} {
		if got, ok := mapLanguage(in); !ok || got != want {
			t.Errorf("mapLanguage(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"und", "x-private", "klingon-xx", strings.Repeat("a", 40)} {
		if got, ok := mapLanguage(in); ok {
			t.Errorf("mapLanguage(%q) = %q, want refused", in, got)
		}
	}
	if got, ok := mapType("Guides and Tutorials"); !ok || got != "guides-and-tutorials" {
		t.Errorf("mapType(name) = %q, %v", got, ok)
	}
}

// The table's targets are Lyceum's codes, and every ISCED-F field that
// MoodleNet has and Lyceum leaves out (not further defined, not elsewhere
// classified, inter-disciplinary) maps to one.
func TestTheTableMapsToLyceumsVocabularies(t *testing.T) {
	for mn, id := range moodleNetLicenses {
		if _, ok := activity.LookupLicense(id); !ok {
			t.Errorf("licence %s maps to %s, not in licenses.json", mn, id)
		}
	}
	for mn, c := range moodleNetLevels {
		if _, ok := activity.LookupLevel(c); !ok {
			t.Errorf("level %s maps to %s, not in levels.json", mn, c)
		}
	}
	if len(moodleNetTypes) != 21 {
		t.Errorf("%d MoodleNet types, MoodleNet has 21", len(moodleNetTypes))
	}
	for mn, c := range moodleNetTypes {
		if _, ok := activity.LookupType(c); !ok {
			t.Errorf("type %s maps to %s, not in types.json", mn, c)
		}
	}
	for _, s := range activity.Vocab().Subjects {
		if s.Level != "broad" {
			continue
		}
		b := s.Code
		for _, k := range []string{b + "0", b + "00", b + "8", b + "88", b + "9", b + "99", b + "10", b + "19"} {
			if c, _, ok := mapSubject("F" + k); !ok || !strings.HasPrefix(k, c) {
				t.Errorf("MoodleNet's F%s maps to %q, %v", k, c, ok)
			}
		}
	}
}

// docs/IMPORT.md lists the same table as moodlenet.go.
func TestTheDocListsTheTable(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "IMPORT.md"))
	if err != nil {
		t.Fatal(err)
	}
	for mn, id := range moodleNetLicenses {
		if !strings.Contains(string(doc), "| `"+mn+"` | `"+id+"` |") {
			t.Errorf("docs/IMPORT.md lacks the row of licence %s → %s", mn, id)
		}
	}
	for mn, c := range moodleNetLevels {
		if !strings.Contains(string(doc), "| `"+mn+"` | `"+c+"` |") {
			t.Errorf("docs/IMPORT.md lacks the row of level %s → %s", mn, c)
		}
	}
	for mn := range moodleNetTypes {
		if !strings.Contains(string(doc), "`"+mn+"`") {
			t.Errorf("docs/IMPORT.md lacks type %s", mn)
		}
	}
	for _, col := range Columns {
		if !strings.Contains(string(doc), "| `"+col+"` |") {
			t.Errorf("docs/IMPORT.md lacks column %s", col)
		}
	}
}

func TestCSVManifest(t *testing.T) {
	data := "\ufeffSource,Title,description,licence,language,subject,level,type,keywords,creators\r\n" +
		"a.pdf,Fractions worksheet,\"Two\r\nlines\",cc-by-sa,fra,F0541;F0539,ED1,assessment,\"fractions, maths;maths\",Ana Silva; Bo Chen\r\n" +
		"b.pdf,Atoms,,,,,,,,\r\n" +
		"c.pdf,Too,many,fields,,,,,,,,\r\n" +
		"d.pdf,Bad \"quote,,,,,,,,\r\n" +
		"ftp://example.org/x,Elsewhere,,,,,,,,\r\n"
	es := mustReadAll(t, data, CSV, Options{})
	if len(es) != 5 {
		t.Fatalf("%d entries, want 5", len(es))
	}
	e := es[0]
	want := api.PublishRequest{Title: "Fractions worksheet", Summary: "Two\nlines", License: "CC-BY-SA-4.0", Language: "fr",
		Subjects: []string{"0541", "053"}, Level: "1", Type: "assessment", Keywords: []string{"fractions", "maths"},
		Creators: []api.Creator{{Name: "Ana Silva", Role: "author"}, {Name: "Bo Chen", Role: "author"}}}
	if e.Line != 2 || e.Refused() || e.Record.Source != "a.pdf" || len(e.Notes) != 1 {
		t.Fatalf("line 2: %+v", e)
	}
	if g := e.Request; g.Title != want.Title || g.Summary != want.Summary || g.License != want.License || g.Language != want.Language ||
		!slices.Equal(g.Subjects, want.Subjects) || g.Level != want.Level || g.Type != want.Type || !slices.Equal(g.Keywords, want.Keywords) ||
		!slices.Equal(g.Creators, want.Creators) {
		t.Errorf("line 2 maps to %+v, want %+v", g, want)
	}
	if es[1].Line != 4 || es[1].Refused() {
		t.Errorf("an incomplete draft: %+v", es[1])
	}
	for i, field := range map[int]string{2: "", 3: "", 4: "source"} {
		if !es[i].Refused() || es[i].Problems[0].Field != field {
			t.Errorf("line %d: %+v, want refused on %q", es[i].Line, es[i].Problems, field)
		}
	}
	if es[2].Line != 5 || es[3].Line != 6 || es[4].Line != 7 {
		t.Errorf("lines %d %d %d, want 5 6 7", es[2].Line, es[3].Line, es[4].Line)
	}

	t.Run("publishing requires the licence and the language", func(t *testing.T) {
		es := mustReadAll(t, "source,title\nb.pdf,Atoms\n", CSV, Options{Complete: true})
		var fields []string
		for _, p := range es[0].Problems {
			fields = append(fields, p.Field)
		}
		if !slices.Equal(fields, []string{"license", "language"}) {
			t.Errorf("problems %+v", es[0].Problems)
		}
	})
	t.Run("the hash is the content's, not the line's", func(t *testing.T) {
		a := mustReadAll(t, "source,title\nb.pdf,Atoms\n", CSV, Options{})
		b := mustReadAll(t, "title,source\n\nAtoms , b.pdf\n", CSV, Options{})
		c := mustReadAll(t, "source,title\nb.pdf,Atoms!\n", CSV, Options{})
		if a[0].Hash != b[0].Hash || a[0].Hash == c[0].Hash {
			t.Errorf("hashes %s %s %s", a[0].Hash, b[0].Hash, c[0].Hash)
		}
	})
}

func TestCSVHeaderIsStrict(t *testing.T) {
	for _, c := range []struct{ name, data, words string }{
		{"an unknown column is named", "source,title,colour\n", `unknown column "colour"`},
		{"a column twice", "source,title,licence,license\n", `column "license" appears twice`},
		{"no source", "title\n", "no source column"},
		{"semicolons between columns", "source;title\n", `separated by ";"`},
		{"an empty file", "", "the manifest is empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := readAll(t, c.data, CSV, Options{})
			if err == nil || api.KindOf(err) != api.KindInvalid || !strings.Contains(err.Error(), c.words) {
				t.Errorf("err %v, want invalid: …%s…", err, c.words)
			}
		})
	}
}

func TestSizesAreBounded(t *testing.T) {
	t.Run("a CSV record without its closing quote stops the manifest", func(t *testing.T) {
		data := "source,title\na.pdf,\"" + strings.Repeat("x\n", MaxRecordBytes) + "\n"
		es, err := readAll(t, data, CSV, Options{})
		if err == nil || !strings.Contains(err.Error(), "larger than") || len(es) != 0 {
			t.Fatalf("%d entries, err %v", len(es), err)
		}
	})
	t.Run("a JSON line too long is refused and the next read", func(t *testing.T) {
		data := `{"source": "a.pdf", "title": "` + strings.Repeat("x", MaxRecordBytes) + `"}` + "\n" + `{"source": "b.pdf", "title": "Atoms"}`
		es := mustReadAll(t, data, JSONL, Options{})
		if len(es) != 2 || !es[0].Refused() || !strings.Contains(es[0].Problems[0].Reason, "longer than") || es[1].Refused() || es[1].Line != 2 {
			t.Fatalf("%+v", es)
		}
	})
	t.Run("fields have their limits", func(t *testing.T) {
		long := strings.Repeat("é", 4001)
		es := mustReadAll(t, "source,title,description,keywords,subject\n"+
			strings.Repeat("a", MaxSource+1)+","+strings.Repeat("t", 161)+","+long+","+strings.Repeat("k;", 21)+strings.Repeat("k", 65)+",F0533\n", CSV, Options{})
		var fields []string
		for _, p := range es[0].Problems {
			fields = append(fields, p.Field)
		}
		if !slices.Equal(fields, []string{"source", "title", "description", "keywords"}) {
			t.Errorf("problems %+v", es[0].Problems)
		}
	})
}

func TestJSONLManifest(t *testing.T) {
	data := "\ufeff" + `{"source": "a.pdf", "title": "Fractions", "license": "cc-by", "language": "eng", "subject": ["F0541"], "keywords": null}` + "\r\n" +
		"\n" +
		`{"source": "a.pdf", "title": "Fractions", "colour": "blue"}` + "\n" +
		`{"source": "a.pdf", "title": "Fractions", "title": "Again"}` + "\n" +
		`{"source": "a.pdf", "title": ["Fractions"]}` + "\n" +
		`{"source": "a.pdf", "title": "Fractions", "subject": "0541"}` + "\n" +
		`["a.pdf"]` + "\n" +
		`{"source": "a.pdf", "title": "Fractions"} {}` + "\n" +
		`{"source": "a.pdf", "title": "<b>Fr</b>", "description": "<script>x</script>"}` + "\n" +
		`{"source": "https://user:pw@example.org/a.pdf", "title": "With a password"}`
	es := mustReadAll(t, data, JSONL, Options{})
	if len(es) != 9 {
		t.Fatalf("%d entries, want 9", len(es))
	}
	if e := es[0]; e.Refused() || e.Line != 1 || e.Request.License != "CC-BY-4.0" || e.Request.Language != "en" || !slices.Equal(e.Request.Subjects, []string{"0541"}) {
		t.Errorf("line 1: %+v", e)
	}
	for i, c := range []struct {
		line  int
		field string
		words string
	}{
		{3, "colour", "unknown column"},
		{4, "title", "appears twice"},
		{5, "title", "must be a string"},
		{6, "subject", "array of strings"},
		{7, "", "not a JSON object"},
		{8, "", "after its JSON object"},
		{9, "description", "not HTML"},
		{10, "source", "user name or password"},
	} {
		e := es[i+1]
		if e.Line != c.line || !e.Refused() || e.Problems[0].Field != c.field || !strings.Contains(e.Problems[0].Reason, c.words) {
			t.Errorf("line %d: %+v, want %s: …%s…", e.Line, e.Problems, c.field, c.words)
		}
	}
}

func TestFormatOf(t *testing.T) {
	for name, want := range map[string]Format{"a.csv": CSV, "B.CSV": CSV, "a.jsonl": JSONL, "a.ndjson": JSONL} {
		if got, err := FormatOf(name); err != nil || got != want {
			t.Errorf("FormatOf(%s) = %v, %v", name, got, err)
		}
	}
	if _, err := FormatOf("a.xlsx"); api.KindOf(err) != api.KindInvalid {
		t.Errorf("an .xlsx: %v", err)
	}
}
