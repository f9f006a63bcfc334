package mbz

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/lyceum-oer/lyceum/node/api"
)

// Format is the container of a backup.
type Format int

// The containers Moodle writes.
const (
	FormatUnknown Format = iota
	FormatTarGz          // gzip-compressed tar: Moodle's default
	FormatZip            // zip: $CFG->usezipbackups
)

// SniffLen is how many leading bytes Sniff needs.
const SniffLen = 4

// Sniff tells a backup's container from its first bytes.
func Sniff(head []byte) Format {
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return FormatTarGz
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return FormatZip
	}
	return FormatUnknown
}

// Info is what a backup's moodle_backup.xml says.
type Info struct {
	// Type is "course", "section" or "activity" ("" if the backup says
	// something else).
	Type string
	// Format is the backup format, "moodle2".
	Format string
	// MoodleVersion is the version number of the Moodle that made it
	// (2024100700), MoodleRelease its release ("4.5 (Build: 20241007)").
	MoodleVersion string
	MoodleRelease string
	// Name is the backup's own file name.
	Name string
	// Site is the original_wwwroot: the Moodle site it came from.
	Site string
	// Course is the full name of the course it came from; CourseShort its
	// short name.
	Course      string
	CourseShort string
	// Activities are the activities it holds, in its order, at most
	// MaxActivities; ActivityCount counts them all.
	Activities    []Activity
	ActivityCount int
	// Sections counts the sections it holds.
	Sections int
}

// Activity is one activity of a backup.
type Activity struct {
	// Module is the activity's module: "quiz", "forum", "resource"…
	Module string
	// Title is its name in the course.
	Title string
}

// The default bounds of a read.
const (
	// MaxActivities bounds Info.Activities.
	MaxActivities = 500
	// DefaultMaxXML bounds moodle_backup.xml.
	DefaultMaxXML = 16 << 20
	// DefaultMaxExpanded bounds the bytes a tar.gz expands to.
	DefaultMaxExpanded = 32 << 30
	// DefaultMaxEntries bounds the files of a backup.
	DefaultMaxEntries = 1_000_000
	maxText           = 1000 // bytes kept of one text of the XML
)

// Option tunes a read.
type Option func(*options)

type options struct {
	maxXML, maxExpanded int64
	maxEntries          int
}

// WithMaxXML bounds the size of moodle_backup.xml (DefaultMaxXML).
func WithMaxXML(n int64) Option { return func(o *options) { o.maxXML = n } }

// WithMaxExpanded bounds the bytes a tar.gz backup expands to
// (DefaultMaxExpanded): a bound on the work a small upload can cause.
func WithMaxExpanded(n int64) Option { return func(o *options) { o.maxExpanded = n } }

// WithMaxEntries bounds the entries of a backup (DefaultMaxEntries).
func WithMaxEntries(n int) Option { return func(o *options) { o.maxEntries = n } }

func newOptions(opts []Option) options {
	o := options{maxXML: DefaultMaxXML, maxExpanded: DefaultMaxExpanded, maxEntries: DefaultMaxEntries}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// ManifestName is the file at a backup's root that describes it.
const ManifestName = "moodle_backup.xml"

func isManifest(name string) bool {
	return path.Clean("/"+strings.TrimPrefix(name, "./")) == "/"+ManifestName
}

// invalid is a refusal of the backup, safe to show.
func invalid(msg string, cause error) error { return api.Wrap(api.KindInvalid, msg, cause) }

// ReadTarGz reads a gzip-compressed tar backup from r to its end: the
// tar must end cleanly, the gzip stream's checksum must hold, and it must
// hold a moodle_backup.xml.
func ReadTarGz(r io.Reader, opts ...Option) (Info, error) {
	o := newOptions(opts)
	zr, err := gzip.NewReader(r)
	if err != nil {
		return Info{}, invalid("the backup is not a Moodle backup (.mbz): it is not gzip-compressed", err)
	}
	lr := &boundedReader{r: zr, left: o.maxExpanded}
	tr := tar.NewReader(lr)
	var info Info
	found := false
	buf := make([]byte, 256<<10)
	for n := 0; ; n++ {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Info{}, readErr(lr, err)
		}
		if n >= o.maxEntries {
			return Info{}, invalid(fmt.Sprintf("the backup holds more than %d files", o.maxEntries), nil)
		}
		if !isManifest(h.Name) || h.Typeflag != tar.TypeReg {
			// Skipped with a large buffer: tar's own skip reads through
			// 8 KiB at a time.
			if err := skip(tr, buf); err != nil {
				return Info{}, readErr(lr, err)
			}
			continue
		}
		if found {
			return Info{}, invalid("the backup holds two moodle_backup.xml", nil)
		}
		if h.Size > o.maxXML {
			return Info{}, invalid(fmt.Sprintf("the backup's moodle_backup.xml is larger than %d MiB", o.maxXML>>20), nil)
		}
		if info, err = ParseManifest(tr, o.maxXML); err != nil {
			return Info{}, readErr(lr, err)
		}
		found = true
	}
	// What follows the tar's end (its padding) is read too, so that the
	// gzip trailer is checked.
	if _, err := io.Copy(io.Discard, lr); err != nil {
		return Info{}, readErr(lr, err)
	}
	if !found {
		return Info{}, invalid("the backup has no moodle_backup.xml: it is not a Moodle backup", nil)
	}
	return info, nil
}

