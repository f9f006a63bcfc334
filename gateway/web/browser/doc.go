// Package browser holds the browser tests of the web app, and nothing
// else: they drive the app in headless Chromium as a teacher would, on
// real daemons on loopback (node/daemon), with Debian's chromium driven
// from Go with chromedp, on a desktop (1280×800) and a phone (390×844)
// viewport, with axe-core checking every page against WCAG 2.1 A and AA.
//
// The package needs chromium (or chromium-browser) on the PATH: without
// it the tests skip, except under CI=true where they fail. They skip
// under -short (the race pass). With LYCEUM_SCREENSHOTS=1 they write the
// screenshots of the main pages to docs/screenshots/.
package browser
