package fediverse

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/gateway"
	"github.com/lyceum-oer/lyceum/gateway/httpsig"
	"github.com/lyceum-oer/lyceum/node/api"
)

func TestDiscoveryAndActorsAsMastodonLooksThemUp(t *testing.T) {
	s := newSite(t)
	s.actor(t, "alice", activity.Person)
	s.actor(t, "maths", activity.Group)
	alice := s.url + "/ap/users/alice"

	t.Run("webfinger finds people and communities by acct", func(t *testing.T) {
		for _, name := range []string{"alice", "maths"} {
			st, _, body := getDoc(t, s, s.url+"/.well-known/webfinger?resource=acct:"+name+"@"+s.host, "")
			var jrd struct {
				Subject string
				Aliases []string
				Links   []struct{ Rel, Type, Href string }
			}
			if st != 200 || json.Unmarshal(body, &jrd) != nil || jrd.Subject != "acct:"+name+"@"+s.host || jrd.Links[0].Type != apType {
				t.Fatalf("%d %s", st, body)
			}
		}
	})
	t.Run("webfinger answers 404 for strangers and other hosts", func(t *testing.T) {
		for _, res := range []string{"acct:nobody@" + s.host, "acct:alice@elsewhere.example"} {
			if st, _, _ := getDoc(t, s, s.url+"/.well-known/webfinger?resource="+res, ""); st != 404 {
				t.Fatalf("%s: %d", res, st)
			}
		}
	})
	t.Run("documents that cannot exist are 404, not errors", func(t *testing.T) {
		for _, path := range []string{"/ap/activities/notacid", "/ap/activities/notacid/1b12", "/ap/resources/notacid", "/ap/out/notacid", "/ap/users/nobody"} {
			if st, _, body := getDoc(t, s, s.url+path, ""); st != 404 {
				t.Errorf("%s: %d %s", path, st, body)
			}
		}
	})
	t.Run("host-meta points at webfinger", func(t *testing.T) {
		st, _, body := getDoc(t, s, s.url+"/.well-known/host-meta", "")
		if st != 200 || !strings.Contains(string(body), s.url+"/.well-known/webfinger?resource={uri}") {
			t.Fatalf("%d %s", st, body)
		}
	})
	t.Run("nodeinfo 2.0 and 2.1 name the software", func(t *testing.T) {
		for _, v := range []string{"2.0", "2.1"} {
			st, h, body := getDoc(t, s, s.url+"/nodeinfo/"+v, "")
			if st != 200 || !strings.Contains(h.Get("Content-Type"), "schema/"+v) || !strings.Contains(string(body), `"name":"lyceum"`) {
				t.Fatalf("%d %s %s", st, h.Get("Content-Type"), body)
			}
		}
	})
	t.Run("actors are served as activity+json and ld+json", func(t *testing.T) {
		for _, acc := range []string{apType, `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`} {
			st, h, body := getDoc(t, s, alice, acc)
			var doc map[string]any
			if st != 200 || h.Get("Content-Type") != apType || json.Unmarshal(body, &doc) != nil {
				t.Fatalf("%d %s", st, body)
			}
			for _, k := range []string{"inbox", "outbox", "followers", "following", "featured", "endpoints", "preferredUsername", "name", "summary", "icon", "url", "published", "manuallyApprovesFollowers", "discoverable", "publicKey"} {
				if _, ok := doc[k]; !ok {
					t.Errorf("actor without %s", k)
				}
			}
		}
		_, _, body := getDoc(t, s, s.url+"/ap/users/maths", apType)
		if !strings.Contains(string(body), `"type":"Group"`) {
			t.Fatalf("community: %s", body)
		}
		_, _, body = getDoc(t, s, s.url+"/ap/instance", apType)
		if !strings.Contains(string(body), `"type":"Application"`) {
			t.Fatalf("instance actor: %s", body)
		}
		// Every collection an actor names can be dereferenced: GoToSocial
		// fetches featured of every actor it meets, the instance's too.
		var inst map[string]any
		if err := json.Unmarshal(body, &inst); err != nil {
			t.Fatal(err)
		}
		for _, coll := range []string{"outbox", "followers", "following", "featured"} {
			u, _ := inst[coll].(string)
			if !strings.HasPrefix(u, s.url+"/") {
				t.Fatalf("instance actor's %s: %q", coll, u)
			}
			if st, _, cbody := getDoc(t, s, u, apType); st != 200 || !strings.Contains(string(cbody), `"OrderedCollection"`) {
				t.Fatalf("GET %s: %d %s", u, st, cbody)
			}
		}
	})
	t.Run("the icon is an identicon PNG", func(t *testing.T) {
		st, h, body := getDoc(t, s, alice+"/avatar.png", "")
		if st != 200 || h.Get("Content-Type") != "image/png" || !bytes.HasPrefix(body, []byte("\x89PNG")) {
			t.Fatalf("%d %s", st, h.Get("Content-Type"))
		}
	})
	t.Run("browsers get a web page at the same URL", func(t *testing.T) {
		st, h, body := getDoc(t, s, alice, "text/html,application/xhtml+xml")
		if st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "@alice@"+s.host) {
			t.Fatalf("%d %s", st, body)
		}
	})
	t.Run("collections are ordered collections", func(t *testing.T) {
		for _, c := range []string{"outbox", "followers", "following", "featured"} {
			st, _, body := getDoc(t, s, alice+"/"+c, apType)
			if st != 200 || !strings.Contains(string(body), `"type":"OrderedCollection"`) {
				t.Fatalf("%s: %d %s", c, st, body)
			}
		}
	})
}

