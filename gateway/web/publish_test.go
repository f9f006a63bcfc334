package web

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

// multipartBody streams a publish form: the fields in order, then the
// file part (when name is not "") of size bytes, as a browser sends it.
// With sized, the body has a Content-Length (known to the client);
// without, it is sent chunked.
func multipartBody(fields [][2]string, name string, size int64) (io.Reader, string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for _, f := range fields {
			if err := mw.WriteField(f[0], f[1]); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		if name != "" {
			w, err := mw.CreateFormFile("file", name)
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			chunk := bytes.Repeat([]byte("lyceum! "), 8<<10) // 64 KiB
			for left := size; left > 0; {
				n := min(left, int64(len(chunk)))
				if _, err := w.Write(chunk[:n]); err != nil {
					pw.CloseWithError(err)
					return
				}
				left -= n
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	return pr, mw.FormDataContentType()
}

// upload posts a multipart form to path, with the CSRF token in the
// header as app.js sends it.
func (cc *contentClient) upload(path string, fields [][2]string, name string, size int64) (*http.Response, string) {
	cc.t.Helper()
	body, ctype := multipartBody(fields, name, size)
	req, _ := http.NewRequest("POST", cc.app.srv.URL+path, body)
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("X-CSRF-Token", cc.csrf)
	return cc.do(req)
}

// goodFields are the fields of a publish form that passes.
func goodFields() [][2]string {
	return [][2]string{{"title", "Fractions for year 6"}, {"summary", "A worksheet.\nWith answers."}, {"license", "CC-BY-4.0"},
		{"language", "fr"}, {"subjects", "0541"}, {"subjects", "0533"}, {"level", "1"}, {"type", "assessment"},
		{"keywords", "fractions, ratios , fractions"}, {"community", ""}, {"derived_from", ""}, {"url", ""}}
}

func TestPublishPageNeedsSignInAndLabelsEveryField(t *testing.T) {
	ca := newContentApp(t, newContentNode(), Config{})
	res, _ := ca.client(t, "", "en").get("/publish")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login?next=") {
		t.Fatalf("signed out: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, body := ca.client(t, "ada", "en").get("/publish?derived_from=" + contentCID("src"))
	if res.StatusCode != 200 {
		t.Fatalf("publish page: %d", res.StatusCode)
	}
	mustContain(t, "the publish page", body, `enctype="multipart/form-data"`, `action="/publish?csrf=`, `data-upload`,
		`<label for="f-title">`, `<label for="f-license">`, `<label for="f-language">`, `<label for="f-level">`, `<label for="f-type">`,
		`<label for="f-keywords">`, `<label for="f-url">`, `<label for="f-file">`, `<legend>Subjects</legend>`,
		`<input type="file" id="f-file" name="file"`, "Mathematics", "Creative Commons Attribution 4.0 International",
		"Primary education", "Assessment", `value="CC-BY-4.0" selected`, `value="en" selected`, "Maths teachers", contentCID("src"))
	// The file input is the last field of the form: the fields stream first.
	form := body[strings.Index(body, "<form method=\"post\" action=\"/publish"):]
	form = form[:strings.Index(form, "</form>")]
	if last := strings.LastIndex(form, "name="); !strings.HasPrefix(form[last:], `name="file"`) {
		t.Errorf("a field comes after the file: %s", form[last:last+40])
	}
}

func TestPublishStreamsALargeFileWithoutHoldingIt(t *testing.T) {
	n := newContentNode()
	var peak, before runtime.MemStats
	var peakHeap uint64
	n.add = func(r io.Reader) (int64, error) {
		buf := make([]byte, 256<<10)
		var total, next int64
		for {
			k, err := r.Read(buf)
			total += int64(k)
			if total >= next {
				runtime.ReadMemStats(&peak)
				peakHeap = max(peakHeap, peak.HeapAlloc)
				next += 8 << 20
			}
			if err == io.EOF {
				return total, nil
			}
			if err != nil {
				return total, err
			}
		}
	}
	ca := newContentApp(t, n, Config{})
	cc := ca.client(t, "ada", "en")
	const size = 64 << 20
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, _ := cc.upload("/publish", goodFields(), "worksheet.pdf", size)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/r/") {
		t.Fatalf("publish: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if n.added != size {
		t.Fatalf("the store got %d bytes, want %d", n.added, size)
	}
	t.Logf("%d MiB uploaded: heap peak %d MiB above the start, %d MiB allocated in all", size>>20,
		(int64(peakHeap)-int64(before.HeapAlloc))>>20, (after.TotalAlloc-before.TotalAlloc)>>20)
	if grew := int64(peakHeap) - int64(before.HeapAlloc); grew > 24<<20 {
		t.Errorf("the heap grew by %d MiB during a %d MiB upload", grew>>20, size>>20)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/2 {
		t.Errorf("%d MiB allocated for a %d MiB upload: the file was buffered", alloc>>20, size>>20)
	}
	req := n.published[0]
	if req.As != "ada" || req.FileCID == "" || req.Filename != "worksheet.pdf" || req.Title != "Fractions for year 6" ||
		strings.Join(req.Subjects, ",") != "0541,0533" || strings.Join(req.Keywords, ",") != "fractions,ratios" || req.Summary != "A worksheet.\nWith answers." {
		t.Errorf("published %+v", req)
	}
}

func TestPublishWithBadFieldsStoresNothingAndSaysWhy(t *testing.T) {
	n := newContentNode()
	ca := newContentApp(t, n, Config{})
	cc := ca.client(t, "ada", "en")
	fields := [][2]string{{"title", "ab"}, {"summary", "<script>alert(1)</script>"}, {"license", "WTFPL"}, {"language", ""},
		{"subjects", "1234"}, {"level", "13"}, {"keywords", "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v"}, {"derived_from", "not-a-resource"}, {"url", ""}}
	res, body := cc.upload("/publish", fields, "worksheet.pdf", 4<<20)
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad form: %d", res.StatusCode)
	}
	if n.added != 0 || len(n.published) != 0 {
		t.Fatalf("a bad form stored %d bytes and published %d", n.added, len(n.published))
	}
	for field, msg := range map[string]string{
		"title": "Use at least 3 characters.", "summary": "Use plain text or Markdown, not HTML.", "license": "Choose one of the list.",
		"language": "Choose one.", "subjects": "Choose one of the list.", "level": "Choose one of the list.",
		"keywords": "Use at most 20 keywords.", "derived_from": "This is not the address of a resource&#39;s page.",
	} {
		mustContain(t, "the form", body, `id="e-`+field+`"`, msg, `href="#f-`+field+`"`)
	}
	mustContain(t, "the form", body, `aria-describedby="h-title e-title"`, `aria-invalid="true"`, `class="error-summary"`,
		"&lt;script&gt;alert(1)&lt;/script&gt;")
	mustNotContain(t, "the form", body, "<script>alert(1)")
	// Nothing at all: the content is missing.
	res, body = cc.upload("/publish", goodFields(), "", 0)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Add a file or give a link.") {
		t.Fatalf("no content: %d", res.StatusCode)
	}
	// A file and a link: one or the other.
	fields = append(goodFields()[:11], [2]string{"url", "https://example.org/lesson"})
	res, body = cc.upload("/publish", fields, "a.pdf", 10)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Give a file or a link, not both.") || n.added != 0 {
		t.Fatalf("file and link: %d, %d bytes stored", res.StatusCode, n.added)
	}
}

func TestOversizedUploadIsToldAtTheFileField(t *testing.T) {
	for _, sized := range []bool{true, false} {
		n := newContentNode()
		ca := newContentApp(t, n, Config{MaxUploadBytes: 1 << 20})
		cc := ca.client(t, "ada", "en")
		body, ctype := multipartBody(goodFields(), "big.mp4", 3<<20)
		if sized {
			b, _ := io.ReadAll(body)
			body = bytes.NewReader(b)
		}
		req, _ := http.NewRequest("POST", ca.srv.URL+"/publish", body)
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("X-CSRF-Token", cc.csrf)
		res, page := cc.do(req)
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("sized %v: %d", sized, res.StatusCode)
		}
		mustContain(t, "the oversized form", page, `id="e-file"`, "The file is too large: this node takes files of up to 1.0 MB.",
			`href="#f-file"`, `value="Fractions for year 6"`)
		if len(n.published) != 0 {
			t.Fatalf("sized %v: an oversized file was published", sized)
		}
	}
}

func TestPublishALinkAndCheckFirst(t *testing.T) {
	n := newContentNode()
	ca := newContentApp(t, n, Config{})
	cc := ca.client(t, "ada", "en")
	fields := append(goodFields()[:11], [2]string{"url", "https://example.org/lesson"})
	// app.js checks the fields before it sends a file.
	if res, _ := cc.upload("/publish?check=1", goodFields(), "", 0); res.StatusCode != http.StatusAccepted {
		t.Fatalf("check of good fields: %d", res.StatusCode)
	}
	if res, body := cc.upload("/publish?check=1", [][2]string{{"title", "x"}}, "", 0); res.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, `id="e-title"`) {
		t.Fatalf("check of bad fields: %d", res.StatusCode)
	}
	if res, _ := cc.upload("/publish?check=1", goodFields(), "a.pdf", 1000); res.StatusCode != http.StatusAccepted {
		t.Fatalf("check with a file: %d", res.StatusCode)
	}
	if len(n.published) != 0 || n.added != 0 {
		t.Fatal("a check stored or published")
	}
	res, _ := cc.upload("/publish", fields, "", 0)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("publish a link: %d", res.StatusCode)
	}
	if n.published[0].URL != "https://example.org/lesson" || n.published[0].FileCID != "" {
		t.Fatalf("published %+v", n.published[0])
	}
	// The notice shows once on the resource's page.
	_, body := cc.get(res.Header.Get("Location"))
	mustContain(t, "the new resource's page", body, "Your resource is published.", "Open the link")
	// A link that is no web address.
	fields[len(fields)-1][1] = "javascript:alert(1)"
	if res, body := cc.upload("/publish", fields, "", 0); res.StatusCode != 400 || !strings.Contains(body, `id="e-url"`) {
		t.Fatalf("javascript: link: %d", res.StatusCode)
	}
}

