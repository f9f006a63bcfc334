package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/ipfs/boxo/files"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
)

// This file holds the settings page: a person's public profile, their
// picture, interface language, password and personal API tokens. Each
// form posts to its own path and comes back to /settings with a notice,
// or shows the page again with its errors next to the fields.
//
// Every handler first requires ActionPublish, which every active account
// has: the settings are for any signed-in person, and an account that is
// disabled or waits for approval has nothing to change.

// Bounds of the settings' inputs.
const (
	maxAvatarBytes    = 2 << 20 // an avatar image
	maxTokenName      = 64      // node/accounts.MaxTokenName
	maxProfileSummary = activity.MaxDescription
)

// avatarTypes are the image types an avatar may be, as
// http.DetectContentType names them from the file's first bytes.
var avatarTypes = []string{"image/png", "image/jpeg", "image/webp", "image/gif"}

// avatarExt names the stored file after its type.
var avatarExt = map[string]string{"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", "image/gif": ".gif"}

// profileMarkup is what activity refuses in a summary (markup a browser would
// read as a tag, a comment or a declaration); "a < b" is fine.
var profileMarkup = regexp.MustCompile(`<(?:/?[A-Za-z][A-Za-z0-9-]*(?:[\s/>]|$)|!--|!\[CDATA\[|![A-Za-z]|\?)`)

// settingsView is the data of the settings page.
type settingsView struct {
	Account api.Account
	// Profile is the account's Person actor as others see it; nil when
	// the node has no People service.
	Profile *api.Profile
	// Avatar says the picture can be changed: there is a profile, and
	// Files to store the image.
	Avatar   bool
	Tokens   []api.Token
	NewToken *api.NewToken // the token just made: its secret is shown this once
	// MoodleSites are the Moodle sites the person let share to their
	// drafts.
	MoodleSites []api.OAuthGrant
	// The forms of the page, each with its values and errors.
	ProfileForm, AvatarForm, LanguageForm, PasswordForm, TokenForm *form
}

// settingsData loads what the settings page shows of acc, with its forms
// filled with the current values.
func (a *App) settingsData(ctx context.Context, acc api.Account) (settingsView, error) {
	sv := settingsView{Account: acc,
		ProfileForm: newForm(nil), AvatarForm: newForm(nil), LanguageForm: newForm(nil), PasswordForm: newForm(nil), TokenForm: newForm(nil)}
	// Without its profile the page still serves the password, language
	// and tokens: a social room that fails does not lock those away.
	p, err := a.profileOf(ctx, acc)
	if err != nil {
		a.log.Warn("settings: no profile", "account", acc.Username, "err", err)
	}
	if p != nil {
		sv.Profile, sv.Avatar = p, a.svc.Files != nil
		sv.ProfileForm.Values.Set("name", p.Name)
		sv.ProfileForm.Values.Set("summary", p.Summary)
	} else {
		sv.ProfileForm.Values.Set("name", acc.DisplayName)
	}
	sv.LanguageForm.Values.Set("lang", acc.Language)
	if sv.Tokens, err = a.svc.Settings.Tokens(ctx, acc.Username); err != nil {
		return sv, err
	}
	if a.svc.OAuth != nil {
		sv.MoodleSites, err = a.svc.OAuth.OAuthGrants(ctx, acc.Username)
	}
	return sv, err
}

