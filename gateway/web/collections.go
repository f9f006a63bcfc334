package web

import (
	"context"
	"net/http"
	"net/url"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// collectionView is the data of a collection's page.
type collectionView struct {
	C         api.Collection
	Owner     actorLink
	IsOwner   bool // the signed-in person owns it: they curate it here
	CanFollow bool // signed in, may follow, not its owner
	Following bool // the signed-in person follows it
	Items     []collectionEntry
	// Form is the rename form (with its errors).
	Form *form
}

// collectionEntry is one resource of a collection.
type collectionEntry struct {
	ID      string
	Href    string
	Title   string // "" when the node does not know the resource
	Deleted bool
}

// collection is a collection's page: its resources in order; its owner
// renames it, removes resources and deletes it here.
func (a *App) collection(r *http.Request, v *visitor) (response, error) {
	id, err := parseID(v, r.PathValue("id"))
	if err != nil {
		return response{}, err
	}
	res, err := a.collectionPage(r, v, id, nil)
	if a.fetchMissing(r, err, func(ctx context.Context, f Fetcher) error { return f.FetchObject(ctx, id) }) {
		return a.collectionPage(r, v, id, nil)
	}
	return res, err
}

// collectionPage builds a collection's page, with the rename form as
// given (nil = filled with the collection's title and summary).
func (a *App) collectionPage(r *http.Request, v *visitor, id string, f *form) (response, error) {
	cv, err := a.svc.Collections.ShowCollection(r.Context(), id)
	if err != nil {
		return response{}, err
	}
	if cv.Deleted {
		return response{}, api.Errorf(api.KindNotFound, "%s", v.t("collection.deleted"))
	}
	page := &collectionView{C: cv.Collection, Owner: actorLinkOf(cv.OwnerHandle, cv.Owner, a.localPeer(), false), Form: f}
	if acc := v.account(); acc != nil {
		page.IsOwner = acc.Actor != "" && acc.Actor == cv.Owner && cv.Local && acc.Can(api.ActionPublish)
		page.CanFollow = acc.Actor != cv.Owner && acc.Can(api.ActionPublish) && a.svc.People != nil
		if page.CanFollow {
			if page.Following, err = a.svc.People.Follows(r.Context(), acc.Username, id); err != nil {
				return response{}, err
			}
		}
	}
	for _, e := range cv.Entries {
		page.Items = append(page.Items, collectionEntry{ID: e.ResourceID, Href: "/r/" + url.PathEscape(e.ResourceID), Title: e.Title, Deleted: e.Deleted})
	}
	res := response{page: "collection", title: "collection.title", name: cv.Title, data: page}
	if page.Form == nil {
		page.Form = newForm(nil)
		page.Form.Values = url.Values{"title": {cv.Title}, "summary": {cv.Summary}}
	} else if !page.Form.OK() {
		res.status = http.StatusBadRequest
	}
	return res, nil
}

// collectionsView is the data of the list of collections.
type collectionsView struct {
	Collections []collectionCard
	CanCreate   bool
}

// collections lists the collections of the node's people and
// communities.
func (a *App) collections(r *http.Request, v *visitor) (response, error) {
	cs, err := a.svc.Collections.Collections(r.Context(), "")
	if err != nil {
		return response{}, err
	}
	cv := collectionsView{Collections: collectionCardsOf(cs, a.localPeer())}
	if acc := v.account(); acc != nil {
		cv.CanCreate = acc.Can(api.ActionPublish)
	}
	return response{page: "collections", title: "collections.title", data: cv}, nil
}

// newCollectionView is the data of the form that creates a collection.
type newCollectionView struct {
	Form *form
	// Resource is added to the new collection (from a resource's page).
	Resource string
}

// collectionForm is the form that creates a collection.
func (a *App) collectionForm(r *http.Request, v *visitor) (response, error) {
	if _, err := v.require(api.ActionPublish); err != nil {
		return response{}, err
	}
	nv := newCollectionView{Form: newForm(nil)}
	if id, err := parseID(v, r.URL.Query().Get("resource")); err == nil {
		nv.Resource = id
	}
	return response{page: "collection_new", title: "collection_new.title", data: nv}, nil
}

// checkCollection checks the title and summary of a collection.
func checkCollection(v *visitor, f *form) (string, string) {
	title := f.checkTitle(v, "title", activity.MaxTitle, true)
	if n := len([]rune(title)); n > 0 && n < activity.MinTitle {
		f.fail("title", v.t("publish.title.short", activity.MinTitle))
	}
	return title, checkSummary(v, f)
}

// createCollection creates a collection of the signed-in person and adds
// the resource it was made from, if any.
func (a *App) createCollection(r *http.Request, v *visitor) (response, error) {
	acc, err := v.require(api.ActionPublish)
	if err != nil {
		return response{}, err
	}
	f := newForm(r)
	title, summary := checkCollection(v, f)
	nv := newCollectionView{Form: f}
	if s := f.Get("resource"); s != "" {
		if nv.Resource, err = parseID(v, s); err != nil {
			return response{}, api.Errorf(api.KindInvalid, "%s", v.t("error.notfound"))
		}
	}
	if f.OK() {
		res, err := a.svc.Collections.CreateCollection(detached(r.Context()), api.CollectionRequest{As: acc.Username, Title: title, Summary: summary})
		if err == nil {
			if nv.Resource != "" {
				if _, err := a.svc.Collections.AddToCollection(detached(r.Context()), res.ID, api.CollectionItemRequest{As: acc.Username, Resource: nv.Resource}); err != nil {
					return response{}, err
				}
			}
			v.flash("notice.collection_created", r)
			return response{redirect: "/c/" + url.PathEscape(res.ID)}, nil
		}
		if err := f.refused(err, ""); err != nil {
			return response{}, err
		}
	}
	return response{page: "collection_new", title: "collection_new.title", status: http.StatusBadRequest, data: nv}, nil
}

// ownCollection loads a collection the signed-in person curates.
func (a *App) ownCollection(r *http.Request, v *visitor) (api.Account, api.CollectionView, error) {
	acc, err := v.require(api.ActionPublish)
	if err != nil {
		return acc, api.CollectionView{}, err
	}
	id, err := parseID(v, r.PathValue("id"))
	if err != nil {
		return acc, api.CollectionView{}, err
	}
	cv, err := a.svc.Collections.ShowCollection(r.Context(), id)
	if err != nil {
		return acc, cv, err
	}
	if cv.Deleted {
		return acc, cv, api.Errorf(api.KindNotFound, "%s", v.t("collection.deleted"))
	}
	if acc.Actor == "" || cv.Owner != acc.Actor || !cv.Local {
		return acc, cv, api.Errorf(api.KindForbidden, "%s", v.t("collection.not_yours"))
	}
	return acc, cv, nil
}

// renameCollection changes a collection's title and summary.
func (a *App) renameCollection(r *http.Request, v *visitor) (response, error) {
	acc, cv, err := a.ownCollection(r, v)
	if err != nil {
		return response{}, err
	}
	f := newForm(r)
	title, summary := checkCollection(v, f)
	if f.OK() {
		_, err := a.svc.Collections.UpdateCollection(detached(r.Context()), cv.ID, api.CollectionRequest{As: acc.Username, Title: title, Summary: summary})
		if err == nil {
			v.flash("notice.collection_updated", r)
			return response{redirect: "/c/" + url.PathEscape(cv.ID)}, nil
		}
		if err := f.refused(err, ""); err != nil {
			return response{}, err
		}
	}
	return a.collectionPage(r, v, cv.ID, f)
}

// removeFromCollection takes a resource out of a collection.
func (a *App) removeFromCollection(r *http.Request, v *visitor) (response, error) {
	acc, cv, err := a.ownCollection(r, v)
	if err != nil {
		return response{}, err
	}
	res, err := parseID(v, newForm(r).Get("resource"))
	if err != nil {
		return response{}, api.Errorf(api.KindInvalid, "%s", v.t("collection.no_item"))
	}
	if _, err := a.svc.Collections.RemoveFromCollection(detached(r.Context()), cv.ID, api.CollectionItemRequest{As: acc.Username, Resource: res}); err != nil {
		return response{}, err
	}
	v.flash("notice.collection_removed", r)
	return response{redirect: "/c/" + url.PathEscape(cv.ID) + "#items"}, nil
}

// deleteCollectionForm asks the owner before deleting a collection.
func (a *App) deleteCollectionForm(r *http.Request, v *visitor) (response, error) {
	_, cv, err := a.ownCollection(r, v)
	if err != nil {
		return response{}, err
	}
	path := "/c/" + url.PathEscape(cv.ID)
	return response{page: "confirm", title: "delete.title", data: confirmView{What: cv.Title, Action: path + "/delete", Back: path,
		Text: v.t("delete.collection")}}, nil
}

// deleteCollection deletes a collection; its resources stay.
func (a *App) deleteCollection(r *http.Request, v *visitor) (response, error) {
	acc, cv, err := a.ownCollection(r, v)
	if err != nil {
		return response{}, err
	}
	if _, err := a.svc.Collections.DeleteCollection(detached(r.Context()), acc.Username, cv.ID); err != nil {
		return response{}, err
	}
	v.flash("notice.collection_deleted", r)
	return response{redirect: "/@" + url.PathEscape(acc.Username)}, nil
}
