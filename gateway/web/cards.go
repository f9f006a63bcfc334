package web

import (
	"html"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// This file holds what the content pages share: resources, people and
// collections as the templates show them (names and links, never raw
// codes or keys), and the checks of what a URL names.

// pageSize is the length of every list page of the content pages.
const pageSize = 20

// actorLink is an actor as a page shows it: a name and where its page is.
// Name is "" when the node knows nothing of the actor.
type actorLink struct {
	Name string
	Href string
}

// actorLinkOf names an actor by its handle (username@peer): its username,
// and a link to its page, short for an actor of this node. group says
// whether it is a community (/g/) or a person (/@).
func actorLinkOf(handle, did, localPeer string, group bool) actorLink {
	prefix := "/@"
	if group {
		prefix = "/g/"
	}
	name, node, _ := strings.Cut(handle, "@")
	switch {
	case handle == "" && did == "":
		return actorLink{}
	case handle == "":
		return actorLink{Href: prefix + url.PathEscape(did)}
	case node == "" || node == localPeer:
		return actorLink{Name: name, Href: prefix + url.PathEscape(name)}
	}
	return actorLink{Name: name, Href: prefix + url.PathEscape(handle)}
}

// resourceCard is a resource in a list.
type resourceCard struct {
	ID        string
	Title     string
	Author    actorLink
	Community actorLink
	License   string // SPDX id: the template names it
	Language  string // BCP 47: the template names it
	Published time.Time
	Version   uint64
	Link      bool // a link rather than a file
	// Collection is the followed collection that added it, on the home
	// page's list of additions.
	Collection struct{ ID, Title string }
}

// cardOf turns a feed item into a card.
func cardOf(it api.FeedItem, localPeer string) resourceCard {
	c := resourceCard{ID: it.ResourceID, Title: it.Title, License: it.License, Language: it.Language,
		Published: it.Published, Version: it.Version, Link: it.URL != "" && it.FileCID == "",
		Author: actorLinkOf(it.AuthorHandle, it.Author, localPeer, false)}
	if it.Community != "" || it.CommunityHandle != "" {
		c.Community = actorLinkOf(it.CommunityHandle, it.Community, localPeer, true)
	}
	return c
}

// cardsOf turns feed items into cards.
func cardsOf(items []api.FeedItem, localPeer string) []resourceCard {
	out := make([]resourceCard, 0, len(items))
	for _, it := range items {
		out = append(out, cardOf(it, localPeer))
	}
	return out
}

// collectionCard is a collection in a list.
type collectionCard struct {
	ID, Title, Summary string
	Owner              actorLink
	Items              int
}

func collectionCardsOf(cs []api.Collection, localPeer string) []collectionCard {
	out := make([]collectionCard, 0, len(cs))
	for _, c := range cs {
		if c.Deleted {
			continue
		}
		out = append(out, collectionCard{ID: c.ID, Title: c.Title, Summary: c.Summary, Items: c.Items,
			Owner: actorLinkOf(c.OwnerHandle, c.Owner, localPeer, false)})
	}
	return out
}

// localPeer is the node's own peer ID, to shorten the links of its
// actors.
func (a *App) localPeer() string { return a.svc.Identity.ID().PeerID }

// parseID checks the {id} of a resource or collection path: a CID. A
// malformed one names nothing, so the page is "not found".
func parseID(v *visitor, s string) (string, error) {
	if len(s) > 128 {
		return "", api.Errorf(api.KindNotFound, "%s", v.t("error.notfound"))
	}
	c, err := cid.Decode(s)
	if err != nil {
		return "", api.Errorf(api.KindNotFound, "%s", v.t("error.notfound"))
	}
	return c.String(), nil
}

// actorRef checks an actor reference from a URL or a form: a username,
// a handle username@peer, or a did:key. It only bounds its shape; the
// node says whether it knows it.
func actorRef(s string) (string, bool) {
	if s == "" || len(s) > 200 || !utf8.ValidString(s) {
		return "", false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.-@:", r)
		if !ok {
			return "", false
		}
	}
	return s, true
}

// before reads the ?before= of a list page: the publication time of the
// last item of the previous page (RFC 3339). A bad one is refused.
func before(v *visitor, r *http.Request) (time.Time, error) {
	s := r.URL.Query().Get("before")
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if len(s) > 40 || err != nil || t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}, api.Errorf(api.KindInvalid, "%s", v.t("content.bad_page"))
	}
	return t, nil
}

// nextBefore is the ?before= of the page after items, or "" when items
// was the last page.
func nextBefore(items []api.FeedItem, limit int) string {
	if len(items) < limit || len(items) == 0 {
		return ""
	}
	return items[len(items)-1].Published.UTC().Format(time.RFC3339Nano)
}

// licenseInfo is a licence as the resource page shows it.
type licenseInfo struct {
	Code  string // SPDX id: the template names it
	Badge string // "CC BY-SA 4.0"; "" for the LicenseRef- ones
	URL   string // the licence's text; "" for the LicenseRef- ones
}

// licenseOf describes an SPDX licence id.
func licenseOf(id string) licenseInfo {
	l := licenseInfo{Code: id, Badge: licenseBadge(id)}
	if lic, ok := activity.LookupLicense(id); ok {
		l.URL = lic.URL
	}
	return l
}

// licenseBadge is the short name Creative Commons prints on its badges:
// CC-BY-NC-SA-4.0 → "CC BY-NC-SA 4.0", CC0-1.0 → "CC0 1.0".
func licenseBadge(id string) string {
	if rest, ok := strings.CutPrefix(id, "CC0-"); ok {
		return "CC0 " + rest
	}
	parts := strings.Split(id, "-")
	if len(parts) < 3 || parts[0] != "CC" {
		return ""
	}
	return "CC " + strings.Join(parts[1:len(parts)-1], "-") + " " + parts[len(parts)-1]
}

// safeSnippet keeps of a search snippet only its <mark> highlights:
// everything else is text, escaped again. A snippet comes from the index
// of this node or of an HQ, and no HQ is trusted to send HTML.
func safeSnippet(s string) template.HTML {
	if len(s) > 4000 {
		s = s[:4000]
	}
	s = strings.ToValidUTF8(s, "")
	var b strings.Builder
	open := false
	for s != "" {
		i := strings.Index(s, "<")
		if i < 0 {
			b.WriteString(html.EscapeString(html.UnescapeString(s)))
			break
		}
		b.WriteString(html.EscapeString(html.UnescapeString(s[:i])))
		s = s[i:]
		switch {
		case strings.HasPrefix(s, "<mark>") && !open:
			b.WriteString("<mark>")
			s, open = s[len("<mark>"):], true
		case strings.HasPrefix(s, "</mark>") && open:
			b.WriteString("</mark>")
			s, open = s[len("</mark>"):], false
		default:
			b.WriteString("&lt;")
			s = s[1:]
		}
	}
	if open {
		b.WriteString("</mark>")
	}
	return template.HTML(b.String())
}
