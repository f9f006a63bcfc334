package web

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/lyceum-oer/lyceum/node/api"
)

// acctNode is an in-memory node for the settings and administration
// pages: accounts and their sessions, tokens, invitations, profiles,
// files and a dashboard. Its Admin methods do not check who acts, and
// record every call: so the tests prove that the pages refuse by
// themselves.
type acctNode struct {
	mu          sync.Mutex
	accounts    map[string]*acctAccount
	sessions    map[string]api.Session // by token
	tokens      []acctToken
	invitations []api.NewInvitation
	mode        api.RegistrationMode
	profiles    map[string]*api.Profile
	files       map[string][]byte
	updates     []api.ActorUpdate
	calls       []string // Admin and Dashboards calls: "Approve by=mod ada"
	dashboard   api.Dashboard
	refuse      error // when set, the next Admin change fails with it
	nextID      int64
}

type acctAccount struct {
	api.Account
	password string
}

type acctToken struct {
	owner  string
	secret string
	api.Token
}

const acctPassword = "correct horse battery"

// newAcctNode has an admin "root", a moderator "mod", two members "ada"
// and "bob", and "eve" waiting for approval; each active one has a
// profile.
func newAcctNode() *acctNode {
	n := &acctNode{accounts: map[string]*acctAccount{}, sessions: map[string]api.Session{}, profiles: map[string]*api.Profile{},
		files: map[string][]byte{}, mode: api.RegistrationApproval}
	n.add("root", "Root Admin", api.RoleAdmin, api.StatusActive)
	n.add("mod", "Mo Derator", api.RoleModerator, api.StatusActive)
	n.add("ada", "Ada Lovelace", api.RoleMember, api.StatusActive)
	n.add("bob", "Bob Tables", api.RoleMember, api.StatusActive)
	n.add("eve", "Eve Pending", api.RoleMember, api.StatusPending)
	n.dashboard = api.Dashboard{
		Node:         api.Identity{PeerID: "12D3KooWNodePeerIdentity0000000000000000000000", Online: true, Addrs: []string{"/ip4/192.0.2.1/tcp/4001"}},
		Stat:         api.Stat{RepoSizeBytes: 1_500_000_000, Blocks: 4242, Pins: 17, Peers: 2, UptimeSeconds: 3*86400 + 4*3600, Gossip: map[string]int64{"accepted": 1234, "bad_signature": 7, "mystery_reason": 2}},
		Peers:        []api.Peer{{ID: "12D3KooWPeerOne000000000000000000000000000000", Addr: "/ip4/198.51.100.7/tcp/4001", Direction: "Inbound", LatencyMS: 42}},
		Reachability: "private",
		HQs:          []api.HQStatus{{Peer: "12D3KooWHQ0000000000000000000000000000000000", Connected: true, LastOK: time.Now().Add(-5 * time.Minute), LastError: "deadline exceeded", LastFail: time.Now().Add(-3 * time.Hour)}},
		Accounts:     map[api.AccountStatus]int{api.StatusActive: 4, api.StatusPending: 1},
		Registration: api.RegistrationApproval,
	}
	return n
}

func (n *acctNode) add(username, name string, role api.Role, status api.AccountStatus) {
	n.accounts[username] = &acctAccount{Account: api.Account{Username: username, DisplayName: name, Role: role, Status: status, Language: "en",
		Created: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}, password: acctPassword}
	if status == api.StatusActive {
		n.profiles[username] = &api.Profile{Actor: api.Actor{Username: username, Name: name, Summary: "Teaches things.", Local: true}}
	}
}

// session opens a session of username, as a login would.
func (n *acctNode) session(username string) api.Session {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sessionLocked(username)
}

func (n *acctNode) sessionLocked(username string) api.Session {
	s := api.Session{Token: "sess-" + randomToken(), CSRF: randomToken(), Account: n.accounts[username].Account, Expires: time.Now().Add(time.Hour)}
	n.sessions[s.Token] = s
	return s
}

func (n *acctNode) record(format string, args ...any) {
	n.calls = append(n.calls, fmt.Sprintf(format, args...))
}

// account, updates, invitation and state read the fake's state under
// its lock (the server's goroutines write it).
func (n *acctNode) account(username string) acctAccount {
	n.mu.Lock()
	defer n.mu.Unlock()
	if a := n.accounts[username]; a != nil {
		return *a
	}
	return acctAccount{}
}

