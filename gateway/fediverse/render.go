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
	"github.com/lyceum-oer/lyceum/node"
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
func (b *Bridge) renderActor(ctx context.Context, a node.LocalActor) (obj, error) {
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
		"name":                      "Lyceum node " + b.node.ID().PeerID,
		"url":                       b.url("/"),
		"inbox":                     id + "/inbox",
		"outbox":                    id + "/outbox",
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
func (b *Bridge) renderNote(ctx context.Context, v node.ResourceView) (obj, error) {
	r := v.Latest
	if r == nil || len(v.Versions) == 0 {
		return nil, fmt.Errorf("resource %s has no version", v.ID)
	}
	author, err := b.node.Actor(ctx, v.Author)
	if err != nil {
		return nil, err
	}
	authorURL := b.actorURL(author.Username)
	id := b.noteURL(v.ID)
	cc := []string{authorURL + "/followers"}
	var audience string
	if v.Community != "" {
		if g, err := b.node.Actor(ctx, v.Community); err == nil && g.Local {
			audience = b.actorURL(g.Username)
			cc = append(cc, audience, audience+"/followers")
		}
	}
	var b2 strings.Builder
	fmt.Fprintf(&b2, "<p><strong>%s</strong></p>", html.EscapeString(r.Title))
	if r.Description != "" {
		b2.WriteString(paragraphs(r.Description))
	}
	var tags []obj
	var names []string
	for _, code := range r.Subjects {
		name := code
		if s, ok := activity.LookupSubject(code); ok {
			name = s.Name
		}
		names = append(names, name)
	}
	names = append(names, r.Keywords...)
	var tagLinks []string
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
		tagLinks = append(tagLinks, fmt.Sprintf(`<a href="%s" class="mention hashtag" rel="tag">#<span>%s</span></a>`, html.EscapeString(href), html.EscapeString(t)))
	}
	lic := html.EscapeString(r.License)
	if l, ok := activity.LookupLicense(r.License); ok && l.URL != "" {
		lic = fmt.Sprintf(`<a href="%s" rel="license">%s</a>`, html.EscapeString(l.URL), html.EscapeString(l.Name))
	}
	var credits []string
	for _, c := range r.Creators {
		credits = append(credits, html.EscapeString(c.Name))
	}
	credit := strings.Join(credits, ", ")
	if r.CreditText != "" {
		credit = html.EscapeString(r.CreditText)
	}
	fmt.Fprintf(&b2, "<p>Licence: %s — by %s</p>", lic, credit)
	if len(tagLinks) > 0 {
		fmt.Fprintf(&b2, "<p>%s</p>", strings.Join(tagLinks, " "))
	}
	links := []string{fmt.Sprintf(`<a href="%s">%s</a>`, html.EscapeString(id), "Open on Lyceum")}
	var attachments []obj
	switch r.Media.Kind {
	case activity.KindLink:
		links = append(links, fmt.Sprintf(`<a href="%s">%s</a>`, html.EscapeString(r.Media.URL), html.EscapeString(r.Media.URL)))
	case activity.KindFile:
		file := b.url("/ipfs/" + r.Media.CID + "?filename=" + url.QueryEscape(r.Media.Filename))
		links = append(links,
			fmt.Sprintf(`<a href="%s">Download %s (%s)</a>`, html.EscapeString(file), html.EscapeString(r.Media.Filename), html.EscapeString(humanSize(r.Media.Size))),
			fmt.Sprintf(`<a href="ipfs://%s">ipfs://%s</a>`, r.Media.CID, r.Media.CID))
		// Servers download images for previews; a PDF or a ZIP they would
		// not show, so those stay links in the content.
		if strings.HasPrefix(r.Media.MediaType, "image/") {
			attachments = append(attachments, obj{"type": "Document", "mediaType": r.Media.MediaType, "url": file, "name": r.Title})
		}
	}
	if r.Thumbnail != nil && r.Thumbnail.CID != "" && len(attachments) == 0 {
		attachments = append(attachments, obj{"type": "Document", "mediaType": firstNonEmpty(r.Thumbnail.MediaType, "image/png"),
			"url": b.url("/ipfs/" + r.Thumbnail.CID), "name": "Preview of " + r.Title})
	}
	fmt.Fprintf(&b2, "<p>%s</p>", strings.Join(links, " · "))
	content := b2.String()
	first := v.Versions[len(v.Versions)-1].Published
	note := obj{
		"@context":     noteContext,
		"id":           id,
		"type":         "Note",
		"attributedTo": authorURL,
		"to":           []string{activity.PublicAudience},
		"cc":           cc,
		"content":      content,
		"published":    stamp(first),
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
