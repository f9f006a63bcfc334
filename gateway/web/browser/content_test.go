package browser_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

// lesson is what a teacher publishes in the tests.
type lesson struct {
	title, summary, file string
}

// newLesson is a lesson whose title holds word, a word no other test
// uses, by which searches find it alone.
func newLesson(t *testing.T, word string) lesson {
	return lesson{
		title:   "Fractions on the number line " + word,
		summary: "Worksheet and answers: placing fractions between 0 and 1 on a number line. " + word,
		file:    mustPDF(t, "fractions-"+word+".pdf", "Fractions on the number line"),
	}
}

// fillLesson fills the publish form with the lesson's metadata: the
// French Creative Commons worksheet in mathematics of the tests.
func (b *tab) fillLesson(l lesson) {
	b.t.Helper()
	b.fill("#f-title", l.title)
	b.fill("#f-summary", l.summary)
	b.choose("#f-license", "CC-BY-4.0")
	b.choose("#f-language", "fr")
	b.check("#s-0541")
	b.choose("#f-level", "2")
	b.choose("#f-type", "assessment")
	b.fill("#f-keywords", "fractions, number line")
	b.upload("#f-file", l.file)
}

// check ticks a checkbox with a click, opening the disclosure it is in.
func (b *tab) check(sel string) {
	b.t.Helper()
	if !b.has(sel) {
		b.fatalf("no checkbox %s", sel)
	}
	b.eval(fmt.Sprintf(`(() => { const d = document.querySelector(%q).closest("details"); if (d && !d.open) d.querySelector("summary").click(); return ""; })()`, sel))
	b.waitVisible(sel)
	b.click(sel)
	if b.eval(fmt.Sprintf(`document.querySelector(%q).checked`, sel)) != "true" {
		b.fatalf("%s is not ticked after a click", sel)
	}
}

// publishLesson publishes l from the publish page, where the tab is, and
// waits for the resource's page; it returns the resource's ID.
func (b *tab) publishLesson(l lesson) string {
	b.t.Helper()
	b.fillLesson(l)
	b.click(`form[data-upload] button[type=submit]`)
	return b.waitPublished(l)
}

// waitPublished waits for the page the upload leads to (app.js shows it
// in place and sets the address) and returns the resource's ID.
func (b *tab) waitPublished(l lesson) string {
	b.t.Helper()
	b.waitJSFor(fmt.Sprintf(`location.pathname.startsWith("/r/") && document.querySelector("h1") && document.querySelector("h1").innerText.trim() === %q`, l.title),
		"the resource's page", 30*time.Second)
	b.checkPage()
	b.wantText("Your resource is published.")
	return strings.TrimPrefix(b.location(), "/r/")
}

// A teacher publishes a PDF with its metadata from the publish page (the
// errors of an empty form first, each next to its field); the resource's
// page shows every code by its name, the preview and the attribution;
// a person on a second node finds it from that node's web search, which
// asks the first node as its HQ.
func TestPublishAPDFAndFindItFromAnotherNode(t *testing.T) {
	school, library := sites(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			word := "quokka" + vp.name
			l := newLesson(t, word)
			b := newTab(t, school.url, vp)
			b.signIn(school.admin, adminPassword)
			b.follow(`header a[href="/publish"]`)
			b.checkPage()
			b.wantH1("Publish a resource")

			// An empty form: the errors, in a summary and by their fields.
			b.click(`form[data-upload] button[type=submit]`)
			b.waitVisible(".error-summary")
			b.checkPage()
			b.wantDescribedError("#f-title", "Fill this in.")
			b.wantDescribedError("#f-file", "Add a file or give a link.")
			b.wantText("There is a problem")
			b.shot("publish")

			id := b.publishLesson(l)
			b.wantText(l.title,
				"Creative Commons Attribution 4.0 International", // the licence, by name
				"French",                    // the language
				"Mathematics",               // the subject
				"Lower secondary education", // the level
				"Assessment",                // the type
			)
			b.waitVisible(fmt.Sprintf(`iframe[src][title=%q]`, "Preview of "+l.title))
			attribution := b.eval(`document.querySelector("#attribution").value`)
			for _, want := range []string{l.title, "Ada Admin", "CC BY 4.0", "/r/" + id} {
				if !strings.Contains(attribution, want) {
					b.fatalf("the attribution %q lacks %q", attribution, want)
				}
			}
			b.waitVisible(`a[download]`)
			b.shot("resource")

			// On the library: its web search asks the school (its HQ).
			lb := newTab(t, library.url, vp)
			lb.signIn(library.admin, adminPassword)
			lb.open("/")
			lb.fill("#home-q", word)
			lb.submit(`form[action="/search"] button[type=submit]`)
			lb.waitFor("the school's resource in the library's search", 20*time.Second, func() bool {
				return lb.has(fmt.Sprintf(`.results a[href="/r/%s"]`, url.PathEscape(id)))
			}, func() { lb.open("/search?q=" + url.QueryEscape(word)) })
			lb.wantText("Results from this node and 1 search hub.", l.title)
			facets := lb.text(".filters")
			for _, want := range []string{"French", "Mathematics", "Creative Commons Attribution 4.0 International"} {
				if !strings.Contains(facets, want) {
					lb.fatalf("the facets %q lack %q", facets, want)
				}
			}
			lb.shot("search")
		})
	}
}

