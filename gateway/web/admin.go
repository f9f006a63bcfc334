package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

// This file holds the administration pages: the operator dashboard
// (admins), the accounts of the node with the registrations waiting for
// approval (moderators and admins), and how people join: the
// registration mode (admins) and invitations (moderators and admins).
// Each handler requires the action it needs before it reads anything;
// the services check the acting account again.

// accountsPageSize is how many accounts one page of the list shows.
const accountsPageSize = 50

// Bounds of an invitation, as node/accounts applies them.
const (
	defaultInvitationDays = 7
	maxInvitationDays     = 90
	maxInvitationNote     = 200
)

var (
	allRoles    = []api.Role{api.RoleMember, api.RoleModerator, api.RoleAdmin}
	allStatuses = []api.AccountStatus{api.StatusActive, api.StatusPending, api.StatusDisabled}
	allModes    = []api.RegistrationMode{api.RegistrationOpen, api.RegistrationApproval, api.RegistrationInvitation, api.RegistrationClosed}
)

// adminRights say which parts of the administration the visitor sees.
type adminRights struct {
	Dashboard, Configure, Manage, Review, Invite bool
}

// adminRights are what acc may see and do here.
func (a *App) adminRights(acc api.Account) adminRights {
	return adminRights{
		Dashboard: acc.Can(api.ActionConfigure) && a.svc.Dashboards != nil,
		Configure: acc.Can(api.ActionConfigure),
		Manage:    acc.Can(api.ActionManageAccounts),
		Review:    acc.Can(api.ActionReviewRegistrations),
		Invite:    acc.Can(api.ActionInvite),
	}
}

// adminView is the data of every administration page: one template,
// one section of it a page.
type adminView struct {
	Section string // dashboard, accounts, registration or confirm
	Can     adminRights
	Me      string // the visitor's username

	Dashboard    *dashboardView
	Accounts     *accountsView
	Registration *registrationView
	Confirm      *adminConfirm
}

// adminPage shows one section of the administration to acc.
func (a *App) adminPage(acc api.Account, title string, status int, av adminView) response {
	av.Can, av.Me = a.adminRights(acc), acc.Username
	return response{page: "admin", title: title, status: status, data: av}
}

// adminHome is the operator dashboard. Moderators, who may not see it,
// are sent to the registrations waiting for them.
func (a *App) adminHome(r *http.Request, v *visitor) (response, error) {
	acc, err := v.require(api.ActionReviewRegistrations)
	if err != nil {
		return response{}, err
	}
	if !a.adminRights(acc).Dashboard {
		return response{redirect: "/admin/accounts?status=pending"}, nil
	}
	d, err := a.svc.Dashboards.Dashboard(r.Context())
	if err != nil {
		return response{}, err
	}
	dv := a.dashboardView(v, d, time.Now())
	return a.adminPage(acc, "admin.dashboard.title", 0, adminView{Section: "dashboard", Dashboard: &dv}), nil
}

// accountsView is the list of accounts, filtered and paged.
type accountsView struct {
	Filter   api.AccountFilter
	Rows     []accountRow
	Next     string // After of the next page; "" on the last
	Back     string // this list's URL, where each action comes back to
	Problem  string // why the last action was refused
	Roles    []option
	Statuses []option
}

// accountRow is an account as the list shows it, its codes in words
// (named once here rather than in every row's template). It embeds no
// struct: the templates find embedded fields slowly, and a page has 50
// rows.
type accountRow struct {
	Username, DisplayName string
	Role                  api.Role
	Status                api.AccountStatus
	Path                  string // /admin/accounts/{username}, where its changes post
	RoleName, StatusName  string
	Joined                string
	Me                    bool
	// The labels of its buttons, and its role picker.
	Approve, Reject, Disable, Enable, RoleOf string
	Roles                                    []roleChoice
}

// roleChoice is one role of an account's role picker.
type roleChoice struct {
	Value, Label string
	Selected     bool
}

// adminAccounts lists the node's accounts: by status and role, a page
// at a time.
func (a *App) adminAccounts(r *http.Request, v *visitor) (response, error) {
	acc, err := v.require(api.ActionReviewRegistrations)
	if err != nil {
		return response{}, err
	}
	return a.accountsPage(r.Context(), v, acc, accountFilter(r.URL.Query()), "", 0)
}

