package api

import (
	"crypto/subtle"
	"time"
)

// Role is what an account may do on its node.
type Role string

// The roles, from most to least trusted.
const (
	RoleAdmin     Role = "admin"
	RoleModerator Role = "moderator"
	RoleMember    Role = "member"
)

// AccountStatus says whether an account may log in.
type AccountStatus string

// The statuses of an account.
const (
	StatusActive   AccountStatus = "active"
	StatusPending  AccountStatus = "pending" // registered, waits for an admin's approval
	StatusDisabled AccountStatus = "disabled"
)

// RegistrationMode is how people get an account on a node; an admin
// chooses it.
type RegistrationMode string

// The registration modes.
const (
	// RegistrationOpen: anyone may register, and is active at once.
	RegistrationOpen RegistrationMode = "open"
	// RegistrationApproval: anyone may register; the account waits until
	// an admin or moderator approves it.
	RegistrationApproval RegistrationMode = "approval"
	// RegistrationInvitation: only with an invitation code that an admin
	// or moderator made.
	RegistrationInvitation RegistrationMode = "invitation"
	// RegistrationClosed: nobody registers; accounts are made from the
	// CLI (or the first-admin setup link).
	RegistrationClosed RegistrationMode = "closed"
)

// The interface languages of the web app.
const (
	LanguageEnglish = "en"
	LanguageFrench  = "fr"
)

// Action is something an account may or may not do (Account.Can).
type Action string

// The actions that roles allow.
const (
	// ActionPublish: publish, curate collections, comment, create
	// communities. Every active account.
	ActionPublish Action = "publish"
	// ActionInvite: make invitation codes (a moderator's invite members
	// only).
	ActionInvite Action = "invite"
	// ActionReviewRegistrations: list accounts, approve or reject the
	// ones waiting.
	ActionReviewRegistrations Action = "review_registrations"
	// ActionModerate: handle reports, hide content.
	ActionModerate Action = "moderate"
	// ActionManageAccounts: change roles, disable and enable accounts.
	ActionManageAccounts Action = "manage_accounts"
	// ActionConfigure: the registration mode and the node's settings, the
	// operator dashboard.
	ActionConfigure Action = "configure"
)

var roleActions = map[Role][]Action{
	RoleMember:    {ActionPublish},
	RoleModerator: {ActionPublish, ActionInvite, ActionReviewRegistrations, ActionModerate},
	RoleAdmin:     {ActionPublish, ActionInvite, ActionReviewRegistrations, ActionModerate, ActionManageAccounts, ActionConfigure},
}

// Operator is the `by` of the calls that the node's operator makes with
// the node's API token ($LYCEUM_PATH/api.token: the CLI, scripts on the
// node's machine). It is no account, and no username can be it; it may do
// whatever an active admin may. Only a surface that checked the node's
// API token may pass it.
const Operator = "!operator"

// Account is a person of a node, without any secret.
type Account struct {
	Username    string        `json:"username"` // also its Person actor's username
	DisplayName string        `json:"display_name"`
	Role        Role          `json:"role"`
	Status      AccountStatus `json:"status"`
	Language    string        `json:"language"` // interface language: en or fr
	// Actor is the DID of the Person actor the account owns; "" while the
	// account waits for approval (its actor is made when it is approved).
	Actor   string    `json:"actor,omitempty"`
	Created time.Time `json:"created"`
}

// Can reports whether the account may do act: its role allows it and the
// account is active.
func (a Account) Can(act Action) bool {
	if a.Status != StatusActive {
		return false
	}
	for _, x := range roleActions[a.Role] {
		if x == act {
			return true
		}
	}
	return false
}

// CreateAccountRequest makes an account directly, of any role, without
// registration rules: for the node's operator (`lyceum user add`).
type CreateAccountRequest struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name,omitempty"` // "" = the username
	Password    string `json:"password"`
	Language    string `json:"language,omitempty"` // "" = en
	Role        Role   `json:"role,omitempty"`     // "" = member
}

// RegisterRequest is a person registering on the node.
type RegisterRequest struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name,omitempty"`
	Password    string `json:"password"`
	Language    string `json:"language,omitempty"`
	// Invitation is the code of an invitation: required when the node
	// registers by invitation, and honoured in the open and approval
	// modes too (the account is then active at once, with the
	// invitation's role).
	Invitation string `json:"invitation,omitempty"`
}

