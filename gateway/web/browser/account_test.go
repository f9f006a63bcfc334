package browser_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/lyceum-oer/lyceum/node/api"
)

// A node's first admin follows the setup link the daemon printed, fills
// the form (a mistake is shown next to its field first), and lands on
// the home page signed in, as the admin; the link works once.
func TestTheSetupLinkMakesTheFirstAdminAndSignsThemIn(t *testing.T) {
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			s := freshSite(t)
			b := newTab(t, s.url, vp)
			link := s.setupLink(t)
			b.open(link)
			b.wantH1("Set up this node")

			b.fill("#f-username", "principal")
			b.fill("#f-display_name", "The Principal")
			b.fill("#f-password", adminPassword)
			b.fill("#f-confirm", adminPassword+" typo")
			if status := b.submit(`form[action="/setup"] button[type=submit]`); status != 400 {
				b.fatalf("a mismatched password answered %d, want 400", status)
			}
			b.wantText("There is a problem", "The two passwords are not the same.")
			b.wantDescribedError("#f-confirm", "The two passwords are not the same.")
			if b.eval(`document.activeElement.classList.contains("error-summary")`) != "true" {
				b.t.Errorf("%s: the error summary does not take the focus (focus on %q)", vp.name, b.focused())
			}
			if got := b.eval(`document.querySelector("#f-username").value`); got != "principal" {
				b.t.Errorf("%s: the username typed is lost: %q", vp.name, got)
			}

			b.fill("#f-password", adminPassword)
			b.fill("#f-confirm", adminPassword)
			b.submit(`form[action="/setup"] button[type=submit]`)
			if loc := b.location(); loc != "/" {
				b.fatalf("after setup the page is %s, want /", loc)
			}
			b.wantText("Welcome! You are this node's administrator.")
			b.wantSignedIn("principal")
			b.waitVisible(`a[href="/admin"]`)

			acc, err := s.Node().Accounts().Account(context.Background(), "principal")
			if err != nil || acc.Role != api.RoleAdmin {
				t.Fatalf("the account made: %+v %v", acc, err)
			}
			b.open(link)
			b.wantText("This node already has an administrator.")
		})
	}
}

// A visitor registers (the node is open), signs out, is told plainly
// that a wrong password is wrong, and signs in.
func TestRegisterSignOutAndSignInAgain(t *testing.T) {
	school, _ := sites(t)
	admin := newTab(t, school.url, desktop)
	admin.signIn(school.admin, adminPassword)
	admin.setRegistration("open")
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			b := newTab(t, school.url, vp)
			user := "mia." + vp.name
			b.open("/")
			b.follow(`a[href="/register"]`)
			b.checkPage()
			b.wantH1("Create an account")
			b.fill("#f-username", user)
			b.fill("#f-display_name", "Mia Moreau")
			b.fill("#f-password", memberPassword)
			b.fill("#f-confirm", memberPassword)
			b.submit(`form[action="/register"] button[type=submit]`)
			if loc := b.location(); loc != "/" {
				b.fatalf("after registering the page is %s, want /", loc)
			}
			b.wantText("Welcome! Your account is ready.")
			b.wantSignedIn(user)

			b.signOut()

			b.follow(`header a[href^="/login"]`)
			b.checkPage()
			b.wantH1("Sign in")
			b.fill("#f-username", user)
			b.fill("#f-password", memberPassword+"!")
			if status := b.submit(`form[action="/login"] button[type=submit]`); status != 401 {
				b.t.Errorf("%s: a wrong password answered %d, want 401", vp.name, status)
			}
			if got := b.text(".error-summary"); !contains(got, "Wrong username or password.") {
				b.fatalf("the error summary says %q", got)
			}
			if got := b.eval(`document.querySelector("#f-password").value`); got != "" {
				b.t.Errorf("%s: the wrong password is shown again in the form", vp.name)
			}
			b.fill("#f-password", memberPassword)
			b.submit(`form[action="/login"] button[type=submit]`)
			b.wantSignedIn(user)
		})
	}
}

// signIn signs in through the sign-in page and checks where it lands.
// A person signed in once keeps their session: later tabs get its cookie,
// as a returning visitor would, so that the tests stay under the node's
// login rate limits (ten tries an account, then one a minute).
func (b *tab) signIn(username, password string) {
	b.t.Helper()
	key := b.base + " " + username
	sessions.Lock()
	token, ok := sessions.tokens[key]
	sessions.Unlock()
	if ok {
		b.setCookie(sessionCookie, token)
		b.open("/")
		b.wantSignedIn(username)
		return
	}
	b.open("/login")
	b.fill("#f-username", username)
	b.fill("#f-password", password)
	b.follow(`form[action="/login"] button[type=submit]`)
	b.wantSignedIn(username)
	if token := b.cookie(sessionCookie); token != "" {
		sessions.Lock()
		sessions.tokens[key] = token
		sessions.Unlock()
	}
}

