package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// This file holds what a person does on a resource's page: like it, add
// it to a collection, comment on it, and the count of peers holding its
// file that the page asks for once shown.

// actOn is who acts on the resource of the path, and its ID: a
// signed-in person who may publish.
func actOn(r *http.Request, v *visitor) (api.Account, string, error) {
	acc, err := v.require(api.ActionPublish)
	if err != nil {
		return api.Account{}, "", err
	}
	id, err := parseID(v, r.PathValue("id"))
	return acc, id, err
}

// like likes a resource as the signed-in person.
func (a *App) like(r *http.Request, v *visitor) (response, error) {
	acc, id, err := actOn(r, v)
	if err != nil {
		return response{}, err
	}
	if _, err := a.svc.Resources.Like(detached(r.Context()), api.LikeRequest{As: acc.Username, ID: id}); err != nil {
		return response{}, err
	}
	v.flash("notice.liked", r)
	return response{redirect: "/r/" + url.PathEscape(id) + "#like"}, nil
}

// collect adds a resource to one of the signed-in person's collections.
func (a *App) collect(r *http.Request, v *visitor) (response, error) {
	acc, id, err := actOn(r, v)
	if err != nil {
		return response{}, err
	}
	f := newForm(r)
	col := f.Get("collection")
	own, err := a.ownCollections(r.Context(), &acc)
	if err != nil {
		return response{}, err
	}
	if !hasCollection(own, col) {
		return response{}, api.Errorf(api.KindInvalid, "%s", v.t("resource.collect.choose"))
	}
	res, err := a.svc.Collections.AddToCollection(detached(r.Context()), col, api.CollectionItemRequest{As: acc.Username, Resource: id})
	if err != nil {
		return response{}, err
	}
	if res.Changed {
		v.flash("notice.collected", r)
	} else {
		v.flash("notice.already_collected", r)
	}
	return response{redirect: "/r/" + url.PathEscape(id) + "#collect"}, nil
}

func hasCollection(cs []api.Collection, id string) bool {
	for _, c := range cs {
		if c.ID == id {
			return true
		}
	}
	return false
}

// comment posts a comment on a resource; a bad one shows the page again
// with the message next to the field.
func (a *App) comment(r *http.Request, v *visitor) (response, error) {
	acc, id, err := actOn(r, v)
	if err != nil {
		return response{}, err
	}
	f := newForm(r)
	text := strings.TrimSpace(strings.ReplaceAll(f.Raw("content"), "\r\n", "\n"))
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		f.fail("content", v.t("resource.comment.missing"))
	case !utf8.ValidString(text):
		f.fail("content", v.t("form.text.invalid"))
	case n > activity.MaxNote:
		f.fail("content", v.t("form.text.long", activity.MaxNote))
	}
	if f.OK() {
		_, err := a.svc.Comments.Comment(detached(r.Context()), api.CommentRequest{As: acc.Username, Resource: id, Content: text})
		if err == nil {
			v.flash("notice.commented", r)
			return response{redirect: "/r/" + url.PathEscape(id) + "#comments"}, nil
		}
		if err := f.refused(err, "content"); err != nil {
			return response{}, err
		}
	}
	return a.resourcePage(r, v, id, f)
}

// The count of providers: a DHT lookup takes seconds, so the page asks
// for it once shown, each lookup is bounded in time, few run at once, and
// answers are kept a while.
const (
	providersTimeout = 5 * time.Second
	providersTTL     = 2 * time.Minute
	providersLimit   = 50 // peers counted at most
	providersCached  = 1024
	providersAtOnce  = 4
)

// providerCounts answers GET /r/{id}/providers with {"text": "Held by 3
// peers"}, for app.js.
type providerCounts struct {
	app  *App
	slot chan struct{} // lookups running
	mu   sync.Mutex
	seen map[string]providerEntry // by file CID
}

type providerEntry struct {
	p       api.Providers
	expires time.Time
}

func newProviderCounts(a *App) *providerCounts {
	return &providerCounts{app: a, slot: make(chan struct{}, providersAtOnce), seen: map[string]providerEntry{}}
}

// ServeHTTP answers the count of one resource's file.
func (pc *providerCounts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setHeaders(w)
	a := pc.app
	lang := a.language(r, nil)
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" && len(c.Value) <= 128 {
		if s, err := a.svc.Sessions.Session(r.Context(), c.Value); err == nil && a.i18n.has(s.Account.Language) {
			lang = s.Account.Language
		}
	}
	text, status := pc.count(r, lang)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"text": text})
}

// count looks up, or remembers, how many peers hold the file.
func (pc *providerCounts) count(r *http.Request, lang string) (string, int) {
	a := pc.app
	id, err := cid.Decode(r.PathValue("id"))
	if err != nil || len(r.PathValue("id")) > 128 {
		return "", http.StatusNotFound
	}
	rv, err := a.svc.Resources.ShowResource(r.Context(), id.String())
	if err != nil || rv.Latest.File == nil {
		return "", http.StatusNotFound
	}
	key := rv.Latest.File.CID
	if p, ok := pc.cached(key); ok {
		return a.providersText(lang, p), http.StatusOK
	}
	file, err := cid.Decode(key)
	if err != nil {
		return "", http.StatusNotFound
	}
	select {
	case pc.slot <- struct{}{}:
		defer func() { <-pc.slot }()
	default:
		return a.i18n.t(lang, "resource.providers.busy"), http.StatusServiceUnavailable
	}
	ctx, cancel := context.WithTimeout(r.Context(), providersTimeout)
	defer cancel()
	p, err := a.svc.Providers.Providers(ctx, file, providersLimit)
	if err != nil {
		a.log.Debug("providers", "cid", key, "err", err)
		return a.i18n.t(lang, "resource.providers.unknown"), http.StatusOK
	}
	pc.remember(key, p)
	return a.providersText(lang, p), http.StatusOK
}

func (pc *providerCounts) cached(key string) (api.Providers, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	e, ok := pc.seen[key]
	if !ok || time.Now().After(e.expires) {
		return api.Providers{}, false
	}
	return e.p, true
}

// remember keeps an answer; when full, it first drops the expired ones,
// then everything (a cache, not a store).
func (pc *providerCounts) remember(key string, p api.Providers) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if len(pc.seen) >= providersCached {
		now := time.Now()
		for k, e := range pc.seen {
			if now.After(e.expires) {
				delete(pc.seen, k)
			}
		}
		if len(pc.seen) >= providersCached {
			clear(pc.seen)
		}
	}
	pc.seen[key] = providerEntry{p: p, expires: time.Now().Add(providersTTL)}
}

// providersText says who holds a file, in lang.
func (a *App) providersText(lang string, p api.Providers) string {
	switch {
	case p.Local && p.Peers > 0:
		return a.i18n.tn(lang, "resource.providers.here_and", p.Peers)
	case p.Local:
		return a.i18n.t(lang, "resource.providers.here")
	case p.Peers > 0:
		return a.i18n.tn(lang, "resource.providers.peers", p.Peers)
	}
	return a.i18n.t(lang, "resource.providers.none")
}
