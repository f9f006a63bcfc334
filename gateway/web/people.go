package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// profileView is the data of a person's or a community's page.
type profileView struct {
	P           api.Profile
	Ref         string // how the page's URL names the actor
	Icon        string // the avatar's URL, or ""
	Self        bool   // the signed-in person's own page
	CanFollow   bool   // signed in, may follow, not themselves
	Resources   []resourceCard
	Next        string // ?before= of the resources' next page
	Paged       bool
	Collections []collectionCard
}

// profile is a person's page, /@{name}: who they are, what they published
// and their collections, with a follow button.
func (a *App) profile(r *http.Request, v *visitor) (response, error) {
	at := r.PathValue("at")
	name, ok := strings.CutPrefix(at, "@")
	if !ok {
		return response{}, api.Errorf(api.KindNotFound, "%s", v.t("error.notfound"))
	}
	pv, err := a.actorPage(r, v, name)
	if err != nil {
		return response{}, err
	}
	if pv.P.Type == string(activity.Group) {
		return response{redirect: "/g/" + url.PathEscape(name)}, nil
	}
	return response{page: "profile", title: "profile.title", name: pv.P.DisplayName(), data: pv}, nil
}

// community is a community's page, /g/{name}: what it is about, its
// resources and collections, with a join button.
func (a *App) community(r *http.Request, v *visitor) (response, error) {
	name := r.PathValue("name")
	pv, err := a.actorPage(r, v, name)
	if err != nil {
		return response{}, err
	}
	if pv.P.Type != string(activity.Group) {
		return response{redirect: "/@" + url.PathEscape(name)}, nil
	}
	return response{page: "community", title: "community.title", name: pv.P.DisplayName(), data: pv}, nil
}

// actorPage loads an actor's profile, resources and collections.
func (a *App) actorPage(r *http.Request, v *visitor, name string) (*profileView, error) {
	ref, ok := actorRef(name)
	if !ok {
		return nil, api.Errorf(api.KindNotFound, "%s", v.t("error.notfound"))
	}
	t, err := before(v, r)
	if err != nil {
		return nil, err
	}
	viewer := ""
	acc := v.account()
	if acc != nil {
		viewer = acc.Username
	}
	p, err := a.svc.People.Profile(r.Context(), ref, viewer)
	if isRemoteHandle(ref) && a.fetchMissing(r, err, func(ctx context.Context, f Fetcher) error {
		_, err := f.Fetch(ctx, ref)
		return err
	}) {
		p, err = a.svc.People.Profile(r.Context(), ref, viewer)
	}
	if err != nil {
		return nil, err
	}
	pv := &profileView{P: p, Ref: ref, Paged: !t.IsZero()}
	if p.IconCID != "" {
		pv.Icon = "/ipfs/" + url.PathEscape(p.IconCID)
	}
	if acc != nil {
		pv.Self = acc.Actor != "" && acc.Actor == p.DID
		pv.CanFollow = !pv.Self && acc.Can(api.ActionPublish)
	}
	if err := a.actorLists(r.Context(), pv, t); err != nil {
		return nil, err
	}
	return pv, nil
}

// actorLists fills an actor's resources (a page of them) and
// collections.
func (a *App) actorLists(ctx context.Context, pv *profileView, t time.Time) error {
	peer := a.localPeer()
	if a.svc.Resources != nil {
		q := api.ResourceQuery{Author: pv.P.DID, Before: t, Limit: pageSize}
		if pv.P.Type == string(activity.Group) {
			q = api.ResourceQuery{Community: pv.P.DID, Before: t, Limit: pageSize}
		}
		items, err := a.svc.Resources.Resources(ctx, q)
		if err != nil {
			return err
		}
		pv.Resources, pv.Next = cardsOf(items, peer), nextBefore(items, pageSize)
	}
	if a.svc.Collections != nil && !pv.Paged {
		cs, err := a.svc.Collections.Collections(ctx, pv.P.DID)
		if err != nil && api.KindOf(err) != api.KindNotFound {
			return err
		}
		pv.Collections = collectionCardsOf(cs, peer)
	}
	return nil
}

