package browser_test

import (
	"fmt"
	"net/url"
	"testing"
)

// scriptTitle is the title a hostile person tries first.
const scriptTitle = `<script>alert(1)</script>`

// sneakyTitle would run a script on a page that unescaped it, or broke
// out of an attribute with it.
const sneakyTitle = `&lt;script&gt;alert(1)&lt;/script&gt; " onmouseover="alert(2)" '> x`

// Markup typed by people or sent by other nodes shows as text, and no
// script of it runs (no JavaScript dialog opens on any page): a resource
// titled <script>alert(1)</script> (a title is plain text: the protocol
// takes it as such), and one of entities and quotes, show as typed on
// every page that lists them, and a title of markup typed in the publish
// form is published as text; a comment and a search of markup show as
// text.
func TestMarkupIsShownAsTextAndNeverRuns(t *testing.T) {
	school, _ := sites(t)
	scriptID := school.mustPublish(t, school.admin, scriptTitle)
	id := school.mustPublish(t, school.admin, sneakyTitle)
	link := fmt.Sprintf(`a[href="/r/%s"]`, url.PathEscape(id))
	scriptLink := fmt.Sprintf(`a[href="/r/%s"]`, url.PathEscape(scriptID))
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			b := newTab(t, school.url, vp)
			b.signIn(school.admin, adminPassword)
			for _, page := range []struct{ path, sel, want string }{
				{"/r/" + id, "h1", sneakyTitle},
				{"/", link, sneakyTitle},
				{"/@" + school.admin, link, sneakyTitle},
				{"/search?q=" + url.QueryEscape("onmouseover"), ".results " + link, sneakyTitle},
				{"/r/" + scriptID, "h1", scriptTitle},
				{"/", scriptLink, scriptTitle},
				{"/search?q=" + url.QueryEscape("alert"), ".results " + scriptLink, scriptTitle},
			} {
				b.open(page.path)
				if got := b.text(page.sel); got != page.want {
					b.fatalf("%s: the title shows as %q, want the text %q", page.path, got, page.want)
				}
				if b.has(`[onmouseover]`) || b.has(`main script`) {
					b.fatalf("%s: the title's markup became elements or attributes", page.path)
				}
			}

			// A comment of markup shows as text.
			b.open("/r/" + id)
			comment := scriptTitle + ` <img src=x onerror=alert(3)> ` + vp.name
			b.fill("#f-content", comment)
			b.submit(`#comments form button[type=submit]`)
			if b.has(`#e-content`) {
				b.t.Logf("%s: the comment of markup is refused: %s / %s", vp.name, b.eval(`document.querySelector("#e-content").outerHTML`), b.eval(`document.querySelector(".error-summary").outerHTML`))
			} else {
				b.open("/r/" + id)
				if !contains(b.text("#comments"), comment) {
					b.fatalf("the comment does not show as typed: %q", b.text("#comments"))
				}
				if b.has(`#comments img, #comments script`) {
					b.fatalf("the comment's markup became elements")
				}
			}

			// The search box keeps markup as text.
			b.open("/search?q=" + url.QueryEscape(scriptTitle))
			if got := b.eval(`document.querySelector("#q").value`); got != scriptTitle {
				b.fatalf("the search box holds %q", got)
			}

			// Markup typed as a title in the publish form is published as text.
			b.open("/publish")
			typed := lesson{title: `<img src=x onerror=alert(4)> ` + vp.name, summary: "A title of markup.", file: mustPDF(t, "markup.pdf", "Markup")}
			b.publishLesson(typed)
			if got := b.text("h1"); got != typed.title {
				b.fatalf("the typed title shows as %q", got)
			}
			if b.has(`h1 img, main img[src="x"]`) {
				b.fatalf("the typed title's markup became an element")
			}
			if n := b.dialogs.Load(); n != 0 {
				b.fatalf("%d JavaScript dialogs opened", n)
			}
		})
	}
}
