package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// The resource page's bounds.
const (
	maxPreviewText = 64 << 10 // bytes of a text file shown in the page
	maxDerivedLook = 10       // "derived from" entries whose titles are looked up
	previewTimeout = 3 * time.Second
)

// resourceView is the data of a resource's page.
type resourceView struct {
	ID          string
	R           api.Resource // the latest version
	Deleted     bool
	Author      actorLink
	Community   actorLink
	Creators    string // the creators' names, for people
	IsAuthor    bool   // the signed-in person published it
	CanAct      bool   // the signed-in person may like, collect, comment
	License     licenseInfo
	Attribution string
	Preview     preview
	Download    string // the file's download URL, or ""
	Link        string // the link of a link resource, or ""
	Versions    []versionRow
	DerivedFrom []derivedLink
	AdaptedBy   []resourceCard
	Likes       int
	Liked       bool
	Collections []option // the signed-in person's collections
	Comments    []commentView
	HasComments bool // the node has comments
	// CommentForm is the comment being written (with its errors).
	CommentForm *form
	// Providers is where app.js asks how many peers hold the file.
	Providers string
	// SendToMoodle is the page that sends the resource to a Moodle site;
	// "" when there is nothing to send.
	SendToMoodle string
}

// versionRow is one version in the list of versions.
type versionRow struct {
	Version   uint64
	Published time.Time
	Download  string
	Link      string
}

// derivedLink is a resource this one was derived from.
type derivedLink struct {
	Href     string
	Title    string // "" when this node does not know it
	External bool   // a web page, not a Lyceum resource
}

// commentView is a comment as the page shows it: its text is plain and
// escaped by the template.
type commentView struct {
	Author    actorLink
	External  bool // Author.Href is a fediverse page
	Content   string
	Published time.Time
}

// resource is a resource's page.
func (a *App) resource(r *http.Request, v *visitor) (response, error) {
	id, err := parseID(v, r.PathValue("id"))
	if err != nil {
		return response{}, err
	}
	res, err := a.resourcePage(r, v, id, newForm(nil))
	if a.fetchMissing(r, err, func(ctx context.Context, f Fetcher) error { return f.FetchObject(ctx, id) }) {
		return a.resourcePage(r, v, id, newForm(nil))
	}
	return res, err
}

// resourcePage builds a resource's page, with the comment form as given.
func (a *App) resourcePage(r *http.Request, v *visitor, id string, comment *form) (response, error) {
	ctx := r.Context()
	rv, err := a.svc.Resources.ShowResource(ctx, id)
	if err != nil {
		return response{}, err
	}
	peer := a.localPeer()
	page := &resourceView{ID: rv.ID, R: rv.Latest, Deleted: rv.Deleted, Likes: rv.Likes, CommentForm: comment,
		License: licenseOf(rv.Latest.License), AdaptedBy: cardsOf(rv.AdaptedBy, peer)}
	a.describe(page, rv, peer)
	res := response{page: "resource", title: "resource.title", name: rv.Latest.Title, data: page}
	if rv.Deleted {
		res.status = http.StatusGone
		return res, nil
	}
	page.Attribution = a.attribution(r, v, page)
	page.Preview = a.previewOf(ctx, rv.Latest.File)
	page.DerivedFrom = a.derivedFrom(ctx, rv.DerivedFrom)
	if acc := v.account(); acc != nil {
		page.IsAuthor = acc.Actor != "" && acc.Actor == rv.Author
		page.CanAct = acc.Can(api.ActionPublish)
	}
	if err := a.viewerState(ctx, v, page); err != nil {
		return response{}, err
	}
	if page.HasComments = a.svc.Comments != nil; page.HasComments {
		cs, err := a.svc.Comments.Comments(ctx, id)
		if err != nil {
			return response{}, err
		}
		page.Comments = commentsOf(cs, peer)
	}
	if !comment.OK() {
		res.status = http.StatusBadRequest
	}
	return res, nil
}

