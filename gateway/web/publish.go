package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/lyceum-oer/lyceum/node/api"
)

// publishView is the data of the publish and edit page.
type publishView struct {
	Form        *form
	Edit        bool
	ID          string       // the resource edited
	Current     api.Resource // its latest version, when editing
	Action      string       // where the form posts (the CSRF token is added)
	Subjects    []subjectGroup
	Communities []option
	MaxBytes    int64
	// Kept names a file stored by an earlier try of this form, which a
	// new try publishes unless another is chosen.
	Kept string
	// Drafts says the person may save the form as a draft; Draft is the
	// draft it was opened from (0: none).
	Drafts bool
	Draft  string
}

// publishForm is the publish page.
func (a *App) publishForm(r *http.Request, v *visitor) (response, error) {
	acc, err := v.require(api.ActionPublish)
	if err != nil {
		return response{}, err
	}
	f := newForm(nil)
	f.Values.Set("license", "CC-BY-4.0")
	f.Values.Set("language", v.lang)
	q := r.URL.Query()
	if c, ok := actorRef(q.Get("community")); ok {
		f.Values.Set("community", c)
	}
	if d := q.Get("derived_from"); d != "" && len(d) <= 128 {
		f.Values.Set("derived_from", d)
	}
	if d := q.Get("draft"); d != "" {
		if err := a.openDraft(r, v, acc.Username, d, f); err != nil {
			return response{}, err
		}
	}
	return a.publishPage(r.Context(), v, f, "", nil, 0)
}

// publish publishes a resource from the publish form: its fields, then
// its file streamed into the store (or its link). With ?check=1 (app.js,
// before it sends a large file) it only checks the fields: 202 when they
// are good.
func (a *App) publish(r *http.Request, v *visitor) (response, error) {
	acc, err := v.require(api.ActionPublish)
	if err != nil {
		return response{}, err
	}
	return a.submit(r, v, nil, "notice.published", func(req api.PublishRequest) (string, error) {
		req.As = acc.Username
		pub, err := a.svc.Resources.Publish(detached(r.Context()), req)
		return pub.ID, err
	})
}

// submit reads the publish or edit form (of current, when editing) and,
// when it is good, makes its request with send, then goes to the
// resource's page with the notice. A form with errors, or refused, is
// shown again with its messages, keeping the file it brought.
func (a *App) submit(r *http.Request, v *visitor, current *api.ResourceView, notice string,
	send func(api.PublishRequest) (string, error)) (response, error) {
	checkOnly := r.URL.Query().Get("check") == "1"
	id, latest := "", (*api.Resource)(nil)
	if current != nil {
		id, latest = current.ID, &current.Latest
	}
	f := newForm(nil)
	if current == nil && r.URL.Query().Get("intent") == "draft" && a.svc.Drafts != nil {
		// Saved for later: nothing is checked, a file is stored and kept.
		up, err := a.receive(r, v, f, storePinned, func(bool) {})
		if err != nil {
			return response{}, err
		}
		return a.saveDraft(r, v, v.account().Username, f, up)
	}
	store := storeUnpinned
	if checkOnly {
		store = storeNothing
	}
	var fields resourceFields
	up, err := a.receive(r, v, f, store, func(hasFile bool) { fields = a.checkResource(v, f, hasFile || checkOnly, current != nil) })
	if err != nil {
		return response{}, err
	}
	if checkOnly && f.OK() {
		return a.publishPage(r.Context(), v, f, id, latest, http.StatusAccepted)
	}
	if f.OK() {
		req := fields.req
		setContent(&req, up, fields)
		id, err := send(req)
		if err == nil {
			if current == nil {
				a.publishedDraft(r, v.account().Username, f)
			}
			v.flash(notice, r)
			return response{redirect: "/r/" + url.PathEscape(id)}, nil
		}
		if err := f.refused(err, ""); err != nil {
			return response{}, err
		}
	}
	keep(f, up)
	return a.publishPage(r.Context(), v, f, id, latest, http.StatusBadRequest)
}

// setContent sets the file or link of a request: the file just received,
// or one kept from an earlier try.
func setContent(req *api.PublishRequest, up *upload, fields resourceFields) {
	switch {
	case up != nil:
		req.FileCID, req.Filename = up.CID.String(), up.Name
	case fields.keptCID != "" && req.URL == "":
		req.FileCID, req.Filename = fields.keptCID, fields.keptName
	}
}

