package fediverse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lyceum-oer/lyceum/gateway/httpsig"
)

// maxFetchBytes bounds a document fetched from another server.
const maxFetchBytes = 1 << 20

// remoteTTL is how long a fetched actor (and its key) is trusted before
// it is fetched again.
const remoteTTL = 24 * time.Hour

var _ httpsig.KeyFetcher = (*Bridge)(nil)

// getJSON fetches an ActivityStreams document with a GET signed by the
// instance actor, so that servers in secure mode answer it. It refuses a
// document that a redirect fetched from another host: what is said of an
// ID is believed only from the ID's own host, and an open redirect there
// must not make another server's document pass for it.
func (b *Bridge) getJSON(ctx context.Context, u string) (obj, error) {
	if err := checkURL(u); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`)
	key, err := b.keyOf(ctx, b.instanceURL())
	if err != nil {
		return nil, err
	}
	if err := httpsig.Sign(req, nil, keyIDOf(b.instanceURL()), key, time.Now()); err != nil {
		return nil, err
	}
	return b.do(req, true)
}

// do makes a GET and parses the JSON object it answers; with sameHost, a
// redirect to another host is an error.
func (b *Bridge) do(req *http.Request, sameHost bool) (obj, error) {
	resp, err := b.cfg.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", req.URL, err)
	}
	defer resp.Body.Close()
	if sameHost && resp.Request != nil && !strings.EqualFold(resp.Request.URL.Host, req.URL.Host) {
		return nil, fmt.Errorf("GET %s: redirected to another host, %s", req.URL, resp.Request.URL.Host)
	}
	if resp.StatusCode == http.StatusGone {
		return nil, fmt.Errorf("GET %s: %w", req.URL, errGone)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", req.URL, resp.Status)
	}
	data, err := readLimited(resp.Body, maxFetchBytes)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", req.URL, err)
	}
	return parseDoc(data)
}

// checkURL admits https URLs (and http ones, which tests and a LAN may
// use; the HTTP client decides which addresses may be dialled).
func checkURL(u string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.User != nil || len(u) > 2048 {
		return fmt.Errorf("%q is not an http(s) URL", u)
	}
	return nil
}

func sameHost(a, b string) bool {
	pa, err1 := url.Parse(a)
	pb, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && pa.Host != "" && strings.EqualFold(pa.Host, pb.Host)
}

// FetchKey finds the public key a keyId names, for the signature verifier:
// from the cache while it is fresh, else by fetching the document the key
// ID points to (an actor, or a key document naming its owner). With
// refresh (a signature did not verify with the cached key) it fetches
// again only if the cached key is older than KeyRefreshMinAge. Fetches
// are bounded as keyFetches says.
func (b *Bridge) FetchKey(ctx context.Context, keyID string, refresh bool) (httpsig.PublicKey, error) {
	a, err := b.db.remoteByKey(ctx, keyID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return httpsig.PublicKey{}, retry(fmt.Errorf("key %s: %w", keyID, err))
	case a.KeyPEM == "":
	case !refresh && time.Since(a.Fetched) < remoteTTL:
		return publicKeyOf(a)
	case refresh && time.Since(a.Fetched) < b.cfg.KeyRefreshMinAge:
		// Fetched moments ago: a signature that does not verify with it
		// was not made with a key rotated since.
		return publicKeyOf(a)
	}
	a, err = b.keyFetch.fetch(ctx, b.ctx, keyID, b.fetchKeyOwner)
	if err != nil {
		return httpsig.PublicKey{}, fmt.Errorf("key %s: %w", keyID, err)
	}
	if a.KeyID != keyID && a.ID != keyID {
		b.keyFetch.fail(keyID)
		return httpsig.PublicKey{}, fmt.Errorf("key %s: the actor %s publishes key %q instead", keyID, a.ID, a.KeyID)
	}
	return publicKeyOf(a)
}

// fetchKeyOwner fetches the actor that a key document (or actor document)
// at docURL belongs to, and caches it.
func (b *Bridge) fetchKeyOwner(ctx context.Context, docURL string) (RemoteActor, error) {
	doc, err := b.getJSON(ctx, docURL)
	if err != nil {
		return RemoteActor{}, err
	}
	actorURL := ref(doc["id"])
	if _, isKey := doc["publicKeyPem"]; isKey {
		// A key document (GoToSocial's …/main-key): fetch its owner.
		actorURL = ref(doc["owner"])
	}
	if actorURL == "" || !sameHost(actorURL, docURL) {
		return RemoteActor{}, fmt.Errorf("key document %s: no owner on its own host", docURL)
	}
	if actorURL != docURL {
		// A key document or an actor stub (GoToSocial serves one at its
		// key URL): read the whole actor.
		doc = nil
	}
	return b.fetchActor(ctx, actorURL, doc)
}

func publicKeyOf(a RemoteActor) (httpsig.PublicKey, error) {
	k, err := httpsig.ParsePublicKeyPEM(a.KeyPEM)
	if err != nil {
		return httpsig.PublicKey{}, err
	}
	return httpsig.PublicKey{ID: a.KeyID, Owner: a.ID, Key: k}, nil
}

// remoteActor returns a remote actor from the cache, fetching it when it
// is unknown or stale.
func (b *Bridge) remoteActor(ctx context.Context, id string) (RemoteActor, error) {
	a, err := b.db.remote(ctx, id)
	if err == nil && time.Since(a.Fetched) < remoteTTL {
		return a, nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return a, err
	}
	return b.fetchActor(ctx, id, nil)
}

// fetchActor fetches (or takes, when doc already is it) an actor document
// and caches what deliveries and signatures need: inboxes, key, software.
func (b *Bridge) fetchActor(ctx context.Context, id string, doc obj) (RemoteActor, error) {
	if doc == nil || ref(doc["id"]) != id {
		var err error
		if doc, err = b.getJSON(ctx, id); err != nil {
			return RemoteActor{}, err
		}
	}
	if ref(doc["id"]) != id {
		return RemoteActor{}, fmt.Errorf("actor %s: the document is %q", id, ref(doc["id"]))
	}
	a := RemoteActor{
		ID: id, Type: firstType(doc), Username: str(doc, "preferredUsername"), Name: clip(str(doc, "name"), 200),
		Inbox: ref(doc["inbox"]), Fetched: time.Now(),
	}
	if ep := object(doc["endpoints"]); ep != nil {
		a.SharedInbox = ref(ep["sharedInbox"])
	}
	for _, k := range objects(doc["publicKey"]) {
		if ref(k["owner"]) == id || ref(k["owner"]) == "" {
			a.KeyID, a.KeyPEM = ref(k["id"]), str(k, "publicKeyPem")
			break
		}
	}
	if a.Inbox == "" || checkURL(a.Inbox) != nil || !sameHost(a.Inbox, id) {
		return RemoteActor{}, fmt.Errorf("actor %s: no inbox on its host", id)
	}
	if a.SharedInbox != "" && (checkURL(a.SharedInbox) != nil || !sameHost(a.SharedInbox, id)) {
		a.SharedInbox = ""
	}
	if a.KeyID != "" && !sameHost(a.KeyID, id) {
		a.KeyID, a.KeyPEM = "", ""
	}
	if old, err := b.db.remote(ctx, id); err == nil && old.Software != "" {
		a.Software = old.Software
	} else {
		a.Software = b.software(ctx, id)
	}
	if err := b.db.putRemote(ctx, a); err != nil {
		return RemoteActor{}, err
	}
	return a, nil
}

func objects(v any) []obj {
	var out []obj
	switch x := v.(type) {
	case map[string]any:
		out = append(out, x)
	case []any:
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

// software asks the NodeInfo of an actor's server which software it runs
// (mastodon, gotosocial, lemmy…), to choose how to boost to it; "" when
// it does not say.
func (b *Bridge) software(ctx context.Context, actorURL string) string {
	u, err := url.Parse(actorURL)
	if err != nil {
		return ""
	}
	base := u.Scheme + "://" + u.Host
	links, err := b.getPlain(ctx, base+"/.well-known/nodeinfo")
	if err != nil {
		return ""
	}
	var href string
	for _, l := range objects(links["links"]) {
		if strings.HasPrefix(str(l, "rel"), "http://nodeinfo.diaspora.software/ns/schema/2.") && sameHost(str(l, "href"), base) {
			href = str(l, "href")
		}
	}
	if href == "" {
		return ""
	}
	ni, err := b.getPlain(ctx, href)
	if err != nil {
		return ""
	}
	if sw := object(ni["software"]); sw != nil {
		return strings.ToLower(clip(str(sw, "name"), 64))
	}
	return ""
}

// getPlain is an unsigned GET of a JSON document (NodeInfo, WebFinger).
func (b *Bridge) getPlain(ctx context.Context, u string) (obj, error) {
	if err := checkURL(u); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json, application/jrd+json")
	return b.do(req, false)
}

// Resolve finds a fediverse actor by handle (@name@host or name@host,
// looked up with WebFinger over https) or by URL, and caches it.
func (b *Bridge) Resolve(ctx context.Context, handle string) (RemoteActor, error) {
	if strings.HasPrefix(handle, "https://") || strings.HasPrefix(handle, "http://") {
		return b.fetchActor(ctx, handle, nil)
	}
	name, host, ok := strings.Cut(strings.TrimPrefix(handle, "@"), "@")
	if !ok || name == "" || host == "" || strings.ContainsAny(host, "/?#@") {
		return RemoteActor{}, fmt.Errorf("%q is not a handle (name@host) or an actor URL", handle)
	}
	jrd, err := b.getPlain(ctx, "https://"+host+"/.well-known/webfinger?resource="+url.QueryEscape("acct:"+name+"@"+host))
	if err != nil {
		return RemoteActor{}, fmt.Errorf("WebFinger %s: %w", handle, err)
	}
	for _, l := range objects(jrd["links"]) {
		t := str(l, "type")
		if str(l, "rel") == "self" && (t == apType || strings.HasPrefix(t, "application/ld+json")) {
			return b.fetchActor(ctx, str(l, "href"), nil)
		}
	}
	return RemoteActor{}, fmt.Errorf("WebFinger %s: no ActivityPub actor", handle)
}

// readLimited reads a response body of at most max bytes.
func readLimited(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("response over %d bytes", max)
	}
	return b, nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
