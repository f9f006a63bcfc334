package fediverse

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	peer "code.superseriousbusiness.org/httpsig"

	"github.com/lyceum-oer/lyceum/gateway/httpsig"
)

// fakeServer is a fediverse server that records what it is sent, in the
// manner of GoToSocial's testrig: it publishes actors with RSA keys and
// NodeInfo naming its software, and verifies the signature of every POST
// it receives (through our httpsig, fetching keys with plain GETs).
type fakeServer struct {
	t        testing.TB
	srv      *httptest.Server
	url      string
	software string
	keys     map[string]*rsa.PrivateKey

	mu       sync.Mutex
	received []received
	docs     map[string]obj // served at /docs/…
	hits     map[string]int // requests by "METHOD path"
	// keyPath, when set, names keys as GoToSocial does: a key document at
	// ACTOR+keyPath (e.g. "/main-key") rather than ACTOR#main-key.
	keyPath string
	// independent makes the server sign and verify with an independent,
	// maintained HTTP-signature library (GoToSocial's fork of go-fed's)
	// instead of ours.
	independent bool
}

type received struct {
	path  string
	doc   map[string]any
	keyID string
	err   error // signature verification
}

func newFakeServer(tb testing.TB, software string, users ...string) *fakeServer {
	tb.Helper()
	f := &fakeServer{t: tb, software: software, keys: map[string]*rsa.PrivateKey{}, docs: map[string]obj{}, hits: map[string]int{}}
	for _, u := range users {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			tb.Fatal(err)
		}
		f.keys[u] = k
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/nodeinfo", func(w http.ResponseWriter, r *http.Request) {
		writeJSONType(w, "application/json", 200, obj{"links": []obj{{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": f.url + "/nodeinfo/2.0"}}})
	})
	mux.HandleFunc("GET /nodeinfo/2.0", func(w http.ResponseWriter, r *http.Request) {
		writeJSONType(w, "application/json", 200, obj{"version": "2.0", "software": obj{"name": f.software, "version": "4.3.0"}})
	})
	mux.HandleFunc("GET /users/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		k, ok := f.key(name)
		if !ok {
			http.NotFound(w, r)
			return
		}
		pub, _ := httpsig.PublicKeyPEM(&k.PublicKey)
		id := f.actor(name)
		writeJSONType(w, apType, 200, obj{
			"@context": []any{asContext, "https://w3id.org/security/v1"}, "id": id, "type": "Person",
			"preferredUsername": name, "inbox": id + "/inbox", "endpoints": obj{"sharedInbox": f.url + "/inbox"},
			"publicKey": obj{"id": f.keyID(name), "owner": id, "publicKeyPem": pub},
		})
	})
	mux.HandleFunc("GET /users/{name}/main-key", func(w http.ResponseWriter, r *http.Request) {
		k, ok := f.key(r.PathValue("name"))
		if !ok || f.keyPath == "" {
			http.NotFound(w, r)
			return
		}
		pub, _ := httpsig.PublicKeyPEM(&k.PublicKey)
		writeJSONType(w, apType, 200, obj{"id": f.keyID(r.PathValue("name")), "owner": f.actor(r.PathValue("name")), "publicKeyPem": pub})
	})
	mux.HandleFunc("GET /notes/{n}", func(w http.ResponseWriter, r *http.Request) {
		writeJSONType(w, apType, 200, obj{"id": f.url + r.URL.Path, "type": "Note", "attributedTo": f.actor(strings.Split(r.PathValue("n"), "-")[0]), "content": "<p>hi</p>"})
	})
	// An open redirect, as many servers have one somewhere.
	mux.HandleFunc("GET /go", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	mux.HandleFunc("GET /docs/", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		doc, ok := f.docs[r.URL.Path]
		f.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		writeJSONType(w, apType, 200, doc)
	})
	verifier := httpsig.NewVerifier(plainKeys{})
	record := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var doc map[string]any
		_ = json.Unmarshal(body, &doc)
		p, _ := httpsig.ParseSignature(r.Header.Get("Signature"))
		var err error
		if f.independent {
			err = peerVerify(r, body)
		} else {
			_, err = verifier.Verify(r.Context(), r, body)
		}
		if r.Header.Get("Content-Type") != apType {
			err = fmt.Errorf("content type %q", r.Header.Get("Content-Type"))
		}
		f.mu.Lock()
		f.received = append(f.received, received{path: r.URL.Path, doc: doc, keyID: p.KeyID, err: err})
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}
	mux.HandleFunc("POST /inbox", record)
	mux.HandleFunc("POST /users/{name}/inbox", record)
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.hits[r.Method+" "+r.URL.Path]++
		f.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	f.url = f.srv.URL
	tb.Cleanup(f.srv.Close)
	return f
}

func (f *fakeServer) actor(name string) string { return f.url + "/users/" + name }

// keyID is the ID of a user's key.
func (f *fakeServer) keyID(name string) string {
	if f.keyPath != "" {
		return f.actor(name) + f.keyPath
	}
	return f.actor(name) + "#main-key"
}