func TestMultipartNeedsItsCSRFToken(t *testing.T) {
	n := newContentNode()
	ca := newContentApp(t, n, Config{})
	cc := ca.client(t, "ada", "en")
	body, ctype := multipartBody(goodFields(), "a.pdf", 100)
	req, _ := http.NewRequest("POST", ca.srv.URL+"/publish", body)
	req.Header.Set("Content-Type", ctype)
	if res, _ := cc.do(req); res.StatusCode != http.StatusForbidden || n.added != 0 {
		t.Fatalf("no token: %d, %d bytes stored", res.StatusCode, n.added)
	}
	// Without JavaScript, the token is in the form's action URL.
	body, ctype = multipartBody(goodFields(), "a.pdf", 100)
	req, _ = http.NewRequest("POST", ca.srv.URL+"/publish?csrf="+url.QueryEscape(cc.csrf), body)
	req.Header.Set("Content-Type", ctype)
	if res, _ := cc.do(req); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("token in the URL: %d", res.StatusCode)
	}
}

func TestOnlyTheAuthorEditsAndDeletes(t *testing.T) {
	n := newContentNode()
	v := n.addResource(sampleResource("Fractions", time.Now()), "ada@"+testPeer)
	ca := newContentApp(t, n, Config{})
	bob := ca.client(t, "bob", "en")
	for _, path := range []string{"/r/" + v.ID + "/edit", "/r/" + v.ID + "/delete"} {
		if res, body := bob.get(path); res.StatusCode != http.StatusForbidden || !strings.Contains(body, "Only the author") {
			t.Errorf("GET %s by another: %d", path, res.StatusCode)
		}
	}
	if res, _ := bob.post("/r/"+v.ID+"/delete", url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Errorf("POST delete by another: %d", res.StatusCode)
	}
	if res, _ := bob.upload("/r/"+v.ID+"/edit", goodFields(), "", 0); res.StatusCode != http.StatusForbidden {
		t.Errorf("POST edit by another: %d", res.StatusCode)
	}
	if len(n.updates) != 0 || len(n.Calls()) != 0 {
		t.Fatalf("another changed the resource: %v %v", n.updates, n.Calls())
	}
	// The author: the edit form is filled in, and sends a new version.
	ada := ca.client(t, "ada", "en")
	res, body := ada.get("/r/" + v.ID + "/edit")
	if res.StatusCode != 200 {
		t.Fatalf("edit form: %d", res.StatusCode)
	}
	mustContain(t, "the edit form", body, `value="Fractions"`, `value="CC-BY-SA-4.0" selected`, `value="0541" checked`, "fractions.pdf")
	fields := goodFields()
	fields[0][1] = "Fractions, second edition"
	if res, _ := ada.upload("/r/"+v.ID+"/edit", fields, "", 0); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d", res.StatusCode)
	}
	if len(n.updates) != 1 || n.updates[0].Title != "Fractions, second edition" || n.updates[0].FileCID != "" {
		t.Fatalf("updates %+v", n.updates)
	}
	if res, body := ada.get("/r/" + v.ID + "/delete"); res.StatusCode != 200 || !strings.Contains(body, "Yes, delete it") {
		t.Fatalf("delete confirm: %d", res.StatusCode)
	}
	if res, _ := ada.post("/r/"+v.ID+"/delete", url.Values{}); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/@ada" {
		t.Fatalf("delete: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if calls := n.Calls(); len(calls) != 1 || calls[0] != "delete "+v.ID {
		t.Fatalf("calls %v", calls)
	}
}

