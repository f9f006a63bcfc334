package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

const xss = `<script>alert(1)</script>`

func TestResourcePageShowsWhatATeacherNeeds(t *testing.T) {
	n := newContentNode()
	src := n.addResource(api.Resource{Title: "The original worksheet", License: "CC-BY-4.0", Language: "en", Author: farDID, Published: time.Now().Add(-time.Hour)}, "far@"+farPeer)
	r := sampleResource("Fractions", time.Now())
	r.DerivedFrom = []string{src.ID, "https://example.org/old-lesson"}
	v := n.addResource(r, "ada@"+testPeer)
	n.comments[v.ID] = []api.Comment{{Author: farDID, AuthorName: "Far Away", AuthorHandle: "far@" + farPeer, Content: "Merci !\nTrès utile.", Published: time.Now()}}
	ca := newContentApp(t, n, Config{PublicURL: "https://lyceum.example"})
	bob := ca.client(t, "bob", "en")
	bob.post("/c/new", url.Values{"title": {"My fractions"}})
	res, body := bob.get("/r/" + v.ID)
	if res.StatusCode != 200 {
		t.Fatalf("resource page: %d", res.StatusCode)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	fileCID := r.File.CID
	mustContain(t, "the resource page", body,
		"<h1>Fractions</h1>", `<a href="/@ada">Ada Lovelace</a>`,
		`<iframe src="/ipfs/`+fileCID+`?filename=fractions.pdf"`, `href="/ipfs/`+fileCID+`?download=true&amp;filename=fractions.pdf"`,
		"Mathematics", "Primary education", "Assessment", "<dd>French</dd>", "fractions", "123 kB",
		`<span class="badge">CC BY-SA 4.0</span>`, `href="https://creativecommons.org/licenses/by-sa/4.0/"`,
		"Creative Commons Attribution Share Alike 4.0 International",
		`&#34;Fractions&#34; by Ada Lovelace, licensed under CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/). Source: https://lyceum.example/r/`+v.ID,
		`data-copy="attribution"`, `readonly`,
		`data-providers="/r/`+v.ID+`/providers"`, "Peers holding it: …",
		`<a href="/r/`+src.ID+`">The original worksheet</a>`, `href="https://example.org/old-lesson" rel="noopener noreferrer nofollow"`,
		`action="/r/`+v.ID+`/like"`, `action="/r/`+v.ID+`/collect"`, "My fractions", `action="/r/`+v.ID+`/comments#comments"`,
		"1 comment", "Merci !\nTrès utile.", `<summary>Technical details</summary>`, "Fractions for year 6.\nWith exercises.")
	// Codes only in URLs and behind "details".
	mustNotContain(t, "the resource page", body, ">0541<", ">CC-BY-SA-4.0<", ">assessment<", "Edit (new version)")
	outside := body[:strings.Index(body, "<details class=\"ids\">")]
	mustNotContain(t, "the resource page outside details", outside, adaDID, testPeer)

	// The author sees how to edit and delete.
	_, body = ca.client(t, "ada", "en").get("/r/" + v.ID)
	mustContain(t, "the author's page", body, `href="/r/`+v.ID+`/edit"`, `href="/r/`+v.ID+`/delete"`)
	// A visitor is asked to sign in.
	_, body = ca.client(t, "", "en").get("/r/" + v.ID)
	mustContain(t, "a visitor's page", body, "Sign in to like it")
	mustNotContain(t, "a visitor's page", body, `action="/r/`+v.ID+`/like"`, `/comments#comments"`)
	// Unknown and malformed IDs.
	for _, id := range []string{contentCID("nothing"), "not-a-cid", strings.Repeat("b", 300)} {
		if res, _ := bob.get("/r/" + id); res.StatusCode != 404 {
			t.Errorf("/r/%.20s: %d", id, res.StatusCode)
		}
	}
}

func TestScriptInTitlesAndCommentsRendersAsText(t *testing.T) {
	n := newContentNode()
	r := sampleResource(xss, time.Now())
	r.Summary = `<img src=x onerror=alert(2)>`
	r.Keywords = []string{`"><script>alert(3)</script>`}
	v := n.addResource(r, "far@"+farPeer)
	n.feeds["bob"] = []api.FeedItem{n.items[0]}
	n.comments[v.ID] = []api.Comment{
		{Author: bobDID, AuthorName: xss, AuthorHandle: "bob@" + testPeer, Content: `Nice <script>alert(4)</script>`, Published: time.Now()},
		{Author: "javascript:alert(5)", AuthorName: "<b>fedi</b>", Content: `<p onclick="alert(6)">reply</p>`, Fediverse: true, Published: time.Now()},
	}
	n.search = func(q api.SearchQuery) (api.SearchResult, error) {
		return api.SearchResult{Total: 1, Page: 1, Hits: []api.SearchHit{{ID: v.ID, Kind: "resource", Title: xss,
			Snippet: `a <mark>match</mark> <script>alert(7)</script> &lt;b&gt;`, License: `"><script>`, Language: "fr"}}}, nil
	}
	ca := newContentApp(t, n, Config{})
	bob := ca.client(t, "bob", "en")
	for _, path := range []string{"/r/" + v.ID, "/", "/search?q=match"} {
		_, body := bob.get(path)
		mustNotContain(t, path, body, "<script>alert", "<img src=x", "<p onclick", "<b>fedi", "javascript:alert", `"><script>`)
		if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("%s does not show the title as text", path)
		}
	}
	_, body := bob.get("/r/" + v.ID)
	mustContain(t, "the resource page", body, "Nice &lt;script&gt;alert(4)&lt;/script&gt;", "&lt;p onclick=&#34;alert(6)&#34;&gt;reply&lt;/p&gt;",
		"&lt;img src=x onerror=alert(2)&gt;", "&lt;b&gt;fedi&lt;/b&gt;")
	_, body = bob.get("/search?q=match")
	mustContain(t, "the search page", body, "a <mark>match</mark> &lt;script&gt;alert(7)&lt;/script&gt; &lt;b&gt;")
}

