package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

// fakeSessions is one account, "ada", with one password.
type fakeSessions struct {
	sessions map[string]api.Session
	lang     string
}

func (f *fakeSessions) Login(_ context.Context, req api.LoginRequest, _ string) (api.Session, error) {
	if req.Username != "ada" || req.Password != "correct horse battery" {
		return api.Session{}, api.Errorf(api.KindUnauthorized, "wrong username or password")
	}
	s := api.Session{Token: "tok-" + randomToken(), CSRF: randomToken(), Expires: time.Now().Add(time.Hour),
		Account: api.Account{Username: "ada", DisplayName: "Ada <b>L</b>", Role: api.RoleMember, Status: api.StatusActive, Language: f.lang}}
	f.sessions[s.Token] = s
	return s, nil
}

func (f *fakeSessions) Session(_ context.Context, token string) (api.Session, error) {
	s, ok := f.sessions[token]
	if !ok {
		return api.Session{}, api.Errorf(api.KindUnauthorized, "no session")
	}
	return s, nil
}

func (f *fakeSessions) Logout(_ context.Context, token string) error {
	delete(f.sessions, token)
	return nil
}

type fakeIdentity struct{}

func (fakeIdentity) ID() api.Identity { return api.Identity{PeerID: "12D3KooWtest", Online: true} }

// newTestApp serves an app over fakes on a real HTTP server.
func newTestApp(t *testing.T, svc Services) (*httptest.Server, *http.Client) {
	t.Helper()
	if svc.Identity == nil {
		svc.Identity = fakeIdentity{}
	}
	if svc.Sessions == nil {
		svc.Sessions = &fakeSessions{sessions: map[string]api.Session{}, lang: "en"}
	}
	app, err := New(Config{}, svc)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	app.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return srv, &http.Client{Jar: jar}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches a page and returns its body and the CSRF token of its forms.
func get(t *testing.T, c *http.Client, u string) (*http.Response, string, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	token := ""
	if m := csrfField.FindStringSubmatch(string(b)); m != nil {
		token = m[1]
	}
	return res, string(b), token
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	res, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestSignInAndOut(t *testing.T) {
	srv, c := newTestApp(t, Services{})
	res, body, token := get(t, c, srv.URL+"/login?next=/search")
	if res.StatusCode != 200 || token == "" {
		t.Fatalf("login page: %d, token %q", res.StatusCode, token)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP = %q", csp)
	}
	if !strings.Contains(body, `<label for="f-username">`) || !strings.Contains(body, `<main id="main"`) {
		t.Error("the login page lacks its labels or landmarks")
	}
	// Wrong password: a clear message, the username kept, the password not.
	res, body = post(t, c, srv.URL+"/login", url.Values{"csrf": {token}, "username": {"ada"}, "password": {"nope nope nope"}, "next": {"/search"}})
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong username or password.") || !strings.Contains(body, `value="ada"`) ||
		strings.Contains(body, "nope nope nope") {
		t.Fatalf("wrong password: %d\n%s", res.StatusCode, body)
	}
	// Without the CSRF token: refused.
	res, _ = post(t, c, srv.URL+"/login", url.Values{"username": {"ada"}, "password": {"correct horse battery"}})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("no CSRF token: %d", res.StatusCode)
	}
	// Right password: signed in, sent where they were going; the display
	// name is escaped.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, _ = post(t, c, srv.URL+"/login", url.Values{"csrf": {token}, "username": {"ada"}, "password": {"correct horse battery"}, "next": {"/search"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/search" {
		t.Fatalf("sign-in: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == sessionCookie {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v", session)
	}
	c.CheckRedirect = nil
	_, body, token = get(t, c, srv.URL+"/")
	if !strings.Contains(body, "Sign out") {
		t.Fatal("signed in, the page offers no sign-out")
	}
	// The old pre-session token no longer works once signed in; the
	// session's does.
	res, _ = post(t, c, srv.URL+"/logout", url.Values{"csrf": {token}})
	if res.StatusCode != 200 {
		t.Fatalf("sign-out: %d", res.StatusCode)
	}
	_, body, _ = get(t, c, srv.URL+"/")
	if strings.Contains(body, "Sign out") {
		t.Fatal("still signed in after signing out")
	}
}

func TestOpenRedirectRefused(t *testing.T) {
	srv, c := newTestApp(t, Services{})
	_, _, token := get(t, c, srv.URL+"/login")
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, _ := post(t, c, srv.URL+"/login", url.Values{"csrf": {token}, "username": {"ada"}, "password": {"correct horse battery"}, "next": {"//evil.example/x"}})
	if loc := res.Header.Get("Location"); loc != "/" {
		t.Fatalf("redirected to %q", loc)
	}
}

func TestLanguageSwitchAndAcceptLanguage(t *testing.T) {
	srv, c := newTestApp(t, Services{})
	req, _ := http.NewRequest("GET", srv.URL+"/login", nil)
	req.Header.Set("Accept-Language", "fr-FR,fr;q=0.9")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), `<html lang="fr">`) || !strings.Contains(string(b), "Se connecter") {
		t.Fatal("Accept-Language fr did not give French")
	}
	_, _, token := get(t, c, srv.URL+"/login")
	post(t, c, srv.URL+"/language", url.Values{"csrf": {token}, "lang": {"fr"}, "next": {"/login"}})
	_, body, _ := get(t, c, srv.URL+"/login")
	if !strings.Contains(body, "Se connecter") {
		t.Fatal("the language switch did not give French")
	}
	res, _ = post(t, c, srv.URL+"/language", url.Values{"csrf": {token}, "lang": {"xx"}})
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown language: %d", res.StatusCode)
	}
}

func TestAssetsAreFingerprintedAndCached(t *testing.T) {
	srv, c := newTestApp(t, Services{})
	_, body, _ := get(t, c, srv.URL+"/login")
	m := regexp.MustCompile(`href="(/assets/app\.[0-9a-f]{10}\.css)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no fingerprinted stylesheet")
	}
	res, _, _ := get(t, c, srv.URL+m[1])
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("asset: %d %v", res.StatusCode, res.Header)
	}
	if res, _, _ := get(t, c, srv.URL+"/assets/app.css"); res.StatusCode != 404 {
		t.Fatalf("an unfingerprinted asset: %d", res.StatusCode)
	}
}
