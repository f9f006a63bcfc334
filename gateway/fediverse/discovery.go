package fediverse

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strings"

	"github.com/lyceum-oer/lyceum/node/api"
)

// Register mounts the bridge's handlers on mux: discovery under
// /.well-known/ and /nodeinfo/, and the ActivityPub documents and inboxes
// under /ap/.
func (b *Bridge) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /.well-known/webfinger", b.serveWebFinger)
	mux.HandleFunc("GET /.well-known/host-meta", b.serveHostMeta)
	mux.HandleFunc("GET /.well-known/nodeinfo", b.serveNodeInfoLinks)
	mux.HandleFunc("GET /nodeinfo/{version}", b.serveNodeInfo)
	mux.Handle("/ap/", b.proxied(http.HandlerFunc(b.serveAP)))
}

// version is the Lyceum release NodeInfo reports.
func (b *Bridge) version() string {
	if b.cfg.Version != "" {
		return b.cfg.Version
	}
	agent := b.svc.Identity.ID().AgentVersion
	if _, v, ok := strings.Cut(agent, "/"); ok {
		return v
	}
	return agent
}

// acctHost is the domain of our acct: URIs: the public URL's host[:port].
func (b *Bridge) acctHost() string { return b.host }

// instanceUsername is the preferredUsername of the instance actor, as
// Mastodon names its own: the host.
func (b *Bridge) instanceUsername() string { return b.base.Hostname() }

func (b *Bridge) serveWebFinger(w http.ResponseWriter, r *http.Request) {
	res := r.URL.Query().Get("resource")
	if res == "" || len(res) > 512 {
		http.Error(w, "resource: want acct:name@host or an actor URL", http.StatusBadRequest)
		return
	}
	var username string
	switch {
	case strings.HasPrefix(res, "acct:"):
		name, host, ok := strings.Cut(strings.TrimPrefix(res, "acct:"), "@")
		if !ok || !strings.EqualFold(host, b.acctHost()) {
			http.Error(w, "not an account of this server", http.StatusNotFound)
			return
		}
		username = strings.TrimPrefix(name, "@")
	case res == b.instanceURL():
		username = b.instanceUsername()
	default:
		username = b.localUsername(res)
	}
	var actorURL string
	if username == b.instanceUsername() {
		actorURL = b.instanceURL()
	} else {
		if _, err := b.localActor(r.Context(), username); err != nil {
			b.notFound(w, err)
			return
		}
		actorURL = b.actorURL(username)
	}
	jrd := map[string]any{
		"subject": "acct:" + username + "@" + b.acctHost(),
		"aliases": []string{actorURL},
		"links": []map[string]string{
			{"rel": "self", "type": "application/activity+json", "href": actorURL},
			{"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": actorURL},
		},
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeJSONType(w, "application/jrd+json", http.StatusOK, jrd)
}

func (b *Bridge) serveHostMeta(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/xrd+xml; charset=utf-8")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">
  <Link rel="lrdd" template="%s/.well-known/webfinger?resource={uri}"/>
</XRD>
`, html.EscapeString(b.base.String()))
}

func (b *Bridge) serveNodeInfoLinks(w http.ResponseWriter, r *http.Request) {
	writeJSONType(w, "application/json", http.StatusOK, map[string]any{
		"links": []map[string]string{
			{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": b.url("/nodeinfo/2.0")},
			{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.1", "href": b.url("/nodeinfo/2.1")},
		},
	})
}

func (b *Bridge) serveNodeInfo(w http.ResponseWriter, r *http.Request) {
	v := r.PathValue("version")
	if v != "2.0" && v != "2.1" {
		http.NotFound(w, r)
		return
	}
	actors, err := b.svc.Actors.Actors(r.Context(), true)
	if err != nil {
		b.internal(w, err)
		return
	}
	users, posts := 0, 0
	for _, a := range actors {
		if a.Type == "Person" {
			users++
			ids, _ := b.svc.Resources.ResourceIDs(r.Context(), a.DID, 10000)
			posts += len(ids)
		}
	}
	software := map[string]string{"name": "lyceum", "version": b.version()}
	if v == "2.1" {
		software["repository"] = "https://github.com/lyceum-oer/lyceum"
		software["homepage"] = "https://github.com/lyceum-oer/lyceum"
	}
	doc := map[string]any{
		"version":           v,
		"software":          software,
		"protocols":         []string{"activitypub"},
		"services":          map[string][]string{"inbound": {}, "outbound": {}},
		"openRegistrations": false,
		"usage": map[string]any{
			"users":      map[string]int{"total": users, "activeMonth": users, "activeHalfyear": users},
			"localPosts": posts,
		},
		"metadata": map[string]any{"nodeName": "Lyceum " + b.acctHost(), "peerID": b.svc.Identity.ID().PeerID},
	}
	writeJSONType(w, `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/`+v+`#"`, http.StatusOK, doc)
}

func writeJSONType(w http.ResponseWriter, typ string, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only a bug of ours makes a document unencodable; the error names
		// our types, not the caller's mistake.
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", typ)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// notFound answers 404 for what is not here, including a path that names
// nothing that could be (an ID that is not a CID); anything else is the
// node's failure.
func (b *Bridge) notFound(w http.ResponseWriter, err error) {
	if k := api.KindOf(err); k == api.KindNotFound || k == api.KindInvalid {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	b.internal(w, err)
}

func (b *Bridge) internal(w http.ResponseWriter, err error) {
	b.log.Error("fediverse request failed", "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}
