package fediverse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/netip"
	"strings"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/gateway/clientip"
	"github.com/lyceum-oer/lyceum/node/api"
)

// apType is the media type of ActivityPub documents.
const apType = "application/activity+json"

// serveAP routes /ap/.
func (b *Bridge) serveAP(w http.ResponseWriter, r *http.Request) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ap/inbox", b.serveInbox)
	mux.HandleFunc("POST /ap/instance/inbox", b.serveInbox)
	mux.HandleFunc("POST /ap/users/{name}/inbox", b.serveInbox)
	mux.HandleFunc("GET /ap/instance", b.serveInstance)
	// The instance actor's collections are empty, but they exist: servers
	// dereference them (GoToSocial fetched an absent featured URL, "" —
	// "empty url host").
	mux.HandleFunc("GET /ap/instance/{coll}", func(w http.ResponseWriter, r *http.Request) {
		switch coll := r.PathValue("coll"); coll {
		case "outbox", "followers", "following", "featured":
			writeAP(w, http.StatusOK, obj{"@context": asContext, "id": b.instanceURL() + "/" + coll, "type": "OrderedCollection", "totalItems": 0, "orderedItems": []any{}})
		default:
			http.NotFound(w, r)
		}
	})
	mux.HandleFunc("GET /ap/users/{name}", b.fetchable(b.serveActor))
	mux.HandleFunc("GET /ap/users/{name}/{coll}", b.fetchable(b.serveCollection))
	mux.HandleFunc("GET /ap/users/{name}/avatar.png", b.serveAvatar)
	mux.HandleFunc("GET /ap/resources/{id}", b.fetchable(b.serveNote))
	mux.HandleFunc("GET /ap/activities/{cid}", b.fetchable(b.serveActivity))
	mux.HandleFunc("GET /ap/activities/{cid}/{style}", b.fetchable(b.serveActivity))
	mux.HandleFunc("GET /ap/out/{id}", b.fetchable(b.serveOutgoing))
	mux.ServeHTTP(w, r)
}

// wantsJSON is content negotiation: ActivityPub clients ask for
// activity+json or ld+json; browsers get the web page at the same URL.
func wantsJSON(r *http.Request) bool {
	acc := r.Header.Get("Accept")
	return strings.Contains(acc, "application/activity+json") || strings.Contains(acc, "application/ld+json") ||
		strings.Contains(acc, "application/json")
}

// fetchable wraps a document handler: with AuthorizedFetch, JSON answers
// need a signed GET from a fediverse actor (Mastodon's secure mode).
func (b *Bridge) fetchable(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept, Signature")
		if b.cfg.AuthorizedFetch && wantsJSON(r) {
			if !b.clientLimit.Allow(clientip.Key(r, b.cfg.TrustedProxies)) {
				tooMany(w, "too many requests from your address")
				return
			}
			if _, err := b.verify(r.Context(), r, nil); err != nil {
				b.sigError(w, r, err)
				return
			}
		}
		h(w, r)
	}
}

func writeAP(w http.ResponseWriter, status int, v any) {
	writeJSONType(w, apType, status, v)
}

func (b *Bridge) serveInstance(w http.ResponseWriter, r *http.Request) {
	doc, err := b.renderInstance(r.Context())
	if err != nil {
		b.internal(w, err)
		return
	}
	writeAP(w, http.StatusOK, doc)
}

func (b *Bridge) serveActor(w http.ResponseWriter, r *http.Request) {
	a, err := b.localActor(r.Context(), r.PathValue("name"))
	if errors.Is(err, errGone) {
		b.goneActor(w, r, b.actorURL(r.PathValue("name")))
		return
	}
	if err != nil {
		b.notFound(w, err)
		return
	}
	if !wantsJSON(r) {
		b.page(w, firstNonEmpty(a.Name, a.Username), fmt.Sprintf(`<p>@%s@%s — a %s on Lyceum</p>%s<p>Follow it from Mastodon, GoToSocial, Pleroma or Lemmy by searching for <code>@%s@%s</code>.</p>`,
			html.EscapeString(a.Username), html.EscapeString(b.acctHost()), html.EscapeString(kindName(a.Type)), paragraphs(a.Summary),
			html.EscapeString(a.Username), html.EscapeString(b.acctHost()))+b.collectionPageItems(r.Context(), a))
		return
	}
	doc, err := b.renderActor(r.Context(), a)
	if err != nil {
		b.internal(w, err)
		return
	}
	writeAP(w, http.StatusOK, doc)
}