// communitiesView is the data of the list of communities.
type communitiesView struct {
	Communities []api.Actor
	CanCreate   bool
}

// communities lists the node's communities.
func (a *App) communities(r *http.Request, v *visitor) (response, error) {
	actors, err := a.svc.People.Actors(r.Context(), true)
	if err != nil {
		return response{}, err
	}
	cv := communitiesView{}
	for _, g := range actors {
		if g.Type == string(activity.Group) {
			cv.Communities = append(cv.Communities, g)
		}
	}
	if acc := v.account(); acc != nil {
		cv.CanCreate = acc.Can(api.ActionPublish)
	}
	return response{page: "communities", title: "communities.title", data: cv}, nil
}

// communityForm is the form that creates a community.
func (a *App) communityForm(r *http.Request, v *visitor) (response, error) {
	if _, err := v.require(api.ActionPublish); err != nil {
		return response{}, err
	}
	return response{page: "community_new", title: "community_new.title", data: newForm(nil)}, nil
}

// createCommunity creates a community of the node, and its creator joins
// it.
func (a *App) createCommunity(r *http.Request, v *visitor) (response, error) {
	acc, err := v.require(api.ActionPublish)
	if err != nil {
		return response{}, err
	}
	f := newForm(r)
	req := api.CreateActorRequest{Type: string(activity.Group),
		Username: f.checkUsername(v, "username"),
		Name:     f.checkText(v, "name", maxNameChars, true),
		Summary:  checkSummary(v, f)}
	if f.OK() {
		g, err := a.svc.People.CreateActor(detached(r.Context()), req)
		if err == nil {
			if _, err := a.svc.People.Follow(detached(r.Context()), api.FollowRequest{As: acc.Username, Actor: g.DID}); err != nil {
				a.log.Warn("join the new community", "community", g.Username, "err", err)
			}
			v.flash("notice.community_created", r)
			return response{redirect: "/g/" + url.PathEscape(g.Username)}, nil
		}
		field := ""
		if api.KindOf(err) == api.KindConflict {
			field = "username"
		}
		if err := f.refused(err, field); err != nil {
			return response{}, err
		}
	}
	return response{page: "community_new", title: "community_new.title", status: http.StatusBadRequest, data: f}, nil
}

// follow follows a person or joins a community (unfollow: the reverse),
// as the signed-in person, then goes back to the page it came from.
func (a *App) follow(undo bool) handler {
	return func(r *http.Request, v *visitor) (response, error) {
		acc, err := v.require(api.ActionPublish)
		if err != nil {
			return response{}, err
		}
		f := newForm(r)
		ref, ok := actorRef(f.Get("actor"))
		if !ok {
			return response{}, api.Errorf(api.KindInvalid, "%s", v.t("follow.invalid"))
		}
		req := api.FollowRequest{As: acc.Username, Actor: ref}
		if undo {
			err = a.svc.People.Unfollow(detached(r.Context()), req)
		} else {
			_, err = a.svc.People.Follow(detached(r.Context()), req)
		}
		if err != nil {
			return response{}, err
		}
		v.flash(followNotice(undo, f.Get("group") == "1", f.Get("collection") == "1"), r)
		return response{redirect: localPath(f.Get("next"))}, nil
	}
}

// followNotice is the notice after a follow: "followed" a person or a
// collection, "joined" a community, and their reverse.
func followNotice(undo, group, collection bool) string {
	switch {
	case collection && undo:
		return "notice.collection_unfollowed"
	case collection:
		return "notice.collection_followed"
	case group && undo:
		return "notice.left"
	case group:
		return "notice.joined"
	case undo:
		return "notice.unfollowed"
	}
	return "notice.followed"
}
