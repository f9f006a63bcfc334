package mbztest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"fmt"
	"io"
	"time"

	"github.com/lyceum-oer/lyceum/gateway/moodle/mbz"
)

// Backup is what a test backup holds.
type Backup struct {
	// Type is "course" or "activity" ("activity" if empty).
	Type string
	// Course is the course's full name.
	Course string
	// Release and Version name the Moodle that made it; defaults 4.5.
	Release, Version string
	// Activities are its activities.
	Activities []mbz.Activity
	// Big, when set, is stored as files/big.bin, BigSize bytes of it: the
	// bulk of a large backup.
	Big     io.Reader
	BigSize int64
	// Stored writes the gzip stream without compressing (for large
	// incompressible content, as a course's media are); else it is
	// compressed at gzip.DefaultCompression.
	Stored bool
	// NoManifest leaves moodle_backup.xml out.
	NoManifest bool
}

// Manifest is the backup's moodle_backup.xml.
func (b Backup) Manifest() []byte {
	typ := b.Type
	if typ == "" {
		typ = "activity"
	}
	release, version := b.Release, b.Version
	if release == "" {
		release, version = "4.5 (Build: 20241007)", "2024100700"
	}
	esc := func(s string) string {
		var buf bytes.Buffer
		xml.EscapeText(&buf, []byte(s))
		return buf.String()
	}
	var acts bytes.Buffer
	for i, a := range b.Activities {
		fmt.Fprintf(&acts, "        <activity>\n          <moduleid>%d</moduleid>\n          <sectionid>1</sectionid>\n"+
			"          <modulename>%s</modulename>\n          <title>%s</title>\n          <directory>activities/%s_%d</directory>\n"+
			"          <insubsection></insubsection>\n        </activity>\n", i+2, esc(a.Module), esc(a.Title), esc(a.Module), i+2)
	}
	return fmt.Appendf(nil, `<?xml version="1.0" encoding="UTF-8"?>
<moodle_backup>
  <information>
    <name>backup-moodle2-%s-2-20250301-0930-nu.mbz</name>
    <moodle_version>%s</moodle_version>
    <moodle_release>%s</moodle_release>
    <backup_version>2024100700</backup_version>
    <backup_release>4.5</backup_release>
    <backup_date>1740821400</backup_date>
    <mnet_remoteusers>0</mnet_remoteusers>
    <include_files>1</include_files>
    <include_file_references_to_external_content>0</include_file_references_to_external_content>
    <original_wwwroot>https://moodle.example.edu</original_wwwroot>
    <original_site_identifier_hash>5f1c0a3e</original_site_identifier_hash>
    <original_course_id>2</original_course_id>
    <original_course_format>topics</original_course_format>
    <original_course_fullname>%s</original_course_fullname>
    <original_course_shortname>SCI-5</original_course_shortname>
    <original_course_startdate>1725148800</original_course_startdate>
    <original_course_enddate>0</original_course_enddate>
    <original_course_contextid>16</original_course_contextid>
    <original_system_contextid>1</original_system_contextid>
    <details>
      <detail backup_id="0b5e2c4f">
        <type>%s</type>
        <format>moodle2</format>
        <interactive>1</interactive>
        <mode>10</mode>
        <execution>1</execution>
        <executiontime>0</executiontime>
      </detail>
    </details>
    <contents>
      <activities>
%s      </activities>
      <sections>
        <section>
          <sectionid>1</sectionid>
          <title>Topic 1</title>
          <directory>sections/section_1</directory>
        </section>
      </sections>
      <course>
        <courseid>2</courseid>
        <title>SCI-5</title>
        <directory>course</directory>
      </course>
    </contents>
    <settings>
      <setting>
        <level>root</level>
        <name>users</name>
        <value>0</value>
      </setting>
    </settings>
  </information>
</moodle_backup>
`, typ, version, release, esc(b.Course), typ, acts.String())
}

type entry struct {
	name string
	data []byte
}

func (b Backup) entries() []entry {
	var es []entry
	for i, a := range b.Activities {
		es = append(es, entry{fmt.Sprintf("activities/%s_%d/module.xml", a.Module, i+2),
			fmt.Appendf(nil, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<module id=\"%d\"><modulename>%s</modulename></module>\n", i+2, a.Module)})
	}
	es = append(es, entry{"files.xml", []byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<files>\n</files>\n")})
	if !b.NoManifest {
		es = append(es, entry{mbz.ManifestName, b.Manifest()}) // Moodle lists it last
	}
	return es
}

// WriteTarGz writes the backup as Moodle's default .mbz: a gzip-compressed
// tar.
func WriteTarGz(w io.Writer, b Backup) error {
	level := gzip.DefaultCompression
	if b.Stored {
		level = gzip.NoCompression
	}
	zw, err := gzip.NewWriterLevel(w, level)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	mod := time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)
	if b.Big != nil {
		if err := tw.WriteHeader(&tar.Header{Name: "files/big.bin", Mode: 0o644, Size: b.BigSize, ModTime: mod, Format: tar.FormatUSTAR}); err != nil {
			return err
		}
		if _, err := io.CopyN(tw, b.Big, b.BigSize); err != nil {
			return err
		}
	}
	for _, e := range b.entries() {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), ModTime: mod, Format: tar.FormatUSTAR}); err != nil {
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// TarGz is the backup as a .mbz in memory (without Big).
func TarGz(b Backup) []byte {
	var buf bytes.Buffer
	if err := WriteTarGz(&buf, b); err != nil {
		panic(err) // a bytes.Buffer does not fail
	}
	return buf.Bytes()
}

// Zip is the backup as an older zip .mbz, in memory (without Big).
func Zip(b Backup) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range b.entries() {
		w, err := zw.Create(e.name)
		if err != nil {
			panic(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
