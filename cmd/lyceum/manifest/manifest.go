package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// Limits of a manifest. A manifest is outside input, often exported by
// another system: every size is bounded before it is held.
const (
	// MaxRecordBytes bounds one record: a line of JSON Lines, a record of
	// CSV (which may span lines when a quoted field does).
	MaxRecordBytes = 64 << 10
	// MaxSource bounds a source: a file path or a URL.
	MaxSource = 4096
	// MaxCreators bounds the creators of one resource.
	MaxCreators = 20
	// MaxRecords bounds the records of one manifest.
	MaxRecords = 1_000_000
)

// Columns are the columns a manifest may have: CSV header names, JSON
// Lines keys. source and title are required in every record; license and
// language too when publishing at once. subject, keywords and creators
// hold several values: separated by ";" in CSV, an array of strings in
// JSON Lines.
var Columns = []string{"source", "title", "description", "license", "language", "subject", "level", "type", "keywords", "creators"}

// multiValued are the columns that hold several values.
var multiValued = map[string]bool{"subject": true, "keywords": true, "creators": true}

// aliases are other spellings of a column's name.
var aliases = map[string]string{"licence": "license"}

// Format is a manifest's syntax.
type Format int

// The formats a manifest may have.
const (
	CSV   Format = iota + 1 // RFC 4180, a header row, UTF-8
	JSONL                   // JSON Lines: one JSON object a line
)

