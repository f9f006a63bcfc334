package web

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/ipfs/go-cid"
	"golang.org/x/text/language"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// This file holds the fields of the publish and edit forms: their checks
// (the rules of METADATA.md, told next to each field in the visitor's
// language) and the pickers' choices.

// maxDerived bounds the resources one is derived from, on the form.
const maxDerived = 10

// htmlTag is what activity refuses in free text: markup a browser would
// read as a tag, a comment or a declaration.
var htmlTag = regexp.MustCompile(`<(?:/?[A-Za-z][A-Za-z0-9-]*(?:[\s/>]|$)|!--|!\[CDATA\[|![A-Za-z]|\?)`)

// resourceFields are the checked fields of the form.
type resourceFields struct {
	req api.PublishRequest
	// keptCID and keptName are a file stored by an earlier try of the
	// same form (see publishView.Kept).
	keptCID, keptName string
}

// checkResource checks the fields of the publish or edit form. hasFile
// says a file follows; edit, that the content may stay as it is.
func (a *App) checkResource(v *visitor, f *form, hasFile, edit bool) resourceFields {
	var out resourceFields
	req := &out.req
	req.Title = f.checkTitle(v, "title", activity.MaxTitle, true)
	if n := utf8.RuneCountInString(req.Title); n > 0 && n < activity.MinTitle {
		f.fail("title", v.t("publish.title.short", activity.MinTitle))
	}
	req.Summary = checkSummary(v, f)
	req.License = checkCode(v, f, "license", true, func(s string) bool { _, ok := activity.LookupLicense(s); return ok })
	req.Language = checkCode(v, f, "language", true, func(s string) bool {
		t, err := language.Parse(s)
		return err == nil && t.String() == s
	})
	req.Level = checkCode(v, f, "level", false, func(s string) bool { _, ok := activity.LookupLevel(s); return ok })
	req.Type = checkCode(v, f, "type", false, func(s string) bool { _, ok := activity.LookupType(s); return ok })
	req.Subjects = checkSubjects(v, f)
	req.Keywords = checkKeywords(v, f)
	req.DerivedFrom = checkDerived(v, f)
	req.Creators = checkCreators(v, f)
	if c := f.Get("community"); c != "" && !edit {
		if _, ok := actorRef(c); !ok {
			f.fail("community", v.t("publish.community.invalid"))
		}
		req.Community = c
	}
	if u := f.Get("url"); u != "" {
		if httpURL(u) == "" {
			f.fail("url", v.t("publish.url.invalid"))
		}
		req.URL = u
	}
	out.keptCID, out.keptName = keptFile(f)
	switch {
	case req.URL != "" && (hasFile || out.keptCID != ""):
		f.fail("url", v.t("publish.content.both"))
	case req.URL == "" && !hasFile && out.keptCID == "" && !edit:
		f.fail(fileField, v.t("publish.content.missing"))
	}
	return out
}

// keptFile is a file stored by an earlier try of the form, if its CID is
// well formed.
func keptFile(f *form) (string, string) {
	c, err := cid.Decode(f.Get("kept_cid"))
	if err != nil || len(f.Get("kept_cid")) > 128 {
		return "", ""
	}
	return c.String(), cleanFilename(f.Get("kept_name"))
}

// checkSummary checks the summary: plain text or Markdown on several
// lines, without HTML.
func checkSummary(v *visitor, f *form) string {
	s := strings.TrimSpace(strings.ReplaceAll(f.Raw("summary"), "\r\n", "\n"))
	switch {
	case !utf8.ValidString(s):
		f.fail("summary", v.t("form.text.invalid"))
	case utf8.RuneCountInString(s) > activity.MaxDescription:
		f.fail("summary", v.t("form.text.long", activity.MaxDescription))
	case htmlTag.MatchString(s):
		f.fail("summary", v.t("publish.summary.html"))
	}
	return s
}

// checkCode checks a field whose value is a code of a vocabulary.
func checkCode(v *visitor, f *form, field string, required bool, known func(string) bool) string {
	s := f.Get(field)
	switch {
	case s == "" && required:
		f.fail(field, v.t("publish.choose"))
	case s != "" && (len(s) > 64 || !known(s)):
		f.fail(field, v.t("publish.unknown"))
	}
	return s
}

// checkSubjects checks the ISCED-F fields ticked.
func checkSubjects(v *visitor, f *form) []string {
	var out []string
	for _, s := range f.List("subjects") {
		if _, ok := activity.LookupSubject(s); !ok || len(s) > 8 {
			f.fail("subjects", v.t("publish.unknown"))
			return nil
		}
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) > activity.MaxKeywords {
		f.fail("subjects", v.t("publish.subjects.many", activity.MaxKeywords))
	}
	return out
}

