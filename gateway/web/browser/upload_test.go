package browser_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// maxUpload is the upload limit of the oversized-upload test: small, so
// that it sends little.
const maxUpload = 200_000

// tooLarge is what the publish page says of a file over maxUpload.
const tooLarge = "The file is too large: this node takes files of up to 200 kB."

// A file over the node's limit is refused with a clear message next to
// the file field: by the page's script before any byte is sent, and by
// the node itself when the browser runs no script.
func TestAnOversizedUploadIsRefusedNextToTheFileField(t *testing.T) {
	school, _ := sites(t)
	big := mustFile(t, "scan.pdf", append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("0"), maxUpload+50_000)...))
	l := newLesson(t, "wombat")
	l.file = big
	small := school.withUploadLimit(t, maxUpload)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			b := newTab(t, small, vp)
			b.signIn(school.admin, adminPassword)
			b.open("/publish")
			b.wantText("Any file up to 200 kB")
			b.fillLesson(l)
			b.click(`form[data-upload] button[type=submit]`)
			b.waitVisible("#c-file")
			if got := b.text("#c-file"); got != tooLarge {
				b.fatalf("next to the file field: %q, want %q", got, tooLarge)
			}
			if !contains(b.eval(`document.querySelector("#f-file").getAttribute("aria-describedby")`), "c-file") {
				b.fatalf("the file field is not described by its message")
			}
			if b.focused() != "#f-file" {
				b.t.Errorf("%s: the focus is on %q, not on the file field", vp.name, b.focused())
			}
			if loc := b.location(); loc != "/publish" {
				b.fatalf("the page moved to %s", loc)
			}
			b.checkPage()

			// Without script, the node refuses it and says so by the field.
			b.scripts(false)
			if status := b.openStatus("/publish"); status != 200 {
				b.fatalf("/publish without script: HTTP %d", status)
			}
			b.fillLesson(l)
			status := b.follow(`form[data-upload] button[type=submit]`)
			if status != 413 && status != 400 {
				b.t.Errorf("%s: an oversized upload answered %d", vp.name, status)
			}
			b.scripts(true) // for axe, on the page the node answered
			b.checkPage()
			b.wantDescribedError("#f-file", tooLarge)
			b.wantText("There is a problem")
			if got := b.eval(`document.querySelector("#f-title").value`); got != l.title {
				b.t.Errorf("%s: the title typed is lost: %q", vp.name, got)
			}
		})
	}
}

// A teacher publishes with the keyboard alone — Tab, Shift+Tab, typing,
// arrows, Space and Enter — from the home page to the resource's page,
// and sees where the focus is at every stop. (Choosing the file is the
// one step done otherwise: the file dialog belongs to the system.)
func TestTheKeyboardAloneCanPublish(t *testing.T) {
	school, _ := sites(t)
	for _, vp := range []viewport{desktop} {
		t.Run(vp.name, func(t *testing.T) {
			l := newLesson(t, "numbat")
			b := newTab(t, school.url, vp)
			b.signIn(school.admin, adminPassword)
			b.open("/")

			// The skip link comes first.
			b.tabKey(false)
			if !contains(b.eval(`document.activeElement.className`), "skip") {
				b.fatalf("the first Tab reaches %s, not the skip link", b.focused())
			}
			b.tabTo(`header a[href="/publish"]`, false)
			b.pressEnterAndLoad()
			b.wantH1("Publish a resource")
			b.checkPage()

			b.tabTo("#f-title", false)
			b.press(l.title)
			b.tabTo("#f-summary", false)
			b.press(l.summary)
			// The licence keeps its default; the language is chosen by
			// typing its name on the list, then checked.
			b.tabTo("#f-license", false)
			b.tabTo("#f-language", false)
			b.keySelect("#f-language", "French", "fr")
			b.tabTo(`details:has(#s-0541) > summary`, false)
			b.press(kb.Enter)
			b.tabTo("#s-0541", false)
			b.press(" ")
			if b.eval(`document.querySelector("#s-0541").checked`) != "true" {
				b.fatalf("Space did not tick Mathematics")
			}
			b.tabTo("#f-level", false)
			b.keySelect("#f-level", "Lower secondary", "2")
			b.tabTo("#f-type", false)
			b.keySelect("#f-type", "Assessment", "assessment")
			b.tabTo("#f-file", false)
			b.upload("#f-file", l.file)
			// Back and forth: Shift+Tab returns to the type, Tab to the file.
			b.tabTo("#f-type", true)
			b.tabTo("#f-file", false)
			b.tabTo(`form[data-upload] button[type=submit]`, false)
			b.press(kb.Enter)
			b.waitPublished(l)
			b.wantText("Mathematics", "Lower secondary education", "Assessment", "French", "Creative Commons Attribution 4.0 International")
		})
	}
}

// scripts turns the page's scripts on or off, as a browser's setting
// would.
func (b *tab) scripts(on bool) {
	b.t.Helper()
	b.do("turn scripts on or off", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on})
		return err
	}))
}

// pressEnterAndLoad presses Enter on the focused link and waits for the
// page it loads.
func (b *tab) pressEnterAndLoad() {
	b.t.Helper()
	before := b.location()
	b.press(kb.Enter)
	b.waitJS(fmt.Sprintf(`location.pathname + location.search !== %q && document.readyState === "complete"`, before), "the next page")
}

// keySelect chooses an option of the focused select by typing the start
// of its label (as a person does on a closed list), then checks its
// value.
func (b *tab) keySelect(sel, label, value string) {
	b.t.Helper()
	b.press(label)
	got := ""
	for range 3 {
		if got = b.eval(fmt.Sprintf(`document.querySelector(%q).value`, sel)); got == value {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.fatalf("typing %q on %s chose %q, want %q", label, sel, got, value)
}