// accountsPage shows a page of the accounts f selects, with problem (why
// the last change was refused) at the top.
func (a *App) accountsPage(ctx context.Context, v *visitor, acc api.Account, f api.AccountFilter, problem string, status int) (response, error) {
	f.Limit = accountsPageSize
	list, err := a.svc.Admin.Accounts(ctx, acc.Username, f)
	if err != nil {
		return response{}, err
	}
	av := accountsView{Filter: f, Back: accountsURL(f), Problem: problem}
	roles, statuses := map[api.Role]string{}, map[api.AccountStatus]string{}
	for _, r := range allRoles {
		roles[r] = a.word(v.lang, "admin.role.", string(r))
		av.Roles = append(av.Roles, option{Value: string(r), Label: roles[r]})
	}
	for _, s := range allStatuses {
		statuses[s] = a.word(v.lang, "admin.status.", string(s))
		av.Statuses = append(av.Statuses, option{Value: string(s), Label: statuses[s]})
	}
	for _, x := range list {
		av.Rows = append(av.Rows, a.accountRow(v, acc, x, roles, statuses))
	}
	if len(list) == accountsPageSize {
		av.Next = list[len(list)-1].Username
	}
	title := "admin.accounts.title"
	if f.Status == api.StatusPending {
		title = "admin.pending.title"
	}
	return a.adminPage(acc, title, status, adminView{Section: "accounts", Accounts: &av}), nil
}

// accountRow puts one account of the list in words, with what acc may
// do to it.
func (a *App) accountRow(v *visitor, acc, x api.Account, roles map[api.Role]string, statuses map[api.AccountStatus]string) accountRow {
	row := accountRow{Username: x.Username, DisplayName: x.DisplayName, Role: x.Role, Status: x.Status,
		Path: "/admin/accounts/" + url.PathEscape(x.Username), RoleName: roles[x.Role], StatusName: statuses[x.Status],
		Joined: formatDate(v.lang, x.Created), Me: x.Username == acc.Username}
	switch {
	case row.Me:
	case x.Status == api.StatusPending:
		row.Approve, row.Reject = v.t("admin.approve", x.Username), v.t("admin.reject.start", x.Username)
	case acc.Can(api.ActionManageAccounts):
		row.RoleOf, row.Disable, row.Enable = v.t("admin.role.of", x.Username), v.t("admin.disable.start", x.Username), v.t("admin.enable", x.Username)
		for _, r := range allRoles {
			row.Roles = append(row.Roles, roleChoice{Value: string(r), Label: roles[r], Selected: r == x.Role})
		}
	}
	return row
}

// accountFilter reads the list's filter from a query; values it does
// not know are left out.
func accountFilter(q url.Values) api.AccountFilter {
	var f api.AccountFilter
	if s := api.AccountStatus(q.Get("status")); slices.Contains(allStatuses, s) {
		f.Status = s
	}
	if r := api.Role(q.Get("role")); slices.Contains(allRoles, r) {
		f.Role = r
	}
	if after := q.Get("after"); usernamePattern.MatchString(after) {
		f.After = after
	}
	return f
}

// accountsURL is the address of a list of accounts.
func accountsURL(f api.AccountFilter) string {
	q := url.Values{}
	for k, s := range map[string]string{"status": string(f.Status), "role": string(f.Role), "after": f.After} {
		if s != "" {
			q.Set(k, s)
		}
	}
	if len(q) == 0 {
		return "/admin/accounts"
	}
	return "/admin/accounts?" + q.Encode()
}

// accountsBack is where an action on an account comes back to: the list
// it was made from, its filter checked again.
func accountsBack(next string) api.AccountFilter {
	u, err := url.Parse(localPath(next))
	if err != nil || u.Path != "/admin/accounts" {
		return api.AccountFilter{}
	}
	return accountFilter(u.Query())
}

// adminConfirm asks to confirm a change that cannot be undone lightly.
type adminConfirm struct {
	Username, Question, Explain, Button, Action, Back string
}

// accountChange is one change of an account from the list.
type accountChange struct {
	act     api.Action
	confirm string // the message key prefix of its confirmation step; "" = none
	notice  string
	// do makes it, as by; f is the form posted, v who posted it.
	do func(ctx context.Context, v *visitor, f *form, by, username string) error
}