func (n *acctNode) updatesMade() []api.ActorUpdate {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.updates)
}

func (n *acctNode) invitation(i int) api.NewInvitation {
	n.mu.Lock()
	defer n.mu.Unlock()
	if i >= len(n.invitations) {
		return api.NewInvitation{}
	}
	return n.invitations[i]
}

func (n *acctNode) token(i int) acctToken {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.tokens[i]
}

func (n *acctNode) fileCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.files)
}

func (n *acctNode) hasFile(c string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.files[c] != nil
}

// Calls are the Admin and Dashboards calls made so far.
func (n *acctNode) Calls() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.calls)
}

// Sessions.

func (n *acctNode) Login(_ context.Context, req api.LoginRequest, _ string) (api.Session, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	a, ok := n.accounts[req.Username]
	if !ok || a.password != req.Password || a.Status != api.StatusActive {
		return api.Session{}, api.Errorf(api.KindUnauthorized, "wrong username or password")
	}
	return n.sessionLocked(req.Username), nil
}

func (n *acctNode) Session(_ context.Context, token string) (api.Session, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	s, ok := n.sessions[token]
	if !ok || n.accounts[s.Account.Username] == nil || n.accounts[s.Account.Username].Status != api.StatusActive {
		return api.Session{}, api.Errorf(api.KindUnauthorized, "no session")
	}
	s.Account = n.accounts[s.Account.Username].Account
	return s, nil
}

func (n *acctNode) Logout(_ context.Context, token string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.sessions, token)
	return nil
}

// Settings.

func (n *acctNode) UpdateProfile(_ context.Context, username string, req api.ProfileRequest) (api.Account, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	a := n.accounts[username]
	if strings.ContainsAny(req.DisplayName, "<>") {
		return api.Account{}, api.Invalidf("the display name may not contain line breaks, tabs, '<' or '>'")
	}
	if req.DisplayName != "" {
		a.DisplayName = req.DisplayName
	}
	if req.Language != "" {
		a.Language = req.Language
	}
	return a.Account, nil
}

func (n *acctNode) ChangePassword(_ context.Context, username string, req api.PasswordChange) (api.Session, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	a := n.accounts[username]
	if a.password != req.Current {
		return api.Session{}, api.Errorf(api.KindUnauthorized, "the current password is wrong")
	}
	a.password = req.New
	for tok, s := range n.sessions {
		if s.Account.Username == username {
			delete(n.sessions, tok)
		}
	}
	return n.sessionLocked(username), nil
}

func (n *acctNode) CreateToken(_ context.Context, username string, req api.CreateTokenRequest) (api.NewToken, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, t := range n.tokens {
		if t.owner == username && t.Name == req.Name {
			return api.NewToken{}, api.Errorf(api.KindConflict, "you have a token named %s already; choose another name", api.Quote(req.Name))
		}
	}
	n.nextID++
	secret := "lyc_" + randomToken()
	t := acctToken{owner: username, secret: secret, Token: api.Token{ID: n.nextID, Name: req.Name, Hint: secret[:8] + "…", Created: time.Now()}}
	n.tokens = append(n.tokens, t)
	return api.NewToken{Secret: secret, Token: t.Token}, nil
}

func (n *acctNode) Tokens(_ context.Context, username string) ([]api.Token, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []api.Token
	for _, t := range n.tokens {
		if t.owner == username {
			out = append(out, t.Token)
		}
	}
	return out, nil
}

func (n *acctNode) RevokeToken(_ context.Context, username string, id int64) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, t := range n.tokens {
		if t.owner == username && t.ID == id {
			n.tokens = slices.Delete(n.tokens, i, i+1)
			return nil
		}
	}
	return api.NotFoundf("you have no token %d", id)
}

// People.

func (n *acctNode) Profile(_ context.Context, ref, _ string) (api.Profile, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	p, ok := n.profiles[ref]
	if !ok {
		return api.Profile{}, api.NotFoundf("no actor %s", ref)
	}
	return *p, nil
}