// describe fills what the page says of the resource itself: who made it,
// where it is, its versions.
func (a *App) describe(page *resourceView, rv api.ResourceView, peer string) {
	authorHandle, communityHandle := "", ""
	if len(rv.Versions) > 0 {
		authorHandle, communityHandle = rv.Versions[0].AuthorHandle, rv.Versions[0].CommunityHandle
	}
	page.Author = actorLinkOf(authorHandle, rv.Author, peer, false)
	if rv.Community != "" {
		page.Community = actorLinkOf(communityHandle, rv.Community, peer, true)
	}
	var names []string
	for _, c := range rv.Latest.Creators {
		if c.Name != "" {
			names = append(names, c.Name)
		}
	}
	page.Creators = strings.Join(names, ", ")
	if page.Creators == "" {
		page.Creators = page.Author.Name
	}
	if f := rv.Latest.File; f != nil {
		page.Download = downloadURL(f.CID, f.Filename)
		if a.svc.Providers != nil {
			page.Providers = "/r/" + url.PathEscape(rv.ID) + "/providers"
		}
	}
	page.Link = httpURL(rv.Latest.URL)
	if a.svc.Files != nil && !rv.Deleted && (rv.Latest.File != nil || page.Link != "") {
		page.SendToMoodle = "/r/" + url.PathEscape(rv.ID) + "/moodle"
	}
	for _, it := range rv.Versions {
		row := versionRow{Version: it.Version, Published: it.Published, Link: httpURL(it.URL)}
		if it.FileCID != "" {
			row.Download = downloadURL(it.FileCID, "")
		}
		page.Versions = append(page.Versions, row)
	}
}

// viewerState is what the signed-in person did with the resource: liked
// it, and which of their collections they may add it to.
func (a *App) viewerState(ctx context.Context, v *visitor, page *resourceView) error {
	acc := v.account()
	if acc == nil || !page.CanAct {
		return nil
	}
	liked, err := a.svc.Resources.HasLiked(ctx, acc.Username, page.ID)
	if err != nil {
		return err
	}
	page.Liked = liked
	if a.svc.Collections == nil {
		return nil
	}
	cs, err := a.ownCollections(ctx, acc)
	if err != nil {
		return err
	}
	for _, c := range cs {
		page.Collections = append(page.Collections, option{c.ID, c.Title})
	}
	return nil
}

// ownCollections are the live collections the account's person owns.
func (a *App) ownCollections(ctx context.Context, acc *api.Account) ([]api.Collection, error) {
	if acc.Actor == "" {
		return nil, nil
	}
	cs, err := a.svc.Collections.Collections(ctx, acc.Username)
	if err != nil {
		return nil, err
	}
	out := cs[:0:0]
	for _, c := range cs {
		if !c.Deleted && c.Local && c.Owner == acc.Actor {
			out = append(out, c)
		}
	}
	return out, nil
}

// attribution is the line to copy when reusing the resource: title,
// author, source and licence (TASL), or the author's own credit line.
func (a *App) attribution(r *http.Request, v *visitor, page *resourceView) string {
	if page.R.CreditText != "" {
		return page.R.CreditText
	}
	source := a.baseURL(r) + "/r/" + url.PathEscape(page.ID)
	author := page.Creators
	if author == "" {
		author = v.t("content.someone")
	}
	name := a.i18n.name(v.lang, "license", page.License.Code)
	if page.License.Badge == "" {
		return v.t("resource.attribution.other", page.R.Title, author, name, source)
	}
	return v.t("resource.attribution.line", page.R.Title, author, page.License.Badge, page.License.URL, source)
}