// profileOf is the public profile of acc's Person actor: nil when the
// node has no People service or no actor for it.
func (a *App) profileOf(ctx context.Context, acc api.Account) (*api.Profile, error) {
	if a.svc.People == nil {
		return nil, nil
	}
	p, err := a.svc.People.Profile(ctx, acc.Username, acc.Username)
	switch {
	case api.KindOf(err) == api.KindNotFound:
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &p, nil
}

// settingsPage shows the settings page, after edit has put in the form
// that was posted.
func (a *App) settingsPage(ctx context.Context, acc api.Account, status int, edit func(*settingsView)) (response, error) {
	sv, err := a.settingsData(ctx, acc)
	if err != nil {
		return response{}, err
	}
	if edit != nil {
		edit(&sv)
	}
	return response{page: "settings", title: "settings.title", status: status, data: sv}, nil
}

// settings shows the signed-in person's settings.
func (a *App) settings(r *http.Request, v *visitor) (response, error) {
	acc, err := v.require(api.ActionPublish)
	if err != nil {
		return response{}, err
	}
	return a.settingsPage(r.Context(), acc, 0, nil)
}

// saveProfile changes the name and summary others see: the account's
// display name and its Person actor's profile, kept the same. An empty
// name shows the username.
func (a *App) saveProfile(r *http.Request, v *visitor) (response, error) {
	acc, err := v.require(api.ActionPublish)
	if err != nil {
		return response{}, err
	}
	f := newForm(r)
	name := f.checkText(v, "name", maxNameChars, false)
	summary := ""
	if a.svc.People != nil {
		summary = f.checkProfileSummary(v, "summary")
	}
	if f.OK() {
		err := a.updateProfile(detached(r.Context()), acc, name, summary)
		if err == nil {
			v.flash("notice.profile_saved", r)
			return response{redirect: "/settings"}, nil
		}
		if err := f.refused(err, ""); err != nil {
			return response{}, err
		}
	}
	return a.settingsPage(r.Context(), acc, http.StatusBadRequest, func(sv *settingsView) { sv.ProfileForm = f })
}

// updateProfile writes a new name and summary: an Update of the actor
// when they changed (each is signed and gossiped), and the account's
// display name.
func (a *App) updateProfile(ctx context.Context, acc api.Account, name, summary string) error {
	p, err := a.profileOf(ctx, acc)
	if err != nil {
		return err
	}
	if p != nil && (p.Name != name || p.Summary != summary) {
		if _, err := a.svc.People.UpdateActor(ctx, api.ActorUpdate{As: acc.Username, Name: name, Summary: summary}); err != nil {
			return err
		}
	}
	display := name
	if display == "" {
		display = acc.Username
	}
	if display == acc.DisplayName {
		return nil
	}
	_, err = a.svc.Settings.UpdateProfile(ctx, acc.Username, api.ProfileRequest{DisplayName: display})
	return err
}

// checkProfileSummary checks a profile's summary: several lines of plain text
// or Markdown, no HTML.
func (f *form) checkProfileSummary(v *visitor, field string) string {
	s := f.Get(field)
	switch {
	case !utf8.ValidString(s):
		f.fail(field, v.t("form.text.invalid"))
	case utf8.RuneCountInString(s) > maxProfileSummary:
		f.fail(field, v.t("form.text.long", maxProfileSummary))
	case profileMarkup.MatchString(s):
		f.fail(field, v.t("settings.summary.html"))
	}
	return s
}

// uploadAvatar takes a new picture: an image of at most 2 MiB, streamed
// from the multipart body (its CSRF token is in the action URL), its
// type told by its first bytes and not by its name, stored and pinned,
// then named by the actor's profile.
func (a *App) uploadAvatar(r *http.Request, v *visitor) (response, error) {
	acc, err := v.require(api.ActionPublish)
	if err != nil {
		return response{}, err
	}
	f := newForm(nil)
	data, ctype, problem := readAvatar(v.w, r)
	if problem != "" {
		f.fail("avatar", v.t(problem))
	} else {
		ctx := detached(r.Context())
		c, err := a.svc.Files.Add(ctx, "avatar"+avatarExt[ctype], files.NewBytesFile(data), api.AddOptions{}, nil)
		if err == nil {
			err = a.setAvatar(ctx, acc, api.ActorUpdate{IconCID: c.String(), IconType: ctype})
		}
		if err == nil {
			v.flash("notice.avatar_saved", r)
			return response{redirect: "/settings"}, nil
		}
		if err := f.refused(err, "avatar"); err != nil {
			return response{}, err
		}
	}
	return a.settingsPage(r.Context(), acc, http.StatusBadRequest, func(sv *settingsView) { sv.AvatarForm = f })
}

// removeAvatar takes the picture off the profile.
func (a *App) removeAvatar(r *http.Request, v *visitor) (response, error) {
	acc, err := v.require(api.ActionPublish)
	if err != nil {
		return response{}, err
	}
	if err := a.setAvatar(detached(r.Context()), acc, api.ActorUpdate{RemoveIcon: true}); err != nil {
		return response{}, err
	}
	v.flash("notice.avatar_removed", r)
	return response{redirect: "/settings"}, nil
}

// setAvatar updates the actor's icon, keeping its name and summary (an
// update replaces them).
func (a *App) setAvatar(ctx context.Context, acc api.Account, u api.ActorUpdate) error {
	p, err := a.profileOf(ctx, acc)
	if err != nil {
		return err
	}
	if p == nil {
		return api.NotFoundf("%s has no profile", acc.Username)
	}
	u.As, u.Name, u.Summary = acc.Username, p.Name, p.Summary
	_, err = a.svc.People.UpdateActor(ctx, u)
	return err
}

// readAvatar reads the "avatar" part of a multipart body, at most
// maxAvatarBytes, and sniffs its type. problem is the message key of
// what is wrong with it, "" when it is an image to keep.
func readAvatar(w http.ResponseWriter, r *http.Request) (data []byte, ctype, problem string) {
	r.Body = http.MaxBytesReader(w, r.Body, maxAvatarBytes+maxFormBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", "settings.avatar.unreadable"
	}
	for {
		p, err := mr.NextPart()
		switch {
		case err == io.EOF:
			return nil, "", "settings.avatar.missing"
		case err != nil:
			return nil, "", avatarReadProblem(err)
		case p.FormName() != "avatar":
			continue
		}
		data, err = io.ReadAll(io.LimitReader(p, maxAvatarBytes+1))
		switch {
		case err != nil:
			return nil, "", avatarReadProblem(err)
		case len(data) > maxAvatarBytes:
			return nil, "", "settings.avatar.big"
		case len(data) == 0:
			return nil, "", "settings.avatar.missing"
		}
		ctype = http.DetectContentType(data)
		if !slices.Contains(avatarTypes, ctype) {
			return nil, "", "settings.avatar.type"
		}
		return data, ctype, ""
	}
}

// avatarReadProblem is what went wrong reading an upload: too big, or
// not a form the page sent.
func avatarReadProblem(err error) string {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return "settings.avatar.big"
	}
	return "settings.avatar.unreadable"
}

