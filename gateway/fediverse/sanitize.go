package fediverse

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"regexp"

	"github.com/microcosm-cc/bluemonday"
)

// mastodonPolicy is the HTML allow-list for content received from the
// fediverse, after Mastodon's (app/lib/sanitize_config.rb): paragraphs,
// line breaks, links, the microformat classes of mentions and hashtags,
// emphasis, lists, quotes and code; links get rel="nofollow noopener
// noreferrer" and open in a new tab; everything else is stripped.
func mastodonPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "span", "a", "del", "pre", "code", "em", "strong", "b", "i", "u", "ul", "ol", "li", "blockquote", "s", "sub", "sup", "h1", "h2", "h3", "h4", "h5")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^((h|p|u|dt|e)-[a-z0-9-]+|mention|hashtag|ellipsis|invisible)( ((h|p|u|dt|e)-[a-z0-9-]+|mention|hashtag|ellipsis|invisible))*$`)).OnElements("a", "span")
	p.AllowAttrs("start", "reversed").OnElements("ol")
	p.AllowAttrs("value").OnElements("li")
	p.AllowURLSchemes("http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "xmpp", "magnet", "gemini")
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}

// randomID is a fresh identifier for the activities the bridge makes.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
