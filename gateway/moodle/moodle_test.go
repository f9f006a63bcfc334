package moodle_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/lyceum-oer/lyceum/gateway/moodle"
	"github.com/lyceum-oer/lyceum/gateway/moodle/mbz"
	"github.com/lyceum-oer/lyceum/gateway/moodle/mbz/mbztest"
	"github.com/lyceum-oer/lyceum/node/accounts"
	"github.com/lyceum-oer/lyceum/node/api"
)

// memFiles is a content store in memory that records what is pinned.
type memFiles struct {
	mu     sync.Mutex
	blobs  map[cid.Cid][]byte
	pinned map[cid.Cid]bool
	adds   int
	keep   bool // keep the bytes (Cat); else only their hash
}

func newMemFiles() *memFiles {
	return &memFiles{blobs: map[cid.Cid][]byte{}, pinned: map[cid.Cid]bool{}, keep: true}
}

func (m *memFiles) Add(_ context.Context, _ string, n files.Node, o api.AddOptions, _ func(int64)) (cid.Cid, error) {
	f, ok := n.(files.File)
	if !ok {
		return cid.Undef, errors.New("not a file")
	}
	h := sha256.New()
	var buf bytes.Buffer
	var w io.Writer = h
	if m.keep {
		w = io.MultiWriter(h, &buf)
	}
	if _, err := io.CopyBuffer(w, f, make([]byte, 1<<20)); err != nil {
		return cid.Undef, fmt.Errorf("add: %w", err)
	}
	mh, _ := multihash.Encode(h.Sum(nil), multihash.SHA2_256)
	c := cid.NewCidV1(cid.Raw, mh)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.adds++
	m.blobs[c] = buf.Bytes()
	if !o.NoPin {
		m.pinned[c] = true
	}
	return c, nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func (m *memFiles) Cat(_ context.Context, c cid.Cid) (io.ReadSeekCloser, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.blobs[c]
	if !ok {
		return nil, 0, api.NotFoundf("no such file")
	}
	return nopCloser{bytes.NewReader(b)}, int64(len(b)), nil
}

func (m *memFiles) Pin(_ context.Context, c cid.Cid) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pinned[c] = true
	return nil
}

func (m *memFiles) Unpin(_ context.Context, c cid.Cid) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pinned, c)
	return nil
}

func (m *memFiles) pins() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pinned)
}

type fakeActors struct{ n int }

func (f *fakeActors) CreateActor(_ context.Context, req api.CreateActorRequest) (api.Actor, error) {
	f.n++
	return api.Actor{DID: fmt.Sprintf("did:key:z%d", f.n), Username: req.Username}, nil
}

