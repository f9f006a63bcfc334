package api

import (
	"strings"
	"unicode/utf8"
)

// DraftRequest saves a draft over the JSON API (POST /api/v1/drafts):
// the fields of a publication, none required, as the account As.
type DraftRequest struct {
	PublishRequest
	// Key, when set, marks the draft as made from it (an importer's key
	// of a manifest line), so that the one who made it can find it
	// again; the account's drafts list it as Draft.Fields["import_key"].
	Key string `json:"key,omitempty"`
}

// DraftKeyField is the draft field that holds DraftRequest.Key.
const DraftKeyField = "import_key"

// maxDraftTitle bounds the title a draft is listed by.
const maxDraftTitle = 200

// DraftFields are a request's fields as a draft keeps them: by the names
// of the web app's publish form, which opens the draft (a file as
// kept_cid and kept_name; keywords separated by commas; the resources it
// is derived from by spaces; the creators one per line; each subject a
// value of its own); and the title the drafts list shows.
func DraftFields(req DraftRequest) (title string, fields map[string][]string) {
	fields = map[string][]string{}
	set := func(name, v string) {
		if v != "" {
			fields[name] = []string{v}
		}
	}
	set("title", req.Title)
	set("summary", req.Summary)
	set("license", req.License)
	set("language", req.Language)
	set("level", req.Level)
	set("type", req.Type)
	set("community", req.Community)
	set("url", req.URL)
	set("kept_cid", req.FileCID)
	set("kept_name", req.Filename)
	set("keywords", strings.Join(req.Keywords, ", "))
	set("derived_from", strings.Join(req.DerivedFrom, " "))
	set(DraftKeyField, req.Key)
	if len(req.Subjects) > 0 {
		fields["subjects"] = append([]string(nil), req.Subjects...)
	}
	names := make([]string, 0, len(req.Creators))
	for _, c := range req.Creators {
		names = append(names, c.Name)
	}
	set("creators", strings.Join(names, "\n"))
	title = req.Title
	if utf8.RuneCountInString(title) > maxDraftTitle {
		title = string([]rune(title)[:maxDraftTitle]) + "…"
	}
	return title, fields
}

// Request reads a draft's fields back as a publication, as far as they
// go (the inverse of DraftFields).
func (d Draft) Request() DraftRequest {
	one := func(name string) string {
		if vs := d.Fields[name]; len(vs) > 0 {
			return vs[0]
		}
		return ""
	}
	var r DraftRequest
	r.Title, r.Summary, r.License, r.Language = one("title"), one("summary"), one("license"), one("language")
	r.Level, r.Type, r.Community, r.URL = one("level"), one("type"), one("community"), one("url")
	r.FileCID, r.Filename, r.Key = one("kept_cid"), one("kept_name"), one(DraftKeyField)
	for _, k := range strings.Split(one("keywords"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			r.Keywords = append(r.Keywords, k)
		}
	}
	r.DerivedFrom = strings.Fields(one("derived_from"))
	r.Subjects = append([]string(nil), d.Fields["subjects"]...)
	r.Creators = CreatorsFromLines(one("creators"))
	return r
}

// CreatorsFromLines reads authors named one per line (a draft's and the
// publish form's "creators" field).
func CreatorsFromLines(text string) []Creator {
	var out []Creator
	for _, line := range strings.Split(text, "\n") {
		if name := strings.TrimSpace(line); name != "" {
			out = append(out, Creator{Name: name, Role: "author"})
		}
	}
	return out
}
