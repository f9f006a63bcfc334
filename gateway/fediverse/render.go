package fediverse

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"html"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// The JSON-LD contexts of what the bridge emits: ActivityStreams, the
// security vocabulary (publicKey) and the few extension terms Mastodon
// reads.
var (
	asContext    = activity.ActivityStreamsContext
	actorContext = []any{asContext, "https://w3id.org/security/v1", map[string]any{
		"manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
		"toot":                      "http://joinmastodon.org/ns#",
		"featured":                  map[string]string{"@id": "toot:featured", "@type": "@id"},
		"discoverable":              "toot:discoverable",
		"schema":                    "http://schema.org#",
		"PropertyValue":             "schema:PropertyValue",
		"value":                     "schema:value",
	}}
	noteContext = []any{asContext, map[string]any{"Hashtag": "as:Hashtag", "sensitive": "as:sensitive"}}
)

// obj is a JSON object the bridge emits.
type obj = map[string]any

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// renderActor is the ActivityPub document of a local Person or Group.
func (b *Bridge) renderActor(ctx context.Context, a api.Actor) (obj, error) {
	id := b.actorURL(a.Username)
	pub, err := b.publicKeyPEM(ctx, id)
	if err != nil {
		return nil, err
	}
	typ := "Person"
	if a.Type == string(activity.Group) || a.Type == collectionType {
		typ = "Group"
	}
	doc := obj{
		"@context":                  actorContext,
		"id":                        id,
		"type":                      typ,
		"preferredUsername":         a.Username,
		"name":                      firstNonEmpty(a.Name, a.Username),
		"summary":                   paragraphs(a.Summary),
		"url":                       id,
		"inbox":                     id + "/inbox",
		"outbox":                    id + "/outbox",
		"followers":                 id + "/followers",
		"following":                 id + "/following",
		"featured":                  id + "/featured",
		"endpoints":                 obj{"sharedInbox": b.url(pathInbox)},
		"manuallyApprovesFollowers": b.isLocked(ctx, id),
		"discoverable":              true,
		"publicKey":                 obj{"id": keyIDOf(id), "owner": id, "publicKeyPem": pub},
		"icon":                      obj{"type": "Image", "mediaType": "image/png", "url": id + "/avatar.png"},
		"attachment": []obj{{
			"type": "PropertyValue", "name": "Lyceum",
			"value": html.EscapeString(a.DID),
		}},
	}
	if !a.Created.IsZero() {
		doc["published"] = stamp(a.Created)
	}
	return doc, nil
}

// renderInstance is the Application actor that stands for the node and
// signs the bridge's own GETs.
func (b *Bridge) renderInstance(ctx context.Context) (obj, error) {
	id := b.instanceURL()
	pub, err := b.publicKeyPEM(ctx, id)
	if err != nil {
		return nil, err
	}
	return obj{
		"@context":                  actorContext,
		"id":                        id,
		"type":                      "Application",
		"preferredUsername":         b.instanceUsername(),
		"name":                      "Lyceum node " + b.svc.Identity.ID().PeerID,
		"url":                       b.url("/"),
		"inbox":                     id + "/inbox",
		"outbox":                    id + "/outbox",
		"followers":                 id + "/followers",
		"following":                 id + "/following",
		"featured":                  id + "/featured",
		"endpoints":                 obj{"sharedInbox": b.url(pathInbox)},
		"manuallyApprovesFollowers": true,
		"discoverable":              false,
		"publicKey":                 obj{"id": keyIDOf(id), "owner": id, "publicKeyPem": pub},
	}, nil
}

