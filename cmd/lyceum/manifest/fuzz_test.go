package manifest

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"unicode/utf8"

	"github.com/lyceum-oer/lyceum/activity"
)

// fuzzManifest reads data as a manifest of format f to its end and
// checks what every entry promises: a line number that moves on, and for
// an entry not refused, fields within Lyceum's limits and codes of its
// vocabularies.
func fuzzManifest(t *testing.T, data []byte, f Format) {
	rd, err := NewReader(bytes.NewReader(data), f, Options{})
	if err != nil {
		return
	}
	last := 0
	for range MaxRecords + 1 {
		e, err := rd.Next()
		if errors.Is(err, io.EOF) || err != nil {
			return
		}
		if e.Line <= last && f == JSONL || e.Line < 1 {
			t.Fatalf("line %d after %d", e.Line, last)
		}
		last = e.Line
		if e.Refused() {
			for _, p := range e.Problems {
				if p.Line != e.Line || p.Reason == "" {
					t.Fatalf("problem %+v of line %d", p, e.Line)
				}
			}
			continue
		}
		r := e.Request
		if n := utf8.RuneCountInString(r.Title); n < activity.MinTitle || n > activity.MaxTitle || e.Record.Source == "" || len(e.Record.Source) > MaxSource {
			t.Fatalf("accepted %+v", e.Record)
		}
		if r.License != "" {
			if _, ok := activity.LookupLicense(r.License); !ok {
				t.Fatalf("licence %q", r.License)
			}
		}
		if r.Level != "" {
			if _, ok := activity.LookupLevel(r.Level); !ok {
				t.Fatalf("level %q", r.Level)
			}
		}
		if r.Type != "" {
			if _, ok := activity.LookupType(r.Type); !ok {
				t.Fatalf("type %q", r.Type)
			}
		}
		for _, s := range r.Subjects {
			if _, ok := activity.LookupSubject(s); !ok {
				t.Fatalf("subject %q", s)
			}
		}
		if len(r.Keywords) > activity.MaxKeywords || len(r.Subjects) > activity.MaxKeywords || len(r.Creators) > MaxCreators {
			t.Fatalf("too many values: %+v", r)
		}
	}
	t.Fatal("more records than MaxRecords were read")
}

func FuzzCSV(f *testing.F) {
	f.Add([]byte("source,title,license,language,subject,level,type,keywords,creators\na.pdf,Fractions,cc-by-sa,fra,F0541,ED1,assessment,a;b,Ana\n"))
	f.Add([]byte("title,source\n\"Two\nlines\",b.pdf\nx,\"unclosed\n"))
	f.Add([]byte("\ufeffsource,title\r\nhttps://example.org/a.pdf,Atoms\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzManifest(t, data, CSV) })
}

func FuzzJSONL(f *testing.F) {
	f.Add([]byte(`{"source": "a.pdf", "title": "Fractions", "license": "cc-by", "subject": ["F0539"], "level": "ED24"}` + "\n"))
	f.Add([]byte(`{"source": "a.pdf", "title": "x", "title": 1}` + "\n\n[1]\n{}"))
	f.Add([]byte("{\"source\": \"\\ud800\", \"title\": \"\\u0000abc\"}\n{"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzManifest(t, data, JSONL) })
}
