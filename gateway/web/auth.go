package web

import (
	"net/http"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

// This file holds the pages that open and close a session: sign in, sign
// out, the first admin's setup, registration, and the interface language
// of someone not signed in.

// authView is the data of the sign-in, setup and registration pages.
type authView struct {
	Form *form
	Next string // where to go once signed in
	// Mode is the registration mode (register page), Token the setup
	// token (setup page).
	Mode  api.RegistrationMode
	Token string
	// Pending says the account was made and waits for approval.
	Pending bool
	// Done says there is nothing to set up any more.
	Done bool
}

func (a *App) loginForm(r *http.Request, v *visitor) (response, error) {
	next := localPath(r.URL.Query().Get("next"))
	if v.account() != nil {
		return response{redirect: next}, nil
	}
	return response{page: "login", title: "login.title", data: authView{Form: newForm(nil), Next: next}}, nil
}

func (a *App) login(r *http.Request, v *visitor) (response, error) {
	f := newForm(r)
	next := localPath(f.Get("next"))
	req := api.LoginRequest{Username: f.Get("username"), Password: f.Raw("password")}
	if req.Username == "" {
		f.fail("username", v.t("form.username.missing"))
	}
	if req.Password == "" {
		f.fail("password", v.t("form.password.missing"))
	}
	if f.OK() {
		s, err := a.svc.Sessions.Login(detached(r.Context()), req, a.client(r))
		switch {
		case err == nil:
			v.signIn(s, r)
			return response{redirect: next}, nil
		case api.KindOf(err) == api.KindUnauthorized || api.KindOf(err) == api.KindForbidden:
			f.Problem = v.t("login.wrong")
		case api.KindOf(err) == api.KindRateLimited:
			f.Problem = v.t("login.limited")
		default:
			return response{}, err
		}
	}
	f.Values.Del("password")
	return response{page: "login", title: "login.title", status: http.StatusUnauthorized, data: authView{Form: f, Next: next}}, nil
}

func (a *App) logout(r *http.Request, v *visitor) (response, error) {
	if v.session != nil {
		if err := a.svc.Sessions.Logout(detached(r.Context()), v.session.Token); err != nil {
			return response{}, err
		}
		v.clearCookie(sessionCookie, r)
	}
	v.flash("notice.signed_out", r)
	return response{redirect: "/"}, nil
}

func (a *App) setupForm(r *http.Request, v *visitor) (response, error) {
	need, err := a.svc.Setup.NeedsSetup(r.Context())
	if err != nil {
		return response{}, err
	}
	tok := r.URL.Query().Get("token")
	if len(tok) > 128 {
		tok = ""
	}
	return response{page: "setup", title: "setup.title", data: authView{Form: newForm(nil), Token: tok, Done: !need}}, nil
}

func (a *App) setup(r *http.Request, v *visitor) (response, error) {
	f := newForm(r)
	req := api.SetupRequest{
		Token:       f.Get("token"),
		Username:    f.checkUsername(v, "username"),
		DisplayName: f.checkText(v, "display_name", maxNameChars, false),
		Password:    f.checkNewPassword(v, "password", "confirm"),
		Language:    v.lang,
	}
	if req.Token == "" {
		f.Problem = v.t("setup.token_missing")
	}
	if f.OK() {
		reg, err := a.svc.Setup.CompleteSetup(detached(r.Context()), req)
		switch {
		case err == nil:
			if reg.Session != nil {
				v.signIn(*reg.Session, r)
			}
			v.flash("notice.welcome_admin", r)
			return response{redirect: "/"}, nil
		case api.KindOf(err) == api.KindUnauthorized || api.KindOf(err) == api.KindForbidden:
			f.Problem = v.t("setup.token_refused")
		default:
			if err := f.refused(err, ""); err != nil {
				return response{}, err
			}
		}
	}
	clearPasswords(f)
	return response{page: "setup", title: "setup.title", status: http.StatusBadRequest, data: authView{Form: f, Token: req.Token}}, nil
}

func (a *App) registerForm(r *http.Request, v *visitor) (response, error) {
	if v.account() != nil {
		return response{redirect: "/"}, nil
	}
	mode, err := a.svc.Registration.RegistrationMode(r.Context())
	if err != nil {
		return response{}, err
	}
	f := newForm(nil)
	if code := r.URL.Query().Get("invitation"); len(code) <= 128 {
		f.Values.Set("invitation", code)
	}
	return response{page: "register", title: "register.title", data: authView{Form: f, Mode: mode}}, nil
}

func (a *App) register(r *http.Request, v *visitor) (response, error) {
	mode, err := a.svc.Registration.RegistrationMode(r.Context())
	if err != nil {
		return response{}, err
	}
	f := newForm(r)
	req := api.RegisterRequest{
		Username:    f.checkUsername(v, "username"),
		DisplayName: f.checkText(v, "display_name", maxNameChars, false),
		Password:    f.checkNewPassword(v, "password", "confirm"),
		Language:    v.lang,
		Invitation:  f.Get("invitation"),
	}
	if mode == api.RegistrationInvitation && req.Invitation == "" {
		f.fail("invitation", v.t("register.invitation_missing"))
	}
	if mode == api.RegistrationClosed {
		f.Problem = v.t("register.closed")
	}
	if f.OK() {
		reg, err := a.svc.Registration.Register(detached(r.Context()), req, a.client(r))
		switch {
		case err == nil && reg.Session != nil:
			v.signIn(*reg.Session, r)
			v.flash("notice.welcome", r)
			return response{redirect: "/"}, nil
		case err == nil:
			return response{page: "register", title: "register.title", data: authView{Form: newForm(nil), Mode: mode, Pending: true}}, nil
		case api.KindOf(err) == api.KindRateLimited:
			f.Problem = v.t("register.limited")
		default:
			if err := f.refused(err, registerField(err)); err != nil {
				return response{}, err
			}
		}
	}
	clearPasswords(f)
	return response{page: "register", title: "register.title", status: http.StatusBadRequest, data: authView{Form: f, Mode: mode}}, nil
}

// registerField is the field a refused registration is about: a taken
// username (KindConflict) or an invitation the node did not accept.
func registerField(err error) string {
	if api.KindOf(err) == api.KindConflict {
		return "username"
	}
	return ""
}

func clearPasswords(f *form) {
	f.Values.Del("password")
	f.Values.Del("confirm")
	f.Values.Del("current")
}

// setLanguage changes the interface language: the account's when signed
// in, else a cookie's.
func (a *App) setLanguage(r *http.Request, v *visitor) (response, error) {
	f := newForm(r)
	lang := f.Get("lang")
	if !a.i18n.has(lang) {
		return response{}, api.Errorf(api.KindInvalid, "%s", v.t("error.language"))
	}
	if acc := v.account(); acc != nil && a.svc.Settings != nil {
		if _, err := a.svc.Settings.UpdateProfile(detached(r.Context()), acc.Username, api.ProfileRequest{Language: lang}); err != nil {
			return response{}, err
		}
	} else {
		v.setCookie(langCookie, lang, r, 365*24*time.Hour)
	}
	return response{redirect: localPath(f.Get("next"))}, nil
}