func (n *acctNode) UpdateActor(_ context.Context, u api.ActorUpdate) (api.Actor, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.updates = append(n.updates, u)
	p := n.profiles[u.As]
	p.Name, p.Summary = u.Name, u.Summary
	switch {
	case u.RemoveIcon:
		p.IconCID = ""
	case u.IconCID != "":
		if _, ok := n.files[u.IconCID]; !ok {
			return api.Actor{}, api.Invalidf("icon %s is not a file this node holds", u.IconCID)
		}
		p.IconCID = u.IconCID
	}
	return p.Actor, nil
}

func (n *acctNode) CreateActor(context.Context, api.CreateActorRequest) (api.Actor, error) {
	return api.Actor{}, api.Errorf(api.KindUnavailable, "not in this fake")
}
func (n *acctNode) Actors(context.Context, bool) ([]api.Actor, error) { return nil, nil }
func (n *acctNode) Follow(context.Context, api.FollowRequest) (api.Actor, error) {
	return api.Actor{}, api.Errorf(api.KindUnavailable, "not in this fake")
}
func (n *acctNode) Unfollow(context.Context, api.FollowRequest) error {
	return api.Errorf(api.KindUnavailable, "not in this fake")
}

func (n *acctNode) Follows(context.Context, string, string) (bool, error) { return false, nil }

// Files.

func (n *acctNode) Add(_ context.Context, _ string, f files.Node, _ api.AddOptions, _ func(int64)) (cid.Cid, error) {
	file, ok := f.(files.File)
	if !ok {
		return cid.Undef, api.Invalidf("not a file")
	}
	b, err := io.ReadAll(file)
	if err != nil {
		return cid.Undef, err
	}
	h, _ := multihash.Sum(b, multihash.SHA2_256, -1)
	c := cid.NewCidV1(cid.Raw, h)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.files[c.String()] = b
	return c, nil
}

func (n *acctNode) Cat(_ context.Context, c cid.Cid) (io.ReadSeekCloser, int64, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	b, ok := n.files[c.String()]
	if !ok {
		return nil, 0, api.NotFoundf("no file %s", c)
	}
	return struct {
		io.ReadSeeker
		io.Closer
	}{bytes.NewReader(b), io.NopCloser(nil)}, int64(len(b)), nil
}

// Admin: every call is recorded; none checks who acts.

