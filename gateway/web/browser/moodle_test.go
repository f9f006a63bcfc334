package browser_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/gateway/moodle/mbz"
	"github.com/lyceum-oer/lyceum/gateway/moodle/mbz/mbztest"
	"github.com/lyceum-oer/lyceum/node"
)

// fakeMoodle is a Moodle site as the browser and the node see it: its
// OAuth callback and MoodleNet's import endpoint, recording what they got.
type fakeMoodle struct {
	*httptest.Server
	mu       sync.Mutex
	callback url.Values // the query of the last OAuth callback
	imported url.Values // the last form posted to import.php
}

func newFakeMoodle(t *testing.T) *fakeMoodle {
	m := &fakeMoodle{}
	page := func(w http.ResponseWriter, h1 string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><title>Moodle</title><main><h1>%s</h1></main></html>`, h1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/oauth2callback.php", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.callback = r.URL.Query()
		m.mu.Unlock()
		page(w, "Moodle: back from the node")
	})
	mux.HandleFunc("POST /admin/tool/moodlenet/import.php", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		m.mu.Lock()
		m.imported = r.PostForm
		m.mu.Unlock()
		page(w, "Moodle: import a resource")
	})
	m.Server = httptest.NewServer(mux)
	t.Cleanup(m.Close)
	return m
}

func (m *fakeMoodle) got() (callback, imported url.Values) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.callback, m.imported
}

// moodleSites is a node whose public URL is its loopback address, so
// that it speaks to Moodle; started once.
var moodleNode struct {
	once sync.Once
	site *site
	err  error
}

func collegeSite(t *testing.T) *site {
	t.Helper()
	requireBrowser(t)
	moodleNode.once.Do(func() {
		moodleNode.site, moodleNode.err = startSiteAt("college", "carl", func(c *node.Config, u string) {
			c.Gateway.PublicURL = u
		})
	})
	if moodleNode.err != nil {
		t.Fatal(moodleNode.err)
	}
	return moodleNode.site
}

// jsonCall sends a request and decodes its JSON answer.
func jsonCall(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: HTTP %d, not JSON: %v", req.Method, req.URL, res.StatusCode, err)
	}
	return res.StatusCode, out
}

// A Moodle site registers with the node; a teacher, signed out, shares
// an activity from Moodle: the node asks them to sign in and consent,
// Moodle trades the code for tokens, refreshes them, and sends the
// backup, which becomes the teacher's draft. The teacher publishes it
// from the page Moodle links to, sends it back to Moodle from the
// resource's page, and revokes the site in their settings.
func TestShareFromMoodleThenPublishAndSendBack(t *testing.T) {
	college := collegeSite(t)
	moodle := newFakeMoodle(t)
	callback := moodle.URL + "/admin/oauth2callback.php"

	// Discovery and registration, as Moodle's moodlenet issuer does them.
	req, _ := http.NewRequest(http.MethodGet, college.url+"/.well-known/oauth-authorization-server", nil)
	status, meta := jsonCall(t, req)
	scopes, _ := meta["scopes_supported"].([]any)
	if status != 200 || meta["authorization_endpoint"] != college.url+"/oauth/authorize" || meta["token_endpoint"] != college.url+"/oauth/token" ||
		meta["registration_endpoint"] != college.url+"/oauth/register" || len(scopes) != 1 || scopes[0] != "@moodlenet/ed-resource:write.own" {
		t.Fatalf("discovery: %d %v", status, meta)
	}
	reg, _ := json.Marshal(map[string]any{"client_name": "Collège Jean Moulin", "client_uri": moodle.URL, "logo_uri": moodle.URL + "/pix/f/moodle-256.png",
		"tos_uri": moodle.URL, "policy_uri": moodle.URL, "software_id": "moodle", "software_version": "2024100700.00", "redirect_uris": []string{callback},
		"token_endpoint_auth_method": "client_secret_basic", "grant_types": []string{"authorization_code", "refresh_token"},
		"response_types": []string{"code"}, "scope": "@moodlenet/ed-resource:write.own"})
	req, _ = http.NewRequest(http.MethodPost, meta["registration_endpoint"].(string), bytes.NewReader(reg))
	req.Header.Set("Content-type", "application/json")
	req.Header.Set("Accept", "application/json")
	status, client := jsonCall(t, req)
	if status != http.StatusCreated || client["client_id"] == nil || client["client_secret"] == nil {
		t.Fatalf("registration: %d %v", status, client)
	}
	clientID, secret := client["client_id"].(string), client["client_secret"].(string)

	token := func(t *testing.T, params url.Values) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, college.url+"/oauth/token", strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID)+":"+url.QueryEscape(secret))))
		status, toks := jsonCall(t, req)
		if status != 200 || toks["token_type"] != "Bearer" || toks["expires_in"] == nil || toks["access_token"] == nil || toks["refresh_token"] == nil {
			t.Fatalf("token: %d %v", status, toks)
		}
		return toks
	}

	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			teacher := "mona" + vp.name
			college.mustAccount(t, teacher, "Mona Moodle")
			b := newTab(t, college.url, vp)

			// Moodle sends the teacher, signed out, to the consent page.
			authorize := "/oauth/authorize?" + url.Values{"client_id": {clientID}, "response_type": {"code"}, "redirect_uri": {callback},
				"state": {"sesskey" + vp.name}, "scope": {" @moodlenet/ed-resource:write.own"}}.Encode()
			b.open(authorize)
			b.wantH1("Sign in")
			b.fill("#f-username", teacher)
			b.fill("#f-password", memberPassword)
			b.submit(`form[action="/login"] button[type=submit]`)
			b.wantH1("Share from Moodle")
			b.wantText("Collège Jean Moulin", "It cannot publish anything")
			b.shot("moodle-consent")
			b.click(`button[name=decision][value=allow]`)
			b.waitJSFor(fmt.Sprintf(`location.href.startsWith(%q)`, callback), "Moodle's callback", 30*time.Second)
			got, _ := moodle.got()
			if got.Get("state") != "sesskey"+vp.name || got.Get("code") == "" {
				t.Fatalf("Moodle got %v", got)
			}

			// Moodle trades the code, then refreshes.
			toks := token(t, url.Values{"code": {got.Get("code")}, "grant_type": {"authorization_code"}, "redirect_uri": {callback}})
			toks = token(t, url.Values{"refresh_token": {toks["refresh_token"].(string)}, "grant_type": {"refresh_token"}})

			// Moodle shares an activity backup.
			word := "glacier" + vp.name
			backup := mbztest.TarGz(mbztest.Backup{Type: "activity", Course: "Sciences 5e",
				Activities: []mbz.Activity{{Module: "quiz", Title: "States of water " + word}}})
			status, created := shareBackup(t, college.url, toks["access_token"].(string), "States of water "+word, "Ten questions on ice and steam.", backup)
			home, _ := created["homepage"].(string)
			if status != http.StatusCreated || !strings.HasPrefix(home, college.url+"/publish?draft=") {
				t.Fatalf("create: %d %v", status, created)
			}

			// The teacher finishes the draft Moodle links to and publishes it.
			b.open(strings.TrimPrefix(home, college.url))
			b.wantText("You are continuing a draft", "States of water "+word+"_backup.mbz")
			if got := b.eval(`document.querySelector("#f-title").value`); got != "States of water "+word {
				b.fatalf("the draft's title is %q", got)
			}
			if got := b.eval(`document.querySelector("#f-summary").value`); !strings.Contains(got, "Ten questions on ice and steam.") ||
				!strings.Contains(got, "made with Moodle 4.5") || !strings.Contains(got, "States of water "+word+" (quiz)") {
				b.fatalf("the draft's summary is %q", got)
			}
			b.shot("moodle-draft")
			b.choose("#f-license", "CC-BY-SA-4.0")
			b.choose("#f-language", "fr")
			b.click(`form[data-upload] button[type=submit].primary`)
			id := b.waitPublished(lesson{title: "States of water " + word})

			// Send to Moodle: the browser posts to the site's import.php.
			b.follow(`#moodle a.button`)
			b.checkPage()
			b.fill("#f-site", moodle.URL)
			b.submit(`form[action$="/moodle"] button[type=submit]`)
			b.wantText("Go to Moodle")
			b.shot("moodle-send")
			b.click(`#send-moodle button[type=submit]`)
			b.waitJSFor(fmt.Sprintf(`location.href.startsWith(%q)`, moodle.URL+"/admin/tool/moodlenet/import.php"), "Moodle's import page", 30*time.Second)
			_, imported := moodle.got()
			var info map[string]string
			json.Unmarshal([]byte(imported.Get("resource_info")), &info)
			wantURL := college.url + "/r/" + id + "/file/" + url.PathEscape("States of water "+word+"_backup.mbz")
			if imported.Get("type") != "file" || imported.Get("resourceurl") != wantURL || info["name"] != "States of water "+word ||
				!strings.HasPrefix(info["summary"], "Ten questions") {
				t.Fatalf("Moodle got %v", imported)
			}
			res, err := http.Get(imported.Get("resourceurl"))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !bytes.Equal(body, backup) || res.Header.Get("Content-Type") != "application/vnd.moodle.backup" {
				t.Fatalf("the file Moodle fetches: HTTP %d, %d bytes, %s", res.StatusCode, len(body), res.Header.Get("Content-Type"))
			}

			// The teacher revokes the site: its token no longer works.
			b.open("/settings#moodle")
			b.wantText("Collège Jean Moulin")
			b.submit(`#moodle form button[type=submit]`)
			b.wantText("The Moodle site can no longer share to your drafts.")
			if status, body := shareBackup(t, college.url, toks["access_token"].(string), "again", "", backup); status != http.StatusUnauthorized {
				t.Fatalf("a revoked token shares: %d %v", status, body)
			}
		})
	}
}

// shareBackup posts a backup as Moodle's moodlenet_client does.
func shareBackup(t *testing.T, base, token, name, description string, backup []byte) (int, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	meta, _ := json.Marshal(map[string]string{"name": name, "description": description})
	w, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Disposition": {`form-data; name="."`}})
	w.Write(meta)
	w, _ = mw.CreatePart(textproto.MIMEHeader{"Content-Disposition": {`form-data; name=".resource"; filename="` + name + `_backup.mbz"`},
		"Content-Type": {"application/vnd.moodle.backup"}, "Content-Transfer-Encoding": {"binary"}})
	w.Write(backup)
	mw.Close()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/.pkg/@moodlenet/ed-resource/basic/v1/create", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	return jsonCall(t, req)
}
