package web

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/node/api"
)

// "Send to Moodle", the way MoodleNet's own button did it: the teacher
// names their Moodle site, and the page posts, from their browser, to the
// site's admin/tool/moodlenet/import.php the file's public URL
// (resourceurl), its name and summary (resource_info, JSON) and its type.
// Moodle then fetches the file, and asks the teacher which course to put
// it in. Nothing leaves the node but the file Moodle fetches.

// moodleImportPath is where a Moodle site takes resources from MoodleNet.
const moodleImportPath = "/admin/tool/moodlenet/import.php"

// moodleSiteCookie remembers the last Moodle site named, for next time.
const moodleSiteCookie = "lyceum_moodle_site"

// sendView is the data of the Send to Moodle page.
type sendView struct {
	ID    string
	Title string
	Form  *form
	// Action, ResourceURL, ResourceInfo and Type are the form posted to
	// the Moodle site; Action is "" until the site is named and good.
	Action       string
	ResourceURL  string
	ResourceInfo string
	Type         string
}

// sendToMoodle is /r/{id}/moodle: the form naming the site, then the
// form that goes to it.
func (a *App) sendToMoodle(r *http.Request, v *visitor) (response, error) {
	id, err := parseID(v, r.PathValue("id"))
	if err != nil {
		return response{}, err
	}
	rv, err := a.svc.Resources.ShowResource(r.Context(), id)
	if err != nil {
		return response{}, err
	}
	if rv.Deleted || (rv.Latest.File == nil && httpURL(rv.Latest.URL) == "") {
		return response{}, api.NotFoundf("%s", v.t("error.notfound"))
	}
	f := newForm(nil)
	sv := &sendView{ID: rv.ID, Title: rv.Latest.Title, Form: f}
	res := response{page: "send_moodle", title: "moodle.send.title", name: rv.Latest.Title, data: sv}
	site := r.URL.Query().Get("site")
	if site == "" {
		if c, err := r.Cookie(moodleSiteCookie); err == nil {
			if s, err := url.QueryUnescape(c.Value); err == nil {
				f.Values.Set("site", s)
			}
		}
		return res, nil
	}
	f.Values.Set("site", site)
	base, ok := moodleSite(site)
	if !ok {
		f.fail("site", v.t("moodle.site.invalid"))
		res.status = http.StatusBadRequest
		return res, nil
	}
	v.setCookie(moodleSiteCookie, url.QueryEscape(base), r, 365*24*time.Hour)
	info, err := json.Marshal(map[string]string{"name": rv.Latest.Title, "summary": rv.Latest.Summary})
	if err != nil {
		return response{}, fmt.Errorf("encode resource_info: %w", err)
	}
	sv.Action, sv.ResourceInfo = base+moodleImportPath, string(info)
	if file := rv.Latest.File; file != nil {
		sv.ResourceURL, sv.Type = a.baseURL(r)+resourceFilePath(rv.ID, *file), "file"
	} else {
		sv.ResourceURL, sv.Type = rv.Latest.URL, "link"
	}
	res.formAction = origin(base)
	return res, nil
}

// moodleSite is the base URL of the Moodle site a teacher typed
// ("moodle.school.example" or "https://moodle.school.example/lms/"),
// and whether it is one.
func moodleSite(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || len(s) > 500 || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(s, " \"'<>;\\") {
		return "", false
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), moodleImportPath)
	u.RawPath = ""
	return strings.TrimSuffix(u.String(), "/"), true
}

// resourceFilePath is where the web app serves a resource's current
// file under its own name, so that the URL ends with its extension (Moodle
// tells the file's kind by it).
func resourceFilePath(id string, f api.File) string {
	return "/r/" + url.PathEscape(id) + "/file/" + url.PathEscape(servedName(f))
}

// servedName is the name a file is served under.
func servedName(f api.File) string {
	if name := cleanFilename(f.Filename); name != "" {
		return name
	}
	return "resource"
}

// resourceFile serves a resource's current file for download, as
// attachment, in a sandbox: what Moodle fetches.
func (a *App) resourceFile(w http.ResponseWriter, r *http.Request) {
	setHeaders(w)
	fail := func(status int) { http.Error(w, http.StatusText(status), status) }
	id, err := cid.Decode(r.PathValue("id"))
	if err != nil || len(r.PathValue("id")) > 128 {
		fail(http.StatusNotFound)
		return
	}
	rv, err := a.svc.Resources.ShowResource(r.Context(), id.String())
	switch {
	case api.KindOf(err) == api.KindNotFound:
		fail(http.StatusNotFound)
		return
	case err != nil:
		a.log.Error("serve a resource's file", "id", id, "err", err)
		fail(http.StatusInternalServerError)
		return
	case rv.Deleted:
		fail(http.StatusGone)
		return
	case rv.Latest.File == nil || servedName(*rv.Latest.File) != r.PathValue("name"):
		fail(http.StatusNotFound)
		return
	}
	file := rv.Latest.File
	c, err := cid.Decode(file.CID)
	if err != nil {
		fail(http.StatusNotFound)
		return
	}
	f, _, err := a.svc.Files.Cat(r.Context(), c)
	if err != nil {
		status := api.KindOf(err).HTTPStatus()
		if status == http.StatusInternalServerError {
			a.log.Error("serve a resource's file", "id", id, "err", err)
		}
		fail(status)
		return
	}
	defer f.Close()
	name := servedName(*file)
	h := w.Header()
	h.Set("Content-Type", servedType(name))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "no-cache") // a new version changes the file behind the URL
	http.ServeContent(w, r, "", time.Time{}, f)
}

// servedType is the media type a file is served as: a Moodle backup's
// own, else bytes (never HTML, whatever the file says it is).
func servedType(name string) string {
	if strings.EqualFold(path.Ext(name), ".mbz") {
		return "application/vnd.moodle.backup"
	}
	return "application/octet-stream"
}
