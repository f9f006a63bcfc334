package daemon

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/net/html"

	"github.com/lyceum-oer/lyceum/gateway/fediverse"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/social"
)

// comments are a resource's comments as the web app shows them: the
// Notes of Lyceum actors (node/social) and the replies from the
// fediverse (the bridge), in one list.
type comments struct {
	social *social.Service
	bridge *fediverse.Bridge // nil without the bridge
}

// Comment comments as a local actor, in its log.
func (c comments) Comment(ctx context.Context, req api.CommentRequest) (api.Commented, error) {
	return c.social.Comment(ctx, req)
}

// Comments lists a resource's comments, oldest first: the latest
// social.MaxComments of the node's and the fediverse's together. A
// fediverse reply's HTML is reduced to plain text.
func (c comments) Comments(ctx context.Context, resource string) ([]api.Comment, error) {
	out, err := c.social.Comments(ctx, resource)
	if err != nil || c.bridge == nil {
		return out, err
	}
	its, err := c.bridge.Interactions(ctx, resource)
	if err != nil {
		return nil, fmt.Errorf("the fediverse replies to %s: %w", resource, err)
	}
	for _, it := range its {
		if it.Kind == "comment" {
			out = append(out, fediverseComment(resource, it))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Published.Before(out[j].Published) })
	if len(out) > social.MaxComments {
		out = out[len(out)-social.MaxComments:]
	}
	return out, nil
}

// fediverseComment is a reply from the fediverse as a comment.
func fediverseComment(resource string, it fediverse.Interaction) api.Comment {
	handle := handleOf(it.Actor)
	return api.Comment{
		ID: it.ID, Resource: resource, Author: it.Actor, AuthorName: handle, AuthorHandle: handle,
		Content: htmlText(it.Content), Published: it.Published, Fediverse: true, URL: cmpOr(it.URL, it.ID),
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// handleOf guesses a fediverse actor's handle, name@host, from its URL
// (https://host/users/name, /u/name, /@name): the bridge keeps no name
// for the actors that reply. An URL it cannot read is given back as it is.
func handleOf(actor string) string {
	u, err := url.Parse(actor)
	if err != nil || u.Host == "" {
		return actor
	}
	path := strings.Trim(u.Path, "/")
	name := path[strings.LastIndexByte(path, '/')+1:]
	name = strings.TrimPrefix(name, "@")
	if name == "" {
		return u.Host
	}
	return name + "@" + u.Host
}

// blockTags end a line of text: paragraphs, line breaks and the like.
var blockTags = map[string]bool{"p": true, "br": true, "div": true, "li": true, "blockquote": true, "pre": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true}

var manyBreaks = regexp.MustCompile(`\n{3,}`)

// htmlText reduces the (sanitized) HTML of a fediverse note to its plain
// text: entities decoded, tags dropped, a paragraph ended by a blank line
// and a <br> by a line break; what scripts and styles hold is left out.
// The page escapes the text again.
func htmlText(s string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0 // inside <script> or <style>
	for {
		switch z.Next() {
		case html.ErrorToken: // io.EOF: the end
			return strings.TrimSpace(manyBreaks.ReplaceAllString(b.String(), "\n\n"))
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch tag := string(name); {
			case tag == "script" || tag == "style":
				skip++
			case tag == "br":
				b.WriteByte('\n')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch tag := string(name); {
			case (tag == "script" || tag == "style") && skip > 0:
				skip--
			case tag == "p":
				b.WriteString("\n\n")
			case blockTags[tag]:
				b.WriteByte('\n')
			}
		}
	}
}