// The RSA key of a bridged actor is made once and kept: a restarted
// bridge publishes the same key.
func TestActorKeysSurviveRestarts(t *testing.T) {
	s := newSite(t)
	s.actor(t, "alice", activity.Person)
	_, _, before := getDoc(t, s, s.url+"/ap/users/alice", apType)
	db := s.bridge.cfg.DBPath
	again, err := New(Config{PublicURL: s.url, DBPath: db, Client: s.bridge.cfg.Client, Delivery: s.queue}, servicesOf(s.node))
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	la, _ := s.node.Social().LocalActorByName(context.Background(), "alice")
	doc, err := again.renderActor(context.Background(), la)
	if err != nil {
		t.Fatal(err)
	}
	var first map[string]any
	_ = json.Unmarshal(before, &first)
	if doc["publicKey"].(obj)["publicKeyPem"] != first["publicKey"].(map[string]any)["publicKeyPem"] {
		t.Fatal("the key changed across a restart")
	}
	if filepath.Base(db) != "fediverse.db" {
		t.Fatalf("db = %s", db)
	}
}

// With authorized fetch, JSON documents need a signed GET; web pages,
// WebFinger and the instance actor stay open.
func TestAuthorizedFetch(t *testing.T) {
	s := newSite(t, func(c *Config) { c.AuthorizedFetch = true })
	s.actor(t, "alice", activity.Person)
	f := newFakeServer(t, "mastodon", "eve")
	alice := s.url + "/ap/users/alice"
	if st, _, _ := getDoc(t, s, alice, apType); st != http.StatusUnauthorized {
		t.Fatalf("unsigned fetch: %d, want 401", st)
	}
	for _, u := range []string{s.url + "/ap/instance", s.url + "/.well-known/webfinger?resource=acct:alice@" + s.host} {
		if st, _, _ := getDoc(t, s, u, apType); st != 200 {
			t.Fatalf("%s: %d", u, st)
		}
	}
	if st, _, _ := getDoc(t, s, alice, "text/html"); st != 200 {
		t.Fatalf("web page: %d", st)
	}
	req, _ := http.NewRequest(http.MethodGet, alice, nil)
	req.Header.Set("Accept", apType)
	if err := httpsig.Sign(req, nil, f.actor("eve")+"#main-key", f.keys["eve"], time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := s.bridge.cfg.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("signed fetch: %d", resp.StatusCode)
	}
}