// sessionCookie is the web app's session cookie.
const sessionCookie = "lyceum_session"

// sessions are the session tokens of the people signed in, by site and
// username.
var sessions = struct {
	sync.Mutex
	tokens map[string]string
}{tokens: map[string]string{}}

// cookie is the value of the tab's cookie name for the site, or "".
func (b *tab) cookie(name string) string {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base + "/"}})
	if err != nil {
		b.fatalf("read the cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// setCookie sets a cookie of the site, as the web app sets it.
func (b *tab) setCookie(name, value string) {
	b.t.Helper()
	ctx, cancel := b.step()
	defer cancel()
	_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: b.base + "/",
		Path: "/", HTTPOnly: new(true), SameSite: network.CookieSameSiteLax})
	if err != nil {
		b.fatalf("set the cookie %s: %v", name, err)
	}
}

// signOut signs out with the button of the header.
func (b *tab) signOut() {
	b.t.Helper()
	b.submit(`form[action="/logout"] button[type=submit]`)
	b.wantText("You are signed out.")
	if b.has(`form[action="/logout"]`) {
		b.fatalf("still signed in after signing out")
	}
	b.waitVisible(`header a[href^="/login"]`)
}

// wantSignedIn fails unless the header shows username's session: a sign
// out button and, where the node has people's pages, a link to their
// profile.
func (b *tab) wantSignedIn(username string) {
	b.t.Helper()
	b.waitJS(`document.querySelector('form[action="/logout"]') !== null`, "the sign-out button")
	if b.has(`header a[href^="/@"]`) && !b.has(fmt.Sprintf(`header a[href="/@%s"]`, username)) {
		b.fatalf("the header's profile link is not %s's", username)
	}
}

// wantDescribedError fails unless the field sel is marked invalid and
// described by an element that says msg.
func (b *tab) wantDescribedError(sel, msg string) {
	b.t.Helper()
	got := b.eval(fmt.Sprintf(`(() => {
		const f = document.querySelector(%q);
		if (!f) return "no field";
		if (f.getAttribute("aria-invalid") !== "true") return "not aria-invalid";
		const ids = (f.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
		return ids.map(id => { const e = document.getElementById(id); return e ? e.innerText : ""; }).join(" | ");
	})()`, sel))
	if !contains(got, msg) {
		b.fatalf("%s is not described by %q: %s", sel, msg, got)
	}
}

// setRegistration sets the node's registration mode on the admin page
// and checks that it holds after a reload.
func (b *tab) setRegistration(mode string) {
	b.t.Helper()
	b.open("/admin/registration")
	b.click(fmt.Sprintf(`input[name="mode"][value=%q]`, mode))
	b.submit(`form[action="/admin/registration"] button[type=submit]`)
	b.wantText("The registration mode is saved.")
	b.open("/admin/registration")
	if b.eval(fmt.Sprintf(`document.querySelector('input[name="mode"][value=%q]').checked`, mode)) != "true" {
		b.fatalf("the registration mode %s does not hold after a reload", mode)
	}
}

// An admin sees the node's dashboard, its accounts and registration, and
// changes their own profile in the settings.
func TestSettingsAndAdministration(t *testing.T) {
	school, _ := sites(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			b := newTab(t, school.url, vp)
			b.signIn(school.admin, adminPassword)
			b.follow(`header a[href="/admin"]`)
			b.checkPage()
			b.wantH1("This node")
			b.wantText("Online")
			b.shot("admin")
			b.follow(`nav a[href="/admin/accounts"]`)
			b.checkPage()
			b.wantH1("Accounts")
			b.wantText(school.admin)
			b.open("/admin/registration")

			b.follow(`header a[href="/settings"]`)
			b.checkPage()
			b.wantH1("Settings")
			about := "Maths teacher in Lyon, " + vp.name + "."
			b.fill("#f-summary", about)
			b.submit(`form[action="/settings/profile"] button[type=submit]`)
			b.wantText("Your profile is saved.")
			b.shot("settings")
			b.open("/@" + school.admin)
			b.wantText(about)
		})
	}
}
