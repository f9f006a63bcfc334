package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lyceum-oer/lyceum/node/api"
)

// draftFields are the publish form's fields a draft keeps: the metadata,
// the link, and the file an earlier try stored (kept_cid, kept_name). A
// file chosen with the draft is stored, then kept the same way.
var draftFields = []string{"title", "summary", "license", "language", "level", "type", "subjects", "keywords",
	"community", "derived_from", "creators", "url", "kept_cid", "kept_name"}

// draftsView is the data of the drafts page.
type draftsView struct {
	Drafts []draftCard
}

// draftCard is one draft in the list.
type draftCard struct {
	ID    int64
	Title string
	Saved time.Time
	File  string // the name of the file it keeps, or ""
	Link  string // or its link
}

// drafts is the signed-in person's drafts page, /drafts: what they saved
// to publish later, the last saved first; only they see it.
func (a *App) drafts(r *http.Request, v *visitor) (response, error) {
	acc, err := v.require(api.ActionPublish)
	if err != nil {
		return response{}, err
	}
	ds, err := a.svc.Drafts.Drafts(r.Context(), acc.Username)
	if err != nil {
		return response{}, err
	}
	dv := &draftsView{Drafts: make([]draftCard, 0, len(ds))}
	for _, d := range ds {
		c := draftCard{ID: d.ID, Title: d.Title, Saved: d.Saved, Link: first(d.Fields["url"])}
		if first(d.Fields["kept_cid"]) != "" {
			c.File = cleanFilename(first(d.Fields["kept_name"]))
		}
		dv.Drafts = append(dv.Drafts, c)
	}
	return response{page: "drafts", title: "drafts.title", data: dv}, nil
}

// deleteDraft deletes one of the signed-in person's drafts.
func (a *App) deleteDraft(r *http.Request, v *visitor) (response, error) {
	acc, err := v.require(api.ActionPublish)
	if err != nil {
		return response{}, err
	}
	id, ok := draftID(r.PathValue("id"))
	if !ok {
		return response{}, api.NotFoundf("%s", v.t("error.notfound"))
	}
	if err := a.svc.Drafts.DeleteDraft(detached(r.Context()), acc.Username, id); err != nil {
		return response{}, err
	}
	v.flash("notice.draft_deleted", r)
	return response{redirect: "/drafts"}, nil
}

// openDraft fills the publish form with the signed-in person's draft id
// (from /publish?draft=id); another person's draft is not found.
func (a *App) openDraft(r *http.Request, v *visitor, username, param string, f *form) error {
	id, ok := draftID(param)
	if !ok || a.svc.Drafts == nil {
		return api.NotFoundf("%s", v.t("error.notfound"))
	}
	d, err := a.svc.Drafts.Draft(r.Context(), username, id)
	if err != nil {
		return err
	}
	f.Values = url.Values{}
	for _, name := range draftFields {
		if vs := d.Fields[name]; len(vs) > 0 {
			f.Values[name] = vs
		}
	}
	f.Values.Set("draft", strconv.FormatInt(id, 10))
	return nil
}

// saveDraft saves the publish form, as it is, as the signed-in person's
// draft (a new one, or the one it was opened from), and goes to the
// drafts page. The fields are not checked: a draft is unfinished; its
// limits are the drafts service's.
func (a *App) saveDraft(r *http.Request, v *visitor, username string, f *form, up *upload) (response, error) {
	keep(f, up)
	fields := map[string][]string{}
	for _, name := range draftFields {
		if vs := f.Values[name]; len(vs) > 0 {
			fields[name] = vs
		}
	}
	id := int64(0)
	if s := f.Get("draft"); s != "" {
		var ok bool
		if id, ok = draftID(s); !ok {
			return response{}, api.NotFoundf("%s", v.t("error.notfound"))
		}
	}
	title := f.Get("title")
	if utf8.RuneCountInString(title) > 200 {
		title = string([]rune(title)[:200]) + "…"
	}
	if _, err := a.svc.Drafts.SaveDraft(detached(r.Context()), username, id, title, fields); err != nil {
		if api.KindOf(err) == api.KindInvalid || api.KindOf(err) == api.KindConflict {
			f.Problem = err.Error()
			return a.publishPage(r.Context(), v, f, "", nil, http.StatusBadRequest)
		}
		return response{}, err
	}
	v.flash("notice.draft_saved", r)
	return response{redirect: "/drafts"}, nil
}

// publishedDraft deletes the draft a publication came from, if any.
func (a *App) publishedDraft(r *http.Request, username string, f *form) {
	id, ok := draftID(f.Get("draft"))
	if !ok || a.svc.Drafts == nil {
		return
	}
	if err := a.svc.Drafts.DeleteDraft(detached(r.Context()), username, id); err != nil && api.KindOf(err) != api.KindNotFound {
		a.log.Warn("delete a published draft", "account", username, "draft", id, "err", err)
	}
}

// draftID parses a draft's ID from a URL or a form.
func draftID(s string) (int64, bool) {
	if s == "" || len(s) > 19 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// first is a field's first value, or "".
func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}