// skip reads r to its end into buf.
func skip(r io.Reader, buf []byte) error {
	for {
		_, err := r.Read(buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readErr is a failure to read the backup: cut, corrupt, too large, or
// (not the backup's fault) a failure of the reader under it.
func readErr(lr *boundedReader, err error) error {
	var ae *api.Error
	switch {
	case errors.As(err, &ae):
		return err
	case lr.over:
		return invalid("the backup expands to more than this node reads", err)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return invalid("the backup is cut short (truncated)", err)
	case errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, tar.ErrHeader) || isFlate(err):
		return invalid("the backup is corrupt", err)
	case lr.readFailed:
		return fmt.Errorf("read the backup: %w", err) // the source's error, as it is
	}
	return invalid("the backup is corrupt", err)
}

// isFlate reports a corrupt deflate stream or tar header.
func isFlate(err error) bool {
	var ce flate.CorruptInputError
	return errors.As(err, &ce) || errors.Is(err, tar.ErrHeader) || errors.Is(err, tar.ErrFieldTooLong)
}

// boundedReader fails once more than left bytes were read.
type boundedReader struct {
	r          io.Reader
	left       int64
	over       bool
	readFailed bool
	err        error // the last error other than io.EOF
}

var errExpanded = errors.New("expanded beyond the bound")

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		b.over = true
		return 0, errExpanded
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if err != nil && err != io.EOF {
		b.err = err
	}
	if err != nil && err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, gzip.ErrChecksum) &&
		!errors.Is(err, gzip.ErrHeader) && !isFlate(err) {
		b.readFailed = true
	}
	return n, err
}

// ReadZip reads a zip backup through its central directory.
func ReadZip(r io.ReaderAt, size int64, opts ...Option) (Info, error) {
	o := newOptions(opts)
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return Info{}, invalid("the backup is not a Moodle backup (.mbz): not a valid zip", err)
	}
	if len(zr.File) > o.maxEntries {
		return Info{}, invalid(fmt.Sprintf("the backup holds more than %d files", o.maxEntries), nil)
	}
	for _, f := range zr.File {
		if !isManifest(f.Name) || f.FileInfo().IsDir() {
			continue
		}
		if f.UncompressedSize64 > uint64(o.maxXML) {
			return Info{}, invalid(fmt.Sprintf("the backup's moodle_backup.xml is larger than %d MiB", o.maxXML>>20), nil)
		}
		rc, err := f.Open()
		if err != nil {
			return Info{}, invalid("the backup is corrupt", err)
		}
		defer rc.Close()
		info, err := ParseManifest(rc, o.maxXML)
		if err != nil {
			var ae *api.Error
			if errors.As(err, &ae) {
				return Info{}, err
			}
			return Info{}, invalid("the backup is corrupt", err)
		}
		return info, nil
	}
	return Info{}, invalid("the backup has no moodle_backup.xml: it is not a Moodle backup", nil)
}

// manifest is the part of moodle_backup.xml that Info keeps.
type manifest struct {
	XMLName xml.Name `xml:"moodle_backup"`
	Info    struct {
		Name            string `xml:"name"`
		MoodleVersion   string `xml:"moodle_version"`
		MoodleRelease   string `xml:"moodle_release"`
		Site            string `xml:"original_wwwroot"`
		CourseFullname  string `xml:"original_course_fullname"`
		CourseShortname string `xml:"original_course_shortname"`
		Details         []struct {
			Type   string `xml:"type"`
			Format string `xml:"format"`
		} `xml:"details>detail"`
		Contents struct {
			Activities []struct {
				Module string `xml:"modulename"`
				Title  string `xml:"title"`
			} `xml:"activities>activity"`
			Sections []struct{} `xml:"sections>section"`
		} `xml:"contents"`
	} `xml:"information"`
}

// ParseManifest reads a moodle_backup.xml of at most max bytes.
func ParseManifest(r io.Reader, max int64) (Info, error) {
	lr := &boundedReader{r: r, left: max + 1}
	var m manifest
	dec := xml.NewDecoder(lr)
	if err := dec.Decode(&m); err != nil {
		if lr.over || lr.left <= 0 {
			return Info{}, invalid(fmt.Sprintf("the backup's moodle_backup.xml is larger than %d MiB", max>>20), err)
		}
		if lr.err != nil {
			return Info{}, lr.err // the reader's own failure: its caller tells what it was
		}
		return Info{}, invalid("the backup's moodle_backup.xml is not valid XML of a Moodle backup", err)
	}
	in := m.Info
	info := Info{
		Name: text(in.Name), MoodleVersion: text(in.MoodleVersion), MoodleRelease: text(in.MoodleRelease), Site: text(in.Site),
		Course: text(in.CourseFullname), CourseShort: text(in.CourseShortname),
		ActivityCount: len(in.Contents.Activities), Sections: len(in.Contents.Sections),
	}
	if len(in.Details) > 0 {
		switch t := strings.TrimSpace(in.Details[0].Type); t {
		case "course", "section", "activity":
			info.Type = t
		}
		info.Format = text(in.Details[0].Format)
	}
	for i, a := range in.Contents.Activities {
		if i == MaxActivities {
			break
		}
		info.Activities = append(info.Activities, Activity{Module: text(a.Module), Title: text(a.Title)})
	}
	return info, nil
}

// text is an XML text trimmed, valid UTF-8, and at most maxText bytes.
func text(s string) string {
	s = strings.ToValidUTF8(strings.TrimSpace(s), "")
	if len(s) > maxText {
		s = s[:maxText]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}