// A person on the library opens a resource found through the library's
// HQ — the library holds nothing of its author until then: the page
// fetches it from the neighbours — likes it and comments on it; the
// author's node sees both, and the author's name links to their profile
// on the library.
func TestAHitFromAnHQOpensOnTheNodeThatSearched(t *testing.T) {
	school, library := sites(t)
	school.mustAccount(t, "hugo", "Hugo Hôte")
	id := school.mustPublish(t, "hugo", "Probability with dice bilby")
	b := newTab(t, library.url, desktop)
	b.signIn(library.admin, adminPassword)
	hit := ".results a[href='/r/" + id + "']"
	b.waitFor("the hit", 20*time.Second, func() bool { return b.has(hit) },
		func() { b.open("/search?q=bilby") })
	if status := b.follow(hit); status != 200 {
		b.fatalf("the hit opens with HTTP %d", status)
	}
	b.checkPage()
	b.wantH1("Probability with dice bilby")
	b.wantText("Hugo Hôte")
	b.submit(`#like form button[type=submit]`)
	b.wantText("You like this resource.")
	comment := "Great with a pair of dice, from the library."
	b.fill("#f-content", comment)
	b.submit(`#comments form button[type=submit]`)
	b.wantText("Your comment is posted.")

	// The author's name opens their profile, fetched from their node.
	b.open("/r/" + id)
	if status := b.follow(`.resource-head .meta a[href^="/@hugo@"]`); status != 200 {
		b.fatalf("the author's link opens with HTTP %d", status)
	}
	b.checkPage()
	b.wantH1("Hugo Hôte")
	b.wantText("Probability with dice bilby")

	// On the school, the author's page counts the like and shows the comment.
	sb := newTab(t, school.url, desktop)
	sb.signIn("hugo", memberPassword)
	sb.waitFor("the library's like and comment on the school", 20*time.Second, func() bool {
		got := sb.text("main")
		return contains(got, "1 person likes it.") && contains(got, comment)
	}, func() { sb.open("/r/" + id) })
}

// A reader on the school likes a resource and comments on it; after a
// reload the page shows that they like it, the count, and the comment
// under their name.
func TestLikeAndCommentOnAResource(t *testing.T) {
	school, _ := sites(t)
	school.mustAccount(t, "rita", "Rita Reader")
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			id := school.mustPublish(t, school.admin, "Decimals and percentages "+vp.name)
			b := newTab(t, school.url, vp)
			b.signIn("rita", memberPassword)
			b.open("/r/" + id)
			b.wantText("0 people like it.", "No comments yet.")

			b.submit(`#like form button[type=submit]`)
			b.wantText("You like this resource.")
			b.open("/r/" + id)
			if got := b.text("#like"); !contains(got, "You like it.") || !contains(got, "1 person likes it.") {
				b.fatalf("after a like and a reload, the like block says %q", got)
			}
			if b.has(`#like form`) {
				b.fatalf("the like button is still there after liking")
			}

			// An empty comment is refused next to its field.
			b.submit(`#comments form button[type=submit]`)
			b.wantDescribedError("#f-content", "Write your comment.")
			comment := "Merci ! Used it with my class of " + vp.name + " learners."
			b.fill("#f-content", comment)
			b.submit(`#comments form button[type=submit]`)
			b.wantText("Your comment is posted.")
			b.open("/r/" + id)
			got := b.text("#comments")
			for _, want := range []string{"1 comment", "Rita Reader", comment} {
				if !contains(got, want) {
					b.fatalf("after a reload the comments say %q, without %q", got, want)
				}
			}
		})
	}
}