// checkKeywords checks the comma-separated keywords.
func checkKeywords(v *visitor, f *form) []string {
	var out []string
	for _, k := range strings.Split(f.Get("keywords"), ",") {
		k = strings.Join(strings.Fields(k), " ")
		switch {
		case k == "" || contains(out, k):
			continue
		case utf8.RuneCountInString(k) > activity.MaxKeyword:
			f.fail("keywords", v.t("publish.keywords.long", activity.MaxKeyword))
		case strings.ContainsAny(k, "<>"):
			f.fail("keywords", v.t("form.text.markup"))
		}
		out = append(out, k)
	}
	if len(out) > activity.MaxKeywords {
		f.fail("keywords", v.t("publish.keywords.many", activity.MaxKeywords))
	}
	return out
}

// checkDerived reads the resources this one is derived from: IDs, or the
// addresses of their pages (…/r/ID), separated by spaces or commas.
func checkDerived(v *visitor, f *form) []string {
	var out []string
	for _, ref := range strings.FieldsFunc(f.Get("derived_from"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		if i := strings.LastIndex(ref, "/r/"); i >= 0 {
			ref = strings.TrimSuffix(ref[i+3:], "/")
		}
		c, err := cid.Decode(ref)
		if err != nil || len(ref) > 128 {
			f.fail("derived_from", v.t("publish.derived.invalid"))
			return nil
		}
		if !contains(out, c.String()) {
			out = append(out, c.String())
		}
	}
	if len(out) > maxDerived {
		f.fail("derived_from", v.t("publish.derived.many", maxDerived))
	}
	return out
}

// maxCreators bounds the authors one form names.
const maxCreators = 50

// checkCreators reads the authors named one per line, each a name of one
// line without markup.
func checkCreators(v *visitor, f *form) []api.Creator {
	text := f.Get("creators")
	if !utf8.ValidString(text) {
		f.fail("creators", v.t("form.text.invalid"))
		return nil
	}
	cs := api.CreatorsFromLines(text)
	for _, c := range cs {
		switch {
		case utf8.RuneCountInString(c.Name) > activity.MaxTitle:
			f.fail("creators", v.t("form.text.long", activity.MaxTitle))
		case strings.ContainsAny(c.Name, "<>\t\r"):
			f.fail("creators", v.t("form.text.markup"))
		}
	}
	if len(cs) > maxCreators {
		f.fail("creators", v.t("publish.creators.many", maxCreators))
	}
	return cs
}

// prefill puts a resource's metadata in the edit form. The content is
// not: the page shows the current file or link, which stays unless
// another is given.
func prefill(r api.Resource) *form {
	f := newForm(nil)
	f.Values = url.Values{"title": {r.Title}, "summary": {r.Summary}, "license": {r.License}, "language": {r.Language},
		"level": {r.Level}, "type": {r.Type}, "keywords": {strings.Join(r.Keywords, ", ")},
		"derived_from": {strings.Join(r.DerivedFrom, " ")}, "subjects": r.Subjects}
	return f
}

// subjectGroup is one broad ISCED-F field in the subject picker, with its
// narrower fields.
type subjectGroup struct {
	Label string
	Open  bool // one of its fields is ticked
	Items []subjectItem
}

// subjectItem is one checkbox of the subject picker.
type subjectItem struct {
	Value, Label string
	Depth        int
	Checked      bool
}

// subjectGroups is the subject picker in lang, with the ticked ones.
func (a *App) subjectGroups(lang string, ticked []string) []subjectGroup {
	var out []subjectGroup
	depth := map[string]int{"broad": 0, "narrow": 1, "detailed": 2}
	for _, s := range activity.Vocab().Subjects {
		if s.Level == "broad" || len(out) == 0 {
			out = append(out, subjectGroup{Label: a.i18n.name(lang, "subject", s.Code)})
		}
		g := &out[len(out)-1]
		it := subjectItem{Value: s.Code, Label: a.i18n.name(lang, "subject", s.Code), Depth: depth[s.Level], Checked: contains(ticked, s.Code)}
		g.Open = g.Open || it.Checked
		g.Items = append(g.Items, it)
	}
	return out
}

// communityOptions are the communities one may publish in: the node's
// own, and the one the form names if it is another node's.
func (a *App) communityOptions(ctx context.Context, v *visitor, chosen string) ([]option, error) {
	if a.svc.People == nil {
		return nil, nil
	}
	actors, err := a.svc.People.Actors(ctx, true)
	if err != nil {
		return nil, err
	}
	out := []option{{"", v.t("publish.community.none")}}
	found := chosen == ""
	for _, g := range actors {
		if g.Type != string(activity.Group) {
			continue
		}
		out = append(out, option{g.Username, g.DisplayName()})
		found = found || chosen == g.Username || chosen == g.Handle
	}
	if !found {
		if _, ok := actorRef(chosen); ok {
			name, _, _ := strings.Cut(chosen, "@")
			out = append(out, option{chosen, name})
		}
	}
	return out, nil
}
