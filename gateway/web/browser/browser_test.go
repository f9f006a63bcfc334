package browser_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Bounds of the browser's steps: no step of a test waits longer.
const (
	stepTimeout  = 40 * time.Second // one action: a click, a page load, an axe run (generous: CI runs every package at once on 2 cores)
	startTimeout = 30 * time.Second // the browser's start, a new tab
)

// viewport is a screen the pages are checked on.
type viewport struct {
	name   string
	width  int64
	height int64
	mobile bool
}

var (
	desktop   = viewport{name: "desktop", width: 1280, height: 800}
	phone     = viewport{name: "phone", width: 390, height: 844, mobile: true}
	viewports = []viewport{desktop, phone}
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	closeNet()
	closeBrowser()
	os.Exit(code)
}

// requireBrowser skips t under -short, and without chromium (failing
// instead under CI=true, where .ci/run installs it).
func requireBrowser(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	if chromiumPath() == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed (.ci/run installs Debian's chromium package)")
		}
		t.Skip("chromium is not installed")
	}
}

// chromiumPath finds the browser on the PATH.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// The browser: one chromium for the package, started by the first test
// that needs it and stopped by TestMain; each tab runs in a browser
// context of its own (its own cookies), closed with its test.
var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

func startBrowser() (context.Context, error) {
	browser.once.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(chromiumPath()),
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.Flag("lang", "en-GB"),
			chromedp.Flag("hide-scrollbars", true),
		)
		if os.Geteuid() == 0 {
			opts = append(opts, chromedp.NoSandbox)
		}
		actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, bcancel := chromedp.NewContext(actx)
		browser.ctx = bctx
		browser.cancel = func() { bcancel(); acancel() }
		watchdog := time.AfterFunc(startTimeout, browser.cancel)
		defer watchdog.Stop()
		if err := chromedp.Do(bctx); err != nil {
			browser.err = fmt.Errorf("start chromium: %w", err)
		}
	})
	return browser.ctx, browser.err
}

func closeBrowser() {
	if browser.cancel != nil {
		browser.cancel()
	}
}

// tab is one browser tab, at one viewport, signed in as nobody until a
// test signs in.
type tab struct {
	t    *testing.T
	ctx  context.Context
	vp   viewport
	base string // the daemon's URL

	dialogs atomic.Int32 // JavaScript dialogs opened (alert, confirm, prompt)
	mu      sync.Mutex
	errs    []string // uncaught exceptions and refused scripts
}

// newTab opens a tab at vp on the web app at base; Cleanup closes it.
func newTab(t *testing.T, base string, vp viewport) *tab {
	t.Helper()
	requireBrowser(t)
	bctx, err := startBrowser()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	b := &tab{t: t, ctx: ctx, vp: vp, base: strings.TrimSuffix(base, "/")}
	watchdog := time.AfterFunc(startTimeout, cancel)
	err = chromedp.Do(ctx)
	watchdog.Stop()
	if err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	dialogs := make(chan struct{}, 16)
	if err := chromedp.Listen(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			b.dialogs.Add(1)
			select {
			case dialogs <- struct{}{}:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	// A dialog blocks the page: dismiss each one, after counting it.
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-dialogs:
				cctx, cancel := context.WithTimeout(ctx, stepTimeout)
				_, _ = chromedp.Call(cctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
				cancel()
			}
		}
	}()
	go b.watchConsole()
	opts := []chromedp.EmulateViewportOption{}
	if vp.mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	b.do("set the viewport", chromedp.EmulateViewport(vp.width, vp.height, opts...))
	return b
}

// watchConsole records the page's uncaught exceptions and the scripts
// or styles the Content-Security-Policy refused: both are bugs.
func (b *tab) watchConsole() {
	for m, err := range chromedp.Console(b.ctx) {
		if err != nil {
			return
		}
		text := m.String()
		if m.IsException() || strings.Contains(text, "Content Security Policy") {
			b.mu.Lock()
			b.errs = append(b.errs, fmt.Sprintf("%s (%s:%d)", text, m.URL, m.Line+1))
			b.mu.Unlock()
		}
	}
}