func TestSafeSnippet(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                           "plain",
		"a <mark>b</mark> c":              "a <mark>b</mark> c",
		"<mark>x":                         "<mark>x</mark>",
		"</mark><mark><mark>x</mark>":     "&lt;/mark&gt;<mark>&lt;mark&gt;x</mark>",
		`<img src=x onerror=alert(1)>`:    "&lt;img src=x onerror=alert(1)&gt;",
		"&lt;script&gt; &amp; <mark>y<b>": "&lt;script&gt; &amp; <mark>y&lt;b&gt;</mark>",
	} {
		if got := string(safeSnippet(in)); got != want {
			t.Errorf("safeSnippet(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHomeFeedIsTheSignedInPersonsOwn(t *testing.T) {
	n := newContentNode()
	n.feeds["ada"] = []api.FeedItem{{ResourceID: contentCID("a"), Title: "Only for Ada's eyes", AuthorHandle: "far@" + farPeer, License: "CC0-1.0", Published: time.Now()}}
	n.feeds["bob"] = []api.FeedItem{{ResourceID: contentCID("b"), Title: "Bob's follow", AuthorHandle: "far@" + farPeer, License: "CC0-1.0", Published: time.Now()}}
	n.addResource(sampleResource("New and public", time.Now()), "ada@"+testPeer)
	ca := newContentApp(t, n, Config{})
	_, body := ca.client(t, "bob", "en").get("/?as=ada&username=ada")
	mustContain(t, "bob's home", body, "Your feed", "Bob&#39;s follow", "New in the network", "New and public", `<a href="/@far@12D3KooWfaraway">far</a>`)
	mustNotContain(t, "bob's home", body, "Only for Ada")
	_, body = ca.client(t, "", "en").get("/")
	mustContain(t, "a visitor's home", body, "New in the network", "New and public", `action="/search"`, "Sign in")
	mustNotContain(t, "a visitor's home", body, "Only for Ada", "Bob&#39;s follow", "Your feed")
	if strings.Join(n.feedAsked, ",") != "bob" {
		t.Fatalf("FeedOf was asked for %v", n.feedAsked)
	}
	if res, _ := ca.client(t, "bob", "en").get("/?before=yesterday"); res.StatusCode != 400 {
		t.Fatalf("a bad ?before=: %d", res.StatusCode)
	}
}

func TestHomeFeedPages(t *testing.T) {
	n := newContentNode()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 45 {
		n.feeds["ada"] = append(n.feeds["ada"], api.FeedItem{ResourceID: contentCID(fmt.Sprint(i)), Title: fmt.Sprintf("Item %02d", i),
			License: "CC0-1.0", Published: start.Add(-time.Duration(i) * time.Minute)})
	}
	ca := newContentApp(t, n, Config{})
	ada := ca.client(t, "ada", "en")
	_, body := ada.get("/")
	next := "/?before=" + url.QueryEscape(start.Add(-19*time.Minute).Format(time.RFC3339Nano))
	mustContain(t, "page 1", body, "Item 00", "Item 19", `rel="next"`)
	mustNotContain(t, "page 1", body, "Item 20")
	_, body = ada.get(next)
	mustContain(t, "page 2", body, "Item 20", "Item 39", "Back to the newest")
	mustNotContain(t, "page 2", body, "Item 19", "Item 40")
}

func TestProfilesAndCommunities(t *testing.T) {
	n := newContentNode()
	n.addResource(sampleResource("Ada's fractions", time.Now()), "ada@"+testPeer)
	ca := newContentApp(t, n, Config{})
	bob := ca.client(t, "bob", "en")
	res, body := bob.get("/@ada")
	if res.StatusCode != 200 {
		t.Fatalf("/@ada: %d", res.StatusCode)
	}
	mustContain(t, "ada's profile", body, "<h1>Ada Lovelace</h1>", "Ada&#39;s fractions", `action="/follow"`, `value="`+adaDID+`"`, "Follow")
	if res, _ := bob.post("/follow", url.Values{"actor": {adaDID}, "next": {"/@ada"}}); res.StatusCode != 303 || res.Header.Get("Location") != "/@ada" {
		t.Fatalf("follow: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, body = bob.get("/@ada")
	mustContain(t, "ada's profile once followed", body, "You follow them now.", `action="/unfollow"`, "Stop following")
	if res, _ := bob.post("/follow", url.Values{"actor": {"<bad>"}}); res.StatusCode != 400 {
		t.Fatalf("follow <bad>: %d", res.StatusCode)
	}
	// A community's own page, and its join button.
	if res, _ := bob.get("/@maths"); res.StatusCode != 303 || res.Header.Get("Location") != "/g/maths" {
		t.Fatalf("/@maths: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, body = bob.get("/g/maths")
	mustContain(t, "the community", body, "<h1>Maths teachers</h1>", "Join", `name="group" value="1"`, "Publish in this community")
	bob.post("/follow", url.Values{"actor": {groupDID}, "group": {"1"}, "next": {"/g/maths"}})
	_, body = bob.get("/g/maths")
	mustContain(t, "the community once joined", body, "You joined the community.", "Leave")
	// A remote person, by handle; unknown ones and other paths.
	if res, body := bob.get("/@far@" + farPeer); res.StatusCode != 200 || !strings.Contains(body, "Far Away") {
		t.Fatalf("remote profile: %d", res.StatusCode)
	}
	for _, path := range []string{"/@nobody", "/favicon.ico", "/@" + url.PathEscape("<x>"), "/g/nobody"} {
		if res, _ := bob.get(path); res.StatusCode != 404 {
			t.Errorf("%s: %d", path, res.StatusCode)
		}
	}
	if calls := n.Calls(); strings.Join(calls, ";") != "follow bob "+adaDID+";follow bob "+groupDID {
		t.Fatalf("calls %v", calls)
	}
}

func TestCreateACommunity(t *testing.T) {
	n := newContentNode()
	ca := newContentApp(t, n, Config{})
	ada := ca.client(t, "ada", "en")
	if res, body := ada.get("/g/new"); res.StatusCode != 200 || !strings.Contains(body, `<label for="f-username">`) {
		t.Fatalf("form: %d", res.StatusCode)
	}
	res, body := ada.post("/g/new", url.Values{"username": {"maths"}, "name": {"More maths"}})
	if res.StatusCode != 400 || !strings.Contains(body, `id="e-username"`) || !strings.Contains(body, "the name maths is taken") {
		t.Fatalf("a taken name: %d", res.StatusCode)
	}
	res, _ = ada.post("/g/new", url.Values{"username": {"physics"}, "name": {"Physics teachers"}, "summary": {"For all."}})
	if res.StatusCode != 303 || res.Header.Get("Location") != "/g/physics" {
		t.Fatalf("create: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if calls := strings.Join(n.Calls(), ";"); calls != "create Group physics;follow ada did:key:z6Mkphysics" {
		t.Fatalf("calls %s", calls)
	}
	_, body = ada.get("/g/")
	mustContain(t, "the communities", body, `<a href="/g/physics">Physics teachers</a>`, `<a href="/g/maths">Maths teachers</a>`)
}

func TestLikeCommentAndCollect(t *testing.T) {
	n := newContentNode()
	v := n.addResource(sampleResource("Fractions", time.Now()), "ada@"+testPeer)
	ca := newContentApp(t, n, Config{})
	bob := ca.client(t, "bob", "en")
	if res, _ := bob.post("/r/"+v.ID+"/like", url.Values{}); res.StatusCode != 303 {
		t.Fatalf("like: %d", res.StatusCode)
	}
	_, body := bob.get("/r/" + v.ID)
	mustContain(t, "the liked page", body, "You like it.")
	res, body := bob.post("/r/"+v.ID+"/comments", url.Values{"content": {"   "}})
	if res.StatusCode != 400 || !strings.Contains(body, `id="e-content"`) || !strings.Contains(body, "Write your comment.") {
		t.Fatalf("empty comment: %d", res.StatusCode)
	}
	res, body = bob.post("/r/"+v.ID+"/comments", url.Values{"content": {strings.Repeat("x", 5001)}})
	if res.StatusCode != 400 || !strings.Contains(body, "Use at most 5000 characters.") {
		t.Fatalf("long comment: %d", res.StatusCode)
	}
	if res, _ := bob.post("/r/"+v.ID+"/comments", url.Values{"content": {"Thanks,\r\nvery useful."}}); res.StatusCode != 303 {
		t.Fatalf("comment: %d", res.StatusCode)
	}
	if got := n.comments[v.ID][0]; got.Content != "Thanks,\nvery useful." || got.Author != bobDID {
		t.Fatalf("comment %+v", got)
	}
	// Collect: into their own collection only.
	bob.post("/c/new", url.Values{"title": {"Bob's fractions"}})
	ada := ca.client(t, "ada", "en")
	ada.post("/c/new", url.Values{"title": {"Ada's set"}})
	bobs, adas := contentCID("collection Bob's fractions"), contentCID("collection Ada's set")
	// What one person did is not shown to another: ada sees neither bob's
	// like nor his collections.
	_, body = ada.get("/r/" + v.ID)
	mustContain(t, "ada's view", body, `action="/r/`+v.ID+`/like"`, "Ada&#39;s set")
	mustNotContain(t, "ada's view", body, "You like it.", "Bob&#39;s fractions")
	if res, _ := bob.post("/r/"+v.ID+"/collect", url.Values{"collection": {adas}}); res.StatusCode != 400 {
		t.Fatalf("collect into another's collection: %d", res.StatusCode)
	}
	if res, _ := bob.post("/r/"+v.ID+"/collect", url.Values{"collection": {bobs}}); res.StatusCode != 303 {
		t.Fatalf("collect: %d", res.StatusCode)
	}
	if calls := n.Calls(); len(calls) != 1 || calls[0] != "add "+bobs+" bob "+v.ID {
		t.Fatalf("calls %v", calls)
	}
	// Signed out, nothing of this may be done.
	anon := ca.client(t, "", "en")
	_, _, token := get(t, anon.c, ca.srv.URL+"/login")
	anon.csrf = token
	if res, _ := anon.post("/r/"+v.ID+"/like", url.Values{}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an anonymous like: %d", res.StatusCode)
	}
}

func TestCollections(t *testing.T) {
	n := newContentNode()
	v := n.addResource(sampleResource("Fractions", time.Now()), "ada@"+testPeer)
	ca := newContentApp(t, n, Config{})
	ada, bob := ca.client(t, "ada", "en"), ca.client(t, "bob", "en")
	if res, body := ada.post("/c/new", url.Values{"title": {"x"}}); res.StatusCode != 400 || !strings.Contains(body, `id="e-title"`) {
		t.Fatalf("a short title: %d", res.StatusCode)
	}
	res, _ := ada.post("/c/new", url.Values{"title": {"Fractions unit"}, "resource": {v.ID}})
	id := contentCID("collection Fractions unit")
	if res.StatusCode != 303 || res.Header.Get("Location") != "/c/"+id {
		t.Fatalf("create: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, body := ada.get("/c/" + id)
	mustContain(t, "the owner's collection", body, "<h1>Fractions unit</h1>", `<a href="/r/`+v.ID+`">Fractions</a>`, `action="/c/`+id+`/remove"`,
		`action="/c/`+id+`/edit"`, `href="/c/`+id+`/delete"`, "1 resource")
	_, body = bob.get("/c/" + id)
	mustContain(t, "another's view", body, "Follow this collection", `name="actor" value="`+id+`"`)
	mustNotContain(t, "another's view", body, `/remove"`, `/edit"`)
	// Bob follows it: the page offers to unfollow, and his home page
	// lists what it holds; ada's home does not.
	if res, _ := bob.post("/follow", url.Values{"actor": {id}, "collection": {"1"}, "next": {"/c/" + id}}); res.StatusCode != 303 {
		t.Fatalf("follow the collection: %d", res.StatusCode)
	}
	_, body = bob.get("/c/" + id)
	mustContain(t, "the followed collection", body, "You follow this collection", `action="/unfollow"`)
	_, body = bob.get("/")
	mustContain(t, "bob's home", body, "From the collections you follow", `<a href="/c/`+id+`">Fractions unit</a>`)
	_, body = ada.get("/")
	mustNotContain(t, "ada's home", body, "From the collections you follow")
	if res, _ := bob.post("/unfollow", url.Values{"actor": {id}, "collection": {"1"}, "next": {"/c/" + id}}); res.StatusCode != 303 {
		t.Fatalf("unfollow the collection: %d", res.StatusCode)
	}
	_, body = bob.get("/")
	mustNotContain(t, "bob's home after the unfollow", body, "From the collections you follow")
	for _, path := range []string{"/c/" + id + "/edit", "/c/" + id + "/remove", "/c/" + id + "/delete"} {
		if res, _ := bob.post(path, url.Values{"title": {"Mine now"}, "resource": {v.ID}}); res.StatusCode != 403 {
			t.Errorf("POST %s by another: %d", path, res.StatusCode)
		}
	}
	if res, _ := ada.post("/c/"+id+"/edit", url.Values{"title": {"Fractions, unit 1"}}); res.StatusCode != 303 {
		t.Fatalf("rename: %d", res.StatusCode)
	}
	if res, _ := ada.post("/c/"+id+"/remove", url.Values{"resource": {v.ID}}); res.StatusCode != 303 {
		t.Fatalf("remove: %d", res.StatusCode)
	}
	if res, body := ada.get("/c/" + id + "/delete"); res.StatusCode != 200 || !strings.Contains(body, "Yes, delete it") {
		t.Fatalf("delete confirm: %d", res.StatusCode)
	}
	if res, _ := ada.post("/c/"+id+"/delete", url.Values{}); res.StatusCode != 303 {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	want := []string{"add " + id + " ada " + v.ID, "follow bob " + id, "unfollow bob " + id, "rename " + id + " ada Fractions, unit 1", "remove " + id + " ada " + v.ID, "delete collection ada " + id}
	if got := n.Calls(); strings.Join(got, ";") != strings.Join(want, ";") {
		t.Fatalf("calls %v", got)
	}
	_, body = bob.get("/c/")
	mustContain(t, "the collections", body, "Fractions unit")
}

func TestProvidersAreCountedOnceInAWhile(t *testing.T) {
	n := newContentNode()
	v := n.addResource(sampleResource("Fractions", time.Now()), "ada@"+testPeer)
	link := n.addResource(api.Resource{Title: "A link", URL: "https://example.org", License: "CC0-1.0", Language: "en", Author: adaDID, Published: time.Now()}, "")
	ca := newContentApp(t, n, Config{})
	cc := ca.client(t, "", "en")
	for range 3 {
		res, body := cc.get("/r/" + v.ID + "/providers")
		var got struct{ Text string }
		if err := json.Unmarshal([]byte(body), &got); err != nil || res.StatusCode != 200 || got.Text != "Held by this node and 3 other peers." {
			t.Fatalf("providers: %d %s", res.StatusCode, body)
		}
	}
	if calls := n.Calls(); len(calls) != 1 {
		t.Fatalf("the DHT was asked %d times", len(calls))
	}
	if res, _ := cc.get("/r/" + link.ID + "/providers"); res.StatusCode != 404 {
		t.Fatalf("a link's providers: %d", res.StatusCode)
	}
}

func TestTextAndMediaPreviews(t *testing.T) {
	n := newContentNode()
	text := "Line one <b>\nLine two"
	r := sampleResource("Notes", time.Now())
	r.File = &api.File{CID: contentCID(text), Filename: "notes.txt", MediaType: "text/plain", Size: int64(len(text))}
	n.files[r.File.CID] = []byte(text)
	v := n.addResource(r, "ada@"+testPeer)
	img := sampleResource("Diagram", time.Now())
	img.File = &api.File{CID: contentCID("png"), Filename: "d.png", MediaType: "image/png", Size: 10}
	vi := n.addResource(img, "ada@"+testPeer)
	snd := sampleResource("Song", time.Now())
	snd.File = &api.File{CID: contentCID("ogg"), Filename: "s.ogg", MediaType: "audio/ogg", Size: 10}
	vs := n.addResource(snd, "ada@"+testPeer)
	ca := newContentApp(t, n, Config{})
	cc := ca.client(t, "", "en")
	_, body := cc.get("/r/" + v.ID)
	mustContain(t, "the text preview", body, `<pre tabindex="0"`, "Line one &lt;b&gt;\nLine two")
	_, body = cc.get("/r/" + vi.ID)
	mustContain(t, "the image preview", body, `<img src="/ipfs/`+img.File.CID+`?filename=d.png"`, `loading="lazy"`)
	_, body = cc.get("/r/" + vs.ID)
	mustContain(t, "the audio preview", body, `<audio controls preload="none" src="/ipfs/`+snd.File.CID)
}

func TestDeletedResourceIsGone(t *testing.T) {
	n := newContentNode()
	v := n.addResource(sampleResource("Old lesson", time.Now()), "ada@"+testPeer)
	v.Deleted = true
	n.views[v.ID] = v
	ca := newContentApp(t, n, Config{})
	res, body := ca.client(t, "bob", "en").get("/r/" + v.ID)
	if res.StatusCode != http.StatusGone {
		t.Fatalf("a deleted resource: %d", res.StatusCode)
	}
	mustContain(t, "a deleted resource", body, "This resource was deleted by its author.")
	mustNotContain(t, "a deleted resource", body, "Download", `/like"`)
	if res, _ := ca.client(t, "ada", "en").get("/r/" + v.ID + "/edit"); res.StatusCode != 404 {
		t.Fatalf("editing a deleted resource: %d", res.StatusCode)
	}
}