func TestRefusedPublishKeepsTheFile(t *testing.T) {
	n := newContentNode()
	n.refusePublish = api.Invalidf("join maths before posting in it")
	ca := newContentApp(t, n, Config{})
	cc := ca.client(t, "ada", "en")
	res, body := cc.upload("/publish", goodFields(), "worksheet.pdf", 1000)
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("refused publish: %d", res.StatusCode)
	}
	mustContain(t, "the refused form", body, "join maths before posting in it", `name="kept_cid"`, "worksheet.pdf was received")
	// Sent again without the file: the file received first is published.
	n.refusePublish = nil
	kept := contentCID(strings.Repeat("lyceum! ", 125))
	fields := append(goodFields(), [2]string{"kept_cid", kept}, [2]string{"kept_name", "worksheet.pdf"})
	if res, _ := cc.upload("/publish", fields, "", 0); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("publish again: %d", res.StatusCode)
	}
	if got := n.published[len(n.published)-1]; got.FileCID != kept || got.Filename != "worksheet.pdf" {
		t.Fatalf("published %+v", got)
	}
}

func TestCleanFilename(t *testing.T) {
	long := strings.Repeat("é", 200) + ".pdf"
	for in, want := range map[string]string{
		"lesson.pdf": "lesson.pdf", `C:\Users\ada\lesson.pdf`: "lesson.pdf", "../../etc/passwd": "passwd", "a\x00b\nc.txt": "abc.txt",
		"": "", "..": "", `quo"te.pdf`: "quote.pdf", long: strings.Repeat("é", 125) + ".pdf",
	} {
		if got := cleanFilename(in); got != want {
			t.Errorf("cleanFilename(%.30q) = %.30q, want %.30q", in, got, want)
		}
	}
}

// Authors named one per line (as an import's draft keeps them) are
// published as the resource's creators; markup in a name is refused.
func TestPublishNamesTheAuthors(t *testing.T) {
	n := newContentNode()
	ca := newContentApp(t, n, Config{})
	cc := ca.client(t, "ada", "en")
	fields := append(goodFields()[:11], [2]string{"url", "https://example.org/lesson"},
		[2]string{"creators", "Ana Silva\n\n  Bo Chen  \n"})
	if res, _ := cc.upload("/publish", fields, "", 0); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("publish with authors: %d", res.StatusCode)
	}
	got := n.published[0].Creators
	if len(got) != 2 || got[0].Name != "Ana Silva" || got[1].Name != "Bo Chen" || got[1].Role != "author" {
		t.Fatalf("creators %+v", got)
	}
	fields[len(fields)-1][1] = "<b>Eve</b>"
	if res, body := cc.upload("/publish", fields, "", 0); res.StatusCode != 400 || !strings.Contains(body, `id="e-creators"`) {
		t.Fatalf("markup in an author's name: %d", res.StatusCode)
	}
}