// saveLanguage changes the interface language of the account.
func (a *App) saveLanguage(r *http.Request, v *visitor) (response, error) {
	acc, err := v.require(api.ActionPublish)
	if err != nil {
		return response{}, err
	}
	f := newForm(r)
	lang := f.Get("lang")
	if !a.i18n.has(lang) {
		f.fail("lang", v.t("error.language"))
		return a.settingsPage(r.Context(), acc, http.StatusBadRequest, func(sv *settingsView) { sv.LanguageForm = f })
	}
	if _, err := a.svc.Settings.UpdateProfile(detached(r.Context()), acc.Username, api.ProfileRequest{Language: lang}); err != nil {
		return response{}, err
	}
	v.flash("notice.language_saved", r)
	return response{redirect: "/settings"}, nil
}

// changePassword changes the password, given the current one. Every
// session of the account ends; this browser gets a new one.
func (a *App) changePassword(r *http.Request, v *visitor) (response, error) {
	acc, err := v.require(api.ActionPublish)
	if err != nil {
		return response{}, err
	}
	f := newForm(r)
	req := api.PasswordChange{Current: f.Raw("current")}
	if req.Current == "" {
		f.fail("current", v.t("settings.password.current_missing"))
	}
	req.New = f.checkNewPassword(v, "password", "confirm")
	if f.OK() && req.New == req.Current {
		f.fail("password", v.t("settings.password.same"))
	}
	if f.OK() {
		s, err := a.svc.Settings.ChangePassword(detached(r.Context()), acc.Username, req)
		switch {
		case err == nil:
			v.signIn(s, r)
			v.flash("notice.password_changed", r)
			return response{redirect: "/settings"}, nil
		case api.KindOf(err) == api.KindUnauthorized:
			f.fail("current", v.t("settings.password.wrong"))
		case api.KindOf(err) == api.KindRateLimited:
			f.Problem = v.t("login.limited")
		default:
			if err := f.refused(err, "password"); err != nil {
				return response{}, err
			}
		}
	}
	clearPasswords(f)
	return a.settingsPage(r.Context(), acc, http.StatusBadRequest, func(sv *settingsView) { sv.PasswordForm = f })
}

// createToken makes a personal API token and shows its secret on this
// answer only: it is not kept anywhere the page could show it again.
func (a *App) createToken(r *http.Request, v *visitor) (response, error) {
	acc, err := v.require(api.ActionPublish)
	if err != nil {
		return response{}, err
	}
	f := newForm(r)
	name := f.checkText(v, "token_name", maxTokenName, true)
	if f.OK() {
		t, err := a.svc.Settings.CreateToken(detached(r.Context()), acc.Username, api.CreateTokenRequest{Name: name})
		if err == nil {
			return a.settingsPage(r.Context(), acc, http.StatusOK, func(sv *settingsView) { sv.NewToken = &t })
		}
		if err := f.refused(err, "token_name"); err != nil {
			return response{}, err
		}
	}
	return a.settingsPage(r.Context(), acc, http.StatusBadRequest, func(sv *settingsView) { sv.TokenForm = f })
}

// revokeToken revokes one of the account's own tokens: an id of
// another account's is not found.
func (a *App) revokeToken(r *http.Request, v *visitor) (response, error) {
	return revokeOwn(r, v, a.svc.Settings.RevokeToken, "notice.token_revoked", "/settings")
}

// revokeMoodle ends one of the signed-in person's Moodle connections: the
// site's tokens stop working at once.
func (a *App) revokeMoodle(r *http.Request, v *visitor) (response, error) {
	return revokeOwn(r, v, a.svc.OAuth.RevokeOAuthGrant, "notice.moodle_revoked", "/settings#moodle")
}

// revokeOwn revokes the signed-in person's own credential numbered by the
// path's id with revoke, then says notice on the page at back; an id of
// another account's is not found.
func revokeOwn(r *http.Request, v *visitor, revoke func(ctx context.Context, username string, id int64) error, notice, back string) (response, error) {
	acc, err := v.require(api.ActionPublish)
	if err != nil {
		return response{}, err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return response{}, api.NotFoundf("%s", v.t("error.notfound"))
	}
	if err := revoke(detached(r.Context()), acc.Username, id); err != nil {
		return response{}, err
	}
	v.flash(notice, r)
	return response{redirect: back}, nil
}