// String names the format.
func (f Format) String() string {
	switch f {
	case CSV:
		return "CSV"
	case JSONL:
		return "JSON Lines"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// FormatOf tells a manifest's format by its file name: .csv, or .jsonl
// (also .ndjson).
func FormatOf(name string) (Format, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return CSV, nil
	case ".jsonl", ".ndjson":
		return JSONL, nil
	}
	return 0, api.Invalidf("%s: a manifest is a .csv or a .jsonl file", api.Quote(filepath.Base(name)))
}

// Options are how strictly a Reader checks records.
type Options struct {
	// Complete requires every field a publication needs (license and
	// language besides source and title): set when publishing at once.
	// Drafts may be incomplete.
	Complete bool
}

// Problem is why one line of a manifest is refused: the line (of the
// file, 1-based; for a CSV record, the line it starts on), the field
// ("" for the line as a whole) and the reason.
type Problem struct {
	Line   int    `json:"line"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// Error says where and why.
func (p Problem) Error() string {
	if p.Field == "" {
		return fmt.Sprintf("line %d: %s", p.Line, p.Reason)
	}
	return fmt.Sprintf("line %d: %s: %s", p.Line, p.Field, p.Reason)
}

// Record is one record as written in the manifest, each field trimmed.
// Its JSON encoding, with the fields in this order, is what Hash hashes.
type Record struct {
	Source      string   `json:"source"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	License     string   `json:"license,omitempty"`
	Language    string   `json:"language,omitempty"`
	Subjects    []string `json:"subject,omitempty"`
	Level       string   `json:"level,omitempty"`
	Type        string   `json:"type,omitempty"`
	Keywords    []string `json:"keywords,omitempty"`
	Creators    []string `json:"creators,omitempty"`
}

// Hash identifies a record by its content, whatever line it is on: the
// hex SHA-256 of its JSON encoding. An import keyed by it does not import
// the same record twice.
func (r Record) Hash() string {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err) // strings and slices of strings always encode
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// set puts one column's values in the record.
func (r *Record) set(column string, values []string) {
	one := ""
	if len(values) > 0 {
		one = values[0]
	}
	switch column {
	case "source":
		r.Source = one
	case "title":
		r.Title = one
	case "description":
		r.Description = one
	case "license":
		r.License = one
	case "language":
		r.Language = one
	case "subject":
		r.Subjects = values
	case "level":
		r.Level = one
	case "type":
		r.Type = one
	case "keywords":
		r.Keywords = values
	case "creators":
		r.Creators = values
	}
}

// Entry is one line of a manifest, read and mapped: the resource to
// import, or the problems that refuse it.
type Entry struct {
	// Line is the line of the file the record starts on.
	Line int
	// Record is the record as written; Hash is its Record.Hash.
	Record Record
	Hash   string
	// Request has the record's metadata in Lyceum's codes; its content
	// (FileCID or URL) and As are left for the importer to fill in.
	Request api.PublishRequest
	// Creators are the record's creators, in order.
	Creators []string
	// Notes tell the codes mapped to a broader one (MoodleNet's
	// subdivisions of a level or a subject).
	Notes []string
	// Problems refuse the line when there is any.
	Problems []Problem
}

// IsURL reports whether the entry's source is an http(s) URL rather than
// a file path.
func (e Entry) IsURL() bool { return isHTTP(e.Record.Source) }

// Refused reports whether the line is refused.
func (e Entry) Refused() bool { return len(e.Problems) > 0 }

func isHTTP(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// Reader reads a manifest one entry at a time.
type Reader struct {
	opts    Options
	next    func() (int, Record, []Problem, error)
	records int
}

// NewReader starts reading a manifest of format f from r; a CSV
// manifest's header is read at once, and refused (KindInvalid) when it
// names an unknown or repeated column or lacks source or title.
func NewReader(r io.Reader, f Format, o Options) (*Reader, error) {
	rd := &Reader{opts: o}
	switch f {
	case CSV:
		c, err := newCSV(r)
		if err != nil {
			return nil, err
		}
		rd.next = c.next
	case JSONL:
		rd.next = newJSONL(r).next
	default:
		return nil, api.Invalidf("unknown manifest format %d", int(f))
	}
	return rd, nil
}

// Next reads and maps the next record. A record that cannot be imported
// is an Entry with Problems, and reading goes on; an error (io.EOF at
// the end) means the manifest cannot be read any further.
func (rd *Reader) Next() (Entry, error) {
	line, rec, probs, err := rd.next()
	if err != nil {
		return Entry{}, err
	}
	if rd.records++; rd.records > MaxRecords {
		return Entry{}, api.Invalidf("line %d: a manifest has at most %d records: split it", line, MaxRecords)
	}
	e := Entry{Line: line, Record: rec, Hash: rec.Hash(), Problems: probs}
	if len(probs) == 0 {
		check(&e, rd.opts)
	}
	return e, nil
}

// htmlTag is what Lyceum refuses in free text: markup a browser would
// read as a tag, a comment or a declaration (as activity's check).
var htmlTag = regexp.MustCompile(`<(?:/?[A-Za-z][A-Za-z0-9-]*(?:[\s/>]|$)|!--|!\[CDATA\[|![A-Za-z]|\?)`)

// schemeLike is a source that looks like a URL of some scheme.
var schemeLike = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// check checks a record's fields and maps its codes into e.Request,
// noting every problem.
func check(e *Entry, o Options) {
	r := e.Record
	fail := func(field, format string, args ...any) {
		e.Problems = append(e.Problems, Problem{Line: e.Line, Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	req := &e.Request

	switch s := r.Source; {
	case s == "":
		fail("source", "is required: a file path or an http(s) URL")
	case len(s) > MaxSource:
		fail("source", "is longer than %d bytes", MaxSource)
	case hasControl(s, false):
		fail("source", "holds control characters")
	case isHTTP(s):
		u, err := url.Parse(s)
		if err != nil || u.Host == "" || u.Hostname() == "" {
			fail("source", "%s is not a valid URL", api.Quote(s))
		} else if u.User != nil {
			fail("source", "a URL with a user name or password is refused: it would be stored in the resource")
		}
	case schemeLike.MatchString(s):
		fail("source", "%s: only http(s) URLs and file paths are imported", api.Quote(s))
	}

	switch n := utf8.RuneCountInString(r.Title); {
	case r.Title == "":
		fail("title", "is required")
	case n < activity.MinTitle || n > activity.MaxTitle:
		fail("title", "must be %d–%d characters, is %d", activity.MinTitle, activity.MaxTitle, n)
	case hasControl(r.Title, false):
		fail("title", "holds control characters")
	}
	req.Title = r.Title

	desc := strings.ReplaceAll(r.Description, "\r\n", "\n")
	switch n := utf8.RuneCountInString(desc); {
	case n > activity.MaxDescription:
		fail("description", "must be at most %d characters, is %d", activity.MaxDescription, n)
	case hasControl(desc, true):
		fail("description", "holds control characters")
	case htmlTag.MatchString(desc):
		fail("description", "must be plain text or Markdown, not HTML")
	}
	req.Summary = desc

	if r.License != "" {
		if id, ok := mapLicense(r.License); ok {
			req.License = id
		} else {
			fail("license", "%s is unknown: give an SPDX id (`lyceum vocab licenses`) or a MoodleNet code such as cc-by-sa", api.Quote(r.License))
		}
	} else if o.Complete {
		fail("license", "is required to publish")
	}
	if r.Language != "" {
		if tag, ok := mapLanguage(r.Language); ok {
			req.Language = tag
		} else {
			fail("language", "%s is not a language: give a BCP 47 tag (fr, pt-BR) or an ISO 639-3 code (fra)", api.Quote(r.Language))
		}
	} else if o.Complete {
		fail("language", "is required to publish")
	}
	if r.Level != "" {
		if c, note, ok := mapLevel(r.Level); ok {
			req.Level = c
			e.note(note)
		} else {
			fail("level", "%s is unknown: give an ISCED level 0–8 or adult, or MoodleNet's ED0–ED8 or ADT", api.Quote(r.Level))
		}
	}
	if r.Type != "" {
		if c, ok := mapType(r.Type); ok {
			req.Type = c
		} else {
			fail("type", "%s is unknown: `lyceum vocab types` lists the types", api.Quote(r.Type))
		}
	}
	for _, s := range r.Subjects {
		c, note, ok := mapSubject(s)
		if !ok {
			fail("subject", "%s is unknown: give an ISCED-F code (0533) or MoodleNet's key (F0533)", api.Quote(s))
			continue
		}
		e.note(note)
		if !slices.Contains(req.Subjects, c) {
			req.Subjects = append(req.Subjects, c)
		}
	}
	if len(req.Subjects) > activity.MaxKeywords {
		fail("subject", "at most %d subjects, has %d", activity.MaxKeywords, len(req.Subjects))
	}
	var keywords []string
	for _, k := range r.Keywords {
		keywords = append(keywords, strings.Split(k, ",")...) // the web app's separator
	}
	for _, k := range keywords {
		k = strings.Join(strings.Fields(k), " ")
		switch {
		case k == "" || slices.Contains(req.Keywords, k):
			continue
		case utf8.RuneCountInString(k) > activity.MaxKeyword:
			fail("keywords", "%s is longer than %d characters", api.Quote(k), activity.MaxKeyword)
		case strings.ContainsAny(k, "<>") || hasControl(k, false):
			fail("keywords", "%s holds markup or control characters", api.Quote(k))
		}
		req.Keywords = append(req.Keywords, k)
	}
	if len(req.Keywords) > activity.MaxKeywords {
		fail("keywords", "at most %d keywords, has %d", activity.MaxKeywords, len(req.Keywords))
	}
	for _, c := range r.Creators {
		c = strings.Join(strings.Fields(c), " ")
		switch {
		case c == "" || slices.Contains(e.Creators, c):
			continue
		case utf8.RuneCountInString(c) > activity.MaxText:
			fail("creators", "a name is at most %d characters", activity.MaxText)
		case htmlTag.MatchString(c) || hasControl(c, false):
			fail("creators", "%s holds markup or control characters", api.Quote(c))
		}
		e.Creators = append(e.Creators, c)
	}
	if len(e.Creators) > MaxCreators {
		fail("creators", "at most %d creators, has %d", MaxCreators, len(e.Creators))
	}
	for _, c := range e.Creators {
		req.Creators = append(req.Creators, api.Creator{Name: c, Role: "author"})
	}
}

// note keeps a mapping note, once.
func (e *Entry) note(n string) {
	if n != "" && !slices.Contains(e.Notes, n) {
		e.Notes = append(e.Notes, n)
	}
}

// hasControl reports whether s holds a control or format character
// (a new line and a tab are text in a description).
func hasControl(s string, multiline bool) bool {
	for _, r := range s {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || r == utf8.RuneError || unicode.Is(unicode.Cf, r) && r != '\u200d' {
			return true
		}
	}
	return false
}

// column is the canonical name of a column as written, or "".
func column(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	if a, ok := aliases[n]; ok {
		n = a
	}
	if slices.Contains(Columns, n) {
		return n
	}
	return ""
}