func (b *Bridge) publicKeyPEM(ctx context.Context, owner string) (string, error) {
	k, err := b.keyOf(ctx, owner)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// renderNote is a resource as Mastodon shows it best: a Note addressed to
// the public and the author's followers (and the community's, when posted
// in one), whose HTML holds the title, description, licence and
// attribution, subjects as hashtags, and links to the resource page, the
// file and its ipfs:// address; an image goes along as the attachment.
func (b *Bridge) renderNote(ctx context.Context, v api.ResourceView) (obj, error) {
	r := v.Latest
	if len(v.Versions) == 0 {
		return nil, fmt.Errorf("resource %s has no version", v.ID)
	}
	author, err := b.svc.Actors.Actor(ctx, v.Author)
	if err != nil {
		return nil, err
	}
	authorURL := b.actorURL(author.Username)
	id := b.noteURL(v.ID)
	cc := []string{authorURL + "/followers"}
	var audience string
	if v.Community != "" {
		if g, err := b.svc.Actors.Actor(ctx, v.Community); err == nil && g.Local {
			audience = b.actorURL(g.Username)
			cc = append(cc, audience, audience+"/followers")
		}
	}
	tags, tagLinks := b.hashtags(r)
	links, attachments := b.contentLinks(id, r)
	var body strings.Builder
	fmt.Fprintf(&body, "<p><strong>%s</strong></p>", html.EscapeString(r.Title))
	if r.Summary != "" {
		body.WriteString(paragraphs(r.Summary))
	}
	fmt.Fprintf(&body, "<p>Licence: %s — by %s</p>", licenceHTML(r.License), creditHTML(r))
	if len(tagLinks) > 0 {
		fmt.Fprintf(&body, "<p>%s</p>", strings.Join(tagLinks, " "))
	}
	fmt.Fprintf(&body, "<p>%s</p>", strings.Join(links, " · "))
	content := body.String()
	note := obj{
		"@context":     noteContext,
		"id":           id,
		"type":         "Note",
		"attributedTo": authorURL,
		"to":           []string{activity.PublicAudience},
		"cc":           cc,
		"content":      content,
		"published":    stamp(v.Versions[len(v.Versions)-1].Published),
		"url":          id,
		"sensitive":    false,
		"tag":          nonNil(tags),
		"attachment":   nonNil(attachments),
	}
	if r.Language != "" {
		note["contentMap"] = obj{r.Language: content}
	}
	if len(v.Versions) > 1 {
		note["updated"] = stamp(v.Versions[0].Published)
	}
	if audience != "" {
		note["audience"] = audience
	}
	return note, nil
}

// hashtags are a resource's subjects (by name) and keywords as Hashtag
// tags and as the links the Note's HTML shows for them.
func (b *Bridge) hashtags(r api.Resource) (tags []obj, links []string) {
	var names []string
	for _, code := range r.Subjects {
		name := code
		if s, ok := activity.LookupSubject(code); ok {
			name = s.Name
		}
		names = append(names, name)
	}
	names = append(names, r.Keywords...)
	seen := map[string]bool{}
	for _, n := range names {
		t := hashtag(n)
		if t == "" || seen[strings.ToLower(t)] {
			continue
		}
		seen[strings.ToLower(t)] = true
		// The node's public search is the nearest thing to a tag page.
		href := b.url("/api/v1/search?q=" + url.QueryEscape(n))
		tags = append(tags, obj{"type": "Hashtag", "href": href, "name": "#" + t})
		links = append(links, fmt.Sprintf(`<a href="%s" class="mention hashtag" rel="tag">#<span>%s</span></a>`, html.EscapeString(href), html.EscapeString(t)))
	}
	return tags, links
}

// licenceHTML names an SPDX licence, linked to its text when known.
func licenceHTML(spdx string) string {
	if l, ok := activity.LookupLicense(spdx); ok && l.URL != "" {
		return fmt.Sprintf(`<a href="%s" rel="license">%s</a>`, html.EscapeString(l.URL), html.EscapeString(l.Name))
	}
	return html.EscapeString(spdx)
}

// creditHTML is the attribution: the credit line, or the creators.
func creditHTML(r api.Resource) string {
	if r.CreditText != "" {
		return html.EscapeString(r.CreditText)
	}
	credits := make([]string, 0, len(r.Creators))
	for _, c := range r.Creators {
		credits = append(credits, html.EscapeString(c.Name))
	}
	return strings.Join(credits, ", ")
}

// contentLinks are the links of a Note to the resource (its page, and
// its link or its file by gateway URL and ipfs://) and its attachments:
// an image file, or else the thumbnail.
func (b *Bridge) contentLinks(noteID string, r api.Resource) (links []string, attachments []obj) {
	links = []string{fmt.Sprintf(`<a href="%s">%s</a>`, html.EscapeString(noteID), "Open on Lyceum")}
	switch {
	case r.URL != "":
		links = append(links, fmt.Sprintf(`<a href="%s">%s</a>`, html.EscapeString(r.URL), html.EscapeString(r.URL)))
	case r.File != nil:
		f := r.File
		file := b.url("/ipfs/" + f.CID + "?filename=" + url.QueryEscape(f.Filename))
		links = append(links,
			fmt.Sprintf(`<a href="%s">Download %s (%s)</a>`, html.EscapeString(file), html.EscapeString(f.Filename), html.EscapeString(humanSize(f.Size))),
			fmt.Sprintf(`<a href="ipfs://%s">ipfs://%s</a>`, f.CID, f.CID))
		// Servers download images for previews; a PDF or a ZIP they would
		// not show, so those stay links in the content.
		if strings.HasPrefix(f.MediaType, "image/") {
			attachments = append(attachments, obj{"type": "Document", "mediaType": f.MediaType, "url": file, "name": r.Title})
		}
	}
	if r.Thumbnail != nil && r.Thumbnail.CID != "" && len(attachments) == 0 {
		attachments = append(attachments, obj{"type": "Document", "mediaType": firstNonEmpty(r.Thumbnail.MediaType, "image/png"),
			"url": b.url("/ipfs/" + r.Thumbnail.CID), "name": "Preview of " + r.Title})
	}
	return links, attachments
}

func nonNil(xs []obj) []obj {
	if xs == nil {
		return []obj{}
	}
	return xs
}

// hashtag turns a subject name into a tag: "Information and Communication
// Technologies" → "InformationAndCommunicationTechnologies".
func hashtag(s string) string {
	var out strings.Builder
	up := true
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if up {
				r = unicode.ToUpper(r)
			}
			out.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	return out.String()
}

// paragraphs renders plain text as escaped HTML paragraphs.
func paragraphs(s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	var out strings.Builder
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(p), "\n", "<br>") + "</p>")
		}
	}
	return out.String()
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