// changeAccount runs a change of the account named in the path: after
// checking the visitor may make it and, for a destructive one, that they
// confirmed it. A refusal shows the list again with its reason.
func (a *App) changeAccount(c accountChange) handler {
	return func(r *http.Request, v *visitor) (response, error) {
		acc, err := v.require(c.act)
		if err != nil {
			return response{}, err
		}
		username := r.PathValue("username")
		if !usernamePattern.MatchString(username) {
			return response{}, api.NotFoundf("%s", v.t("error.notfound"))
		}
		f := newForm(r)
		back := accountsBack(f.Get("next"))
		if c.confirm != "" && f.Get("confirm") != "yes" {
			cv := adminConfirm{Username: username, Question: v.t(c.confirm+".question", username), Explain: v.t(c.confirm + ".explain"),
				Button: v.t(c.confirm+".button", username), Action: r.URL.Path, Back: accountsURL(back)}
			return a.adminPage(acc, c.confirm+".title", 0, adminView{Section: "confirm", Confirm: &cv}), nil
		}
		if err := c.do(detached(r.Context()), v, f, acc.Username, username); err != nil {
			if k := api.KindOf(err); k != api.KindInvalid && k != api.KindConflict && k != api.KindNotFound {
				return response{}, err
			}
			return a.accountsPage(r.Context(), v, acc, back, api.PublicMessage(err), api.KindOf(err).HTTPStatus())
		}
		v.flash(c.notice, r)
		return response{redirect: accountsURL(back)}, nil
	}
}

// approveAccount lets a registration waiting for approval in: for
// moderators and admins.
func (a *App) approveAccount() handler {
	return a.changeAccount(accountChange{act: api.ActionReviewRegistrations, notice: "notice.account_approved",
		do: func(ctx context.Context, _ *visitor, _ *form, by, u string) error {
			_, err := a.svc.Admin.Approve(ctx, by, u)
			return err
		}})
}

// rejectAccount deletes a registration waiting for approval, once
// confirmed: for moderators and admins.
func (a *App) rejectAccount() handler {
	return a.changeAccount(accountChange{act: api.ActionReviewRegistrations, confirm: "admin.reject", notice: "notice.account_rejected",
		do: func(ctx context.Context, _ *visitor, _ *form, by, u string) error {
			return a.svc.Admin.Reject(ctx, by, u)
		}})
}

// disableAccount stops an account (its sessions and tokens), once
// confirmed: for admins.
func (a *App) disableAccount() handler {
	return a.changeAccount(accountChange{act: api.ActionManageAccounts, confirm: "admin.disable", notice: "notice.account_disabled",
		do: func(ctx context.Context, _ *visitor, _ *form, by, u string) error {
			_, err := a.svc.Admin.Disable(ctx, by, u)
			return err
		}})
}

// enableAccount lets a disabled account in again: for admins.
func (a *App) enableAccount() handler {
	return a.changeAccount(accountChange{act: api.ActionManageAccounts, notice: "notice.account_enabled",
		do: func(ctx context.Context, _ *visitor, _ *form, by, u string) error {
			_, err := a.svc.Admin.Enable(ctx, by, u)
			return err
		}})
}

// setAccountRole gives an account another role: for admins.
func (a *App) setAccountRole() handler {
	return a.changeAccount(accountChange{act: api.ActionManageAccounts, notice: "notice.role_changed",
		do: func(ctx context.Context, v *visitor, f *form, by, u string) error {
			role := api.Role(f.Get("role"))
			if !slices.Contains(allRoles, role) {
				return api.Invalidf("%s", v.t("admin.invite.role_unknown"))
			}
			_, err := a.svc.Admin.SetRole(ctx, by, u, role)
			return err
		}})
}

// registrationView is how people join the node: its registration mode
// and the invitations.
type registrationView struct {
	Mode        api.RegistrationMode
	Modes       []api.RegistrationMode
	ModeForm    *form
	Invitations []invitationRow
	InviteForm  *form
	Roles       []api.Role // the roles the visitor may invite to
	New         *api.NewInvitation
	Link        string // the address that registers with the new invitation
}

// invitationRow is an invitation as the list shows it (no embedded
// struct, as accountRow).
type invitationRow struct {
	ID                      int64
	Note, CreatedBy, UsedBy string
	Role                    api.Role
	Expires                 time.Time
	State                   string // open, used or expired
	CanRevoke               bool
}

// adminRegistration shows the registration mode (admins) and the
// invitations (moderators and admins).
func (a *App) adminRegistration(r *http.Request, v *visitor) (response, error) {
	acc, err := v.require(api.ActionInvite)
	if err != nil {
		return response{}, err
	}
	return a.registrationPage(r.Context(), acc, 0, nil)
}