// fixture is the surface over a real accounts room and a store in
// memory, served on loopback as https would be.
type fixture struct {
	acc   *accounts.Service
	files *memFiles
	srv   *httptest.Server
	now   time.Time
	mu    sync.Mutex
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func newFixture(t *testing.T, opts ...moodle.Option) *fixture {
	t.Helper()
	f := &fixture{files: newMemFiles(), now: time.Now()}
	acc, err := accounts.New(context.Background(), accounts.Config{Path: filepath.Join(t.TempDir(), "accounts.db"),
		Password: accounts.Params{Time: 1, Memory: 64, Threads: 1}, Now: f.clock}, &fakeActors{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { acc.Close() })
	f.acc = acc
	mux := http.NewServeMux()
	f.srv = httptest.NewUnstartedServer(mux)
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	m, err := moodle.New(f.srv.URL, moodle.Services{OAuth: acc, Files: f.files, Drafts: acc}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	m.Register(mux)
	for _, u := range []string{"ada", "bob"} {
		if _, err := acc.CreateAccount(context.Background(), api.CreateAccountRequest{Username: u, Password: "correct horse battery staple"}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// moodleSite is what Moodle keeps of the node once registered.
type moodleSite struct {
	wwwroot              string
	authorize, token     string
	clientID, secret     string
	access, refresh      string
	scopes               string
	registrationResponse map[string]any
}

func do(t *testing.T, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("%s %s: HTTP %d, not JSON: %v", req.Method, req.URL.Path, res.StatusCode, err)
	}
	return res, body
}

// discoverAndRegister does what Moodle's moodlenet issuer does when its
// admin adds the node: read the metadata, then register.
func (f *fixture) discoverAndRegister(t *testing.T, wwwroot string) *moodleSite {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/.well-known/oauth-authorization-server", nil)
	res, meta := do(t, req)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("discovery: HTTP %d", res.StatusCode)
	}
	m := &moodleSite{wwwroot: wwwroot}
	endpoints := map[string]string{}
	for k, v := range meta {
		if strings.HasSuffix(k, "_endpoint") {
			endpoints[k] = v.(string)
		}
		if k == "scopes_supported" {
			var ss []string
			for _, s := range v.([]any) {
				ss = append(ss, s.(string))
			}
			m.scopes = strings.Join(ss, " ")
		}
	}
	if m.scopes != api.ScopeMoodleNetWrite || endpoints["registration_endpoint"] != f.srv.URL+"/oauth/register" ||
		endpoints["authorization_endpoint"] != f.srv.URL+"/oauth/authorize" || endpoints["token_endpoint"] != f.srv.URL+"/oauth/token" {
		t.Fatalf("metadata %v", meta)
	}
	m.authorize, m.token = endpoints["authorization_endpoint"], endpoints["token_endpoint"]
	reg, _ := json.Marshal(map[string]any{
		"client_name": "Collège Jean Moulin", "client_uri": wwwroot, "logo_uri": wwwroot + "/pix/f/moodle-256.png",
		"tos_uri": wwwroot, "policy_uri": wwwroot, "software_id": "moodle", "software_version": 2024100700,
		"redirect_uris": []string{wwwroot + "/admin/oauth2callback.php"}, "token_endpoint_auth_method": "client_secret_basic",
		"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"}, "scope": m.scopes,
	})
	req, _ = http.NewRequest(http.MethodPost, endpoints["registration_endpoint"], bytes.NewReader(reg))
	req.Header.Set("Content-type", "application/json")
	req.Header.Set("Accept", "application/json")
	res, body := do(t, req)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("registration: HTTP %d %v", res.StatusCode, body)
	}
	m.clientID, _ = body["client_id"].(string)
	m.secret, _ = body["client_secret"].(string)
	if m.clientID == "" || m.secret == "" {
		t.Fatalf("registration %v", body)
	}
	m.registrationResponse = body
	return m
}

// authorize is the teacher's consent (the web app's page calls this).
func (f *fixture) authorize(t *testing.T, m *moodleSite, username string) string {
	t.Helper()
	code, err := f.acc.Authorize(context.Background(), username, api.AuthorizeRequest{ClientID: m.clientID,
		RedirectURI: m.wwwroot + "/admin/oauth2callback.php", Scope: " " + api.ScopeMoodleNetWrite})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// tokenRequest posts a token request as Moodle's oauth2_client does,
// with the client in the form (basic false: Moodle's issuer default) or
// in HTTP Basic, both halves URL-encoded.
func (m *moodleSite) tokenRequest(t *testing.T, basic bool, params [][2]string) (*http.Response, map[string]any) {
	t.Helper()
	var parts []string
	for _, p := range params {
		parts = append(parts, url.QueryEscape(p[0])+"="+url.QueryEscape(p[1]))
	}
	if !basic {
		parts = append(parts, "client_id="+url.QueryEscape(m.clientID), "client_secret="+url.QueryEscape(m.secret))
	}
	req, _ := http.NewRequest(http.MethodPost, m.token, strings.NewReader(strings.Join(parts, "&")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(m.clientID)+":"+url.QueryEscape(m.secret))))
	}
	return do(t, req)
}

func (m *moodleSite) exchange(t *testing.T, basic bool, code string) (*http.Response, map[string]any) {
	return m.tokenRequest(t, basic, [][2]string{{"code", code}, {"grant_type", "authorization_code"}, {"redirect_uri", m.wwwroot + "/admin/oauth2callback.php"}})
}

// part is one part of a share's body.
type part struct {
	disposition, contentType string
	body                     io.Reader
}

// metaPart and resourcePart are the parts as Moodle's moodlenet_client
// writes them (Guzzle, with its own Content-Disposition headers).
func metaPart(name, description string) part {
	b, _ := json.Marshal(map[string]string{"name": name, "description": description})
	return part{disposition: `form-data; name="."`, body: bytes.NewReader(b)}
}

func resourcePart(filename string, body io.Reader) part {
	return part{disposition: `form-data; name=".resource"; filename="` + filename + `"`, contentType: "application/vnd.moodle.backup", body: body}
}

// share posts parts to the create call with the bearer token.
func (f *fixture) share(t *testing.T, token string, parts ...part) (*http.Response, map[string]any) {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for _, p := range parts {
			h := textproto.MIMEHeader{"Content-Disposition": {p.disposition}}
			if p.contentType != "" {
				h.Set("Content-Type", p.contentType)
				h.Set("Content-Transfer-Encoding", "binary")
			}
			w, err := mw.CreatePart(h)
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			if _, err := io.Copy(w, p.body); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/.pkg/@moodlenet/ed-resource/basic/v1/create", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

var quiz = mbztest.Backup{Type: "activity", Course: "Sciences 5e", Activities: []mbz.Activity{{Module: "quiz", Title: "States of water"}}}

// TestMoodlesRequestSequence replays what Moodle 4.2–5.1 sends, request
// by request, and checks every status and member it reads.
func TestMoodlesRequestSequence(t *testing.T) {
	f := newFixture(t)
	m := f.discoverAndRegister(t, "https://moodle.college.example")
	for _, k := range []string{"client_id_issued_at", "client_secret_expires_at", "redirect_uris", "grant_types", "token_endpoint_auth_method"} {
		if _, ok := m.registrationResponse[k]; !ok {
			t.Errorf("the registration answer lacks %s", k)
		}
	}
	for _, basic := range []bool{false, true} {
		t.Run(fmt.Sprintf("client_secret_basic=%v", basic), func(t *testing.T) {
			res, toks := m.exchange(t, basic, f.authorize(t, m, "ada"))
			if res.StatusCode != 200 || toks["token_type"] != "Bearer" || toks["expires_in"] != 3600.0 || toks["access_token"] == "" ||
				toks["refresh_token"] == "" || res.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("token: HTTP %d %v", res.StatusCode, toks)
			}
			res, next := m.tokenRequest(t, basic, [][2]string{{"refresh_token", toks["refresh_token"].(string)}, {"grant_type", "refresh_token"}})
			if res.StatusCode != 200 || next["access_token"] == toks["access_token"] || next["refresh_token"] == toks["refresh_token"] {
				t.Fatalf("refresh: HTTP %d %v", res.StatusCode, next)
			}
			m.access = next["access_token"].(string)
		})
	}

	res, body := f.share(t, m.access, metaPart("States of water", "A quiz on ice, water and steam.\nTen questions."),
		resourcePart("States of water_backup.mbz", bytes.NewReader(mbztest.TarGz(quiz))))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create: HTTP %d %v", res.StatusCode, body)
	}
	home, _ := body["homepage"].(string)
	id := int64(body["draft"].(float64))
	if home != fmt.Sprintf("%s/publish?draft=%d", f.srv.URL, id) {
		t.Fatalf("homepage %q", home)
	}
	d, err := f.acc.Draft(context.Background(), "ada", id)
	if err != nil {
		t.Fatal(err)
	}
	sum := d.Fields["summary"][0]
	if d.Title != "States of water" || d.Fields["kept_name"][0] != "States of water_backup.mbz" || d.Fields["type"][0] != "assessment" ||
		!strings.HasPrefix(sum, "A quiz on ice, water and steam.\nTen questions.\n\nShared from Moodle: a Moodle activity (course “Sciences 5e”), made with Moodle 4.5 (Build: 20241007). Activities: States of water (quiz).") {
		t.Fatalf("draft %+v", d)
	}
	if c, _ := cid.Decode(d.Fields["kept_cid"][0]); !f.files.pinned[c] || f.files.pins() != 1 {
		t.Fatal("the draft's file is not pinned")
	}
	if other, _ := f.acc.Drafts(context.Background(), "bob"); len(other) != 0 {
		t.Fatal("bob has ada's draft")
	}
}

func TestAZipBackupAndACourse(t *testing.T) {
	f := newFixture(t)
	m := f.discoverAndRegister(t, "https://moodle.college.example")
	_, toks := m.exchange(t, false, f.authorize(t, m, "bob"))
	course := mbztest.Backup{Type: "course", Course: "Physique <3e>", Activities: []mbz.Activity{{Module: "page", Title: "Intro"}, {Module: "forum", Title: "Q&A"}}}
	res, body := f.share(t, toks["access_token"].(string), metaPart("Physique 3e", ""), resourcePart("backup.mbz", bytes.NewReader(mbztest.Zip(course))))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("HTTP %d %v", res.StatusCode, body)
	}
	d, _ := f.acc.Draft(context.Background(), "bob", int64(body["draft"].(float64)))
	if d.Fields["type"][0] != "course" || d.Fields["summary"][0] != "Shared from Moodle: a Moodle course (course “Physique ‹3e›”), made with Moodle 4.5 (Build: 20241007). Activities: Intro (page); Q&A (forum)." {
		t.Fatalf("draft %+v", d.Fields)
	}
}

