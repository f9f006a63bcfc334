package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/lyceum-oer/lyceum/node/api"
)

// The consent page of the node's OAuth 2 server: a Moodle site sends the
// teacher here (authorization_endpoint) to let it share backups to their
// drafts. The request is checked before anything is shown: an unknown
// client or a redirect_uri it did not register is an error page and
// never a redirect (RFC 6749 §4.1.2.1); other faults go back to the
// site as error=…, with its state.

// maxState bounds the client's state parameter (Moodle's is its sesskey,
// ten characters).
const maxState = 1000

// consentView is the data of the consent page.
type consentView struct {
	Client      api.OAuthClient
	Site        string // the redirect URI's host, what the person recognizes
	RedirectURI string
	Scope       string
	State       string
	Node        string // this node's host, as the person reached it
}

// consentRequest is an authorization request read and checked: view is
// set when the page may be shown; redirect when the answer goes back to
// the client at once.
func (a *App) consentRequest(r *http.Request, v *visitor, q url.Values) (consentView, string, error) {
	for _, k := range []string{"client_id", "redirect_uri", "response_type", "scope", "state"} {
		if len(q[k]) > 1 {
			return consentView{}, "", api.Invalidf("%s", v.t("oauth.bad_request"))
		}
	}
	c, err := a.svc.OAuth.OAuthClient(r.Context(), q.Get("client_id"))
	if err != nil {
		if api.KindOf(err) == api.KindNotFound {
			return consentView{}, "", api.Invalidf("%s", v.t("oauth.unknown_client"))
		}
		return consentView{}, "", err
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" && len(c.RedirectURIs) == 1 {
		redirect = c.RedirectURIs[0]
	}
	if !slices.Contains(c.RedirectURIs, redirect) {
		return consentView{}, "", api.Invalidf("%s", v.t("oauth.bad_redirect"))
	}
	state := q.Get("state")
	if len(state) > maxState {
		return consentView{}, "", api.Invalidf("%s", v.t("oauth.bad_request"))
	}
	if q.Get("response_type") != "code" {
		return consentView{}, redirectWith(redirect, "error", "unsupported_response_type", "state", state), nil
	}
	scope, err := api.ParseOAuthScope(q.Get("scope"))
	if err != nil {
		return consentView{}, redirectWith(redirect, "error", "invalid_scope", "state", state), nil
	}
	site := redirect
	if u, err := url.Parse(redirect); err == nil {
		site = u.Host
	}
	return consentView{Client: c, Site: site, RedirectURI: redirect, Scope: scope, State: state}, "", nil
}

// redirectWith is uri with the parameters added to its query; a state
// that is empty is left out.
func redirectWith(uri string, kv ...string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" || kv[i] != "state" {
			q.Set(kv[i], kv[i+1])
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// origin is the scheme and host of uri, for the page's form-action.
func origin(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" || strings.ContainsAny(uri, " ;'\"") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// consentForm shows what the site asks, to a signed-in person (anyone
// else signs in first and comes back).
func (a *App) consentForm(r *http.Request, v *visitor) (response, error) {
	if _, err := v.require(api.ActionPublish); err != nil {
		return response{}, err
	}
	cv, redirect, err := a.consentRequest(r, v, r.URL.Query())
	if err != nil || redirect != "" {
		return response{redirect: redirect}, err
	}
	if u, err := url.Parse(a.baseURL(r)); err == nil {
		cv.Node = u.Host
	}
	return response{page: "consent", title: "oauth.title", data: cv, formAction: origin(cv.RedirectURI)}, nil
}

// consent takes the person's answer: a code for the site, or
// access_denied.
func (a *App) consent(r *http.Request, v *visitor) (response, error) {
	acc, err := v.require(api.ActionPublish)
	if err != nil {
		return response{}, err
	}
	f := newForm(r)
	q := url.Values{"response_type": {"code"}}
	for _, k := range []string{"client_id", "redirect_uri", "scope", "state"} {
		if s := f.Raw(k); s != "" {
			q.Set(k, s)
		}
	}
	cv, redirect, err := a.consentRequest(r, v, q)
	if err != nil || redirect != "" {
		return response{redirect: redirect}, err
	}
	if f.Get("decision") != "allow" {
		return response{redirect: redirectWith(cv.RedirectURI, "error", "access_denied", "state", cv.State)}, nil
	}
	code, err := a.svc.OAuth.Authorize(detached(r.Context()), acc.Username,
		api.AuthorizeRequest{ClientID: cv.Client.ClientID, RedirectURI: cv.RedirectURI, Scope: cv.Scope})
	if err != nil {
		return response{}, err
	}
	a.log.Info("a Moodle site may share to an account", "account", acc.Username, "client", cv.Client.ClientID, "site", cv.Site)
	return response{redirect: redirectWith(cv.RedirectURI, "code", code, "state", cv.State)}, nil
}
