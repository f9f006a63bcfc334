package accounts

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lyceum-oer/lyceum/node/api"
)

// usernamePattern is that of actors' usernames (node/social): an account's
// username is its Person actor's.
var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)

// Bounds of free text, in characters.
const (
	MaxDisplayName = 100
	MaxTokenName   = 64
	MaxNote        = 200
)

func checkUsername(username string) error {
	if !usernamePattern.MatchString(username) {
		return api.Invalidf("username %s: use 1–63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit", api.Quote(username))
	}
	return nil
}

// checkText checks one line of text that a person gives (a display name,
// a token's name, a note): trimmed, valid UTF-8, at most max characters,
// no control characters and no '<' or '>' (names end up in actor profiles,
// where markup is refused).
func checkText(what, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", api.Invalidf("the %s is not valid text (UTF-8)", what)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", api.Invalidf("the %s is too long: at most %d characters (it has %d)", what, max, n)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == '<' || r == '>' {
			return "", api.Invalidf("the %s may not contain line breaks, tabs, '<' or '>'", what)
		}
	}
	return s, nil
}

// checkDisplayName returns the display name to keep: the username when
// none is given.
func checkDisplayName(name, username string) (string, error) {
	name, err := checkText("display name", name, MaxDisplayName)
	if name == "" && err == nil {
		name = username
	}
	return name, err
}

func checkLanguage(lang string) (string, error) {
	switch lang {
	case "":
		return api.LanguageEnglish, nil
	case api.LanguageEnglish, api.LanguageFrench:
		return lang, nil
	}
	return "", api.Invalidf("language %s: choose en (English) or fr (French)", api.Quote(lang))
}

func checkRole(r api.Role) (api.Role, error) {
	switch r {
	case "":
		return api.RoleMember, nil
	case api.RoleAdmin, api.RoleModerator, api.RoleMember:
		return r, nil
	}
	return "", api.Invalidf("role %s: choose admin, moderator or member", api.Quote(string(r)))
}

func checkMode(m api.RegistrationMode) error {
	switch m {
	case api.RegistrationOpen, api.RegistrationApproval, api.RegistrationInvitation, api.RegistrationClosed:
		return nil
	}
	return api.Invalidf("registration mode %s: choose open, approval, invitation or closed", api.Quote(string(m)))
}

// limitKey bounds a key of a rate limit made of outside input. An empty
// client key ("cannot tell") is one key shared by all such clients.
func limitKey(s string) string {
	if len(s) > 128 {
		s = s[:128]
	}
	return s
}
