package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lyceum-oer/lyceum/node/api"
)

// fakeOAuth is one registered Moodle site.
type fakeOAuth struct {
	codes []api.AuthorizeRequest
}

func (f *fakeOAuth) OAuthClient(_ context.Context, id string) (api.OAuthClient, error) {
	if id != "lyk_moodle" {
		return api.OAuthClient{}, api.NotFoundf("no client")
	}
	return api.OAuthClient{ClientID: id, Name: "Collège <Jean> Moulin", RedirectURIs: []string{"https://moodle.college.example/admin/oauth2callback.php"}}, nil
}

func (f *fakeOAuth) Authorize(_ context.Context, username string, req api.AuthorizeRequest) (string, error) {
	f.codes = append(f.codes, req)
	return "code-for-" + username, nil
}

func (f *fakeOAuth) OAuthGrants(context.Context, string) ([]api.OAuthGrant, error) { return nil, nil }
func (f *fakeOAuth) RevokeOAuthGrant(context.Context, string, int64) error         { return nil }

func TestTheConsentPage(t *testing.T) {
	oauth := &fakeOAuth{}
	srv, c := newTestApp(t, Services{OAuth: oauth})
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cb := "https://moodle.college.example/admin/oauth2callback.php"
	authorize := srv.URL + "/oauth/authorize?" + url.Values{"client_id": {"lyk_moodle"}, "response_type": {"code"},
		"redirect_uri": {cb}, "state": {"s3ssk3y"}, "scope": {" @moodlenet/ed-resource:write.own"}}.Encode()

	res, _, _ := get(t, c, authorize)
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?next=%2Foauth%2Fauthorize") {
		t.Fatalf("signed out: %d to %q", res.StatusCode, loc)
	}
	_, _, token := get(t, c, srv.URL+"/login")
	post(t, c, srv.URL+"/login", url.Values{"csrf": {token}, "username": {"ada"}, "password": {"correct horse battery"}})

	res, body, token := get(t, c, authorize)
	if res.StatusCode != 200 || !strings.Contains(body, "Collège &lt;Jean&gt; Moulin") || !strings.Contains(body, "moodle.college.example") {
		t.Fatalf("consent page: %d\n%s", res.StatusCode, body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://moodle.college.example;") {
		t.Fatalf("CSP %q: Chromium would block the redirect to Moodle", csp)
	}
	form := url.Values{"csrf": {token}, "client_id": {"lyk_moodle"}, "redirect_uri": {cb}, "scope": {"@moodlenet/ed-resource:write.own"}, "state": {"s3ssk3y"}}

	t.Run("denied, Moodle is told access_denied with its state", func(t *testing.T) {
		f := url.Values{"decision": {"deny"}}
		for k, v := range form {
			f[k] = v
		}
		res, _ := post(t, c, srv.URL+"/oauth/authorize", f)
		if loc := res.Header.Get("Location"); loc != cb+"?error=access_denied&state=s3ssk3y" {
			t.Fatalf("denied: %d to %q", res.StatusCode, loc)
		}
	})
	t.Run("allowed, Moodle gets a code and its state", func(t *testing.T) {
		f := url.Values{"decision": {"allow"}}
		for k, v := range form {
			f[k] = v
		}
		res, _ := post(t, c, srv.URL+"/oauth/authorize", f)
		if loc := res.Header.Get("Location"); loc != cb+"?code=code-for-ada&state=s3ssk3y" || len(oauth.codes) != 1 {
			t.Fatalf("allowed: %d to %q", res.StatusCode, loc)
		}
	})
	t.Run("without the CSRF token nothing is granted", func(t *testing.T) {
		f := url.Values{"decision": {"allow"}, "client_id": {"lyk_moodle"}, "redirect_uri": {cb}}
		if res, _ := post(t, c, srv.URL+"/oauth/authorize", f); res.StatusCode != http.StatusForbidden || len(oauth.codes) != 1 {
			t.Fatalf("no CSRF: %d", res.StatusCode)
		}
	})
	for name, q := range map[string]url.Values{
		"an unknown client":         {"client_id": {"lyk_other"}, "response_type": {"code"}, "redirect_uri": {cb}},
		"a redirect_uri not listed": {"client_id": {"lyk_moodle"}, "response_type": {"code"}, "redirect_uri": {"https://evil.example/cb"}},
		"two client_ids":            {"client_id": {"lyk_moodle", "lyk_other"}, "response_type": {"code"}, "redirect_uri": {cb}},
	} {
		t.Run(name+" is an error page, never a redirect", func(t *testing.T) {
			res, body, _ := get(t, c, srv.URL+"/oauth/authorize?"+q.Encode())
			if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" || strings.Contains(body, `action="https://evil`) {
				t.Fatalf("%d to %q", res.StatusCode, res.Header.Get("Location"))
			}
		})
	}
	t.Run("a token response type goes back as unsupported_response_type", func(t *testing.T) {
		res, _, _ := get(t, c, srv.URL+"/oauth/authorize?"+url.Values{"client_id": {"lyk_moodle"}, "response_type": {"token"}, "state": {"x"}}.Encode())
		if loc := res.Header.Get("Location"); loc != cb+"?error=unsupported_response_type&state=x" {
			t.Fatalf("%d to %q", res.StatusCode, loc)
		}
	})
	t.Run("an unknown scope goes back as invalid_scope", func(t *testing.T) {
		res, _, _ := get(t, c, srv.URL+"/oauth/authorize?"+url.Values{"client_id": {"lyk_moodle"}, "response_type": {"code"}, "scope": {"openid"}}.Encode())
		if loc := res.Header.Get("Location"); loc != cb+"?error=invalid_scope" {
			t.Fatalf("%d to %q", res.StatusCode, loc)
		}
	})
}

func TestMoodleSiteNames(t *testing.T) {
	for in, want := range map[string]string{
		"moodle.school.example":                                      "https://moodle.school.example",
		"https://moodle.school.example/":                             "https://moodle.school.example",
		"https://school.example/lms/":                                "https://school.example/lms",
		"https://school.example/lms/admin/tool/moodlenet/import.php": "https://school.example/lms",
		"http://127.0.0.1:8080":                                      "http://127.0.0.1:8080",
		"javascript:alert(1)":                                        "",
		"https://user:pw@moodle.example":                             "",
		"https://moodle.example/?x=1":                                "",
		"https://moodle.example\" onfocus=\"x":                       "",
		"ftp://moodle.example":                                       "",
	} {
		got, ok := moodleSite(in)
		if got != want || ok != (want != "") {
			t.Errorf("moodleSite(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