// registrationPage shows the registration mode and the invitations, after
// edit has put in what was just posted or made.
func (a *App) registrationPage(ctx context.Context, acc api.Account, status int, edit func(*registrationView)) (response, error) {
	rv := registrationView{Modes: allModes, ModeForm: newForm(nil), InviteForm: newForm(nil), Roles: []api.Role{api.RoleMember}}
	if acc.Can(api.ActionManageAccounts) {
		rv.Roles = allRoles
	}
	rv.InviteForm.Values.Set("days", strconv.Itoa(defaultInvitationDays))
	if acc.Can(api.ActionConfigure) && a.svc.Registration != nil {
		m, err := a.svc.Registration.RegistrationMode(ctx)
		if err != nil {
			return response{}, err
		}
		rv.Mode = m
		rv.ModeForm.Values.Set("mode", string(m))
	}
	list, err := a.svc.Admin.Invitations(ctx, acc.Username)
	if err != nil {
		return response{}, err
	}
	now := time.Now()
	for _, inv := range list {
		row := invitationRow{ID: inv.ID, Note: inv.Note, CreatedBy: inv.CreatedBy, UsedBy: inv.UsedBy, Role: inv.Role, Expires: inv.Expires, State: "open"}
		switch {
		case inv.UsedBy != "" || !inv.Used.IsZero():
			row.State = "used"
		case !inv.Expires.After(now):
			row.State = "expired"
		}
		row.CanRevoke = row.State != "used" && (acc.Can(api.ActionManageAccounts) || inv.CreatedBy == acc.Username)
		rv.Invitations = append(rv.Invitations, row)
	}
	if edit != nil {
		edit(&rv)
	}
	return a.adminPage(acc, "admin.registration.title", status, adminView{Section: "registration", Registration: &rv}), nil
}

// setRegistrationMode changes how people get an account.
func (a *App) setRegistrationMode(r *http.Request, v *visitor) (response, error) {
	acc, err := v.require(api.ActionConfigure)
	if err != nil {
		return response{}, err
	}
	f := newForm(r)
	mode := api.RegistrationMode(f.Get("mode"))
	if !slices.Contains(allModes, mode) {
		f.fail("mode", v.t("admin.mode.missing"))
	} else if err := a.svc.Admin.SetRegistrationMode(detached(r.Context()), acc.Username, mode); err != nil {
		if err := f.refused(err, "mode"); err != nil {
			return response{}, err
		}
	}
	if !f.OK() {
		return a.registrationPage(r.Context(), acc, http.StatusBadRequest, func(rv *registrationView) { rv.ModeForm = f })
	}
	v.flash("notice.mode_saved", r)
	return response{redirect: "/admin/registration"}, nil
}

// createInvitation makes an invitation and shows its code, and the link
// that registers with it, on this answer only.
func (a *App) createInvitation(r *http.Request, v *visitor) (response, error) {
	acc, err := v.require(api.ActionInvite)
	if err != nil {
		return response{}, err
	}
	f := newForm(r)
	req := api.InvitationRequest{Role: api.Role(f.Get("role")), Days: defaultInvitationDays, Note: f.checkText(v, "note", maxInvitationNote, false)}
	switch {
	case req.Role == "":
		req.Role = api.RoleMember
	case !slices.Contains(allRoles, req.Role):
		f.fail("role", v.t("admin.invite.role_unknown"))
	case req.Role != api.RoleMember && !acc.Can(api.ActionManageAccounts):
		f.fail("role", v.t("admin.invite.role_forbidden"))
	}
	if s := f.Get("days"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxInvitationDays {
			f.fail("days", v.t("admin.invite.days_range", maxInvitationDays))
		}
		req.Days = n
	}
	if f.OK() {
		inv, err := a.svc.Admin.CreateInvitation(detached(r.Context()), acc.Username, req)
		if err == nil {
			link := a.invitationLink(r, inv.Code)
			return a.registrationPage(r.Context(), acc, 0, func(rv *registrationView) { rv.New, rv.Link = &inv, link })
		}
		if err := f.refused(err, ""); err != nil {
			return response{}, err
		}
	}
	return a.registrationPage(r.Context(), acc, http.StatusBadRequest, func(rv *registrationView) { rv.InviteForm = f })
}

// revokeInvitation deletes an invitation nobody used.
func (a *App) revokeInvitation(r *http.Request, v *visitor) (response, error) {
	acc, err := v.require(api.ActionInvite)
	if err != nil {
		return response{}, err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return response{}, api.NotFoundf("%s", v.t("error.notfound"))
	}
	if err := a.svc.Admin.RevokeInvitation(detached(r.Context()), acc.Username, id); err != nil {
		return response{}, err
	}
	v.flash("notice.invitation_revoked", r)
	return response{redirect: "/admin/registration"}, nil
}

