package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/lyceum-oer/lyceum/node/api"
)

// fakeDrafts keeps drafts by account in memory.
type fakeDrafts struct {
	mu     sync.Mutex
	next   int64
	byID   map[int64]api.Draft
	owner  map[int64]string
	refuse error // SaveDraft's answer, when set
}

func newFakeDrafts() *fakeDrafts {
	return &fakeDrafts{byID: map[int64]api.Draft{}, owner: map[int64]string{}}
}

func (d *fakeDrafts) SaveDraft(_ context.Context, username string, id int64, title string, fields map[string][]string) (api.Draft, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.refuse != nil {
		return api.Draft{}, d.refuse
	}
	if id == 0 {
		d.next++
		id = d.next
	} else if d.owner[id] != username {
		return api.Draft{}, api.NotFoundf("you have no draft %d", id)
	}
	dr := api.Draft{ID: id, Title: title, Fields: fields}
	d.byID[id], d.owner[id] = dr, username
	return dr, nil
}

func (d *fakeDrafts) Drafts(_ context.Context, username string) ([]api.Draft, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []api.Draft
	for id, dr := range d.byID {
		if d.owner[id] == username {
			out = append(out, dr)
		}
	}
	return out, nil
}

func (d *fakeDrafts) Draft(_ context.Context, username string, id int64) (api.Draft, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if dr, ok := d.byID[id]; ok && d.owner[id] == username {
		return dr, nil
	}
	return api.Draft{}, api.NotFoundf("you have no draft %d", id)
}

func (d *fakeDrafts) DeleteDraft(_ context.Context, username string, id int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.byID[id]; !ok || d.owner[id] != username {
		return api.NotFoundf("you have no draft %d", id)
	}
	delete(d.byID, id)
	delete(d.owner, id)
	return nil
}

func TestADraftKeepsItsFileAndOnlyItsAuthorOpensIt(t *testing.T) {
	n := newContentNode()
	n.drafts = newFakeDrafts()
	ca := newContentApp(t, n, Config{})
	ada, bob := ca.client(t, "ada", "en"), ca.client(t, "bob", "en")
	_, body := ada.get("/publish")
	mustContain(t, "the publish page", body, `formaction="/publish?csrf=`, "intent=draft", "Save as draft", `href="/drafts"`)

	// Half a form and a file: saved as they are, the file pinned.
	res, _ := ada.upload("/publish?intent=draft", [][2]string{{"title", "Volcanoes <b>draft</b>"}, {"license", ""}}, "volcano.pdf", 1000)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/drafts" {
		t.Fatalf("save a draft: %d → %s", res.StatusCode, res.Header.Get("Location"))
	}
	d, err := n.drafts.Draft(context.Background(), "ada", 1)
	if err != nil || d.Fields["kept_name"][0] != "volcano.pdf" || d.Fields["kept_cid"][0] == "" || n.pinnedAdds != 1 || len(n.published) != 0 {
		t.Fatalf("draft %+v (%v), %d pinned adds, %d published", d, err, n.pinnedAdds, len(n.published))
	}
	_, body = ada.get("/drafts")
	mustContain(t, "ada's drafts", body, "Volcanoes &lt;b&gt;draft&lt;/b&gt;", "volcano.pdf", `href="/publish?draft=1"`)
	_, body = ada.get("/publish?draft=1")
	mustContain(t, "the draft continued", body, `name="draft" value="1"`, `value="Volcanoes &lt;b&gt;draft&lt;/b&gt;"`, "You are continuing a draft")

	// Bob neither lists, opens nor deletes it.
	_, body = bob.get("/drafts")
	mustNotContain(t, "bob's drafts", body, "Volcanoes")
	for _, path := range []string{"/publish?draft=1", "/publish?draft=abc", "/publish?draft=-1", "/publish?draft=99999999999999999999"} {
		if res, body := bob.get(path); res.StatusCode != http.StatusNotFound || strings.Contains(body, "Volcanoes") {
			t.Errorf("GET %s by bob: %d", path, res.StatusCode)
		}
	}
	if res, _ := bob.post("/drafts/1/delete", url.Values{}); res.StatusCode != http.StatusNotFound {
		t.Errorf("bob deletes ada's draft: %d", res.StatusCode)
	}
	if res, _ := bob.upload("/publish?intent=draft", [][2]string{{"draft", "1"}, {"title", "Mine"}}, "", 0); res.StatusCode != http.StatusNotFound {
		t.Errorf("bob saves over ada's draft: %d", res.StatusCode)
	}

	// A refused save says why, on the form.
	n.drafts.refuse = api.Errorf(api.KindConflict, "you have 100 drafts, the most an account keeps")
	res, body = ada.upload("/publish?intent=draft", [][2]string{{"title", "One more"}}, "", 0)
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("refused draft: %d", res.StatusCode)
	}
	mustContain(t, "the refused draft", body, "you have 100 drafts", `value="One more"`)
	n.drafts.refuse = nil

	// Published, it is no longer a draft.
	fields := append(goodFields(), [2]string{"draft", "1"}, [2]string{"kept_cid", d.Fields["kept_cid"][0]}, [2]string{"kept_name", "volcano.pdf"})
	if res, _ := ada.upload("/publish", fields, "", 0); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("publish the draft: %d", res.StatusCode)
	}
	if got := n.published[len(n.published)-1]; got.FileCID != d.Fields["kept_cid"][0] {
		t.Fatalf("published %+v", got)
	}
	if ds, _ := n.drafts.Drafts(context.Background(), "ada"); len(ds) != 0 {
		t.Fatalf("drafts after publishing: %+v", ds)
	}
	if res, _ := ada.post("/drafts/1/delete", url.Values{}); res.StatusCode != http.StatusNotFound {
		t.Fatal(fmt.Sprint("delete a published draft: ", res.StatusCode))
	}
}