func (n *acctNode) Accounts(_ context.Context, by string, f api.AccountFilter) ([]api.Account, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.record("Accounts by=%s", by)
	var out []api.Account
	for _, a := range n.accounts {
		if (f.Status == "" || a.Status == f.Status) && (f.Role == "" || a.Role == f.Role) && a.Username > f.After {
			out = append(out, a.Account)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// change applies a change to an account, or the refusal set for it.
func (n *acctNode) change(call, by, username string, f func(a *acctAccount)) (api.Account, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.record("%s by=%s %s", call, by, username)
	if err := n.refuse; err != nil {
		n.refuse = nil
		return api.Account{}, err
	}
	a, ok := n.accounts[username]
	if !ok {
		return api.Account{}, api.NotFoundf("there is no account %s", username)
	}
	f(a)
	return a.Account, nil
}

func (n *acctNode) Approve(_ context.Context, by, username string) (api.Account, error) {
	return n.change("Approve", by, username, func(a *acctAccount) { a.Status = api.StatusActive })
}

func (n *acctNode) Reject(_ context.Context, by, username string) error {
	_, err := n.change("Reject", by, username, func(a *acctAccount) { delete(n.accounts, a.Username) })
	return err
}

func (n *acctNode) SetRole(_ context.Context, by, username string, role api.Role) (api.Account, error) {
	return n.change("SetRole "+string(role), by, username, func(a *acctAccount) { a.Role = role })
}

func (n *acctNode) Disable(_ context.Context, by, username string) (api.Account, error) {
	return n.change("Disable", by, username, func(a *acctAccount) { a.Status = api.StatusDisabled })
}

func (n *acctNode) Enable(_ context.Context, by, username string) (api.Account, error) {
	return n.change("Enable", by, username, func(a *acctAccount) { a.Status = api.StatusActive })
}

func (n *acctNode) SetRegistrationMode(_ context.Context, by string, m api.RegistrationMode) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.record("SetRegistrationMode by=%s %s", by, m)
	n.mode = m
	return nil
}

func (n *acctNode) RegistrationMode(context.Context) (api.RegistrationMode, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.mode, nil
}

func (n *acctNode) Register(context.Context, api.RegisterRequest, string) (api.Registration, error) {
	return api.Registration{}, api.Errorf(api.KindUnavailable, "not in this fake")
}

func (n *acctNode) CreateInvitation(_ context.Context, by string, req api.InvitationRequest) (api.NewInvitation, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.record("CreateInvitation by=%s %s %d", by, req.Role, req.Days)
	n.nextID++
	inv := api.NewInvitation{Code: "inv-" + randomToken(), Invitation: api.Invitation{ID: n.nextID, Role: req.Role, Note: req.Note,
		CreatedBy: by, Created: time.Now(), Expires: time.Now().AddDate(0, 0, req.Days)}}
	n.invitations = append(n.invitations, inv)
	return inv, nil
}

func (n *acctNode) Invitations(_ context.Context, by string) ([]api.Invitation, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.record("Invitations by=%s", by)
	var out []api.Invitation
	for _, inv := range n.invitations {
		out = append(out, inv.Invitation)
	}
	return out, nil
}

func (n *acctNode) RevokeInvitation(_ context.Context, by string, id int64) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.record("RevokeInvitation by=%s %d", by, id)
	for i, inv := range n.invitations {
		if inv.ID == id {
			n.invitations = slices.Delete(n.invitations, i, i+1)
			return nil
		}
	}
	return api.NotFoundf("there is no invitation %d", id)
}

// Dashboards.

func (n *acctNode) Dashboard(context.Context) (api.Dashboard, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.record("Dashboard")
	return n.dashboard, nil
}

// newAcctHandler is the app over n.
func newAcctHandler(t testing.TB, n *acctNode, cfg Config) http.Handler {
	t.Helper()
	app, err := New(cfg, Services{Identity: fakeIdentity{}, Sessions: n, Registration: n, Settings: n, Admin: n, Dashboards: n, People: n, Files: n})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	app.Register(mux)
	return mux
}

// newAcctApp serves the app over n on a real HTTP server.
func newAcctApp(t testing.TB, n *acctNode, cfg Config) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(newAcctHandler(t, n, cfg))
	t.Cleanup(srv.Close)
	return srv
}

// acctClient is a browser signed in as one account: its cookie jar holds
// the session, and it does not follow redirects.
type acctClient struct {
	t    *testing.T
	srv  *httptest.Server
	c    *http.Client
	csrf string
}

func signedIn(t *testing.T, srv *httptest.Server, n *acctNode, username string) *acctClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(srv.URL)
	ac := &acctClient{t: t, srv: srv, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if username != "" {
		s := n.session(username)
		jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: s.Token}})
		ac.csrf = s.CSRF
	}
	return ac
}

