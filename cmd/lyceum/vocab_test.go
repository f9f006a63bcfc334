package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestVocabListsCodesWithNames(t *testing.T) {
	repo := t.TempDir() // the vocabularies need no repo
	tests := []struct {
		table string
		want  []string
	}{
		{"subjects", []string{"0541", "Mathematics"}},
		{"levels", []string{"adult", "Adult education", "2", "Lower secondary education"}},
		{"types", []string{"assessment", "Assessment"}},
		{"licenses", []string{"CC-BY-4.0", "CC0-1.0"}},
		{"languages", []string{"fr", "French", "pt", "Portuguese"}},
	}
	for _, tt := range tests {
		t.Run(tt.table, func(t *testing.T) {
			out := mustLyceum(t, repo, "vocab", tt.table)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("lyceum vocab %s lacks %q", tt.table, w)
				}
			}
			var rows []map[string]any
			if err := json.Unmarshal([]byte(mustLyceum(t, repo, "vocab", tt.table, "--json")), &rows); err != nil {
				t.Fatal(err)
			}
			if len(rows) == 0 || rows[0]["name"] == "" || rows[0]["code"] == nil && rows[0]["id"] == nil {
				t.Errorf("lyceum vocab %s --json: %v", tt.table, rows)
			}
		})
	}
	if r := lyceum(t, repo, "vocab", "colours"); r.code != exitUsage || !strings.Contains(r.stderr, "subjects, levels") {
		t.Errorf("unknown table: exit %d\n%s", r.code, r.stderr)
	}
}

// A code no vocabulary knows is refused before anything is searched or
// published, naming the table that lists the codes.
func TestUnknownCodesPointAtVocab(t *testing.T) {
	repo := newTestRepo(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a language by its English name", []string{"search", "--language", "french"}, "`lyceum vocab languages`"},
		{"a level beyond 8", []string{"search", "--level", "9"}, "--level \"9\" is unknown: `lyceum vocab levels`"},
		{"an unknown licence", []string{"search", "--license", "CC-BY-9.0"}, "`lyceum vocab licenses`"},
		{"an unknown type", []string{"search", "--type", "poster"}, "`lyceum vocab types`"},
		{"an unknown subject to publish", []string{"publish", "notes.pdf", "--subject", "0541,X"}, "--subject \"X\" is unknown: `lyceum vocab subjects`"},
		{"an unknown level to publish", []string{"publish", "notes.pdf", "--level", "9"}, "`lyceum vocab levels`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := lyceum(t, repo, tt.args...)
			if r.code != exitInvalid {
				t.Errorf("exit %d, want %d\n%s%s", r.code, exitInvalid, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "is unknown") {
				t.Errorf("stderr does not say %q:\n%s", tt.want, r.stderr)
			}
		})
	}
	// Other spellings the node accepts are rewritten to the codes.
	mustLyceum(t, repo, "search", "--license", "cc-by-4.0", "--language", "FR", "--level", "ED2", "--subject", "F0541")
}
