package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lyceum-oer/lyceum/node/api"
)

// adminPosts are every change of the administration, with a form that
// would be accepted from an admin.
var adminPosts = map[string]url.Values{
	"/admin/accounts/eve/approve": {},
	"/admin/accounts/eve/reject":  {"confirm": {"yes"}},
	"/admin/accounts/bob/role":    {"role": {"admin"}},
	"/admin/accounts/bob/disable": {"confirm": {"yes"}},
	"/admin/accounts/bob/enable":  {},
	"/admin/registration":         {"mode": {"open"}},
	"/admin/invitations":          {"role": {"member"}, "days": {"7"}},
	"/admin/invitations/1/revoke": {},
}

func acctMust[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// changes are the recorded calls that change something.
func changes(calls []string) []string {
	var out []string
	for _, c := range calls {
		if !strings.HasPrefix(c, "Accounts ") && !strings.HasPrefix(c, "Invitations ") && c != "Dashboard" {
			out = append(out, c)
		}
	}
	return out
}

func TestMemberCannotAdminister(t *testing.T) {
	n := newAcctNode()
	srv := newAcctApp(t, n, Config{})
	ada := signedIn(t, srv, n, "ada")
	for _, path := range []string{"/admin", "/admin/accounts", "/admin/accounts?status=pending", "/admin/registration"} {
		res, body := ada.get(path)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s: %d", path, res.StatusCode)
		}
		for _, secret := range []string{"Eve Pending", "Bob Tables", n.dashboard.Node.PeerID, "Gossip"} {
			if strings.Contains(body, secret) {
				t.Errorf("GET %s shows %q to a member", path, secret)
			}
		}
	}
	for path, form := range adminPosts {
		if res, _ := ada.post(path, form); res.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s: %d", path, res.StatusCode)
		}
	}
	if calls := n.Calls(); len(calls) != 0 {
		t.Fatalf("a member's requests reached the node: %v", calls)
	}
	if _, body := ada.get("/settings"); strings.Contains(body, `href="/admin"`) {
		t.Error("a member is offered the administration")
	}
	// Not signed in: sent to sign in, nothing shown.
	anon := signedIn(t, srv, n, "")
	if res, _ := anon.get("/admin/accounts"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login?") {
		t.Errorf("anonymous: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestModeratorReviewsRegistrationsOnly(t *testing.T) {
	n := newAcctNode()
	srv := newAcctApp(t, n, Config{})
	mod := signedIn(t, srv, n, "mod")
	res, _ := mod.get("/admin")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/accounts?status=pending" {
		t.Fatalf("a moderator's /admin: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, body := mod.follow(res)
	if res.StatusCode != 200 || !strings.Contains(body, "Eve Pending") || !strings.Contains(body, "Approve eve") || !strings.Contains(body, "Reject eve") {
		t.Fatalf("pending list: %d\n%s", res.StatusCode, body)
	}
	_, body = mod.get("/admin/accounts")
	for _, never := range []string{"/role", "/disable", "/enable", `>Node</a>`, "Change the role"} {
		if strings.Contains(body, never) {
			t.Errorf("a moderator is offered %q", never)
		}
	}
	for _, path := range []string{"/admin/accounts/bob/role", "/admin/accounts/bob/disable", "/admin/accounts/bob/enable", "/admin/registration"} {
		if res, _ := mod.post(path, adminPosts[path]); res.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s by a moderator: %d", path, res.StatusCode)
		}
	}
	// Moderators invite members, not admins.
	res, body = mod.post("/admin/invitations", url.Values{"role": {"admin"}, "days": {"7"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Moderators can invite members only.") {
		t.Errorf("a moderator inviting an admin: %d", res.StatusCode)
	}
	_, body = mod.get("/admin/registration")
	if strings.Contains(body, `name="mode"`) || strings.Contains(body, `value="admin"`) {
		t.Error("a moderator is offered the registration mode or admin invitations")
	}
	if calls := changes(n.Calls()); len(calls) != 0 || slices.Contains(n.Calls(), "Dashboard") {
		t.Fatalf("refused requests reached the node: %v", n.Calls())
	}
	res, _ = mod.post("/admin/accounts/eve/approve", url.Values{"next": {"/admin/accounts?status=pending"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/accounts?status=pending" {
		t.Fatalf("approve: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, body := mod.follow(res); !strings.Contains(body, "The account is approved") || !strings.Contains(body, "Nobody is waiting for approval.") {
		t.Fatalf("after approving:\n%s", body)
	}
	if got := changes(n.Calls()); !slices.Equal(got, []string{"Approve by=mod eve"}) {
		t.Fatalf("calls %v", got)
	}
}

func TestDashboard(t *testing.T) {
	n := newAcctNode()
	srv := newAcctApp(t, n, Config{})
	root := signedIn(t, srv, n, "root")
	res, body := root.get("/admin")
	if res.StatusCode != 200 {
		t.Fatalf("dashboard: %d\n%s", res.StatusCode, body)
	}
	for _, want := range []string{
		"<h1>This node</h1>", "1.5 GB", "4242", "3 days 4 hours", "behind a router or firewall", // storage, blocks, uptime, NAT
		"1 peer is connected.", "It connected to us", "1234", "Signature not valid", "mystery_reason", // peers, gossip
		"5 minutes ago", "deadline exceeded", "3 hours ago", // HQs
		"4 active accounts", `href="/admin/accounts?status=pending"`, "By approval",
		`<th scope="col">`, `class="table-wrap fit"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the dashboard lacks %q", want)
		}
	}
	// The peer ID is there, but only in a disclosure.
	details := regexp.MustCompile(`(?s)<details>.*?</details>`)
	if !strings.Contains(body, n.dashboard.Node.PeerID) || strings.Contains(details.ReplaceAllString(body, ""), n.dashboard.Node.PeerID) {
		t.Error("the node's peer ID is not (only) in its details")
	}
	if strings.Count(body, "<h1") != 1 {
		t.Error("not one h1")
	}
	root.post("/settings/language", url.Values{"lang": {"fr"}})
	_, body = root.get("/admin")
	for _, want := range []string{"1,5 Go", "3 jours 4 heures", "il y a 5 minutes", "Signature non valide", "4 comptes actifs"} {
		if !strings.Contains(body, want) {
			t.Errorf("the French dashboard lacks %q", want)
		}
	}
}

func TestDestructiveChangesAskFirst(t *testing.T) {
	n := newAcctNode()
	srv := newAcctApp(t, n, Config{})
	root := signedIn(t, srv, n, "root")
	back := "/admin/accounts?role=member&status=active"
	for _, c := range []struct{ path, question, call string }{
		{"/admin/accounts/eve/reject", "Reject the registration of eve?", "Reject by=root eve"},
		{"/admin/accounts/bob/disable", "Disable the account of bob?", "Disable by=root bob"},
	} {
		before := len(changes(n.Calls()))
		res, body := root.post(c.path, url.Values{"next": {back}})
		if res.StatusCode != 200 || !strings.Contains(body, c.question) || !strings.Contains(body, `name="confirm" value="yes"`) {
			t.Fatalf("%s without confirmation: %d\n%s", c.path, res.StatusCode, body)
		}
		if len(changes(n.Calls())) != before {
			t.Fatalf("%s acted before it was confirmed", c.path)
		}
		res, _ = root.post(c.path, url.Values{"next": {back}, "confirm": {"yes"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != back {
			t.Fatalf("%s confirmed: %d to %q", c.path, res.StatusCode, res.Header.Get("Location"))
		}
		if got := changes(n.Calls()); got[len(got)-1] != c.call {
			t.Fatalf("calls %v", got)
		}
	}
	// Where to come back is a list of accounts of this site, or the list.
	res, _ := root.post("/admin/accounts/bob/enable", url.Values{"next": {"https://evil.example/admin/accounts"}})
	if loc := res.Header.Get("Location"); loc != "/admin/accounts" {
		t.Fatalf("came back to %q", loc)
	}
}

func TestRefusedChangeIsExplained(t *testing.T) {
	n := newAcctNode()
	srv := newAcctApp(t, n, Config{})
	root := signedIn(t, srv, n, "root")
	n.mu.Lock()
	n.refuse = api.Errorf(api.KindConflict, "cannot disable root: the node must keep an active administrator")
	n.mu.Unlock()
	res, body := root.post("/admin/accounts/mod/disable", url.Values{"confirm": {"yes"}, "next": {"/admin/accounts?role=moderator"}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "must keep an active administrator") || !strings.Contains(body, "Mo Derator") {
		t.Fatalf("refused: %d\n%s", res.StatusCode, body)
	}
	res, body = root.post("/admin/accounts/bob/role", url.Values{"role": {"overlord"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Choose member, moderator or administrator.") {
		t.Fatalf("unknown role: %d", res.StatusCode)
	}
	res, _ = root.post("/admin/accounts/bob/role", url.Values{"role": {"moderator"}})
	if res.StatusCode != http.StatusSeeOther || n.account("bob").Role != api.RoleModerator {
		t.Fatalf("role change: %d", res.StatusCode)
	}
}

func TestAdminFormsNeedTheirCSRFToken(t *testing.T) {
	n := newAcctNode()
	srv := newAcctApp(t, n, Config{})
	root := signedIn(t, srv, n, "root")
	for path, form := range adminPosts {
		f := url.Values{"csrf": {""}}
		for k, v := range form {
			f[k] = v
		}
		if res, _ := root.post(path, f); res.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s without CSRF: %d", path, res.StatusCode)
		}
	}
	if calls := changes(n.Calls()); len(calls) != 0 {
		t.Fatalf("CSRF-less requests reached the node: %v", calls)
	}
}

func TestInvitationIsShownOnceWithItsLink(t *testing.T) {
	n := newAcctNode()
	srv := newAcctApp(t, n, Config{})
	root := signedIn(t, srv, n, "root")
	res, body := root.post("/admin/invitations", url.Values{"role": {"moderator"}, "days": {"14"}, "note": {"For Grace"}})
	code := n.invitation(0).Code
	if res.StatusCode != 200 || code == "" {
		t.Fatalf("create: %d\n%s", res.StatusCode, body)
	}
	link := srv.URL + "/register?invitation=" + url.QueryEscape(code)
	if !strings.Contains(body, `<code id="invite-link" aria-labelledby="invite-link-label">`+link+`</code>`) ||
		!strings.Contains(body, `<code id="invite-code" aria-labelledby="invite-code-label">`+code+`</code>`) || !strings.Contains(body, `data-copy="invite-link"`) {
		t.Fatalf("the code or its link is not shown:\n%s", body)
	}
	if got := changes(n.Calls()); !slices.Equal(got, []string{"CreateInvitation by=root moderator 14"}) {
		t.Fatalf("calls %v", got)
	}
	_, body = root.get("/admin/registration")
	if strings.Contains(body, code) || !strings.Contains(body, "For Grace") || !strings.Contains(body, "Not used yet") {
		t.Fatal("the list shows the code, or not the invitation")
	}
	// Out-of-range days are told next to the field.
	res, body = root.post("/admin/invitations", url.Values{"days": {"365"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="e-days"`) {
		t.Fatalf("365 days: %d", res.StatusCode)
	}
	// Revoke.
	res, _ = root.post(fmt.Sprintf("/admin/invitations/%d/revoke", n.invitation(0).ID), nil)
	if _, body := root.follow(res); !strings.Contains(body, "The invitation is revoked.") || strings.Contains(body, "For Grace") {
		t.Fatal("not revoked")
	}
	// With a public URL, the link is on it.
	n2 := newAcctNode()
	srv2 := newAcctApp(t, n2, Config{PublicURL: "https://lyceum.example.org/"})
	_, body = signedIn(t, srv2, n2, "root").post("/admin/invitations", url.Values{"role": {"member"}})
	if !strings.Contains(body, ">https://lyceum.example.org/register?invitation="+url.QueryEscape(n2.invitation(0).Code)+"<") {
		t.Fatalf("no link on the public URL:\n%s", body)
	}
}

func TestRegistrationMode(t *testing.T) {
	n := newAcctNode()
	srv := newAcctApp(t, n, Config{})
	root := signedIn(t, srv, n, "root")
	_, body := root.get("/admin/registration")
	for _, want := range []string{"<fieldset>", "<legend>Registration</legend>", `id="f-mode-approval" name="mode" value="approval" aria-describedby="h-mode-approval" checked`,
		"an administrator or moderator approves it"} {
		if !strings.Contains(body, want) {
			t.Errorf("the mode form lacks %q", want)
		}
	}
	if res, body := root.post("/admin/registration", url.Values{"mode": {"anarchy"}}); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="e-mode"`) {
		t.Fatalf("unknown mode: %d", res.StatusCode)
	}
	res, _ := root.post("/admin/registration", url.Values{"mode": {"invitation"}})
	if _, body := root.follow(res); !strings.Contains(body, "The registration mode is saved.") || acctMust(n.RegistrationMode(t.Context())) != api.RegistrationInvitation {
		t.Fatal("the mode is not saved")
	}
}

func TestAccountsFilterAndPages(t *testing.T) {
	n := newAcctNode()
	for i := range 60 {
		n.add(fmt.Sprintf("t%02d", i), fmt.Sprintf("Teacher %02d", i), api.RoleMember, api.StatusActive)
	}
	srv := newAcctApp(t, n, Config{})
	root := signedIn(t, srv, n, "root")
	_, body := root.get("/admin/accounts?role=member&status=nonsense")
	if !strings.Contains(body, "Teacher 00") || strings.Contains(body, "Root Admin") || !strings.Contains(body, "Eve Pending") {
		t.Fatal("the role filter is not applied, or an unknown status not ignored")
	}
	m := regexp.MustCompile(`href="(/admin/accounts\?[^"]*after=[^"]*)" rel="next"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no next page")
	}
	next := strings.ReplaceAll(m[1], "&amp;", "&")
	_, body = root.get(next)
	if !strings.Contains(body, "Teacher 59") || strings.Contains(body, "Teacher 00") || !strings.Contains(body, "First page") {
		t.Fatalf("second page (%s) wrong", next)
	}
	if rows := strings.Count(body, `<th scope="row">`); rows != 63-accountsPageSize {
		t.Fatalf("second page has %d rows", rows)
	}
}

// TestAccountWordsExist: the roles, statuses, modes, reasons and states
// the pages name by a computed key are in both catalogs.
func TestAccountWordsExist(t *testing.T) {
	c, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range allRoles {
		keys = append(keys, "admin.role."+string(r))
	}
	for _, s := range allStatuses {
		keys = append(keys, "admin.status."+string(s), "admin.count."+string(s)+".one", "admin.count."+string(s)+".other")
	}
	for _, m := range allModes {
		keys = append(keys, "admin.mode."+string(m), "admin.mode."+string(m)+".hint")
	}
	for _, s := range []string{"public", "private", "unknown", "offline"} {
		keys = append(keys, "admin.reach."+s)
	}
	for _, s := range []string{"inbound", "outbound", "unknown"} {
		keys = append(keys, "admin.direction."+s)
	}
	for _, s := range []string{"oversized", "malformed", "unsigned", "bad_signature", "replayed", "blocked_actor", "fork", "backfill_failed",
		"not_member", "post_rate_limited", "backfill_dropped"} {
		keys = append(keys, "admin.gossip.reason."+s)
	}
	for _, s := range []string{"open", "used", "expired"} {
		keys = append(keys, "admin.invite.state."+s)
	}
	for _, p := range []string{"admin.reject", "admin.disable"} {
		keys = append(keys, p+".title", p+".question", p+".explain", p+".button")
	}
	for _, k := range []string{"settings.avatar.unreadable", "settings.avatar.missing", "settings.avatar.big", "settings.avatar.type"} {
		keys = append(keys, k)
	}
	for _, k := range keys {
		for _, lang := range supported {
			if _, ok := c.msgs[lang][k]; !ok {
				t.Errorf("%s lacks %q", lang, k)
			}
		}
	}
}

// accountPages are the pages of this part of the app, as an admin with
// a full page of accounts and many tokens sees them.
var accountPages = []string{"/settings", "/admin", "/admin/accounts", "/admin/registration"}

func busyAcctNode(tb testing.TB) (http.Handler, *http.Cookie) {
	n := newAcctNode()
	for i := range accountsPageSize {
		n.add(fmt.Sprintf("t%02d", i), fmt.Sprintf("Teacher %02d", i), api.RoleMember, api.StatusActive)
		_, _ = n.CreateToken(context.Background(), "root", api.CreateTokenRequest{Name: fmt.Sprintf("token %d", i)})
		_, _ = n.CreateInvitation(context.Background(), "root", api.InvitationRequest{Role: api.RoleMember, Days: 7, Note: fmt.Sprintf("for %d", i)})
	}
	return newAcctHandler(tb, n, Config{}), &http.Cookie{Name: sessionCookie, Value: n.session("root").Token}
}

func renderPage(tb testing.TB, h http.Handler, session *http.Cookie, path string) {
	req := httptest.NewRequest("GET", path, nil)
	req.AddCookie(session)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		tb.Fatalf("%s: %d", path, w.Code)
	}
}

func BenchmarkAccountPages(b *testing.B) {
	h, session := busyAcctNode(b)
	for _, path := range accountPages {
		b.Run(strings.TrimPrefix(path, "/"), func(b *testing.B) {
			for b.Loop() {
				renderPage(b, h, session, path)
			}
		})
	}
}
