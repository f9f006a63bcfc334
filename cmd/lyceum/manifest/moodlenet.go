package manifest

import (
	"fmt"
	"strings"

	"golang.org/x/text/language"

	"github.com/lyceum-oer/lyceum/activity"
)

// This file maps the codes a manifest may hold to Lyceum's. Each mapper
// takes Lyceum's own code in any letter case as well as MoodleNet's (v3
// and later: the keys of its ed-meta licences, ISCED fields, ISCED grades,
// resource types and ISO 639-3 languages). docs/IMPORT.md lists the same
// table for people; a test keeps the two together.

// moodleNetLicenses maps MoodleNet's licence keys to SPDX ids. MoodleNet
// names the Creative Commons licences without a version; its web app
// links each to the 4.0 deed, so 4.0 is what they mean.
var moodleNetLicenses = map[string]string{
	"cc-0":                 "CC0-1.0",
	"cc-by":                "CC-BY-4.0",
	"cc-by-sa":             "CC-BY-SA-4.0",
	"cc-by-nc":             "CC-BY-NC-4.0",
	"cc-by-nc-sa":          "CC-BY-NC-SA-4.0",
	"cc-by-nd":             "CC-BY-ND-4.0",
	"cc-by-nc-nd":          "CC-BY-NC-ND-4.0",
	"other-open":           "LicenseRef-other-open",
	"restricted-copyright": "LicenseRef-all-rights-reserved",
}

// moodleNetLevels maps MoodleNet's published ISCED grades (ISCED 2011
// levels, "ED" and the level) and its adult education to Lyceum's levels.
// Its unpublished grades are the levels' subdivisions (ED24: lower
// secondary, general; ED344: upper secondary, general, with access to
// tertiary): mapLevel takes each to its level, the first digit.
var moodleNetLevels = map[string]string{
	"ED0": "0", "ED1": "1", "ED2": "2", "ED3": "3", "ED4": "4",
	"ED5": "5", "ED6": "6", "ED7": "7", "ED8": "8",
	"ADT": "adult",
}

// moodleNetTypes maps MoodleNet's 21 resource types to Lyceum's. Lyceum
// took MoodleNet's list, so each code maps to itself; the table is here
// so that a change on either side is a reviewed change (a test checks
// every target is in activity/vocab/types.json).
var moodleNetTypes = map[string]string{
	"assessment":                  "assessment",
	"concept-map":                 "concept-map",
	"course":                      "course",
	"curriculum":                  "curriculum",
	"data-set":                    "data-set",
	"experiment":                  "experiment",
	"game":                        "game",
	"glossary":                    "glossary",
	"graph":                       "graph",
	"guides-and-tutorials":        "guides-and-tutorials",
	"interactive-learning-object": "interactive-learning-object",
	"map":                         "map",
	"online-courses-site":         "online-courses-site",
	"project":                     "project",
	"questionnaire":               "questionnaire",
	"reading":                     "reading",
	"references":                  "references",
	"report":                      "report",
	"repository":                  "repository",
	"simulation":                  "simulation",
	"unit-of-study":               "unit-of-study",
}

// mapLicense maps a licence: an SPDX id of Lyceum's list in any case,
// MoodleNet's key, or the licence's deed URL.
func mapLicense(s string) (string, bool) {
	if id, ok := moodleNetLicenses[strings.ToLower(s)]; ok {
		return id, true
	}
	if id, ok := activity.NormalizeLicense(s); ok {
		return id, true
	}
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		u := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(s, "http://"), "https://"), "/")
		for _, l := range activity.Vocab().Licenses {
			if l.URL != "" && strings.EqualFold(u, strings.TrimSuffix(strings.TrimPrefix(l.URL, "https://"), "/")) {
				return l.ID, true
			}
		}
	}
	return "", false
}

// mapLevel maps a level: Lyceum's ("0"–"8", "adult"), or MoodleNet's
// grade (ED0–ED8, ADT, or a subdivision such as ED244, which maps to its
// level with a note).
func mapLevel(s string) (code, note string, ok bool) {
	up := strings.ToUpper(s)
	if c, ok := moodleNetLevels[up]; ok {
		return c, "", true
	}
	if c, ok := activity.NormalizeLevel(s); ok {
		return c, "", true
	}
	// A subdivision: ED, the level, one or two digits of orientation and
	// completion (ISCED 2011's three-digit coding).
	if len(up) >= 4 && len(up) <= 5 && strings.HasPrefix(up, "ED") && allDigits(up[2:]) && up[2] <= '8' {
		c := up[2:3]
		return c, fmt.Sprintf("level %s is a part of ISCED level %s: imported as %s", s, c, c), true
	}
	return "", "", false
}

// mapSubject maps a subject: an ISCED-F 2013 code, or MoodleNet's key,
// the code after an "F" (F0533). MoodleNet also has ISCED-F's
// "not further defined" (F0530, F050), "not elsewhere classified" (F0539)
// and "inter-disciplinary" (F0588, F058) fields, which Lyceum's table
// leaves out as they name no subject of their own: each maps to the
// nearest field that encloses it, with a note.
func mapSubject(s string) (code, note string, ok bool) {
	if c, ok := activity.NormalizeSubject(s); ok {
		return c, "", true
	}
	digits := s
	if len(digits) > 1 && (digits[0] == 'F' || digits[0] == 'f') {
		digits = digits[1:]
	}
	if len(digits) < 2 || len(digits) > 4 || !allDigits(digits) {
		return "", "", false
	}
	for c := digits[:len(digits)-1]; len(c) >= 2; c = c[:len(c)-1] {
		if sub, ok := activity.LookupSubject(c); ok {
			return c, fmt.Sprintf("subject %s has no field of its own in ISCED-F: imported as %s (%s)", s, c, sub.Name), true
		}
	}
	return "", "", false
}

// mapType maps a resource type: Lyceum's code, MoodleNet's, or its name
// ("Guides and Tutorials").
func mapType(s string) (string, bool) {
	k := strings.Join(strings.Fields(strings.ToLower(s)), "-")
	if c, ok := moodleNetTypes[k]; ok {
		return c, true
	}
	if t, ok := activity.LookupType(k); ok {
		return t.Code, true
	}
	return "", false
}

// mapLanguage maps a language to a BCP 47 tag in canonical form: a tag
// in any case (pt-br), or MoodleNet's ISO 639-3 code (eng, fra), which
// becomes the two-letter code where there is one.
func mapLanguage(s string) (string, bool) {
	if len(s) > 35 || strings.HasPrefix(strings.ToLower(s), "x-") {
		return "", false
	}
	tag, err := language.Parse(s)
	if err != nil || tag == language.Und {
		return "", false
	}
	return tag.String(), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