// checkConsole fails the test on the page errors seen so far.
func (b *tab) checkConsole() {
	b.t.Helper()
	b.mu.Lock()
	errs := b.errs
	b.errs = nil
	b.mu.Unlock()
	if len(errs) > 0 {
		b.t.Errorf("%s: the page logged errors:\n  %s", b.vp.name, strings.Join(errs, "\n  "))
	}
}

// step bounds one action.
func (b *tab) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, stepTimeout)
}

// do runs steps, failing the test with what and the page it was on.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fatalf("%s: %v", what, err)
	}
}

// fatalf fails the test, naming the viewport and the page, and saves a
// screenshot of the page in the test's output folder for the post-mortem.
func (b *tab) fatalf(format string, args ...any) {
	b.t.Helper()
	msg := fmt.Sprintf(format, args...)
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	url, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if len(body) > 3000 {
		body = body[:3000] + "…"
	}
	if dir := os.Getenv("LYCEUM_BROWSER_FAILURES"); dir != "" {
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			name := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(b.t.Name())+".png")
			_ = os.WriteFile(name, png, 0o644)
		}
	}
	b.t.Fatalf("%s: %s\n  at %s\n  page text:\n%s", b.vp.name, msg, url, indent(body))
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ")
}

// open loads path and checks the page: its status, axe, the console.
func (b *tab) open(path string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	res, err := chromedp.Run(ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.fatalf("open %s: %v", path, err)
	}
	if res.Status >= 400 {
		b.fatalf("open %s: HTTP %d", path, res.Status)
	}
	b.checkPage()
}

// openStatus loads path and returns the HTTP status, without checks.
func (b *tab) openStatus(path string) int64 {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	res, err := chromedp.Run(ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.fatalf("open %s: %v", path, err)
	}
	return res.Status
}

// follow clicks sel, which loads a page (a link, a submit button), and
// waits for it; it returns the final HTTP status.
func (b *tab) follow(sel string) int64 {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	b.waitVisible(sel)
	for try := 1; ; try++ {
		// A tap whose touch start and end came too far apart (a loaded
		// machine: two protocol calls) is a long press, and no click
		// follows. The page marks a click; a tap that left no mark and
		// loaded nothing is made again — never one that clicked.
		b.eval(`(() => { window.__lyceumClicked = false; document.addEventListener("click", () => { window.__lyceumClicked = true }, {capture: true, once: true}); return "" })()`)
		tctx, tcancel := context.WithTimeout(ctx, 5*time.Second)
		res, err := chromedp.RunResponse(tctx, b.press1(sel))
		tcancel()
		if err == nil && res != nil {
			return res.Status
		}
		if err == nil || ctx.Err() != nil || try == 3 || !b.vp.mobile || b.eval(`String(window.__lyceumClicked)`) != "false" {
			// Clicked (or no retry allowed): wait for what it loads.
			return b.awaitLoad(ctx, sel, err)
		}
	}
}

// awaitLoad waits, after a click on sel that had not loaded a page within
// a try, for the page it loads.
func (b *tab) awaitLoad(ctx context.Context, sel string, err error) int64 {
	b.t.Helper()
	if ctx.Err() != nil {
		b.fatalf("click %s: %v", sel, err)
	}
	before := b.eval(`location.pathname + location.search`)
	b.waitJS(fmt.Sprintf(`location.pathname + location.search !== %q || window.__lyceumClicked === undefined`, before), "the page "+sel+" loads")
	b.waitJS(`document.readyState === "complete"`, "the page to load")
	status, _ := strconv.ParseInt(b.eval(`String(performance.getEntriesByType("navigation")[0].responseStatus)`), 10, 64)
	return status
}