// keep remembers, in the form shown again, a file that was stored, so
// that it need not be sent again.
func keep(f *form, up *upload) {
	if up != nil {
		f.Values.Set("kept_cid", up.CID.String())
		f.Values.Set("kept_name", up.Name)
	}
}

// publishPage shows the publish form (id "") or the edit form of a
// resource.
func (a *App) publishPage(ctx context.Context, v *visitor, f *form, id string, current *api.Resource, status int) (response, error) {
	pv := &publishView{Form: f, Action: "/publish", Subjects: a.subjectGroups(v.lang, f.List("subjects")), MaxBytes: a.cfg.MaxUploadBytes,
		Drafts: current == nil && a.svc.Drafts != nil}
	if id, ok := draftID(f.Get("draft")); ok && pv.Drafts {
		pv.Draft = strconv.FormatInt(id, 10)
	}
	if c, n := keptFile(f); c != "" {
		pv.Kept = n
		if n == "" {
			pv.Kept = v.t("publish.kept.unnamed")
		}
	}
	title := "publish.title"
	if current != nil {
		pv.Edit, pv.ID, pv.Current, pv.Action = true, id, *current, "/r/"+url.PathEscape(id)+"/edit"
		title = "edit.title"
	} else {
		var err error
		if pv.Communities, err = a.communityOptions(ctx, v, f.Get("community")); err != nil {
			return response{}, err
		}
	}
	return response{page: "publish", title: title, status: status, data: pv}, nil
}

// ownResource loads a resource the signed-in person may change: theirs.
func (a *App) ownResource(r *http.Request, v *visitor) (api.Account, api.ResourceView, error) {
	acc, err := v.require(api.ActionPublish)
	if err != nil {
		return acc, api.ResourceView{}, err
	}
	id, err := parseID(v, r.PathValue("id"))
	if err != nil {
		return acc, api.ResourceView{}, err
	}
	rv, err := a.svc.Resources.ShowResource(r.Context(), id)
	if err != nil {
		return acc, rv, err
	}
	if acc.Actor == "" || rv.Author != acc.Actor {
		return acc, rv, api.Errorf(api.KindForbidden, "%s", v.t("edit.not_yours"))
	}
	if rv.Deleted {
		return acc, rv, api.Errorf(api.KindNotFound, "%s", v.t("resource.deleted"))
	}
	return acc, rv, nil
}

// editForm is the edit page of a resource: the publish form, filled in.
func (a *App) editForm(r *http.Request, v *visitor) (response, error) {
	_, rv, err := a.ownResource(r, v)
	if err != nil {
		return response{}, err
	}
	return a.publishPage(r.Context(), v, prefill(rv.Latest), rv.ID, &rv.Latest, 0)
}

// edit publishes a new version of a resource; the file is optional.
func (a *App) edit(r *http.Request, v *visitor) (response, error) {
	acc, rv, err := a.ownResource(r, v)
	if err != nil {
		return response{}, err
	}
	return a.submit(r, v, &rv, "notice.resource_updated", func(req api.PublishRequest) (string, error) {
		req.As = acc.Username
		_, err := a.svc.Resources.UpdateResource(detached(r.Context()), rv.ID, req)
		return rv.ID, err
	})
}

// confirmView is the data of a page that asks before deleting.
type confirmView struct {
	What   string // the title of what goes
	Action string // where the form posts
	Back   string // where "cancel" goes
	Text   string // what happens, already translated
}

// deleteForm asks the author before deleting a resource.
func (a *App) deleteForm(r *http.Request, v *visitor) (response, error) {
	_, rv, err := a.ownResource(r, v)
	if err != nil {
		return response{}, err
	}
	path := "/r/" + url.PathEscape(rv.ID)
	return response{page: "confirm", title: "delete.title", data: confirmView{What: rv.Latest.Title, Action: path + "/delete",
		Back: path, Text: v.t("delete.resource")}}, nil
}

// deleteResource deletes a resource: its author's node publishes a
// tombstone.
func (a *App) deleteResource(r *http.Request, v *visitor) (response, error) {
	acc, rv, err := a.ownResource(r, v)
	if err != nil {
		return response{}, err
	}
	if _, err := a.svc.Resources.DeleteResource(detached(r.Context()), rv.ID); err != nil {
		return response{}, err
	}
	v.flash("notice.resource_deleted", r)
	return response{redirect: "/@" + url.PathEscape(acc.Username)}, nil
}
