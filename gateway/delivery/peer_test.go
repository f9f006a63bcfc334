package delivery_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	peer "code.superseriousbusiness.org/httpsig"
)

// TestQueuePOSTsPassMastodonRules has the queue deliver to an inbox that
// checks each POST with an independent HTTP-signature library
// (GoToSocial's httpsig) and Mastodon's rules, written here: signed
// (request-target), host, date and digest, the Digest of the exact body,
// Date within the hour, Content-Type application/activity+json.
func TestQueuePOSTsPassMastodonRules(t *testing.T) {
	pub := &testKey(t).PublicKey
	var mu sync.Mutex
	var problems []string
	accepted := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail := func(p string) {
			mu.Lock()
			problems = append(problems, p)
			mu.Unlock()
			http.Error(w, p, http.StatusUnauthorized)
		}
		b, _ := io.ReadAll(r.Body)
		if ct := r.Header.Get("Content-Type"); ct != "application/activity+json" {
			fail("Content-Type " + ct)
			return
		}
		sum := sha256.Sum256(b)
		if r.Header.Get("Digest") != "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]) {
			fail("Digest " + r.Header.Get("Digest"))
			return
		}
		sig := r.Header.Get("Signature")
		if !strings.Contains(sig, `headers="(request-target) host date digest"`) || !strings.Contains(sig, `algorithm="rsa-sha256"`) {
			fail("Signature " + sig)
			return
		}
		d, err := http.ParseTime(r.Header.Get("Date"))
		if err != nil || time.Since(d).Abs() > time.Hour {
			fail("Date " + r.Header.Get("Date"))
			return
		}
		v, err := peer.NewVerifier(r)
		if err != nil {
			fail(err.Error())
			return
		}
		if v.KeyId() != keyID {
			fail("keyId " + v.KeyId())
			return
		}
		if err := v.Verify(pub, peer.RSA_SHA256); err != nil {
			fail("verify: " + err.Error())
			return
		}
		mu.Lock()
		accepted++
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	q := openQueue(t, filepath.Join(t.TempDir(), "q.db"))
	run(t, q)
	var targets []string
	for _, p := range []string{"/inbox", "/users/bob/inbox", "/c/teachers/inbox"} {
		targets = append(targets, srv.URL+p)
	}
	if err := q.EnqueueBatch(context.Background(), keyID, body, targets); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the queue to settle", func() bool { return q.Stats().Pending == 0 })
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Error(p)
	}
	if accepted != 3 {
		t.Fatalf("%d accepted", accepted)
	}
}