// TestBadSharesAreRefusedAndLeaveNothing: each bad request is a JSON
// error naming what is wrong, and leaves no draft and no pin.
func TestBadSharesAreRefusedAndLeaveNothing(t *testing.T) {
	f := newFixture(t, moodle.WithMaxResource(64<<10))
	m := f.discoverAndRegister(t, "https://moodle.college.example")
	_, toks := m.exchange(t, false, f.authorize(t, m, "ada"))
	token := toks["access_token"].(string)
	good := mbztest.TarGz(quiz)
	big := make([]byte, 80<<10)
	for name, tc := range map[string]struct {
		token  string
		parts  []part
		status int
		field  string
	}{
		"no token": {"", []part{metaPart("x", ""), resourcePart("a.mbz", bytes.NewReader(good))}, 401, ""},
		"a bad token": {"lyo_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", []part{metaPart("x", ""),
			resourcePart("a.mbz", bytes.NewReader(good))}, 401, ""},
		"the refresh token as access token": {toks["refresh_token"].(string), []part{metaPart("x", "")}, 401, ""},
		"a missing backup":                  {token, []part{metaPart("Quiz", "")}, 400, ".resource"},
		"a missing metadata part":           {token, []part{resourcePart("a.mbz", bytes.NewReader(good))}, 400, "."},
		"a part named otherwise": {token, []part{metaPart("Quiz", ""), {disposition: `form-data; name="file"; filename="a.mbz"`,
			body: bytes.NewReader(good)}}, 400, "file"},
		"metadata that is not JSON":      {token, []part{{disposition: `form-data; name="."`, body: strings.NewReader("name=x")}, resourcePart("a.mbz", bytes.NewReader(good))}, 400, "."},
		"no name":                        {token, []part{metaPart("  ", "d"), resourcePart("a.mbz", bytes.NewReader(good))}, 400, "name"},
		"a truncated backup":             {token, []part{metaPart("Quiz", ""), resourcePart("a.mbz", bytes.NewReader(good[:len(good)/2]))}, 400, ".resource"},
		"a PDF":                          {token, []part{metaPart("Quiz", ""), resourcePart("a.pdf", strings.NewReader("%PDF-1.4 …"))}, 400, ".resource"},
		"an empty backup":                {token, []part{metaPart("Quiz", ""), resourcePart("a.mbz", strings.NewReader(""))}, 400, ".resource"},
		"a gzip that is not a backup":    {token, []part{metaPart("Quiz", ""), resourcePart("a.mbz", bytes.NewReader(gzipped(big)))}, 400, ".resource"},
		"a backup above the size":        {token, []part{metaPart("Quiz", ""), resourcePart("a.mbz", io.MultiReader(bytes.NewReader(good[:10]), bytes.NewReader(big)))}, 413, ".resource"},
		"a backup without moodle_backup": {token, []part{metaPart("Quiz", ""), resourcePart("a.mbz", bytes.NewReader(mbztest.TarGz(mbztest.Backup{NoManifest: true})))}, 400, ".resource"},
		"two backups": {token, []part{metaPart("Quiz", ""), resourcePart("a.mbz", bytes.NewReader(good)),
			resourcePart("b.mbz", bytes.NewReader(good))}, 400, ".resource"},
	} {
		t.Run(name+" is refused", func(t *testing.T) {
			res, body := f.share(t, tc.token, tc.parts...)
			e, _ := body["error"].(map[string]any)
			if res.StatusCode != tc.status || e["message"] == "" || (tc.field != "" && e["field"] != tc.field) {
				t.Fatalf("HTTP %d %v, want %d naming %q", res.StatusCode, body, tc.status, tc.field)
			}
			if tc.status == 401 && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatal("no WWW-Authenticate")
			}
		})
	}
	if ds, _ := f.acc.Drafts(context.Background(), "ada"); len(ds) != 0 || f.files.pins() != 0 {
		t.Fatalf("refused shares left %d drafts and %d pins", len(ds), f.files.pins())
	}
	t.Run("a declared length above the size is refused before it is read", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/.pkg/@moodlenet/ed-resource/basic/v1/create", strings.NewReader("x"))
		req.ContentLength = 2 << 30
		req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			return // the server may close the connection at once: also a refusal
		}
		defer res.Body.Close()
		if res.StatusCode != 413 {
			t.Fatalf("HTTP %d", res.StatusCode)
		}
	})
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	mbztestGzip(&buf, b)
	return buf.Bytes()
}