func kindName(t string) string {
	if t == string(activity.Group) {
		return "community"
	}
	if t == collectionType {
		return "collection of resources"
	}
	return "person"
}

// collectionSize is how many items a collection document lists inline.
const collectionSize = 20

func (b *Bridge) serveCollection(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a, err := b.localActor(ctx, r.PathValue("name"))
	if err != nil {
		b.notFound(w, err)
		return
	}
	id := b.actorURL(a.Username) + "/" + r.PathValue("coll")
	coll := obj{"@context": asContext, "id": id, "type": "OrderedCollection"}
	var items []any
	total := 0
	switch r.PathValue("coll") {
	case "outbox":
		outbox := b.actorOutbox
		if a.Type == collectionType {
			outbox = b.collectionOutbox
		}
		if items, total, err = outbox(ctx, a); err != nil {
			b.internal(w, err)
			return
		}
	case "followers":
		// Like Mastodon, the count only: who follows whom is not published.
		total = b.db.count(ctx, `SELECT count(*) FROM followers WHERE local = ? AND state = 'accepted'`, b.actorURL(a.Username))
	case "following":
		ids, err := b.db.strings(ctx, `SELECT remote FROM following WHERE local = ? AND state = 'accepted' ORDER BY remote`, b.actorURL(a.Username))
		if err != nil {
			b.internal(w, err)
			return
		}
		for _, x := range ids {
			items = append(items, x)
		}
		// Lyceum actors followed over the p2p network that are bridged here.
		dids, _ := b.svc.Actors.FollowingOf(ctx, a.DID)
		for _, d := range dids {
			if f, err := b.svc.Actors.Actor(ctx, d); err == nil && f.Local {
				items = append(items, b.actorURL(f.Username))
			}
		}
		total = len(items)
	case "featured":
		// Pinned posts: Lyceum has none yet.
	default:
		http.NotFound(w, r)
		return
	}
	coll["totalItems"] = total
	if items != nil || r.PathValue("coll") != "followers" {
		coll["orderedItems"] = nonNilAny(items)
	}
	writeAP(w, http.StatusOK, coll)
}

// actorOutbox lists a person's resources as Creates, or a community's as
// its boosts of what was posted in it, newest first, with how many there
// are in all.
func (b *Bridge) actorOutbox(ctx context.Context, a api.Actor) ([]any, int, error) {
	ids, err := b.svc.Resources.ResourceIDs(ctx, a.DID, collectionSize)
	if err != nil {
		return nil, 0, err
	}
	me := b.actorURL(a.Username)
	var items []any
	for _, rid := range ids {
		v, err := b.svc.Resources.ShowResource(ctx, rid)
		if err != nil {
			continue
		}
		if v.Author != a.DID {
			items = append(items, obj{"type": "Announce", "actor": me, "object": b.noteURL(rid),
				"to": []string{activity.PublicAudience}, "cc": []string{me + "/followers"}})
			continue
		}
		note, err := b.renderNote(ctx, v)
		if err != nil {
			continue
		}
		delete(note, "@context")
		items = append(items, obj{"id": b.url(pathActivities + rid), "type": "Create", "actor": note["attributedTo"],
			"published": note["published"], "to": note["to"], "cc": note["cc"], "object": note})
	}
	all, _ := b.svc.Resources.ResourceIDs(ctx, a.DID, 100000)
	return items, len(all), nil
}

func nonNilAny(xs []any) []any {
	if xs == nil {
		return []any{}
	}
	return xs
}

// localResourceView finds a resource published by a local actor.
func (b *Bridge) localResourceView(ctx context.Context, id string) (api.ResourceView, api.Actor, error) {
	v, err := b.svc.Resources.ShowResource(ctx, id)
	if err != nil {
		return v, api.Actor{}, err
	}
	a, err := b.svc.Actors.Actor(ctx, v.Author)
	if err != nil {
		return v, a, err
	}
	if !a.Local {
		return v, a, &api.Error{Kind: api.KindNotFound, Msg: "not published on this node"}
	}
	return v, a, nil
}

