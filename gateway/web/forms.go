package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/lyceum-oer/lyceum/node/api"
)

// form is a submitted form as its page shows it again: the values typed
// and, by field, what is wrong with them, in the visitor's language.
// Templates show an error summary at the top (each entry a link to its
// field) and each message next to its field, tied to it with
// aria-describedby.
type form struct {
	Values url.Values
	Errors map[string]string
	order  []string
	// Problem is an error of the whole form, not of one field (a refused
	// sign-in, a node that cannot answer).
	Problem string
}

// newForm keeps the posted values of r (already parsed by checkCSRF).
func newForm(r *http.Request) *form {
	f := &form{Values: url.Values{}, Errors: map[string]string{}}
	if r != nil && r.PostForm != nil {
		f.Values = r.PostForm
	}
	return f
}

// Get is the value of a field, trimmed.
func (f *form) Get(name string) string { return strings.TrimSpace(f.Values.Get(name)) }

// Raw is the value of a field as typed (passwords).
func (f *form) Raw(name string) string { return f.Values.Get(name) }

// List is every value of a field, trimmed, empty ones left out.
func (f *form) List(name string) []string {
	var out []string
	for _, v := range f.Values[name] {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Err is the error of a field, or "".
func (f *form) Err(name string) string { return f.Errors[name] }

// fail records the first error of a field.
func (f *form) fail(field, msg string) {
	if _, ok := f.Errors[field]; ok {
		return
	}
	f.Errors[field] = msg
	f.order = append(f.order, field)
}

// OK reports whether no field failed.
func (f *form) OK() bool { return len(f.Errors) == 0 && f.Problem == "" }

// Summary lists the errors in the order of the form, for the summary at
// the top of the page.
func (f *form) Summary() []fieldError {
	out := make([]fieldError, 0, len(f.order))
	for _, name := range f.order {
		out = append(out, fieldError{Field: name, Message: f.Errors[name]})
	}
	return out
}

// fieldError is one entry of the error summary.
type fieldError struct{ Field, Message string }

// refused records a node's refusal of the form: its public message, in
// Problem (an invalid input the page did not catch) or as a field's error
// when it names one; errors of other kinds are the page's to show.
func (f *form) refused(err error, field string) error {
	if api.KindOf(err) != api.KindInvalid && api.KindOf(err) != api.KindConflict {
		return err
	}
	if field != "" {
		f.fail(field, api.PublicMessage(err))
	} else {
		f.Problem = api.PublicMessage(err)
	}
	return nil
}

// The rules the node applies to accounts (node/accounts), checked here
// first so that the message is in the visitor's language and next to its
// field.
var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

const (
	minPasswordChars = 12
	maxPasswordChars = 128
	maxNameChars     = 100
)

// checkUsername checks a new username.
func (f *form) checkUsername(v *visitor, field string) string {
	u := strings.ToLower(f.Get(field))
	switch {
	case u == "":
		f.fail(field, v.t("form.username.missing"))
	case !usernamePattern.MatchString(u):
		f.fail(field, v.t("form.username.invalid"))
	}
	return u
}

// checkNewPassword checks a new password and its confirmation.
func (f *form) checkNewPassword(v *visitor, field, confirm string) string {
	p := f.Raw(field)
	n := utf8.RuneCountInString(p)
	switch {
	case n == 0:
		f.fail(field, v.t("form.password.missing"))
	case n < minPasswordChars:
		f.fail(field, v.t("form.password.short", minPasswordChars))
	case n > maxPasswordChars:
		f.fail(field, v.t("form.password.long", maxPasswordChars))
	case confirm != "" && f.Raw(confirm) != p:
		f.fail(confirm, v.t("form.password.mismatch"))
	}
	return p
}

// checkText checks a line of free text of at most max characters.
func (f *form) checkText(v *visitor, field string, max int, required bool) string {
	s := f.checkLine(v, field, max, required)
	if f.Errors[field] == "" && strings.ContainsAny(s, "<>") {
		f.fail(field, v.t("form.text.markup"))
	}
	return s
}

// checkTitle checks a title: one line of plain text, which may hold '<'
// and '>' ("The <p> element"): a title is shown as text everywhere,
// never as markup.
func (f *form) checkTitle(v *visitor, field string, max int, required bool) string {
	return f.checkLine(v, field, max, required)
}

// checkLine checks one line of text: UTF-8, at most max characters, no
// line break or tab.
func (f *form) checkLine(v *visitor, field string, max int, required bool) string {
	s := f.Get(field)
	switch {
	case s == "" && required:
		f.fail(field, v.t("form.required"))
	case !utf8.ValidString(s):
		f.fail(field, v.t("form.text.invalid"))
	case utf8.RuneCountInString(s) > max:
		f.fail(field, v.t("form.text.long", max))
	case strings.ContainsAny(s, "\r\n\t"):
		f.fail(field, v.t("form.text.line"))
	}
	return s
}