// Behind a TLS proxy, the Host a remote server signed is the public one,
// passed on in X-Forwarded-Host: believed from trusted proxies only.
func TestForwardedHostIsTrustedOnlyFromConfiguredProxies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proxies []netip.Prefix
		want    int
	}{
		{"from a trusted proxy the signed public host verifies", loopback, http.StatusAccepted},
		{"from anyone else it is ignored", nil, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, func(c *Config) { c.TrustedProxies = tc.proxies })
			s.actor(t, "alice", activity.Person)
			f := newFakeServer(t, "mastodon", "eve")
			resp := f.post(t, s.url+"/ap/inbox", "", obj{"id": f.url + "/l/1", "type": "Like", "actor": f.actor("eve"), "object": s.url + "/ap/users/alice"},
				func(r *http.Request) {
					body, _ := r.GetBody()
					data := make([]byte, r.ContentLength)
					_, _ = body.Read(data)
					r.Host = "lyceum.example.org" // what the remote server signed
					_ = httpsig.Sign(r, data, f.actor("eve")+"#main-key", f.keys["eve"], time.Now())
					r.Host = ""
					r.Header.Set("X-Forwarded-Host", "lyceum.example.org")
					r.Header.Set("X-Forwarded-Proto", "https")
				})
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

// The gateway mounts the bridge: discovery is public, the management
// calls need the API token.
func TestGatewayMountsTheBridge(t *testing.T) {
	s := newSite(t)
	s.actor(t, "alice", activity.Person)
	srv, err := gateway.New(gateway.Config{Token: "secret", Fediverse: s.bridge}, gateway.Services{Identity: s.node.Swarm()})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	do := func(path, token string) int {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	if st := do("/.well-known/webfinger?resource=acct:alice@"+s.host, ""); st != 200 {
		t.Fatalf("webfinger through the gateway: %d", st)
	}
	if st := do("/api/v1/fediverse/followers/alice", ""); st != http.StatusUnauthorized {
		t.Fatalf("management call without the token: %d", st)
	}
	if st := do("/api/v1/fediverse/followers/alice", "secret"); st != 200 {
		t.Fatalf("management call with the token: %d", st)
	}
}

// Servers preview images but will not fetch a PDF: an image goes as the
// attachment, a PDF as a download link in the content, with its ipfs://
// address, licence and hashtags.
func TestNotesLinkFilesAndAttachImages(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	s.actor(t, "alice", activity.Person)
	dir := t.TempDir()
	for _, tc := range []struct {
		file       string
		attachment bool
	}{{"diagram.png", true}, {"worksheet.pdf", false}} {
		path := filepath.Join(dir, tc.file)
		if err := os.WriteFile(path, []byte("bytes of "+tc.file), 0o644); err != nil {
			t.Fatal(err)
		}
		// As `lyceum publish FILE` does: add the file, publish it by CID.
		c, err := s.node.Content().AddPath(ctx, path, api.AddOptions{CIDVersion: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := s.node.Social().Publish(ctx, api.PublishRequest{As: "alice", FileCID: c.String(), Filename: tc.file, Title: "About " + tc.file,
			License: "CC-BY-SA-4.0", Language: "fr", Subjects: []string{"0533"}, Keywords: []string{"travaux pratiques"}})
		if err != nil {
			t.Fatal(err)
		}
		_, _, body := getDoc(t, s, s.url+"/ap/resources/"+pub.ID, apType)
		var note struct {
			Content    string
			ContentMap map[string]string
			Attachment []map[string]any
			Tag        []map[string]any
		}
		if err := json.Unmarshal(body, &note); err != nil {
			t.Fatal(err)
		}
		if (len(note.Attachment) == 1) != tc.attachment {
			t.Fatalf("%s: attachments %v", tc.file, note.Attachment)
		}
		for _, want := range []string{"Download " + tc.file, "ipfs://" + pub.FileCID, "creativecommons.org/licenses/by-sa/4.0", "#<span>TravauxPratiques</span>"} {
			if !strings.Contains(note.Content, want) {
				t.Errorf("%s: content lacks %q: %s", tc.file, want, note.Content)
			}
		}
		if note.ContentMap["fr"] != note.Content || len(note.Tag) != 2 || note.Tag[0]["type"] != "Hashtag" {
			t.Fatalf("%s: contentMap or tags wrong: %s", tc.file, body)
		}
	}
}
