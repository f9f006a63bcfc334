package activity

import (
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// vocabFS holds the versioned code tables. They are data, not code, so a
// new licence or subject is a reviewed change to a JSON file.
//
//go:embed vocab/*.json
var vocabFS embed.FS

// License is an entry of vocab/licenses.json.
type License struct {
	ID        string `json:"id"`        // SPDX id, e.g. "CC-BY-4.0"
	Name      string `json:"name"`      // English name
	URL       string `json:"url"`       // canonical licence URL; "" for LicenseRef-*
	Open      bool   `json:"open"`      // whether the licence is an open licence
	MoodleNet string `json:"moodlenet"` // MoodleNet's code, e.g. "cc-by"; "" if none
}

// Subject is an entry of vocab/subjects.json: an ISCED-F 2013 field.
type Subject struct {
	Code   string `json:"code"`   // "05" broad, "053" narrow, "0533" detailed
	Name   string `json:"name"`   // English name
	Level  string `json:"level"`  // "broad", "narrow" or "detailed"
	Parent string `json:"parent"` // code of the enclosing field; "" for broad
}

// Level is an entry of vocab/levels.json: an ISCED 2011 level or "adult".
type Level struct {
	Code      string `json:"code"`      // "0"–"8" or "adult"
	Name      string `json:"name"`      // English name
	MoodleNet string `json:"moodlenet"` // MoodleNet's code, e.g. "ED1", "ADT"
}

// Term is an entry of a simple code table (resource types, audiences).
type Term struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Vocabulary is the parsed set of code tables, each with its file's version.
// It is read-only after Vocab returns it.
type Vocabulary struct {
	LicensesVersion  string
	Licenses         []License
	SubjectsVersion  string
	Subjects         []Subject
	LevelsVersion    string
	Levels           []Level
	TypesVersion     string
	Types            []Term
	AudiencesVersion string
	Audiences        []Term

	licenses  map[string]*License
	subjects  map[string]*Subject
	levels    map[string]*Level
	types     map[string]*Term
	audiences map[string]*Term
}

// loadBuiltin parses the embedded files on first use (not in init), once;
// the result is never modified afterwards.
var loadBuiltin = sync.OnceValue(mustLoadVocab)

// Vocab returns the embedded code tables, for listing them (web UI, search
// facets). The returned value must not be modified.
func Vocab() *Vocabulary { return loadBuiltin() }

// LookupLicense returns the licence with the SPDX id, exactly as written.
func LookupLicense(id string) (License, bool) {
	l, ok := loadBuiltin().licenses[id]
	if !ok {
		return License{}, false
	}
	return *l, true
}

// LookupSubject returns the ISCED-F 2013 field with the code.
func LookupSubject(code string) (Subject, bool) {
	s, ok := loadBuiltin().subjects[code]
	if !ok {
		return Subject{}, false
	}
	return *s, true
}

// LookupLevel returns the ISCED 2011 level with the code ("0"–"8", "adult").
func LookupLevel(code string) (Level, bool) {
	l, ok := loadBuiltin().levels[code]
	if !ok {
		return Level{}, false
	}
	return *l, true
}

// LookupType returns the resource type with the code, e.g. "unit-of-study".
func LookupType(code string) (Term, bool) {
	t, ok := loadBuiltin().types[code]
	if !ok {
		return Term{}, false
	}
	return *t, true
}

// LookupAudience returns the audience (educational role) with the code.
func LookupAudience(code string) (Term, bool) {
	t, ok := loadBuiltin().audiences[code]
	if !ok {
		return Term{}, false
	}
	return *t, true
}

// NormalizeLicense maps a licence as found in imported data (an SPDX id in
// any letter case, or a MoodleNet code such as "cc-by") to its SPDX id.
func NormalizeLicense(s string) (string, bool) {
	for _, l := range loadBuiltin().Licenses {
		if strings.EqualFold(s, l.ID) || (l.MoodleNet != "" && strings.EqualFold(s, l.MoodleNet)) {
			return l.ID, true
		}
	}
	return "", false
}

// NormalizeSubject maps a subject code as found in imported data (ISCED-F
// code, or MoodleNet's "F"-prefixed form such as "F0533") to its code.
func NormalizeSubject(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if _, ok := loadBuiltin().subjects[s]; ok {
		return s, true
	}
	if len(s) > 1 && (s[0] == 'F' || s[0] == 'f') {
		if _, ok := loadBuiltin().subjects[s[1:]]; ok {
			return s[1:], true
		}
	}
	return "", false
}

// NormalizeLevel maps a level as found in imported data ("1", "ED1",
// "adult", "ADT") to its code.
func NormalizeLevel(s string) (string, bool) {
	s = strings.TrimSpace(s)
	for _, l := range loadBuiltin().Levels {
		if s == l.Code || strings.EqualFold(s, l.MoodleNet) || strings.EqualFold(s, l.Code) {
			return l.Code, true
		}
	}
	return "", false
}

func mustLoadVocab() *Vocabulary {
	v, err := loadVocab()
	if err != nil {
		// The files are embedded and covered by tests: failing here means
		// the build itself is broken.
		panic(err)
	}
	return v
}

func loadVocab() (*Vocabulary, error) {
	v := &Vocabulary{}
	var lic struct {
		Version  string    `json:"version"`
		Licenses []License `json:"licenses"`
	}
	var sub struct {
		Version  string    `json:"version"`
		Subjects []Subject `json:"subjects"`
	}
	var lev struct {
		Version string  `json:"version"`
		Levels  []Level `json:"levels"`
	}
	var typ struct {
		Version string `json:"version"`
		Types   []Term `json:"types"`
	}
	var aud struct {
		Version   string `json:"version"`
		Audiences []Term `json:"audiences"`
	}
	for name, dst := range map[string]any{
		"licenses.json": &lic, "subjects.json": &sub, "levels.json": &lev,
		"types.json": &typ, "audiences.json": &aud,
	} {
		b, err := vocabFS.ReadFile("vocab/" + name)
		if err != nil {
			return nil, fmt.Errorf("read vocab %s: %w", name, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			return nil, fmt.Errorf("parse vocab %s: %w", name, err)
		}
	}
	v.LicensesVersion, v.Licenses = lic.Version, lic.Licenses
	v.SubjectsVersion, v.Subjects = sub.Version, sub.Subjects
	v.LevelsVersion, v.Levels = lev.Version, lev.Levels
	v.TypesVersion, v.Types = typ.Version, typ.Types
	v.AudiencesVersion, v.Audiences = aud.Version, aud.Audiences

	v.licenses = make(map[string]*License, len(v.Licenses))
	for i := range v.Licenses {
		v.licenses[v.Licenses[i].ID] = &v.Licenses[i]
	}
	v.subjects = make(map[string]*Subject, len(v.Subjects))
	for i := range v.Subjects {
		v.subjects[v.Subjects[i].Code] = &v.Subjects[i]
	}
	v.levels = make(map[string]*Level, len(v.Levels))
	for i := range v.Levels {
		v.levels[v.Levels[i].Code] = &v.Levels[i]
	}
	v.types = make(map[string]*Term, len(v.Types))
	for i := range v.Types {
		v.types[v.Types[i].Code] = &v.Types[i]
	}
	v.audiences = make(map[string]*Term, len(v.Audiences))
	for i := range v.Audiences {
		v.audiences[v.Audiences[i].Code] = &v.Audiences[i]
	}
	for _, f := range []struct {
		name, version string
		n             int
	}{
		{"licenses", v.LicensesVersion, len(v.Licenses)},
		{"subjects", v.SubjectsVersion, len(v.Subjects)},
		{"levels", v.LevelsVersion, len(v.Levels)},
		{"types", v.TypesVersion, len(v.Types)},
		{"audiences", v.AudiencesVersion, len(v.Audiences)},
	} {
		if f.version == "" || f.n == 0 {
			return nil, fmt.Errorf("vocab %s: missing version or entries", f.name)
		}
	}
	return v, nil
}

// commonLanguages are the languages the surfaces offer first (the web
// app's publish page, `lyceum vocab languages`): those teachers use most.
// A resource may have any BCP 47 tag in canonical form.
var commonLanguages = []string{
	"ar", "bg", "bn", "ca", "cs", "cy", "da", "de", "el", "en", "eo", "es", "et", "eu", "fa", "fi", "fr", "ga", "gl",
	"he", "hi", "hr", "hu", "id", "is", "it", "ja", "ko", "la", "lt", "lv", "mt", "nl", "no", "pl", "pt", "ro", "ru",
	"sk", "sl", "sq", "sr", "sv", "sw", "th", "tr", "uk", "ur", "vi", "zh",
}

// CommonLanguages returns the BCP 47 tags of the languages the surfaces
// offer first, sorted; a new slice each call.
func CommonLanguages() []string { return slices.Clone(commonLanguages) }