// click clicks sel, which does not load a page.
func (b *tab) click(sel string) {
	b.t.Helper()
	b.waitVisible(sel)
	b.do("click "+sel, b.press1(sel))
}

// press1 is a click on sel with the phone's finger or the desktop's mouse.
func (b *tab) press1(sel string) chromedp.Action[chromedp.Void] {
	if b.vp.mobile {
		return chromedp.Tap(chromedp.CSS(sel), chromedp.NodeVisible)
	}
	return chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)
}

// submit clicks the submit button sel and checks the page it leads to.
func (b *tab) submit(sel string) int64 {
	b.t.Helper()
	status := b.follow(sel)
	b.checkPage()
	return status
}

// checkPage runs the checks every page passes: no console errors, one
// h1, zero axe violations.
func (b *tab) checkPage() {
	b.t.Helper()
	b.waitJS(`document.readyState === "complete"`, "the page to load")
	if n := b.eval(`document.querySelectorAll("h1").length`); n != "1" {
		b.t.Errorf("%s: %s has %s h1 (want one)", b.vp.name, b.location(), n)
	}
	b.axe()
	b.checkConsole()
}

// location is the path (and query) of the page shown.
func (b *tab) location() string {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.fatalf("location: %v", err)
	}
	return strings.TrimPrefix(u, b.base)
}

// eval evaluates a JavaScript expression and returns its value as text
// (JSON for what is not a string).
func (b *tab) eval(expr string) string {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		b.fatalf("evaluate %s: %v", expr, err)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// waitJS polls a JavaScript condition until it holds, across page loads,
// failing after stepTimeout.
func (b *tab) waitJS(cond, what string) {
	b.t.Helper()
	b.waitJSFor(cond, what, stepTimeout)
}

func (b *tab) waitJSFor(cond, what string, d time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(d)
	var last error
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+cond+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			b.fatalf("timed out waiting for %s (%s; last error: %v)", what, cond, last)
		}
		if b.ctx.Err() != nil {
			b.fatalf("waiting for %s: %v", what, b.ctx.Err())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitVisible waits for sel to be shown.
func (b *tab) waitVisible(sel string) {
	b.t.Helper()
	b.waitJS(fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e && e.getClientRects().length > 0 })()`, sel), sel+" to show")
}

// has reports whether sel matches an element.
func (b *tab) has(sel string) bool {
	b.t.Helper()
	return b.eval(fmt.Sprintf(`document.querySelector(%q) !== null`, sel)) == "true"
}

// text is the shown text of sel.
func (b *tab) text(sel string) string {
	b.t.Helper()
	b.waitVisible(sel)
	return strings.TrimSpace(b.eval(fmt.Sprintf(`document.querySelector(%q).innerText`, sel)))
}

// pageText is the shown text of the whole page.
func (b *tab) pageText() string {
	b.t.Helper()
	return b.eval(`document.body.innerText`)
}

// h1 is the page's heading.
func (b *tab) h1() string {
	b.t.Helper()
	return b.text("h1")
}

// wantText fails unless the page shows each of texts.
func (b *tab) wantText(texts ...string) {
	b.t.Helper()
	body := b.pageText()
	for _, s := range texts {
		if !strings.Contains(body, s) {
			b.fatalf("the page does not show %q", s)
		}
	}
}

// wantH1 fails unless the page's heading is want.
func (b *tab) wantH1(want string) {
	b.t.Helper()
	if got := b.h1(); got != want {
		b.fatalf("h1 is %q, want %q", got, want)
	}
}

// fill types value into the field sel, replacing what it held.
func (b *tab) fill(sel, value string) {
	b.t.Helper()
	b.waitVisible(sel)
	b.setValue(sel, "")
	b.do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), value))
}

// choose selects the option of value in the select sel.
func (b *tab) choose(sel, value string) {
	b.t.Helper()
	b.waitVisible(sel)
	b.setValue(sel, value)
	if got := b.eval(fmt.Sprintf(`document.querySelector(%q).value`, sel)); got != value {
		b.fatalf("%s has no option %q (value is %q)", sel, value, got)
	}
}

// setValue sets the value of a field as a script would, with the events
// of a change.
func (b *tab) setValue(sel, value string) {
	b.t.Helper()
	b.eval(fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q;
		e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true})); return ""; })()`, sel, value))
}

