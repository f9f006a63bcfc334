package web

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

// The structure every content page keeps (UI.md): one h1, a label for
// every field, descriptions that exist, unique ids, no inline script or
// style, an alt on every image. The browser tests run axe-core; this
// catches the same mistakes without a browser.
var (
	reH1        = regexp.MustCompile(`<h1[ >]`)
	reID        = regexp.MustCompile(`\sid="([^"]+)"`)
	reField     = regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	reType      = regexp.MustCompile(`\stype="([^"]+)"`)
	reDescribed = regexp.MustCompile(`aria-describedby="([^"]+)"`)
	reLabelFor  = regexp.MustCompile(`<label for="([^"]+)"`)
	reInline    = regexp.MustCompile(`<script>|<script [^>]*>[^<]|\son[a-z]+=|\sstyle=`)
	reImg       = regexp.MustCompile(`<img\b[^>]*>`)
)

func checkStructure(t *testing.T, path, body string) {
	t.Helper()
	if n := len(reH1.FindAllString(body, -1)); n != 1 {
		t.Errorf("%s: %d h1", path, n)
	}
	ids := map[string]bool{}
	for _, m := range reID.FindAllStringSubmatch(body, -1) {
		if ids[m[1]] {
			t.Errorf("%s: id %q twice", path, m[1])
		}
		ids[m[1]] = true
	}
	labelled := map[string]bool{}
	for _, m := range reLabelFor.FindAllStringSubmatch(body, -1) {
		labelled[m[1]] = true
	}
	for _, field := range reField.FindAllString(body, -1) {
		typ := ""
		if m := reType.FindStringSubmatch(field); m != nil {
			typ = m[1]
		}
		if typ == "hidden" || typ == "submit" || strings.Contains(field, "aria-label=") {
			continue
		}
		m := reID.FindStringSubmatch(field)
		if m == nil || !labelled[m[1]] {
			t.Errorf("%s: a field without a label: %.80s", path, field)
		}
	}
	for _, m := range reDescribed.FindAllStringSubmatch(body, -1) {
		for _, id := range strings.Fields(m[1]) {
			if !ids[id] {
				t.Errorf("%s: aria-describedby names %q, which is not on the page", path, id)
			}
		}
	}
	if m := reInline.FindString(body); m != "" {
		t.Errorf("%s: inline script or style: %q", path, m)
	}
	for _, img := range reImg.FindAllString(body, -1) {
		if !strings.Contains(img, " alt=") {
			t.Errorf("%s: an image without alt: %s", path, img)
		}
	}
}

func TestContentPagesAreWellFormed(t *testing.T) {
	n := newContentNode()
	v := n.addResource(sampleResource("Fractions", time.Now()), "ada@"+testPeer)
	n.comments[v.ID] = []api.Comment{{Author: bobDID, AuthorName: "Bob", Content: "Thanks", Published: time.Now()}}
	n.profiles["ada"] = api.Profile{Actor: n.profiles["ada"].Actor, IconCID: contentCID("avatar")}
	n.search = facetedResult
	ca := newContentApp(t, n, Config{})
	for _, lang := range []string{"en", "fr"} {
		ada := ca.client(t, "ada", lang)
		ada.post("/c/new", url.Values{"title": {"Fractions unit"}, "resource": {v.ID}})
		col := contentCID("collection Fractions unit")
		pages := []string{"/", "/search?q=fractions", "/search?page=0", "/r/" + v.ID, "/publish", "/r/" + v.ID + "/edit",
			"/r/" + v.ID + "/delete", "/@ada", "/@bob", "/g/maths", "/g/", "/g/new", "/c/" + col, "/c/", "/c/new", "/c/" + col + "/delete"}
		for _, path := range pages {
			_, body := ada.get(path)
			checkStructure(t, lang+" "+path, body)
		}
		// Pages with errors, and what a visitor sees.
		_, body := ada.upload("/publish", [][2]string{{"title", "x"}}, "", 0)
		checkStructure(t, lang+" the publish form with errors", body)
		_, body = ada.post("/r/"+v.ID+"/comments", url.Values{"content": {""}})
		checkStructure(t, lang+" a comment with errors", body)
		_, body = ada.post("/g/new", url.Values{"username": {"!"}})
		checkStructure(t, lang+" a community with errors", body)
		anon := ca.client(t, "", lang)
		for _, path := range []string{"/", "/r/" + v.ID, "/@ada", "/search"} {
			_, body := anon.get(path)
			checkStructure(t, lang+" visitor "+path, body)
		}
	}
}
