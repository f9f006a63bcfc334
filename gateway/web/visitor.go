package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

// The cookies of the app. All are HttpOnly and SameSite=Lax, and Secure
// when the visitor came over HTTPS.
const (
	sessionCookie = "lyceum_session" // the session's token
	csrfCookie    = "lyceum_csrf"    // the CSRF token before sign-in
	langCookie    = "lyceum_lang"    // the interface language before sign-in
	noticeCookie  = "lyceum_notice"  // a message key to show once
)

// maxFormBytes bounds the body of every form but the publish page's.
const maxFormBytes = 64 << 10

// visitor is the person behind one request: their session, if signed in,
// their language and their CSRF token.
type visitor struct {
	app     *App
	w       http.ResponseWriter
	session *api.Session // nil when nobody is signed in
	lang    string
	csrf    string
	notice  string // message key shown once, from the previous page
}

// visit reads who is visiting: the session cookie (checked with the
// node), the language (account, cookie, then Accept-Language) and the
// CSRF token (the session's, or a cookie of its own before sign-in).
func (a *App) visit(w http.ResponseWriter, r *http.Request) *visitor {
	v := &visitor{app: a, w: w}
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" && len(c.Value) <= 128 {
		if s, err := a.svc.Sessions.Session(r.Context(), c.Value); err == nil {
			v.session = &s
		} else {
			v.clearCookie(sessionCookie, r)
		}
	}
	v.lang = a.language(r, v.session)
	if v.session != nil {
		v.csrf = v.session.CSRF
	} else if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 43 {
		v.csrf = c.Value
	} else {
		v.csrf = randomToken()
		v.setCookie(csrfCookie, v.csrf, r, 0)
	}
	if c, err := r.Cookie(noticeCookie); err == nil {
		if _, ok := a.i18n.lookup(v.lang, c.Value); ok && strings.HasPrefix(c.Value, "notice.") {
			v.notice = c.Value
		}
		v.clearCookie(noticeCookie, r)
	}
	return v
}

// language is the visitor's interface language.
func (a *App) language(r *http.Request, s *api.Session) string {
	if s != nil && a.i18n.has(s.Account.Language) {
		return s.Account.Language
	}
	if c, err := r.Cookie(langCookie); err == nil && a.i18n.has(c.Value) {
		return c.Value
	}
	return a.i18n.match(r.Header.Get("Accept-Language"))
}

// account is the signed-in account, or nil.
func (v *visitor) account() *api.Account {
	if v.session == nil {
		return nil
	}
	return &v.session.Account
}

// require returns the signed-in account if it may do act: KindUnauthorized
// when nobody is signed in (the page then sends them to sign in),
// KindForbidden when their role does not allow it.
func (v *visitor) require(act api.Action) (api.Account, error) {
	acc := v.account()
	if acc == nil {
		return api.Account{}, api.Errorf(api.KindUnauthorized, "%s", v.t("error.signin"))
	}
	if !acc.Can(act) {
		return api.Account{}, api.Errorf(api.KindForbidden, "%s", v.t("error.forbidden"))
	}
	return *acc, nil
}

// checkCSRF reports whether a POST carries the visitor's CSRF token: in
// the form's csrf field, or, for a streamed upload whose body is read
// later, in the X-CSRF-Token header or the action URL's csrf parameter.
// An ordinary form's body is bounded here, before it is parsed.
func (v *visitor) checkCSRF(r *http.Request) bool {
	var got string
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		got = r.Header.Get("X-CSRF-Token")
		if got == "" {
			got = r.URL.Query().Get("csrf")
		}
	} else {
		r.Body = http.MaxBytesReader(v.w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			return false
		}
		got = r.PostForm.Get("csrf")
	}
	return v.csrf != "" && subtle.ConstantTimeCompare([]byte(v.csrf), []byte(got)) == 1
}

// t translates a message key into the visitor's language.
func (v *visitor) t(key string, args ...any) string { return v.app.i18n.t(v.lang, key, args...) }

// signIn sets the session cookie of a new session.
func (v *visitor) signIn(s api.Session, r *http.Request) {
	v.setCookie(sessionCookie, s.Token, r, time.Until(s.Expires))
	v.session = &s
}

// flash shows a notice (a message key under notice.) on the next page.
func (v *visitor) flash(key string, r *http.Request) { v.setCookie(noticeCookie, key, r, time.Minute) }

// setCookie sets one of the app's cookies; maxAge 0 = for the browser's
// session.
func (v *visitor) setCookie(name, value string, r *http.Request, maxAge time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: v.app.secure(r)}
	if maxAge > 0 {
		c.MaxAge = int(maxAge.Seconds())
	}
	http.SetCookie(v.w, c)
}

func (v *visitor) clearCookie(name string, r *http.Request) {
	http.SetCookie(v.w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: v.app.secure(r)})
}

// view is the data every page's template receives.
func (v *visitor) view(r *http.Request, res response) view {
	title := ""
	if res.title != "" {
		title = v.t(res.title)
	}
	if res.name != "" {
		title = res.name
	}
	notice := ""
	if v.notice != "" {
		notice = v.t(v.notice)
	}
	return view{Lang: v.lang, Account: v.account(), CSRF: v.csrf, Path: r.URL.RequestURI(), Title: title,
		Node: v.app.svc.Identity.ID(), Notice: notice, Data: res.data, Services: v.app.features}
}

// randomToken is 32 random bytes in unpadded URL-safe base64 (43
// characters).
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// urlQueryEscape escapes s for a URL's query.
func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// localPath returns next if it is a path on this site ("/…" but not
// "//…" or "/\…"), else "/": where to go after signing in.
func localPath(next string) string {
	if len(next) > 2048 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}