// baseURL is the node's public address: the configured one, or the one
// the visitor used.
func (a *App) baseURL(r *http.Request) string {
	if a.cfg.PublicURL != "" {
		return strings.TrimRight(a.cfg.PublicURL, "/")
	}
	scheme := "http"
	if a.secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// derivedFrom links the resources this one was derived from, with the
// titles of the first ones the node knows.
func (a *App) derivedFrom(ctx context.Context, refs []string) []derivedLink {
	var out []derivedLink
	for i, ref := range refs {
		if u := httpURL(ref); u != "" {
			out = append(out, derivedLink{Href: u, Title: u, External: true})
			continue
		}
		c, err := cid.Decode(ref)
		if err != nil {
			continue
		}
		d := derivedLink{Href: "/r/" + url.PathEscape(c.String())}
		if i < maxDerivedLook {
			if src, err := a.svc.Resources.ShowResource(ctx, c.String()); err == nil {
				d.Title = src.Latest.Title
			}
		}
		out = append(out, d)
	}
	return out
}

func commentsOf(cs []api.Comment, peer string) []commentView {
	out := make([]commentView, 0, len(cs))
	for _, c := range cs {
		cv := commentView{Content: c.Content, Published: c.Published}
		if c.Fediverse {
			name := c.AuthorName
			if name == "" {
				name = c.AuthorHandle
			}
			cv.Author, cv.External = actorLink{Name: name, Href: httpURL(c.Author)}, true
		} else {
			cv.Author = actorLinkOf(c.AuthorHandle, c.Author, peer, false)
			if c.AuthorName != "" {
				cv.Author.Name = c.AuthorName
			}
		}
		out = append(out, cv)
	}
	return out
}

// downloadURL is where the node's gateway serves a file for download.
func downloadURL(c, filename string) string {
	q := url.Values{"download": {"true"}}
	if filename != "" {
		q.Set("filename", filename)
	}
	return "/ipfs/" + url.PathEscape(c) + "?" + q.Encode()
}

// httpURL is s when it is an http or https URL, else "".
func httpURL(s string) string {
	if s == "" || len(s) > activity.MaxRef {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return s
}

// preview is how the page shows a file: in a frame (PDF), as an image,
// a player, or its first 64 KiB of text.
type preview struct {
	Kind      string // pdf, image, audio, video, text or "" (none)
	Src       string
	Text      string
	Truncated bool
}

// previewOf picks the preview of a file by its media type.
func (a *App) previewOf(ctx context.Context, f *api.File) preview {
	if f == nil {
		return preview{}
	}
	p := preview{Src: "/ipfs/" + url.PathEscape(f.CID)}
	if f.Filename != "" {
		p.Src += "?" + url.Values{"filename": {f.Filename}}.Encode()
	}
	mt := strings.ToLower(f.MediaType)
	switch {
	case mt == "application/pdf":
		p.Kind = "pdf"
	case mt == "image/png" || mt == "image/jpeg" || mt == "image/gif" || mt == "image/webp" || mt == "image/avif" || mt == "image/svg+xml":
		p.Kind = "image"
	case strings.HasPrefix(mt, "audio/"):
		p.Kind = "audio"
	case strings.HasPrefix(mt, "video/"):
		p.Kind = "video"
	case strings.HasPrefix(mt, "text/") && a.svc.Files != nil:
		if text, truncated, ok := a.textPreview(ctx, f.CID); ok {
			p.Kind, p.Text, p.Truncated = "text", text, truncated
		}
	}
	return p
}

// textPreview reads the start of a text file, bounded in size and time.
func (a *App) textPreview(ctx context.Context, s string) (string, bool, bool) {
	c, err := cid.Decode(s)
	if err != nil {
		return "", false, false
	}
	ctx, cancel := context.WithTimeout(ctx, previewTimeout)
	defer cancel()
	rc, size, err := a.svc.Files.Cat(ctx, c)
	if err != nil {
		a.log.Debug("text preview", "cid", s, "err", err)
		return "", false, false
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxPreviewText))
	if err != nil {
		return "", false, false
	}
	truncated := size > int64(len(b))
	if truncated {
		// Do not cut a character in two.
		for i := 0; i < utf8.UTFMax && len(b) > 0 && !utf8.Valid(b); i++ {
			b = b[:len(b)-1]
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), truncated, true
}