// upload sets the file of the file input sel.
func (b *tab) upload(sel, path string) {
	b.t.Helper()
	b.do("choose the file "+path, chromedp.SetUploadFiles(chromedp.CSS(sel), []string{path}))
}

// press sends keys to the focused element: text, kb.Tab, kb.Enter…
func (b *tab) press(keys string, opts ...chromedp.KeyOption) {
	b.t.Helper()
	b.do("press "+fmt.Sprintf("%q", keys), chromedp.KeyEvent(keys, opts...))
}

// tab moves the focus forward (or back) once.
func (b *tab) tabKey(back bool) {
	b.t.Helper()
	if back {
		b.press(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
		return
	}
	b.press(kb.Tab)
}

// focused describes the focused element: its id, or tag and name.
func (b *tab) focused() string {
	b.t.Helper()
	return b.eval(`(() => { const e = document.activeElement; if (!e || e === document.body) return "";
		return e.id ? "#" + e.id : e.tagName.toLowerCase() + (e.name ? "[name=" + e.name + "]" : "") + (e.type ? "[type=" + e.type + "]" : "") })()`)
}

// focusVisible reports whether the focused element shows that it has
// the focus: an outline or a box shadow that differs from its look
// without focus.
func (b *tab) focusVisible() (bool, string) {
	b.t.Helper()
	raw := b.eval(`(() => {
		const e = document.activeElement;
		if (!e || e === document.body) return JSON.stringify({ok: false, why: "nothing has the focus"});
		const s = getComputedStyle(e);
		const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0;
		const shadow = s.boxShadow && s.boxShadow !== "none";
		return JSON.stringify({ok: !!(outline || shadow), why: "outline " + s.outlineStyle + " " + s.outlineWidth + ", box-shadow " + s.boxShadow});
	})()`)
	var r struct {
		OK  bool   `json:"ok"`
		Why string `json:"why"`
	}
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		b.fatalf("focus style: %v (%s)", err, raw)
	}
	return r.OK, r.Why
}

// tabTo presses Tab (or Shift+Tab) until the element sel has the focus,
// checking on the way that every focused control shows its focus.
func (b *tab) tabTo(sel string, back bool) {
	b.t.Helper()
	want := b.eval(fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? "ok" : "" })()`, sel))
	if want == "" {
		b.fatalf("no %s to reach with the keyboard", sel)
	}
	for range 60 {
		b.tabKey(back)
		if ok, why := b.focusVisible(); !ok {
			b.t.Errorf("%s: %s: the focus on %s is not visible: %s", b.vp.name, b.location(), b.focused(), why)
		}
		if b.eval(fmt.Sprintf(`document.activeElement === document.querySelector(%q)`, sel)) == "true" {
			return
		}
	}
	b.fatalf("60 presses of Tab did not reach %s", sel)
}

// shot saves a full-page screenshot as docs/screenshots/<name>-<viewport>.png
// when LYCEUM_SCREENSHOTS is set.
func (b *tab) shot(name string) {
	b.t.Helper()
	if os.Getenv("LYCEUM_SCREENSHOTS") == "" {
		return
	}
	ctx, cancel := b.step()
	defer cancel()
	// Let lazy images and fonts settle, and take the page from its top.
	_ = chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0); document.activeElement && document.activeElement.blur && document.activeElement.blur()`))
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	file := filepath.Join(dir, name+"-"+b.vp.name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("wrote %s", file)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
