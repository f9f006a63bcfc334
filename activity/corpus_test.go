package activity

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteFuzzCorpus regenerates the committed seed corpus of FuzzDecode
// when LYCEUM_WRITE_CORPUS=1: valid activities of every type and broken
// variants of them.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("LYCEUM_WRITE_CORPUS") != "1" {
		t.Skip("set LYCEUM_WRITE_CORPUS=1 to regenerate testdata/fuzz/FuzzDecode")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, a := range chain(t, "corpus") {
		b := mustEncode(t, a)
		write(fmt.Sprintf("valid-%02d-%s", i, strings.ToLower(string(a.Type))), b)
		if i == 0 {
			s := string(b)
			write("broken-duplicate-key", []byte(strings.Replace(s, `"seq":1`, `"seq":1,"seq":2`, 1)))
			write("broken-truncated", b[:len(b)/2])
			write("broken-bad-license", []byte(strings.Replace(s, `"CC-BY-SA-4.0"`, `"CC-BY-5.0"`, 1)))
			write("broken-lone-surrogate", []byte(strings.Replace(s, `Ana Silva`, `Ana \ud800`, 1)))
			write("broken-deep", []byte(`{"x":`+strings.Repeat("[", 40)))
			write("extra-member", []byte(strings.Replace(s, `"seq":1`, `"seq":1,"z":{"b":1.50,"a":"\u00e9"}`, 1)))
		}
	}
}
