package browser_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// A teacher saves a half-filled form with its file as a draft; nobody
// else — the node's admin neither — sees it or opens it; the teacher
// continues it later, and publishing it removes it from the drafts.
func TestADraftIsItsAuthorsAlone(t *testing.T) {
	school, _ := sites(t)
	school.mustAccount(t, "dora", "Dora Draft")
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			l := newLesson(t, "volcano"+vp.name)
			b := newTab(t, school.url, vp)
			b.signIn("dora", memberPassword)
			b.open("/publish")
			b.fill("#f-title", l.title)
			b.upload("#f-file", l.file)
			b.click(`button[data-draft]`)
			b.waitJSFor(`location.pathname === "/drafts" && document.querySelector(".notice")`, "the drafts page", 30*time.Second)
			b.checkPage()
			b.wantText("Your draft is saved. Only you can see it.", l.title, "fractions-volcano"+vp.name+".pdf")
			b.shot("drafts")
			href := b.eval(fmt.Sprintf(`[...document.querySelectorAll(".drafts li")].find(li => li.innerText.includes(%q)).querySelector("a").getAttribute("href")`, l.title))
			if !strings.HasPrefix(href, "/publish?draft=") {
				b.fatalf("the draft's link is %q", href)
			}

			// The admin: no drafts of theirs, and dora's is not found.
			ab := newTab(t, school.url, vp)
			ab.signIn(school.admin, adminPassword)
			ab.open("/drafts")
			ab.wantText("You have no drafts.")
			if strings.Contains(ab.pageText(), l.title) {
				ab.fatalf("the admin's drafts page shows dora's draft")
			}
			if status := ab.openStatus(href); status != 404 {
				ab.fatalf("the admin opens dora's draft with HTTP %d, want 404", status)
			}
			if strings.Contains(ab.pageText(), l.title) {
				ab.fatalf("the admin's page shows dora's draft")
			}

			// Dora continues it: the title and the file are there.
			b.open(href)
			b.checkPage()
			b.wantText("You are continuing a draft", "fractions-volcano"+vp.name+".pdf")
			if got := b.eval(`document.querySelector("#f-title").value`); got != l.title {
				b.fatalf("the draft's title is %q, want %q", got, l.title)
			}
			b.fill("#f-summary", l.summary)
			b.choose("#f-license", "CC-BY-4.0")
			b.choose("#f-language", "fr")
			b.click(`form[data-upload] button[type=submit].primary`)
			b.waitPublished(l)
			b.waitVisible(`a[download]`)
			b.open("/drafts")
			if strings.Contains(b.pageText(), l.title) {
				b.fatalf("the published draft is still listed")
			}
		})
	}
}