// A teacher creates a community; a reader joins it, and the page then
// offers to leave it and counts them; the reader follows the teacher,
// whose resources then fill the reader's home feed.
func TestJoinACommunityAndFollowAPerson(t *testing.T) {
	school, _ := sites(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			reader := "noor." + vp.name
			school.mustAccount(t, reader, "Noor Newcomer")
			name := "maths-" + vp.name
			ada := newTab(t, school.url, vp)
			ada.signIn(school.admin, adminPassword)
			ada.open("/g/new")
			ada.wantH1("Create a community")
			ada.fill("#f-name", "Maths teachers ("+vp.name+")")
			ada.fill("#f-username", name)
			ada.fill("#f-summary", "Lessons and exercises for secondary maths.")
			ada.submit(`form[action="/g/new"] button[type=submit]`)
			if loc := ada.location(); loc != "/g/"+name {
				ada.fatalf("after creating the community the page is %s", loc)
			}
			ada.wantText("Your community is ready.", "1 member")
			ada.wantH1("Maths teachers (" + vp.name + ")")

			b := newTab(t, school.url, vp)
			b.signIn(reader, memberPassword)
			b.open("/g/" + name)
			b.submit(`form[action="/follow"] button[type=submit]`)
			b.wantText("You joined the community.")
			b.open("/g/" + name)
			b.waitVisible(`form[action="/unfollow"] button[type=submit]`)
			b.wantText("2 members", "Leave")
			b.shot("community")

			// Follow the teacher: their resources come into the home feed.
			title := "Ratio tables " + vp.name
			school.mustPublish(t, school.admin, title)
			b.open("/@" + school.admin)
			b.submit(`form[action="/follow"] button[type=submit]`)
			b.wantText("You follow them now.")
			b.open("/@" + school.admin)
			b.waitVisible(`form[action="/unfollow"] button[type=submit]`)
			b.wantText("Stop following", title)
			b.shot("profile")
			b.open("/")
			b.wantH1("Your feed")
			if !contains(b.text(`section[aria-labelledby="feed-h"]`), title) {
				b.fatalf("the home feed lacks %q after following its author", title)
			}
			b.shot("home")
		})
	}
}

// waitFor polls cond, running again between polls, until it holds or d
// passes.
func (b *tab) waitFor(what string, d time.Duration, cond func() bool, again func()) {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			b.fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
		again()
	}
}

var _ = api.KindOf
var _ = context.Background

// A reader follows a collection a teacher curates; what the teacher adds
// to it afterwards shows on the reader's home page, under the
// collection's name.
func TestFollowACollection(t *testing.T) {
	school, _ := sites(t)
	ctx := context.Background()
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			reader := "cleo." + vp.name
			school.mustAccount(t, reader, "Cléo Curieuse")
			col, err := school.Node().Social().CreateCollection(ctx, api.CollectionRequest{As: school.admin, Title: "Geometry starters " + vp.name})
			if err != nil {
				t.Fatal(err)
			}
			b := newTab(t, school.url, vp)
			b.signIn(reader, memberPassword)
			b.open("/c/" + col.ID)
			b.checkPage()
			b.submit(`form[action="/follow"] button[type=submit]`)
			b.wantText("You follow this collection")
			b.open("/c/" + col.ID)
			b.waitVisible(`form[action="/unfollow"] button[type=submit]`)
			b.checkPage()

			title := "Angles in triangles " + vp.name
			id := school.mustPublish(t, school.admin, title)
			if _, err := school.Node().Social().AddToCollection(ctx, col.ID, api.CollectionItemRequest{As: school.admin, Resource: id}); err != nil {
				t.Fatal(err)
			}
			b.open("/")
			b.checkPage()
			got := b.text(`section[aria-labelledby="collections-h"]`)
			for _, want := range []string{"From the collections you follow", title, "Geometry starters " + vp.name} {
				if !contains(got, want) {
					b.fatalf("the home page's collections section %q lacks %q", got, want)
				}
			}
		})
	}
}
