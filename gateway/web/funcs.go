package web

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"
)

// funcs are the template functions of one interface language: the
// templates of each language are parsed with their own set, so that
// {{t "key"}} needs no language argument.
func (a *App) funcs(lang string) template.FuncMap {
	c := a.i18n
	return template.FuncMap{
		// t translates a message key.
		"t": func(key string, args ...any) string { return c.t(lang, key, args...) },
		// tn translates a count (key.one / key.other).
		"tn": func(key string, n int, args ...any) string { return c.tn(lang, key, n, args...) },
		// vocab names a code of a vocabulary table: {{vocab "license" .License}}.
		"vocab": func(table, code string) string { return c.name(lang, table, code) },
		// langname names a language tag.
		"langname": func(tag string) string { return c.languageName(lang, tag) },
		// options lists a vocabulary table for a picker.
		"options": func(table string) []option {
			if table == "language" {
				return c.languageOptions(lang)
			}
			return c.options(lang, table)
		},
		"asset":    a.assets.url,
		"date":     func(t time.Time) string { return formatDate(lang, t) },
		"datetime": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"bytes":    func(n int64) string { return formatBytes(lang, n) },
		"short":    shortID,
		"contains": func(list []string, s string) bool { return contains(list, s) },
		"add":      func(a, b int) int { return a + b },
		"query":    query,
		"lower":    strings.ToLower,
		"pathesc":  url.PathEscape,
		"dict":     dict,
	}
}

// dict makes a map of key, value pairs, to pass several values to a
// sub-template: {{template "input" (dict "Form" .Form "Name" "title")}}.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// formatDate writes a day in the interface language: "7 December 2026"
// or "7 décembre 2026".
func formatDate(lang string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	if lang == "fr" {
		months := [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
		return fmt.Sprintf("%d %s %d", t.Day(), months[t.Month()-1], t.Year())
	}
	return t.Format("2 January 2006")
}

// formatBytes writes a size for people: 1.5 MB (1,5 Mo in French).
func formatBytes(lang string, n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	if lang == "fr" {
		units = []string{"o", "ko", "Mo", "Go", "To"}
	}
	f, i := float64(n), 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	s := fmt.Sprintf("%.0f %s", f, units[i])
	if i > 0 && f < 10 {
		s = fmt.Sprintf("%.1f %s", f, units[i])
	}
	if lang == "fr" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// shortID shortens a long identifier for a link's text: its first and
// last characters.
func shortID(s string) string {
	if len(s) <= 16 {
		return s
	}
	return s[:8] + "…" + s[len(s)-6:]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// query builds a URL query from key, value pairs, leaving out empty
// values: {{query "q" .Q "page" 2}}.
func query(kv ...any) (template.URL, error) {
	if len(kv)%2 != 0 {
		return "", fmt.Errorf("query: odd number of arguments")
	}
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		val := fmt.Sprint(kv[i+1])
		if val != "" && val != "0" {
			v.Add(fmt.Sprint(kv[i]), val)
		}
	}
	return template.URL(v.Encode()), nil
}