func (ac *acctClient) do(req *http.Request) (*http.Response, string) {
	ac.t.Helper()
	res, err := ac.c.Do(req)
	if err != nil {
		ac.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (ac *acctClient) get(path string) (*http.Response, string) {
	ac.t.Helper()
	req, _ := http.NewRequest("GET", ac.srv.URL+path, nil)
	return ac.do(req)
}

// post sends a form with the session's CSRF token (unless form already
// has a "csrf" entry, even empty).
func (ac *acctClient) post(path string, form url.Values) (*http.Response, string) {
	ac.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", ac.csrf)
	}
	req, _ := http.NewRequest("POST", ac.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return ac.do(req)
}

// upload sends a file as the avatar form does, its CSRF token in the URL.
func (ac *acctClient) upload(csrf, filename string, content []byte) (*http.Response, string) {
	ac.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fw, _ := w.CreateFormFile("avatar", filename)
	_, _ = fw.Write(content)
	_ = w.Close()
	req, _ := http.NewRequest("POST", ac.srv.URL+"/settings/avatar?csrf="+url.QueryEscape(csrf), &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return ac.do(req)
}

// follow fetches where a redirect leads.
func (ac *acctClient) follow(res *http.Response) (*http.Response, string) {
	ac.t.Helper()
	if res.StatusCode != http.StatusSeeOther {
		ac.t.Fatalf("status %d, want a redirect", res.StatusCode)
	}
	return ac.get(res.Header.Get("Location"))
}

func pngImage(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSettingsNeedsSignIn(t *testing.T) {
	n := newAcctNode()
	srv := newAcctApp(t, n, Config{})
	res, _ := signedIn(t, srv, n, "").get("/settings")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?next=%2Fsettings" {
		t.Fatalf("anonymous /settings: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestSettingsShowOnlyTheirOwnAccount(t *testing.T) {
	n := newAcctNode()
	srv := newAcctApp(t, n, Config{})
	ada, bob := signedIn(t, srv, n, "ada"), signedIn(t, srv, n, "bob")
	for _, c := range []struct {
		who  *acctClient
		name string
	}{{ada, "ada laptop"}, {bob, "bob backup"}} {
		if res, body := c.who.post("/settings/tokens", url.Values{"token_name": {c.name}}); res.StatusCode != 200 {
			t.Fatalf("create %q: %d\n%s", c.name, res.StatusCode, body)
		}
	}
	_, adaPage := ada.get("/settings")
	_, bobPage := bob.get("/settings")
	adaHint, bobHint := n.token(0).Hint, n.token(1).Hint
	checks := []struct {
		page, what string
		want       bool
	}{
		{adaPage, "ada laptop", true}, {adaPage, adaHint, true}, {adaPage, "Ada Lovelace", true},
		{adaPage, "bob backup", false}, {adaPage, bobHint, false}, {adaPage, "Bob Tables", false},
		{bobPage, "bob backup", true}, {bobPage, bobHint, true},
		{bobPage, "ada laptop", false}, {bobPage, adaHint, false}, {bobPage, "Ada Lovelace", false},
	}
	for _, c := range checks {
		if strings.Contains(c.page, c.what) != c.want {
			t.Errorf("page has %q = %v, want %v", c.what, !c.want, c.want)
		}
	}
	// bob cannot revoke ada's token by its id.
	res, _ := bob.post(fmt.Sprintf("/settings/tokens/%d/revoke", n.token(0).ID), nil)
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("revoking another's token: %d", res.StatusCode)
	}
	if toks, _ := n.Tokens(context.Background(), "ada"); len(toks) != 1 {
		t.Fatal("ada's token was revoked by bob")
	}
}

func TestTokenSecretIsShownOnce(t *testing.T) {
	n := newAcctNode()
	srv := newAcctApp(t, n, Config{})
	ada := signedIn(t, srv, n, "ada")
	res, body := ada.post("/settings/tokens", url.Values{"token_name": {"nightly export"}})
	secret := n.token(0).secret
	if res.StatusCode != 200 || !strings.Contains(body, `<code id="new-token">`+secret+`</code>`) || !strings.Contains(body, `data-copy="new-token"`) ||
		!strings.Contains(body, "shown only this once") {
		t.Fatalf("creation: %d, secret shown = %v\n%s", res.StatusCode, strings.Contains(body, secret), body)
	}
	for _, path := range []string{"/settings", "/settings#tokens"} {
		if _, body := ada.get(path); strings.Contains(body, secret) || !strings.Contains(body, "nightly export") {
			t.Fatalf("%s shows the secret again, or not the token", path)
		}
	}
	// The same name twice: refused next to the field.
	res, body = ada.post("/settings/tokens", url.Values{"token_name": {"nightly export"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="e-token_name"`) || strings.Contains(body, secret) {
		t.Fatalf("same name: %d\n%s", res.StatusCode, body)
	}
	// Revoke it: gone, with a notice.
	res, _ = ada.post(fmt.Sprintf("/settings/tokens/%d/revoke", n.token(0).ID), nil)
	if _, body := ada.follow(res); !strings.Contains(body, "The token is revoked") || strings.Contains(body, "nightly export") {
		t.Fatalf("after revoking:\n%s", body)
	}
}

func TestSettingsFormsNeedTheirCSRFToken(t *testing.T) {
	n := newAcctNode()
	srv := newAcctApp(t, n, Config{})
	ada := signedIn(t, srv, n, "ada")
	_, _ = n.CreateToken(context.Background(), "ada", api.CreateTokenRequest{Name: "kept"})
	forms := map[string]url.Values{
		"/settings/profile":         {"name": {"Changed"}},
		"/settings/language":        {"lang": {"fr"}},
		"/settings/password":        {"current": {acctPassword}, "password": {"a new long password"}, "confirm": {"a new long password"}},
		"/settings/tokens":          {"token_name": {"sneaky"}},
		"/settings/tokens/1/revoke": {},
		"/settings/avatar/remove":   {},
	}
	for path, form := range forms {
		for _, token := range []string{"", "wrong-" + ada.csrf[6:]} {
			f := url.Values{"csrf": {token}}
			for k, v := range form {
				f[k] = v
			}
			if res, _ := ada.post(path, f); res.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with csrf %q: %d", path, token, res.StatusCode)
			}
		}
	}
	if res, _ := ada.upload("", "a.png", pngImage(t)); res.StatusCode != http.StatusForbidden {
		t.Errorf("avatar without its token: %d", res.StatusCode)
	}
	toks, _ := n.Tokens(context.Background(), "ada")
	if a := n.account("ada"); len(toks) != 1 || len(n.updatesMade()) != 0 || a.DisplayName != "Ada Lovelace" || a.Language != "en" || a.password != acctPassword {
		t.Fatal("a POST without its CSRF token changed something")
	}
}

func TestWrongCurrentPasswordIsToldAtItsField(t *testing.T) {
	n := newAcctNode()
	srv := newAcctApp(t, n, Config{})
	ada := signedIn(t, srv, n, "ada")
	res, body := ada.post("/settings/password", url.Values{"current": {"not my password"}, "password": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}})
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("wrong current password: %d", res.StatusCode)
	}
	for _, want := range []string{`<p class="field-error" id="e-current">`, "This is not your current password.", `href="#f-current"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if !regexp.MustCompile(`<input id="f-current"[^>]*aria-describedby="[^"]*\be-current\b`).MatchString(body) {
		t.Error("the current password's input is not described by its error")
	}
	if strings.Contains(body, "not my password") || strings.Contains(body, "a brand new passphrase") {
		t.Error("the page shows a password typed")
	}
	// Too short, and not the same twice: both told, the node not asked.
	_, body = ada.post("/settings/password", url.Values{"current": {acctPassword}, "password": {"short"}, "confirm": {"other"}})
	if !strings.Contains(body, `id="e-password"`) || n.account("ada").password != acctPassword {
		t.Fatalf("short password:\n%s", body)
	}
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	n := newAcctNode()
	srv := newAcctApp(t, n, Config{})
	ada, elsewhere := signedIn(t, srv, n, "ada"), signedIn(t, srv, n, "ada")
	res, _ := ada.post("/settings/password", url.Values{"current": {acctPassword}, "password": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d", res.StatusCode)
	}
	res, body := ada.follow(res)
	if res.StatusCode != 200 || !strings.Contains(body, "signed out on every other device") {
		t.Fatalf("this browser after the change: %d\n%s", res.StatusCode, body)
	}
	if res, _ := elsewhere.get("/settings"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("another session still works: %d", res.StatusCode)
	}
}

func TestAvatarMustBeAnImage(t *testing.T) {
	n := newAcctNode()
	srv := newAcctApp(t, n, Config{})
	ada := signedIn(t, srv, n, "ada")
	refused := map[string]struct {
		name    string
		content []byte
		message string
	}{
		"text named .png": {"cat.png", []byte("I am not a picture, I am a text file.\n"), "is not a PNG, JPEG, WebP or GIF image"},
		"an SVG":          {"x.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "is not a PNG, JPEG, WebP or GIF image"},
		"nothing":         {"", nil, "Choose an image file."},
		"too big":         {"big.png", append(pngImage(t), make([]byte, maxAvatarBytes)...), "larger than 2 MB"},
	}
	for name, c := range refused {
		t.Run(name+" is refused", func(t *testing.T) {
			res, body := ada.upload(ada.csrf, c.name, c.content)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, c.message) || !strings.Contains(body, `id="e-avatar"`) {
				t.Fatalf("%d\n%s", res.StatusCode, body)
			}
		})
	}
	if n.fileCount() != 0 || len(n.updatesMade()) != 0 {
		t.Fatal("a refused avatar was stored")
	}
	// A PNG named .txt is a PNG: its bytes say so.
	res, _ := ada.upload(ada.csrf, "photo.txt", pngImage(t))
	if res.StatusCode != http.StatusSeeOther || len(n.updatesMade()) != 1 {
		t.Fatalf("a PNG: %d, %d updates", res.StatusCode, len(n.updatesMade()))
	}
	u := n.updatesMade()[0]
	if u.As != "ada" || u.IconType != "image/png" || !n.hasFile(u.IconCID) || u.Name != "Ada Lovelace" || u.Summary != "Teaches things." {
		t.Fatalf("update %+v", u)
	}
	_, body := ada.get("/settings")
	if !strings.Contains(body, `src="/ipfs/`+u.IconCID+`"`) {
		t.Fatal("the settings page does not show the new picture")
	}
	res, _ = ada.post("/settings/avatar/remove", nil)
	if ups := n.updatesMade(); res.StatusCode != http.StatusSeeOther || len(ups) != 2 || !ups[1].RemoveIcon || ups[1].Name != "Ada Lovelace" {
		t.Fatalf("remove: %d %+v", res.StatusCode, ups)
	}
}

func TestProfileRefusesMarkupAndEscapesIt(t *testing.T) {
	n := newAcctNode()
	srv := newAcctApp(t, n, Config{})
	ada := signedIn(t, srv, n, "ada")
	res, body := ada.post("/settings/profile", url.Values{"name": {`<script>alert("x")</script>`}, "summary": {"ok"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="e-name"`) {
		t.Fatalf("a name with markup: %d", res.StatusCode)
	}
	if strings.Contains(body, `<script>alert`) || !strings.Contains(body, `&lt;script&gt;`) {
		t.Fatal("the name typed is not escaped on the page")
	}
	_, body = ada.post("/settings/profile", url.Values{"name": {"Ada"}, "summary": {`Hi <img src=x onerror=alert(1)>`}})
	if !strings.Contains(body, "without HTML tags") || strings.Contains(body, "<img src=x") {
		t.Fatal("a summary with HTML is not refused, or not escaped")
	}
	if len(n.updatesMade()) != 0 || n.account("ada").DisplayName != "Ada Lovelace" {
		t.Fatal("a refused profile was saved")
	}
	// A summary that reached the node some other way is escaped.
	n.mu.Lock()
	n.profiles["ada"].Summary = `</textarea><script>alert(2)</script>`
	n.mu.Unlock()
	if _, body := ada.get("/settings"); strings.Contains(body, "<script>alert(2)") {
		t.Fatal("a stored summary is not escaped")
	}
}

func TestProfileIsSaved(t *testing.T) {
	n := newAcctNode()
	srv := newAcctApp(t, n, Config{})
	ada := signedIn(t, srv, n, "ada")
	res, _ := ada.post("/settings/profile", url.Values{"name": {"Ada King"}, "summary": {"Maths, Year 9.\nLondon."}})
	if _, body := ada.follow(res); !strings.Contains(body, "Your profile is saved.") {
		t.Fatal("no notice")
	}
	if ups := n.updatesMade(); len(ups) != 1 || ups[0] != (api.ActorUpdate{As: "ada", Name: "Ada King", Summary: "Maths, Year 9.\nLondon."}) {
		t.Fatalf("updates %+v", ups)
	}
	if name := n.account("ada").DisplayName; name != "Ada King" {
		t.Fatalf("display name %q", name)
	}
	// Saving it unchanged signs no new Update.
	ada.post("/settings/profile", url.Values{"name": {"Ada King"}, "summary": {"Maths, Year 9.\nLondon."}})
	if len(n.updatesMade()) != 1 {
		t.Fatal("an unchanged profile was updated again")
	}
}

func TestInterfaceLanguage(t *testing.T) {
	n := newAcctNode()
	srv := newAcctApp(t, n, Config{})
	ada := signedIn(t, srv, n, "ada")
	if res, body := ada.post("/settings/language", url.Values{"lang": {"xx"}}); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="e-lang"`) {
		t.Fatalf("unknown language: %d", res.StatusCode)
	}
	res, _ := ada.post("/settings/language", url.Values{"lang": {"fr"}})
	if _, body := ada.follow(res); !strings.Contains(body, `<html lang="fr">`) || !strings.Contains(body, "La langue est changée.") ||
		!strings.Contains(body, "<h1>Paramètres</h1>") {
		t.Fatalf("after choosing French:\n%s", body)
	}
}
