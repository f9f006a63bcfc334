package web

import (
	"net/http"

	"github.com/lyceum-oer/lyceum/node/api"
)

// homeView is the data of the home page.
type homeView struct {
	// Feed is the signed-in person's feed (what they follow, the
	// communities they joined, what they published); nil for a visitor.
	Feed []resourceCard
	// Signed says someone is signed in: the page shows their feed.
	Signed bool
	// New is what is new in the network.
	New []resourceCard
	// FromCollections is what the collections the person follows added,
	// newest first.
	FromCollections []resourceCard
	// Next is the ?before= of the feed's next page ("" = no more);
	// Paged says this is not the first page.
	Next  string
	Paged bool
}

// home is the front page: the signed-in person's feed and what is new in
// the network; a visitor sees what is new, a search box and an invitation
// to sign in. The feed is always the signed-in account's own: nothing of
// the request chooses whose.
func (a *App) home(r *http.Request, v *visitor) (response, error) {
	res := response{page: "home", title: "home.title"}
	if a.svc.Resources == nil {
		res.data = homeView{Signed: v.account() != nil}
		return res, nil
	}
	t, err := before(v, r)
	if err != nil {
		return response{}, err
	}
	peer := a.localPeer()
	hv := homeView{Paged: !t.IsZero()}
	if acc := v.account(); acc != nil {
		hv.Signed = true
		items, err := a.svc.Resources.FeedOf(r.Context(), api.FeedQuery{As: acc.Username, Before: t, Limit: pageSize})
		if err != nil {
			return response{}, err
		}
		hv.Feed, hv.Next = cardsOf(items, peer), nextBefore(items, pageSize)
		if hv.Paged {
			res.data = hv
			return res, nil
		}
		newest, err := a.svc.Resources.Resources(r.Context(), api.ResourceQuery{Limit: 10})
		if err != nil {
			return response{}, err
		}
		hv.New = cardsOf(newest, peer)
		if a.svc.Collections != nil {
			added, err := a.svc.Collections.CollectionFeed(r.Context(), acc.Username, 10)
			if err != nil {
				return response{}, err
			}
			for _, it := range added {
				c := cardOf(it.FeedItem, peer)
				c.Collection.ID, c.Collection.Title = it.CollectionID, it.CollectionTitle
				hv.FromCollections = append(hv.FromCollections, c)
			}
		}
		res.data = hv
		return res, nil
	}
	items, err := a.svc.Resources.Resources(r.Context(), api.ResourceQuery{Before: t, Limit: pageSize})
	if err != nil {
		return response{}, err
	}
	hv.New, hv.Next = cardsOf(items, peer), nextBefore(items, pageSize)
	res.data = hv
	return res, nil
}
