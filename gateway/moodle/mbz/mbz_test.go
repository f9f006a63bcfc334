package mbz_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/lyceum-oer/lyceum/gateway/moodle/mbz"
	"github.com/lyceum-oer/lyceum/gateway/moodle/mbz/mbztest"
	"github.com/lyceum-oer/lyceum/node/api"
)

var course = mbztest.Backup{
	Type: "course", Course: "Sciences 5e — L'eau & <la> vie",
	Activities: []mbz.Activity{{Module: "quiz", Title: "Quiz: states of water"}, {Module: "resource", Title: "Worksheet"}},
}

func TestATarGzBackupSaysWhatItIs(t *testing.T) {
	info, err := mbz.ReadTarGz(bytes.NewReader(mbztest.TarGz(course)))
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != "course" || info.Format != "moodle2" || info.MoodleVersion != "2024100700" || info.MoodleRelease != "4.5 (Build: 20241007)" ||
		info.Course != course.Course || info.CourseShort != "SCI-5" || info.Site != "https://moodle.example.edu" || info.Sections != 1 ||
		info.ActivityCount != 2 || info.Activities[0] != course.Activities[0] || info.Activities[1] != course.Activities[1] {
		t.Fatalf("info %+v", info)
	}
}

func TestAZipBackupSaysTheSame(t *testing.T) {
	z := mbztest.Zip(course)
	if mbz.Sniff(z) != mbz.FormatZip || mbz.Sniff(mbztest.TarGz(course)) != mbz.FormatTarGz || mbz.Sniff([]byte("%PDF")) != mbz.FormatUnknown {
		t.Fatal("sniffed wrong")
	}
	info, err := mbz.ReadZip(bytes.NewReader(z), int64(len(z)))
	if err != nil || info.Type != "course" || info.ActivityCount != 2 {
		t.Fatalf("info %+v (%v)", info, err)
	}
}

func TestBadBackupsAreRefusedAsInvalid(t *testing.T) {
	good := mbztest.TarGz(course)
	var noGzipCheck bytes.Buffer
	noGzipCheck.Write(good[:len(good)-8])
	noGzipCheck.Write([]byte{1, 2, 3, 4, 5, 6, 7, 8})
	bomb := func() []byte {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		io.CopyN(zw, zeros{}, 8<<20)
		zw.Close()
		return buf.Bytes()
	}()
	for name, tc := range map[string]struct {
		data []byte
		opts []mbz.Option
		msg  string
	}{
		"a truncated backup":              {good[:len(good)/2], nil, "truncated"},
		"a backup without its last bytes": {good[:len(good)-3], nil, "truncated"},
		"a bad gzip checksum":             {noGzipCheck.Bytes(), nil, "corrupt"},
		"a PDF":                           {[]byte("%PDF-1.4 not a backup"), nil, "not gzip"},
		"an empty file":                   {nil, nil, "not gzip"},
		"a backup without manifest":       {mbztest.TarGz(mbztest.Backup{NoManifest: true}), nil, "no moodle_backup.xml"},
		"gzip of something not a tar":     {gz([]byte(strings.Repeat("hello ", 200))), nil, ""},
		"a gzip bomb":                     {bomb, []mbz.Option{mbz.WithMaxExpanded(1 << 20)}, "expands"},
		"a manifest over the bound":       {good, []mbz.Option{mbz.WithMaxXML(100)}, "larger"},
		"a manifest that is not XML":      {mbztest.TarGz(mbztest.Backup{Course: "x"}), []mbz.Option{mbz.WithMaxEntries(1)}, "more than 1 files"},
	} {
		t.Run(name+" is refused", func(t *testing.T) {
			_, err := mbz.ReadTarGz(bytes.NewReader(tc.data), tc.opts...)
			if api.KindOf(err) != api.KindInvalid || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v", err)
			}
		})
	}
	t.Run("a zip without manifest is refused", func(t *testing.T) {
		z := mbztest.Zip(mbztest.Backup{NoManifest: true})
		if _, err := mbz.ReadZip(bytes.NewReader(z), int64(len(z))); api.KindOf(err) != api.KindInvalid {
			t.Fatalf("error %v", err)
		}
	})
}

func TestAFailingSourceIsNotTheBackupsFault(t *testing.T) {
	good := mbztest.TarGz(course)
	boom := errors.New("connection reset")
	_, err := mbz.ReadTarGz(io.MultiReader(bytes.NewReader(good[:100]), errReader{boom}))
	if !errors.Is(err, boom) || api.KindOf(err) == api.KindInvalid {
		t.Fatalf("error %v", err)
	}
}

func TestTextsAreBounded(t *testing.T) {
	b := course
	b.Course = strings.Repeat("é", 5000)
	info, err := mbz.ReadTarGz(bytes.NewReader(mbztest.TarGz(b)))
	if err != nil || len(info.Course) > 1000 || !strings.HasPrefix(info.Course, "éé") {
		t.Fatalf("course of %d bytes (%v)", len(info.Course), err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// FuzzReadTarGz: whatever the bytes, the reader returns (never panics,
// never reads beyond its bounds), and anything it refuses is the
// sender's fault (KindInvalid).
func FuzzReadTarGz(f *testing.F) {
	f.Add(mbztest.TarGz(course))
	f.Add(mbztest.TarGz(mbztest.Backup{}))
	f.Add(gz([]byte("not a tar")))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := mbz.ReadTarGz(bytes.NewReader(data), mbz.WithMaxExpanded(64<<20), mbz.WithMaxXML(1<<20))
		if err != nil && api.KindOf(err) != api.KindInvalid {
			t.Fatalf("a bad backup is not invalid: %v", err)
		}
	})
}

// FuzzReadZip is FuzzReadTarGz for zip backups.
func FuzzReadZip(f *testing.F) {
	f.Add(mbztest.Zip(course))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := mbz.ReadZip(bytes.NewReader(data), int64(len(data)), mbz.WithMaxXML(1<<20))
		if err != nil && api.KindOf(err) != api.KindInvalid {
			t.Fatalf("a bad backup is not invalid: %v", err)
		}
	})
}

// FuzzParseManifest: any XML gives an Info or an invalid error.
func FuzzParseManifest(f *testing.F) {
	f.Add(course.Manifest())
	f.Add([]byte("<moodle_backup><information><details><detail><type>course</type></detail></details></information></moodle_backup>"))
	f.Add([]byte("<moodle_backup>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := mbz.ParseManifest(bytes.NewReader(data), 1<<20)
		if err != nil && api.KindOf(err) != api.KindInvalid {
			t.Fatalf("a bad manifest is not invalid: %v", err)
		}
		if len(info.Activities) > mbz.MaxActivities || len(info.Course) > 1000 {
			t.Fatalf("unbounded info %d activities", len(info.Activities))
		}
	})
}