func (b *Bridge) serveNote(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	v, _, err := b.localResourceView(ctx, id)
	if err != nil {
		b.notFound(w, err)
		return
	}
	if v.Deleted {
		b.gone(w, r, b.noteURL(id))
		return
	}
	note, err := b.renderNote(ctx, v)
	if err != nil {
		b.internal(w, err)
		return
	}
	if !wantsJSON(r) {
		body := note["content"].(string)
		comments, _ := b.Interactions(ctx, id)
		if len(comments) > 0 {
			var c strings.Builder
			c.WriteString("<h2>From the fediverse</h2><ul>")
			for _, it := range comments {
				switch it.Kind {
				case KindComment:
					fmt.Fprintf(&c, `<li><a href="%s">%s</a>: %s</li>`, html.EscapeString(it.Actor), html.EscapeString(it.Actor), it.Content)
				default:
					fmt.Fprintf(&c, `<li><a href="%s">%s</a> %s</li>`, html.EscapeString(it.Actor), html.EscapeString(it.Actor), html.EscapeString(it.Kind))
				}
			}
			c.WriteString("</ul>")
			body += c.String()
		}
		b.page(w, v.Latest.Title, body)
		return
	}
	writeAP(w, http.StatusOK, note)
}

// gone answers 410 with a Tombstone, as Mastodon does for deleted things.
func (b *Bridge) gone(w http.ResponseWriter, r *http.Request, id string) {
	if !wantsJSON(r) {
		http.Error(w, "deleted", http.StatusGone)
		return
	}
	writeAP(w, http.StatusGone, obj{"@context": asContext, "id": id, "type": "Tombstone"})
}

func (b *Bridge) serveActivity(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c := r.PathValue("cid")
	a, err := b.svc.Log.Activity(ctx, c)
	if err != nil {
		b.notFound(w, err)
		return
	}
	author, err := b.svc.Actors.Actor(ctx, a.Actor)
	if err != nil || !author.Local {
		http.NotFound(w, r)
		return
	}
	out, err := b.renderEntry(ctx, api.LogEntry{CID: c, Activity: a}, r.PathValue("style") == "1b12")
	if errors.Is(err, errGone) {
		b.gone(w, r, b.url(pathActivities+c))
		return
	}
	if err != nil {
		b.notFound(w, err)
		return
	}
	if out == nil {
		http.NotFound(w, r)
		return
	}
	writeAP(w, http.StatusOK, out)
}

func (b *Bridge) serveOutgoing(w http.ResponseWriter, r *http.Request) {
	var body []byte
	err := b.db.db.QueryRow(r.Context(), `SELECT body FROM outgoing WHERE id = ?`, b.url(pathOut+r.PathValue("id"))).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		b.internal(w, err)
		return
	}
	w.Header().Set("Content-Type", apType)
	_, _ = w.Write(body)
}

// page is the minimal web page served to browsers.
func (b *Bridge) page(w http.ResponseWriter, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><html><head><meta charset=\"utf-8\"><title>%s</title></head><body><h1>%s</h1>%s</body></html>\n",
		html.EscapeString(title), html.EscapeString(title), body)
}

// proxied trusts X-Forwarded-Host and X-Forwarded-Proto only from the
// configured proxies: behind a TLS reverse proxy, the Host a remote server
// signed is the public one, which the proxy passes on in X-Forwarded-Host.
func (b *Bridge) proxied(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fh, fp := r.Header.Get("X-Forwarded-Host"), r.Header.Get("X-Forwarded-Proto")
		if fh != "" || fp != "" {
			if b.fromTrustedProxy(r) {
				if fh != "" {
					r.Host = strings.TrimSpace(strings.Split(fh, ",")[0])
				}
			} else {
				r.Header.Del("X-Forwarded-Host")
				r.Header.Del("X-Forwarded-Proto")
			}
		}
		h.ServeHTTP(w, r)
	})
}

func (b *Bridge) fromTrustedProxy(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	return err == nil && clientip.In(ap.Addr().Unmap(), b.cfg.TrustedProxies)
}