// key is a user's current private key.
func (f *fakeServer) key(name string) (*rsa.PrivateKey, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.keys[name]
	return k, ok
}

// setKey gives a user another key, as an account whose key was rotated.
func (f *fakeServer) setKey(name string, k *rsa.PrivateKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[name] = k
}

// publicKeyPEM is the PEM of a user's current public key.
func (f *fakeServer) publicKeyPEM(tb testing.TB, name string) string {
	tb.Helper()
	k, _ := f.key(name)
	pub, err := httpsig.PublicKeyPEM(&k.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	return pub
}

// gets is how many GETs of path the server answered.
func (f *fakeServer) gets(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits["GET "+path]
}

// serve publishes doc at f.url+path (path under /docs/) and returns its URL.
func (f *fakeServer) serve(path string, doc obj) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.docs[path] = doc
	return f.url + path
}

// got returns what the server received so far.
func (f *fakeServer) got() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.received...)
}

// waitFor waits until a received activity of type typ arrived and returns it.
func (f *fakeServer) waitFor(tb testing.TB, typ string) received {
	tb.Helper()
	var out received
	eventually(tb, typ+" received by the fake server", func() bool {
		for _, r := range f.got() {
			if r.doc["type"] == typ {
				out = r
				return true
			}
		}
		return false
	})
	if out.err != nil {
		tb.Fatalf("%s: signature refused by the receiver: %v", typ, out.err)
	}
	return out
}

// post signs (as user) and POSTs an activity; edit may spoil the request
// after signing.
func (f *fakeServer) post(tb testing.TB, inbox, user string, act obj, edit func(*http.Request)) *http.Response {
	tb.Helper()
	body, _ := json.Marshal(act)
	req, _ := http.NewRequest(http.MethodPost, inbox, bytes.NewReader(body))
	req.Header.Set("Content-Type", apType)
	key, _ := f.key(user)
	switch {
	case user != "" && f.independent:
		peerSign(tb, req, body, f.keyID(user), key)
	case user != "":
		if err := httpsig.Sign(req, body, f.keyID(user), key, time.Now()); err != nil {
			tb.Fatal(err)
		}
	}
	if edit != nil {
		edit(req)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// plainKeys fetches keys with unsigned GETs: the fake server's side.
type plainKeys struct{}

func (plainKeys) FetchKey(ctx context.Context, keyID string, _ bool) (httpsig.PublicKey, error) {
	u, _, _ := strings.Cut(keyID, "#")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	req.Header.Set("Accept", apType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return httpsig.PublicKey{}, err
	}
	defer resp.Body.Close()
	var doc struct {
		PublicKey struct{ ID, Owner, PublicKeyPem string } `json:"publicKey"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return httpsig.PublicKey{}, err
	}
	k, err := httpsig.ParsePublicKeyPEM(doc.PublicKey.PublicKeyPem)
	if err != nil {
		return httpsig.PublicKey{}, err
	}
	return httpsig.PublicKey{ID: doc.PublicKey.ID, Owner: doc.PublicKey.Owner, Key: k}, nil
}

// peerSign signs a POST with the independent library, as GoToSocial does:
// (request-target) host date digest, rsa-sha256.
func peerSign(tb testing.TB, r *http.Request, body []byte, keyID string, key *rsa.PrivateKey) {
	tb.Helper()
	s, _, err := peer.NewSigner([]peer.Algorithm{peer.RSA_SHA256}, peer.DigestSha256,
		[]string{peer.RequestTarget, "host", "date", "digest"}, peer.Signature, 0)
	if err != nil {
		tb.Fatal(err)
	}
	r.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	r.Header.Set("Host", r.URL.Host) // the library signs the Host header field
	if err := s.SignRequest(key, keyID, r, body); err != nil {
		tb.Fatal(err)
	}
}

// peerVerify checks a received POST with the independent library, after
// the checks Mastodon adds to it: the headers it requires to be signed,
// the digest of the body and the date window.
func peerVerify(r *http.Request, body []byte) error {
	p, err := httpsig.ParseSignature(r.Header.Get("Signature"))
	if err != nil {
		return err
	}
	for _, h := range []string{"(request-target)", "host", "date", "digest"} {
		if !p.Signs(h) {
			return fmt.Errorf("%s not signed", h)
		}
	}
	if r.Header.Get("Digest") != httpsig.Digest(body) {
		return errors.New("digest does not match the body")
	}
	date, err := http.ParseTime(r.Header.Get("Date"))
	if err != nil || time.Since(date) > time.Hour || time.Until(date) > time.Hour {
		return errors.New("date outside the window")
	}
	key, err := plainKeys{}.FetchKey(r.Context(), p.KeyID, false)
	if err != nil {
		return err
	}
	r.Header.Set("Host", r.Host) // the library reads the Host header field
	v, err := peer.NewVerifier(r)
	if err != nil {
		return err
	}
	return v.Verify(key.Key, peer.RSA_SHA256)
}
