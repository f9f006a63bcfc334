package web

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// The interface speaks the languages of i18n/: one folder of catalogs a
// language (i18n/en/*.json, i18n/fr/*.json, one file a part of the app),
// flat keys to texts, each key in one file only. A text takes
// its arguments as fmt verbs (%s, %d); a count picks "key.one" or
// "key.other" by the language's plural rule. Codes of the vocabularies
// are named in English by activity's tables and in the other languages by
// i18n/vocab.<lang>.json; language names come from CLDR
// (golang.org/x/text/language/display).

// supported are the interface languages, the first the default.
var supported = []string{api.LanguageEnglish, api.LanguageFrench}

// catalogs are the messages and vocabulary names of every interface
// language.
type catalogs struct {
	msgs    map[string]map[string]string            // lang → key → text
	vocab   map[string]map[string]map[string]string // lang → table → code → name
	matcher language.Matcher
	names   map[string]display.Namer // lang → language namer
}

// vocabTables are the code tables that have names.
var vocabTables = []string{"license", "subject", "level", "type", "audience"}

// loadCatalogs reads the embedded catalogs.
func loadCatalogs() (*catalogs, error) {
	c := &catalogs{msgs: map[string]map[string]string{}, vocab: map[string]map[string]map[string]string{}, names: map[string]display.Namer{}}
	var tags []language.Tag
	for _, lang := range supported {
		m, err := readMessages(lang)
		if err != nil {
			return nil, err
		}
		c.msgs[lang] = m
		tag := language.MustParse(lang)
		tags = append(tags, tag)
		c.names[lang] = display.Languages(tag)
		if lang == api.LanguageEnglish {
			c.vocab[lang] = englishVocab()
			continue
		}
		var v map[string]map[string]string
		if err := readJSON("i18n/vocab."+lang+".json", &v); err != nil {
			return nil, err
		}
		c.vocab[lang] = v
	}
	c.matcher = language.NewMatcher(tags)
	return c, nil
}

// readMessages merges the catalogs of one language.
func readMessages(lang string) (map[string]string, error) {
	names, err := fs.Glob(i18nFS, "i18n/"+lang+"/*.json")
	if err != nil || len(names) == 0 {
		return nil, fmt.Errorf("web: no catalog for %s", lang)
	}
	all := map[string]string{}
	for _, name := range names {
		var m map[string]string
		if err := readJSON(name, &m); err != nil {
			return nil, err
		}
		for k, s := range m {
			if _, dup := all[k]; dup {
				return nil, fmt.Errorf("web: %s: key %q is in two catalogs", name, k)
			}
			all[k] = s
		}
	}
	return all, nil
}

func readJSON(name string, v any) error {
	b, err := fs.ReadFile(i18nFS, name)
	if err != nil {
		return fmt.Errorf("web: %s: %w", name, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("web: %s: %w", name, err)
	}
	return nil
}

// englishVocab names every code by activity's tables.
func englishVocab() map[string]map[string]string {
	voc := activity.Vocab()
	m := map[string]map[string]string{}
	for _, t := range vocabTables {
		m[t] = map[string]string{}
	}
	for _, l := range voc.Licenses {
		m["license"][l.ID] = l.Name
	}
	for _, s := range voc.Subjects {
		m["subject"][s.Code] = s.Name
	}
	for _, l := range voc.Levels {
		m["level"][l.Code] = l.Name
	}
	for _, t := range voc.Types {
		m["type"][t.Code] = t.Name
	}
	for _, a := range voc.Audiences {
		m["audience"][a.Code] = a.Name
	}
	return m
}

// has reports whether lang is an interface language.
func (c *catalogs) has(lang string) bool { _, ok := c.msgs[lang]; return ok }

// match picks the interface language of an Accept-Language header.
func (c *catalogs) match(accept string) string {
	if len(accept) > 512 {
		accept = accept[:512]
	}
	tags, _, err := language.ParseAcceptLanguage(accept)
	if err != nil || len(tags) == 0 {
		return supported[0]
	}
	_, i, _ := c.matcher.Match(tags...)
	return supported[i]
}

// lookup returns the text of a key in lang, falling back to English.
func (c *catalogs) lookup(lang, key string) (string, bool) {
	if s, ok := c.msgs[lang][key]; ok {
		return s, true
	}
	s, ok := c.msgs[supported[0]][key]
	return s, ok
}

// t translates key with its arguments; a missing key shows as itself, and
// the tests make sure none is missing.
func (c *catalogs) t(lang, key string, args ...any) string {
	s, ok := c.lookup(lang, key)
	if !ok {
		return key
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// tn translates a count: key.one or key.other by lang's plural rule, with
// n as its first argument.
func (c *catalogs) tn(lang, key string, n int, args ...any) string {
	form := ".other"
	if n == 1 || (lang == api.LanguageFrench && n == 0) {
		form = ".one"
	}
	return c.t(lang, key+form, append([]any{n}, args...)...)
}

// name is the name of a code of a vocabulary table in lang: the code
// itself if the table does not know it.
func (c *catalogs) name(lang, table, code string) string {
	if n, ok := c.vocab[lang][table][code]; ok {
		return n
	}
	if n, ok := c.vocab[supported[0]][table][code]; ok {
		return n
	}
	return code
}

// languageName is the name of a BCP 47 tag in lang ("fr" → "French" or
// "français"), or the tag itself.
func (c *catalogs) languageName(lang, tag string) string {
	t, err := language.Parse(tag)
	if err != nil {
		return tag
	}
	namer := c.names[lang]
	if namer == nil {
		return tag
	}
	if n := namer.Name(t); n != "" {
		return n
	}
	return tag
}

// option is one choice of a picker.
type option struct {
	Value, Label string
}

// options lists a vocabulary table's codes by their names in lang, sorted
// by name (subjects keep their tree order, indented by level).
func (c *catalogs) options(lang, table string) []option {
	voc := activity.Vocab()
	var out []option
	switch table {
	case "subject":
		for _, s := range voc.Subjects {
			indent := map[string]string{"broad": "", "narrow": "\u00a0\u00a0", "detailed": "\u00a0\u00a0\u00a0\u00a0"}[s.Level]
			out = append(out, option{s.Code, indent + c.name(lang, "subject", s.Code)})
		}
		return out
	case "level":
		for _, l := range voc.Levels {
			out = append(out, option{l.Code, c.name(lang, "level", l.Code)})
		}
		return out
	}
	for code := range c.vocab[supported[0]][table] {
		out = append(out, option{code, c.name(lang, table, code)})
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Label) < strings.ToLower(out[j].Label) })
	return out
}

// languageOptions are the languages a resource may be in, by name in lang:
// the ones teachers use most.
func (c *catalogs) languageOptions(lang string) []option {
	var out []option
	for _, tag := range activity.CommonLanguages() {
		out = append(out, option{tag, c.languageName(lang, tag)})
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Label) < strings.ToLower(out[j].Label) })
	return out
}