// SetupRequest makes the node's first admin with the one-time setup
// token the daemon printed.
type SetupRequest struct {
	Token       string `json:"token"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name,omitempty"`
	Password    string `json:"password"`
	Language    string `json:"language,omitempty"`
}

// SetupToken is the one-time token that makes the first admin, and when
// it stops working.
type SetupToken struct {
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
}

// Registration is a new account and, when it is active, its first
// session (the person is logged in at once).
type Registration struct {
	Account Account  `json:"account"`
	Session *Session `json:"session,omitempty"` // nil while the account waits for approval
}

// LoginRequest logs a person in.
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Session is a logged-in browser.
type Session struct {
	// Token is the session's secret, for its cookie; only Login and the
	// calls that log in (registration, setup, password change) return it.
	Token string `json:"token,omitempty"`
	// CSRF is the token every form of the session must carry back.
	CSRF    string    `json:"csrf"`
	Account Account   `json:"account"`
	Created time.Time `json:"created"`
	// Expires is when the session ends unless it is used before: each use
	// moves it on, up to a hard limit after Created.
	Expires time.Time `json:"expires"`
}

// CheckCSRF reports whether token is the session's CSRF token, in
// constant time.
func (s Session) CheckCSRF(token string) bool {
	return s.CSRF != "" && subtle.ConstantTimeCompare([]byte(s.CSRF), []byte(token)) == 1
}

// PasswordChange changes an account's password; it ends every session of
// the account and opens a new one.
type PasswordChange struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

// ProfileRequest changes an account's profile; empty fields keep their
// value.
type ProfileRequest struct {
	DisplayName string `json:"display_name,omitempty"`
	Language    string `json:"language,omitempty"`
}

// AccountFilter selects and pages accounts in a list.
type AccountFilter struct {
	Status AccountStatus `json:"status,omitempty"` // "" = all
	Role   Role          `json:"role,omitempty"`   // "" = all
	After  string        `json:"after,omitempty"`  // the last username of the previous page
	Limit  int           `json:"limit,omitempty"`  // 0 = 50; at most 500
}

// CreateTokenRequest makes a personal API token.
type CreateTokenRequest struct {
	Name  string     `json:"name"`            // what it is for: "backup script"
	Scope TokenScope `json:"scope,omitempty"` // "" = the whole API
}

// TokenScope is what a personal API token may be used for.
type TokenScope string

// The scopes of personal API tokens.
const (
	// ScopeAll is a token of the whole API, acting as its account (lyc_…).
	ScopeAll TokenScope = ""
	// ScopePinning is a token of the IPFS Pinning Service API only
	// (lyp_…), for an IPFS node or a script that pins; only the node's
	// operator or an admin makes one.
	ScopePinning TokenScope = "pinning"
)

// Token is a personal API token as lists show it: never its secret.
type Token struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// Hint is the start of the token ("lyc_AbCd…"), to tell tokens apart.
	Hint     string    `json:"hint"`
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"last_used,omitzero"` // to the minute; zero if never
	// Scope is what the token may be used for; "" is the whole API.
	Scope TokenScope `json:"scope,omitempty"`
}

// NewToken is a token just made: its secret is shown this once.
type NewToken struct {
	Secret string `json:"secret"`
	Token
}

// InvitationRequest makes an invitation code.
type InvitationRequest struct {
	Role Role   `json:"role,omitempty"` // "" = member
	Days int    `json:"days,omitempty"` // valid for; 0 = 7, at most 90
	Note string `json:"note,omitempty"` // for whom, to remember
}

// Invitation is an invitation as lists show it: never its code.
type Invitation struct {
	ID        int64     `json:"id"`
	Role      Role      `json:"role"`
	Note      string    `json:"note"`
	CreatedBy string    `json:"created_by"` // username; "" if the operator made it or that account is gone
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires"`
	UsedBy    string    `json:"used_by,omitempty"` // the username it made
	Used      time.Time `json:"used,omitzero"`
}

// NewInvitation is an invitation just made: its code is shown this once.
type NewInvitation struct {
	Code string `json:"code"`
	Invitation
}

// Draft is a publication an account saved to finish later: the fields of
// the publish form as they were, which only that account sees.
type Draft struct {
	ID    int64     `json:"id"`
	Title string    `json:"title"` // "" when the form had none
	Saved time.Time `json:"saved"`
	// Fields are the form's fields by name, each with its values.
	Fields map[string][]string `json:"fields"`
}
