package httpsig_test

// The test peer: an independent, maintained implementation of draft-cavage
// HTTP Signatures (GoToSocial's fork of go-fed/httpsig) signs requests that
// our Verifier must accept or refuse, and verifies the requests we sign,
// with Mastodon's rules checked on top of it by code written here from
// Mastodon's signature_verification.rb, not by ours.

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	peer "code.superseriousbusiness.org/httpsig"

	"github.com/lyceum-oer/lyceum/gateway/httpsig"
)

// inbox serves POST and GET with our Verifier in front and records the
// last verification error.
type inbox struct {
	v       *httpsig.Verifier
	lastErr error
	owner   string
}

func (in *inbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	k, err := in.v.Verify(r.Context(), r, body)
	in.lastErr, in.owner = err, k.Owner
	if err != nil {
		http.Error(w, err.Error(), httpsig.Status(err))
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// peerSign signs r with the independent library, as a remote server would.
func peerSign(t *testing.T, r *http.Request, body []byte, key *rsa.PrivateKey, keyID string, headers ...string) {
	t.Helper()
	s, _, err := peer.NewSigner([]peer.Algorithm{peer.RSA_SHA256}, peer.DigestSha256, headers, peer.Signature, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The library signs the Host header field, which a client request
	// only has in r.Host: set it as GoToSocial's transport does.
	r.Header.Set("Host", r.URL.Host)
	if err := s.SignRequest(key, keyID, r, body); err != nil {
		t.Fatal(err)
	}
}

func TestPeerSignedRequests(t *testing.T) {
	a, b := testKeys(t)
	in := &inbox{v: httpsig.NewVerifier(newKeyDir())}
	srv := httptest.NewServer(in)
	defer srv.Close()
	body := []byte(`{"@context":"https://www.w3.org/ns/activitystreams","type":"Follow","actor":"` + actorA + `"}`)

	post := func(t *testing.T, signedBody, sentBody []byte, key *rsa.PrivateKey, keyID string, date time.Time, headers ...string) int {
		t.Helper()
		r, err := http.NewRequest(http.MethodPost, srv.URL+"/users/carol/inbox", bytes.NewReader(sentBody))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Content-Type", "application/activity+json")
		r.Header.Set("Date", date.UTC().Format(http.TimeFormat))
		if key != nil {
			peerSign(t, r, signedBody, key, keyID, headers...)
		}
		resp, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	mastodonPOST := []string{peer.RequestTarget, "host", "date", "digest"}

	t.Run("a POST signed by the peer as Mastodon signs is accepted", func(t *testing.T) {
		if s := post(t, body, body, a, actorA+"#main-key", time.Now(), mastodonPOST...); s != http.StatusAccepted {
			t.Fatalf("status %d: %v", s, in.lastErr)
		}
		if in.owner != actorA {
			t.Fatalf("owner %q", in.owner)
		}
	})
	t.Run("a POST signed by the peer with an actor URL key id is accepted", func(t *testing.T) {
		if s := post(t, body, body, a, actorA, time.Now(), mastodonPOST...); s != http.StatusAccepted {
			t.Fatalf("status %d: %v", s, in.lastErr)
		}
	})
	t.Run("a GET signed by the peer is accepted", func(t *testing.T) {
		r, _ := http.NewRequest(http.MethodGet, srv.URL+"/users/carol/outbox?page=true", nil)
		r.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		peerSign(t, r, nil, a, actorA+"#main-key", peer.RequestTarget, "host", "date")
		resp, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("status %d: %v", resp.StatusCode, in.lastErr)
		}
	})

	for _, tc := range []struct {
		name   string
		send   func(t *testing.T) int
		want   error
		status int
	}{
		{"an unsigned POST", func(t *testing.T) int {
			return post(t, nil, body, nil, "", time.Now())
		}, httpsig.ErrNoSignature, 401},
		{"a POST whose body was changed after signing", func(t *testing.T) int {
			return post(t, body, append([]byte(nil), strings.Replace(string(body), "Follow", "Block", 1)...), a, actorA+"#main-key", time.Now(), mastodonPOST...)
		}, httpsig.ErrDigest, 401},
		{"a POST dated two hours ago", func(t *testing.T) int {
			return post(t, body, body, a, actorA+"#main-key", time.Now().Add(-2*time.Hour), mastodonPOST...)
		}, httpsig.ErrStale, 401},
		{"a POST signed with another actor's key", func(t *testing.T) int {
			return post(t, body, body, b, actorA+"#main-key", time.Now(), mastodonPOST...)
		}, httpsig.ErrBadSignature, 401},
		{"a POST that does not sign its digest", func(t *testing.T) int {
			return post(t, body, body, a, actorA+"#main-key", time.Now(), peer.RequestTarget, "host", "date")
		}, httpsig.ErrNotSigned, 401},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			if s := tc.send(t); s != tc.status {
				t.Fatalf("status %d, want %d (%v)", s, tc.status, in.lastErr)
			}
			if !errors.Is(in.lastErr, tc.want) {
				t.Fatalf("err %v, want %v", in.lastErr, tc.want)
			}
		})
	}
}

// mastodonInbox checks requests the way Mastodon does, with the peer
// library doing the cryptography.
type mastodonInbox struct {
	keys   map[string]*rsa.PublicKey
	reason string
}

func (m *mastodonInbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.reason = m.check(r)
	if m.reason != "" {
		http.Error(w, m.reason, http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (m *mastodonInbox) check(r *http.Request) string {
	body, _ := io.ReadAll(r.Body)
	sig := r.Header.Get("Signature")
	if sig == "" {
		return "no signature"
	}
	// The signed headers, read independently of our parser.
	var signed []string
	for _, part := range strings.Split(sig, ",") {
		if v, ok := strings.CutPrefix(part, `headers="`); ok {
			signed = strings.Fields(strings.TrimSuffix(v, `"`))
		}
		if v, ok := strings.CutPrefix(part, `algorithm="`); ok {
			if alg := strings.TrimSuffix(v, `"`); alg != "rsa-sha256" && alg != "hs2019" {
				return "algorithm " + alg
			}
		}
	}
	has := func(h string) bool {
		for _, s := range signed {
			if s == h {
				return true
			}
		}
		return false
	}
	if !has("date") || !has("(request-target)") {
		return "date and (request-target) must be signed"
	}
	if r.Method == http.MethodGet && !has("host") {
		return "host must be signed on GET"
	}
	if r.Method == http.MethodPost {
		if !has("digest") {
			return "digest must be signed on POST"
		}
		sum := sha256.Sum256(body)
		if r.Header.Get("Digest") != "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]) {
			return "digest mismatch"
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/activity+json" {
			return "content type " + ct
		}
	}
	date, err := http.ParseTime(r.Header.Get("Date"))
	if err != nil {
		return "bad date"
	}
	if d := time.Since(date); d > time.Hour+5*time.Minute || d < -time.Hour {
		return "date outside the window"
	}
	v, err := peer.NewVerifier(r)
	if err != nil {
		return err.Error()
	}
	key := m.keys[v.KeyId()]
	if key == nil {
		return "unknown key " + v.KeyId()
	}
	if err := v.Verify(key, peer.RSA_SHA256); err != nil {
		return "signature: " + err.Error()
	}
	return ""
}

func TestPeerVerifiesOurSignatures(t *testing.T) {
	a, _ := testKeys(t)
	m := &mastodonInbox{keys: map[string]*rsa.PublicKey{actorA + "#main-key": &a.PublicKey}}
	srv := httptest.NewServer(m)
	defer srv.Close()
	body := []byte(`{"type":"Create"}`)

	send := func(t *testing.T, r *http.Request) {
		t.Helper()
		resp, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("refused: %s", m.reason)
		}
	}
	t.Run("our POST passes Mastodon's rules", func(t *testing.T) {
		r, _ := http.NewRequest(http.MethodPost, srv.URL+"/inbox", nil)
		r.Header.Set("Content-Type", "application/activity+json")
		if err := httpsig.Sign(r, body, actorA+"#main-key", a, time.Now()); err != nil {
			t.Fatal(err)
		}
		send(t, r)
	})
	t.Run("our GET passes Mastodon's rules", func(t *testing.T) {
		r, _ := http.NewRequest(http.MethodGet, srv.URL+"/users/x/outbox?page=true", nil)
		if err := httpsig.Sign(r, nil, actorA+"#main-key", a, time.Now()); err != nil {
			t.Fatal(err)
		}
		send(t, r)
	})
	t.Run("a POST we signed an hour and a half ago is refused by the peer", func(t *testing.T) {
		r, _ := http.NewRequest(http.MethodPost, srv.URL+"/inbox", nil)
		r.Header.Set("Content-Type", "application/activity+json")
		if err := httpsig.Sign(r, body, actorA+"#main-key", a, time.Now().Add(-90*time.Minute)); err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}

// The peer's verifier is real: it refuses a signature whose bytes we
// corrupt, so the acceptance above means something.
func TestPeerRefusesCorruptedSignature(t *testing.T) {
	a, _ := testKeys(t)
	m := &mastodonInbox{keys: map[string]*rsa.PublicKey{actorA + "#main-key": &a.PublicKey}}
	r := httptest.NewRequest(http.MethodGet, "http://lyceum.example/x", nil)
	if err := httpsig.Sign(r, nil, actorA+"#main-key", a, time.Now()); err != nil {
		t.Fatal(err)
	}
	s := r.Header.Get("Signature")
	i := strings.Index(s, `signature="`) + len(`signature="`)
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	r.Header.Set("Signature", s[:i]+string(c)+s[i+1:])
	if reason := m.check(r); !strings.HasPrefix(reason, "signature") {
		t.Fatalf("peer said %q", reason)
	}
}