// invitationLink is the address that registers with an invitation code:
// on the configured public URL, else the scheme and host of this
// request.
func (a *App) invitationLink(r *http.Request, code string) string {
	base := strings.TrimRight(a.cfg.PublicURL, "/")
	if base == "" {
		u := url.URL{Scheme: "http", Host: r.Host}
		if a.secure(r) {
			u.Scheme = "https"
		}
		base = u.String()
	}
	return base + "/register?" + url.Values{"invitation": {code}}.Encode()
}

// maxPeersShown bounds the dashboard's table of peers.
const maxPeersShown = 200

// dashboardView is the operator dashboard, its codes and times already
// in words.
type dashboardView struct {
	api.Dashboard
	Uptime        string
	Reachability  string
	PeerCount     int
	Peers         []peerRow // the first maxPeersShown
	MorePeers     int       // how many more there are
	HQs           []hqRow
	Accepted      int64
	Rejected      []gossipCount // by count, most first
	RejectedTotal int64
	Accounts      []statusCount
}

// peerRow is a connected peer, its direction in words.
type peerRow struct {
	api.Peer
	Dir string
}

// hqRow is an HQ with its times in words.
type hqRow struct {
	api.HQStatus
	LastOKAgo, LastFailAgo string
}

// gossipCount is how many gossip messages were refused for one reason.
type gossipCount struct {
	Code, Reason string
	Count        int64
}

// statusCount is how many accounts have a status.
type statusCount struct {
	Status api.AccountStatus
	Count  int
}

// dashboardView puts a dashboard in the visitor's words.
func (a *App) dashboardView(v *visitor, d api.Dashboard, now time.Time) dashboardView {
	dv := dashboardView{Dashboard: d, Uptime: a.duration(v.lang, d.Stat.Uptime()), PeerCount: len(d.Peers)}
	reach := d.Reachability
	if !d.Node.Online || reach == "" {
		reach = "offline"
	}
	dv.Reachability = a.word(v.lang, "admin.reach.", reach)
	for i, p := range d.Peers {
		if i == maxPeersShown {
			dv.MorePeers = len(d.Peers) - maxPeersShown
			break
		}
		dv.Peers = append(dv.Peers, peerRow{Peer: p, Dir: a.word(v.lang, "admin.direction.", strings.ToLower(p.Direction))})
	}
	for _, hq := range d.HQs {
		dv.HQs = append(dv.HQs, hqRow{HQStatus: hq, LastOKAgo: a.ago(v.lang, hq.LastOK, now), LastFailAgo: a.ago(v.lang, hq.LastFail, now)})
	}
	for code, n := range d.Stat.Gossip {
		if code == "accepted" {
			dv.Accepted = n
			continue
		}
		dv.Rejected = append(dv.Rejected, gossipCount{Code: code, Reason: a.word(v.lang, "admin.gossip.reason.", code), Count: n})
		dv.RejectedTotal += n
	}
	sort.Slice(dv.Rejected, func(i, j int) bool {
		x, y := dv.Rejected[i], dv.Rejected[j]
		return x.Count > y.Count || x.Count == y.Count && x.Code < y.Code
	})
	for _, s := range allStatuses {
		dv.Accounts = append(dv.Accounts, statusCount{Status: s, Count: d.Accounts[s]})
	}
	return dv
}

// word is the name of a code in the catalog (prefix+code), or the code
// itself when the catalog does not know it.
func (a *App) word(lang, prefix, code string) string {
	if s, ok := a.i18n.lookup(lang, prefix+code); ok {
		return s
	}
	return code
}

// duration says how long in at most two units: "3 days 4 hours".
func (a *App) duration(lang string, d time.Duration) string {
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case days > 0 && hours > 0:
		return a.i18n.tn(lang, "admin.days", days) + " " + a.i18n.tn(lang, "admin.hours", hours)
	case days > 0:
		return a.i18n.tn(lang, "admin.days", days)
	case hours > 0 && mins > 0:
		return a.i18n.tn(lang, "admin.hours", hours) + " " + a.i18n.tn(lang, "admin.minutes", mins)
	case hours > 0:
		return a.i18n.tn(lang, "admin.hours", hours)
	case mins > 0:
		return a.i18n.tn(lang, "admin.minutes", mins)
	}
	return a.i18n.t(lang, "admin.under_a_minute")
}

// ago says how long before now t was: "5 minutes ago"; "" for a zero
// time.
func (a *App) ago(lang string, t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	if d < time.Minute {
		return a.i18n.t(lang, "admin.just_now")
	}
	if d > 48*time.Hour {
		d = d.Truncate(24 * time.Hour)
	} else if d > 2*time.Hour {
		d = d.Truncate(time.Hour)
	}
	return a.i18n.t(lang, "admin.ago", a.duration(lang, d))
}