// TestTokensAndCodesAsAnAttackerTriesThem: a wrong redirect_uri, a
// replayed or expired code, another client's secret, another account's
// token.
func TestTokensAndCodesAsAnAttackerTriesThem(t *testing.T) {
	f := newFixture(t)
	m := f.discoverAndRegister(t, "https://moodle.college.example")
	evil := f.discoverAndRegister(t, "https://evil.example")
	wantOAuthErr := func(t *testing.T, res *http.Response, body map[string]any, status int, code string) {
		t.Helper()
		if res.StatusCode != status || body["error"] != code || body["error_description"] == "" {
			t.Fatalf("HTTP %d %v, want %d %s", res.StatusCode, body, status, code)
		}
	}
	t.Run("a wrong redirect_uri", func(t *testing.T) {
		res, body := m.tokenRequest(t, false, [][2]string{{"code", f.authorize(t, m, "ada")}, {"grant_type", "authorization_code"},
			{"redirect_uri", "https://evil.example/admin/oauth2callback.php"}})
		wantOAuthErr(t, res, body, 400, "invalid_grant")
	})
	t.Run("a replayed code", func(t *testing.T) {
		code := f.authorize(t, m, "ada")
		res, toks := m.exchange(t, false, code)
		if res.StatusCode != 200 {
			t.Fatal(toks)
		}
		res, body := m.exchange(t, false, code)
		wantOAuthErr(t, res, body, 400, "invalid_grant")
		res, body = f.share(t, toks["access_token"].(string), metaPart("x", ""))
		if res.StatusCode != 401 {
			t.Fatalf("the replayed code's token still works: %d %v", res.StatusCode, body)
		}
	})
	t.Run("an expired code", func(t *testing.T) {
		code := f.authorize(t, m, "ada")
		f.advance(2 * time.Minute)
		res, body := m.exchange(t, false, code)
		wantOAuthErr(t, res, body, 400, "invalid_grant")
	})
	t.Run("another client's code", func(t *testing.T) {
		res, body := evil.tokenRequest(t, false, [][2]string{{"code", f.authorize(t, m, "ada")}, {"grant_type", "authorization_code"},
			{"redirect_uri", m.wwwroot + "/admin/oauth2callback.php"}})
		wantOAuthErr(t, res, body, 400, "invalid_grant")
	})
	t.Run("a wrong client secret", func(t *testing.T) {
		stolen := *m
		stolen.secret = evil.secret
		res, body := stolen.exchange(t, true, f.authorize(t, m, "ada"))
		wantOAuthErr(t, res, body, 401, "invalid_client")
		if res.Header.Get("WWW-Authenticate") == "" {
			t.Fatal("no WWW-Authenticate for Basic")
		}
	})
	t.Run("an unknown grant type", func(t *testing.T) {
		res, body := m.tokenRequest(t, false, [][2]string{{"grant_type", "password"}, {"username", "ada"}})
		wantOAuthErr(t, res, body, 400, "unsupported_grant_type")
	})
	t.Run("another account's token makes that account's draft only", func(t *testing.T) {
		_, toks := m.exchange(t, false, f.authorize(t, m, "bob"))
		res, body := f.share(t, toks["access_token"].(string), metaPart("Bob's", ""), resourcePart("a.mbz", bytes.NewReader(mbztest.TarGz(quiz))))
		if res.StatusCode != 201 {
			t.Fatal(body)
		}
		if _, err := f.acc.Draft(context.Background(), "ada", int64(body["draft"].(float64))); api.KindOf(err) != api.KindNotFound {
			t.Fatalf("ada opens bob's draft: %v", err)
		}
	})
}

func TestRegistrationIsRateLimitedAndMayBeRestricted(t *testing.T) {
	f := newFixture(t, moodle.WithRegistrationRate(1, 2), moodle.WithAllowedSites("https://moodle.college.example"))
	f.discoverAndRegister(t, "https://moodle.college.example")
	register := func(site string) (*http.Response, map[string]any) {
		reg, _ := json.Marshal(map[string]any{"client_name": "x", "client_uri": site, "redirect_uris": []string{site + "/admin/oauth2callback.php"}})
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/oauth/register", bytes.NewReader(reg))
		req.Header.Set("Content-Type", "application/json")
		return do(t, req)
	}
	if res, body := register("https://moodle.college.example.evil.example"); res.StatusCode != 400 || body["error"] != "invalid_redirect_uri" {
		t.Fatalf("an unlisted site: HTTP %d %v", res.StatusCode, body)
	}
	if res, body := register("https://moodle.college.example"); res.StatusCode != 429 {
		t.Fatalf("a third registration: HTTP %d %v", res.StatusCode, body)
	}
}
