package httpsig_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/gateway/httpsig"
)

// keys are generated once per test binary: RSA generation is slow.
var (
	keysOnce sync.Once
	keyA     *rsa.PrivateKey
	keyB     *rsa.PrivateKey
)

func testKeys(tb testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	tb.Helper()
	keysOnce.Do(func() {
		var err error
		if keyA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if keyB, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return keyA, keyB
}

const (
	actorA = "https://remote.example/users/alice"
	actorB = "https://remote.example/users/bob"
)

// keyDir is a KeyFetcher over a fixed set of keys, counting fetches. A
// key id without a fragment names the actor itself, as actor documents
// do.
type keyDir struct {
	mu      sync.Mutex
	keys    map[string]httpsig.PublicKey // by key id
	stale   map[string]httpsig.PublicKey // what a cached lookup returns
	fetches []string
}

func newKeyDir() *keyDir {
	a, b := keyA, keyB
	return &keyDir{keys: map[string]httpsig.PublicKey{
		actorA + "#main-key": {ID: actorA + "#main-key", Owner: actorA, Key: &a.PublicKey},
		actorB + "#main-key": {ID: actorB + "#main-key", Owner: actorB, Key: &b.PublicKey},
	}, stale: map[string]httpsig.PublicKey{}}
}

func (d *keyDir) FetchKey(_ context.Context, keyID string, refresh bool) (httpsig.PublicKey, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fetches = append(d.fetches, fmt.Sprintf("%s refresh=%v", keyID, refresh))
	if k, ok := d.stale[keyID]; ok && !refresh {
		return k, nil
	}
	if k, ok := d.keys[keyID]; ok {
		return k, nil
	}
	// An actor URL: its document's key.
	if k, ok := d.keys[keyID+"#main-key"]; ok {
		return k, nil
	}
	return httpsig.PublicKey{}, errors.New("404 not found")
}

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

func newPost(tb testing.TB, body string) *http.Request {
	tb.Helper()
	r := httptest.NewRequest(http.MethodPost, "https://lyceum.example/inbox", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/activity+json")
	return r
}

func TestSignedRequestsVerify(t *testing.T) {
	a, _ := testKeys(t)
	body := []byte(`{"type":"Create","actor":"` + actorA + `"}`)
	for _, tc := range []struct {
		name, method, target, keyID string
	}{
		{"a POST signed with a fragment key id verifies", http.MethodPost, "https://lyceum.example/inbox", actorA + "#main-key"},
		{"a POST signed with the actor URL as key id verifies", http.MethodPost, "https://lyceum.example/inbox", actorA},
		{"a GET verifies", http.MethodGet, "https://lyceum.example/users/carol", actorA + "#main-key"},
		{"a GET with a query verifies", http.MethodGet, "https://lyceum.example/users/carol/outbox?page=2", actorA + "#main-key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b []byte
			if tc.method == http.MethodPost {
				b = body
			}
			r := httptest.NewRequest(tc.method, tc.target, nil)
			if err := httpsig.Sign(r, b, tc.keyID, a, now); err != nil {
				t.Fatal(err)
			}
			if tc.method == http.MethodPost && r.Header.Get("Digest") != httpsig.Digest(body) {
				t.Fatalf("Digest = %q", r.Header.Get("Digest"))
			}
			k, err := httpsig.NewVerifier(newKeyDir(), httpsig.WithClock(clock)).Verify(context.Background(), r, b)
			if err != nil {
				t.Fatal(err)
			}
			if k.Owner != actorA {
				t.Fatalf("owner %q", k.Owner)
			}
		})
	}
}

func TestSignSetsMastodonHeaders(t *testing.T) {
	a, _ := testKeys(t)
	post := newPost(t, "{}")
	if err := httpsig.Sign(post, []byte("{}"), actorA+"#main-key", a, now); err != nil {
		t.Fatal(err)
	}
	p, err := httpsig.ParseSignature(post.Header.Get("Signature"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Headers, " "); got != "(request-target) host date digest" || p.Algorithm != "rsa-sha256" {
		t.Fatalf("POST signs %q with %q", got, p.Algorithm)
	}
	if post.Header.Get("Date") != "Tue, 01 Dec 2026 12:00:00 GMT" {
		t.Fatalf("Date %q", post.Header.Get("Date"))
	}
	get := httptest.NewRequest(http.MethodGet, "https://lyceum.example/x", nil)
	if err := httpsig.Sign(get, nil, actorA+"#main-key", a, now); err != nil {
		t.Fatal(err)
	}
	p, _ = httpsig.ParseSignature(get.Header.Get("Signature"))
	if got := strings.Join(p.Headers, " "); got != "(request-target) host date" || get.Header.Get("Digest") != "" {
		t.Fatalf("GET signs %q, Digest %q", got, get.Header.Get("Digest"))
	}
}

// resign replaces the Signature of r by one over headers, made by key.
func resign(t *testing.T, r *http.Request, key *rsa.PrivateKey, keyID, alg string, headers []string, body []byte) {
	t.Helper()
	if err := httpsig.SignHeaders(r, body, keyID, alg, headers, key); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyRefuses(t *testing.T) {
	a, b := testKeys(t)
	body := []byte(`{"type":"Like"}`)
	signed := func(t *testing.T, at time.Time) *http.Request {
		r := newPost(t, string(body))
		if err := httpsig.Sign(r, body, actorA+"#main-key", a, at); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tc := range []struct {
		name   string
		req    func(t *testing.T) (*http.Request, []byte)
		want   error
		status int
	}{
		{"a request without a signature", func(t *testing.T) (*http.Request, []byte) {
			return newPost(t, string(body)), body
		}, httpsig.ErrNoSignature, 401},
		{"a tampered body", func(t *testing.T) (*http.Request, []byte) {
			return signed(t, now), []byte(`{"type":"Like","x":1}`)
		}, httpsig.ErrDigest, 401},
		{"a wrong digest re-signed by the sender", func(t *testing.T) (*http.Request, []byte) {
			r := signed(t, now)
			r.Header.Set("Digest", httpsig.Digest([]byte("other")))
			resign(t, r, a, actorA+"#main-key", "rsa-sha256", []string{"(request-target)", "host", "date", "digest"}, nil)
			return r, body
		}, httpsig.ErrDigest, 401},
		{"a digest with SHA-512 only", func(t *testing.T) (*http.Request, []byte) {
			r := signed(t, now)
			r.Header.Set("Digest", "SHA-512=AAAA")
			resign(t, r, a, actorA+"#main-key", "rsa-sha256", []string{"(request-target)", "host", "date", "digest"}, nil)
			return r, body
		}, httpsig.ErrDigest, 401},
		{"a Date two hours old", func(t *testing.T) (*http.Request, []byte) {
			return signed(t, now.Add(-2*time.Hour)), body
		}, httpsig.ErrStale, 401},
		{"a Date two hours ahead", func(t *testing.T) (*http.Request, []byte) {
			return signed(t, now.Add(2*time.Hour)), body
		}, httpsig.ErrStale, 401},
		{"a signature by another actor's key", func(t *testing.T) (*http.Request, []byte) {
			r := newPost(t, string(body))
			if err := httpsig.Sign(r, body, actorA+"#main-key", b, now); err != nil {
				t.Fatal(err)
			}
			return r, body
		}, httpsig.ErrBadSignature, 401},
		{"a key id nobody serves", func(t *testing.T) (*http.Request, []byte) {
			r := newPost(t, string(body))
			if err := httpsig.Sign(r, body, "https://remote.example/users/nobody#main-key", a, now); err != nil {
				t.Fatal(err)
			}
			return r, body
		}, httpsig.ErrKeyUnavailable, 401},
		{"a POST that does not sign digest", func(t *testing.T) (*http.Request, []byte) {
			r := signed(t, now)
			resign(t, r, a, actorA+"#main-key", "rsa-sha256", []string{"(request-target)", "host", "date"}, nil)
			return r, body
		}, httpsig.ErrNotSigned, 401},
		{"a GET that does not sign host", func(t *testing.T) (*http.Request, []byte) {
			r := httptest.NewRequest(http.MethodGet, "https://lyceum.example/x", nil)
			r.Header.Set("Date", now.Format(http.TimeFormat))
			resign(t, r, a, actorA+"#main-key", "rsa-sha256", []string{"(request-target)", "date"}, nil)
			return r, nil
		}, httpsig.ErrNotSigned, 401},
		{"a signature that does not sign the request target", func(t *testing.T) (*http.Request, []byte) {
			r := signed(t, now)
			resign(t, r, a, actorA+"#main-key", "rsa-sha256", []string{"host", "date", "digest"}, nil)
			return r, body
		}, httpsig.ErrNotSigned, 401},
		{"a signature without a headers parameter (date only)", func(t *testing.T) (*http.Request, []byte) {
			r := signed(t, now)
			r.Header.Set("Signature", `keyId="`+actorA+`#main-key",signature="AAAA"`)
			return r, body
		}, httpsig.ErrNotSigned, 401},
		{"an rsa-sha512 signature", func(t *testing.T) (*http.Request, []byte) {
			r := signed(t, now)
			r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), "rsa-sha256", "rsa-sha512", 1))
			return r, body
		}, httpsig.ErrAlgorithm, 401},
		{"a request to another path than the one signed", func(t *testing.T) (*http.Request, []byte) {
			r := signed(t, now)
			r2 := httptest.NewRequest(http.MethodPost, "https://lyceum.example/users/x/inbox", bytes.NewReader(body))
			r2.Header = r.Header
			return r2, body
		}, httpsig.ErrBadSignature, 401},
		{"two Signature headers", func(t *testing.T) (*http.Request, []byte) {
			r := signed(t, now)
			r.Header.Add("Signature", r.Header.Get("Signature"))
			return r, body
		}, httpsig.ErrMalformed, 400},
		{"a garbled Signature header", func(t *testing.T) (*http.Request, []byte) {
			r := signed(t, now)
			r.Header.Set("Signature", `keyId="x",signature=`)
			return r, body
		}, httpsig.ErrMalformed, 400},
		{"an unparsable Date", func(t *testing.T) (*http.Request, []byte) {
			r := signed(t, now)
			r.Header.Set("Date", "yesterday")
			return r, body
		}, httpsig.ErrMalformed, 400},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			r, b := tc.req(t)
			_, err := httpsig.NewVerifier(newKeyDir(), httpsig.WithClock(clock)).Verify(context.Background(), r, b)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if s := httpsig.Status(err); s != tc.status {
				t.Fatalf("status %d, want %d", s, tc.status)
			}
		})
	}
}

func TestTimeWindowIsMastodons(t *testing.T) {
	a, _ := testKeys(t)
	for _, tc := range []struct {
		name string
		age  time.Duration
		ok   bool
	}{
		{"a Date one hour old is accepted (5 min validity + 1 h skew)", time.Hour, true},
		{"a Date 64 minutes old is accepted", 64 * time.Minute, true},
		{"a Date 66 minutes old is refused", 66 * time.Minute, false},
		{"a Date 59 minutes ahead is accepted", -59 * time.Minute, true},
		{"a Date 61 minutes ahead is refused", -61 * time.Minute, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newPost(t, "{}")
			if err := httpsig.Sign(r, []byte("{}"), actorA+"#main-key", a, now.Add(-tc.age)); err != nil {
				t.Fatal(err)
			}
			_, err := httpsig.NewVerifier(newKeyDir(), httpsig.WithClock(clock)).Verify(context.Background(), r, []byte("{}"))
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, httpsig.ErrStale)) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestHS2019WithCreatedAndExpires(t *testing.T) {
	a, _ := testKeys(t)
	body := []byte("{}")
	r := newPost(t, "{}")
	r.Header.Set("Digest", httpsig.Digest(body))
	created, expires := now.Add(-30*time.Minute).Unix(), now.Add(time.Hour).Unix()
	if err := httpsig.SignCreated(r, body, actorA+"#main-key", []string{"(request-target)", "(created)", "(expires)", "host", "digest"}, created, expires, a); err != nil {
		t.Fatal(err)
	}
	if _, err := httpsig.NewVerifier(newKeyDir(), httpsig.WithClock(clock)).Verify(context.Background(), r, body); err != nil {
		t.Fatal(err)
	}
	// The same signature twelve hours and more later has expired.
	later := func() time.Time { return now.Add(13 * time.Hour) }
	if _, err := httpsig.NewVerifier(newKeyDir(), httpsig.WithClock(later)).Verify(context.Background(), r, body); !errors.Is(err, httpsig.ErrStale) {
		t.Fatalf("err = %v, want ErrStale", err)
	}
}

func TestRotatedKeyIsRefetchedOnce(t *testing.T) {
	a, b := testKeys(t)
	dir := newKeyDir()
	// The cache still holds A's old key (b); A now signs with a.
	dir.stale[actorA+"#main-key"] = httpsig.PublicKey{ID: actorA + "#main-key", Owner: actorA, Key: &b.PublicKey}
	body := []byte("{}")
	r := newPost(t, "{}")
	if err := httpsig.Sign(r, body, actorA+"#main-key", a, now); err != nil {
		t.Fatal(err)
	}
	if _, err := httpsig.NewVerifier(dir, httpsig.WithClock(clock)).Verify(context.Background(), r, body); err != nil {
		t.Fatal(err)
	}
	want := []string{actorA + "#main-key refresh=false", actorA + "#main-key refresh=true"}
	if fmt.Sprint(dir.fetches) != fmt.Sprint(want) {
		t.Fatalf("fetches %v, want %v", dir.fetches, want)
	}

	// A forged signature costs one refetch, not more.
	dir.fetches = nil
	r = newPost(t, "{}")
	if err := httpsig.Sign(r, body, actorB+"#main-key", a, now); err != nil {
		t.Fatal(err)
	}
	if _, err := httpsig.NewVerifier(dir, httpsig.WithClock(clock)).Verify(context.Background(), r, body); !errors.Is(err, httpsig.ErrBadSignature) {
		t.Fatalf("err = %v", err)
	}
	if len(dir.fetches) != 2 {
		t.Fatalf("fetches %v", dir.fetches)
	}
}

// What the fetcher says went wrong reaches the verifier's caller, for its
// log and its own error kinds, but never the message for the sender.
func TestFetcherErrorsAreWrappedButNotTold(t *testing.T) {
	a, b := testKeys(t)
	errBusy := errors.New("dial tcp 10.0.0.7:5432: connect: connection refused")
	failing := fetcherFunc(func(context.Context, string, bool) (httpsig.PublicKey, error) { return httpsig.PublicKey{}, errBusy })
	r := newPost(t, "{}")
	if err := httpsig.Sign(r, []byte("{}"), actorA+"#main-key", a, now); err != nil {
		t.Fatal(err)
	}
	_, err := httpsig.NewVerifier(failing, httpsig.WithClock(clock)).Verify(context.Background(), r, []byte("{}"))
	if !errors.Is(err, httpsig.ErrKeyUnavailable) || !errors.Is(err, errBusy) {
		t.Fatalf("err = %v, want ErrKeyUnavailable wrapping the fetcher's error", err)
	}
	if m := httpsig.Message(err); strings.Contains(m, "refused") || strings.Contains(m, "10.0.0.7") || strings.Contains(m, actorA) {
		t.Fatalf("message %q tells the fetcher's error", m)
	}
	// A refetch that fails after a bad signature: a bad signature, no more.
	dir := newKeyDir()
	r = newPost(t, "{}")
	if err := httpsig.Sign(r, []byte("{}"), actorA+"#main-key", b, now); err != nil {
		t.Fatal(err)
	}
	calls := 0
	flaky := fetcherFunc(func(ctx context.Context, id string, refresh bool) (httpsig.PublicKey, error) {
		if calls++; refresh {
			return httpsig.PublicKey{}, errBusy
		}
		return dir.FetchKey(ctx, id, false)
	})
	_, err = httpsig.NewVerifier(flaky, httpsig.WithClock(clock)).Verify(context.Background(), r, []byte("{}"))
	if !errors.Is(err, httpsig.ErrBadSignature) || errors.Is(err, httpsig.ErrKeyUnavailable) {
		t.Fatalf("err = %v, want ErrBadSignature only", err)
	}
	if m := httpsig.Message(err); m != "signature could not be verified" {
		t.Fatalf("message %q", m)
	}
}

// Message tells the sender what was wrong with its request.
func TestMessageDescribesTheRequest(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{httpsig.ErrNoSignature, "request is not signed"},
		{fmt.Errorf("%w: expired 3h0m0s ago", httpsig.ErrStale), "signature outside the accepted time window: expired 3h0m0s ago"},
		{fmt.Errorf("%w: digest", httpsig.ErrNotSigned), "required header not signed: digest"},
		{errors.New("disk I/O error: /var/lib/lyceum/fediverse.db"), "signature could not be verified"},
	} {
		if got := httpsig.Message(tc.err); got != tc.want {
			t.Errorf("Message(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestFetcherMustReturnTheNamedKey(t *testing.T) {
	a, _ := testKeys(t)
	// A fetcher that answers with another actor's key is not believed.
	liar := fetcherFunc(func(context.Context, string, bool) (httpsig.PublicKey, error) {
		return httpsig.PublicKey{ID: actorB + "#main-key", Owner: actorB, Key: &a.PublicKey}, nil
	})
	r := newPost(t, "{}")
	if err := httpsig.Sign(r, []byte("{}"), actorA+"#main-key", a, now); err != nil {
		t.Fatal(err)
	}
	if _, err := httpsig.NewVerifier(liar, httpsig.WithClock(clock)).Verify(context.Background(), r, []byte("{}")); !errors.Is(err, httpsig.ErrKeyUnavailable) {
		t.Fatalf("err = %v", err)
	}
}

type fetcherFunc func(context.Context, string, bool) (httpsig.PublicKey, error)

func (f fetcherFunc) FetchKey(ctx context.Context, id string, refresh bool) (httpsig.PublicKey, error) {
	return f(ctx, id, refresh)
}

func TestSmallKeysAreRefused(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	f := fetcherFunc(func(context.Context, string, bool) (httpsig.PublicKey, error) {
		return httpsig.PublicKey{ID: actorA + "#main-key", Owner: actorA, Key: &small.PublicKey}, nil
	})
	r := newPost(t, "{}")
	if err := httpsig.Sign(r, []byte("{}"), actorA+"#main-key", small, now); err != nil {
		t.Fatal(err)
	}
	if _, err := httpsig.NewVerifier(f, httpsig.WithClock(clock)).Verify(context.Background(), r, []byte("{}")); !errors.Is(err, httpsig.ErrKeyUnavailable) {
		t.Fatalf("err = %v", err)
	}
}

func TestPublicKeyPEMRoundTrip(t *testing.T) {
	a, _ := testKeys(t)
	s, err := httpsig.PublicKeyPEM(&a.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "-----BEGIN PUBLIC KEY-----\n") {
		t.Fatalf("PEM %q", s[:40])
	}
	k, err := httpsig.ParsePublicKeyPEM(s)
	if err != nil || !k.Equal(&a.PublicKey) {
		t.Fatalf("parse: %v", err)
	}
	for _, bad := range []string{"", "not pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"} {
		if _, err := httpsig.ParsePublicKeyPEM(bad); err == nil {
			t.Fatalf("%q parsed", bad)
		}
	}
}

func TestParseSignature(t *testing.T) {
	for _, tc := range []struct {
		name, header string
		ok           bool
	}{
		{"Mastodon's header parses", `keyId="https://a.example/users/x#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="AAAA"`, true},
		{"spaces after commas and unknown parameters are accepted", `keyId="k", foo="bar", signature="AAAA", created=1700000000`, true},
		{"escaped quotes are accepted", `keyId="k\"x",signature="AAAA"`, true},
		{"a missing keyId is refused", `signature="AAAA"`, false},
		{"a missing signature is refused", `keyId="k"`, false},
		{"a repeated parameter is refused", `keyId="k",keyId="j",signature="AAAA"`, false},
		{"an unterminated quote is refused", `keyId="k,signature="AAAA`, false},
		{"a signature that is not base64 is refused", `keyId="k",signature="!!"`, false},
		{"garbage between parameters is refused", `keyId="k" x signature="AAAA"`, false},
		{"a header signed twice is refused", `keyId="k",headers="date date",signature="AAAA"`, false},
		{"a bad header name is refused", `keyId="k",headers="da:te",signature="AAAA"`, false},
		{"a negative created is refused", `keyId="k",created=-1,signature="AAAA"`, false},
		{"an oversized header is refused", `keyId="` + strings.Repeat("k", httpsig.MaxHeaderLen) + `",signature="AAAA"`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := httpsig.ParseSignature(tc.header)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v", err)
			}
			if err != nil && !errors.Is(err, httpsig.ErrMalformed) {
				t.Fatalf("err %v is not ErrMalformed", err)
			}
		})
	}
}

func BenchmarkSign(b *testing.B) {
	a, _ := testKeys(b)
	body := bytes.Repeat([]byte("x"), 2000)
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "https://lyceum.example/inbox", nil)
		if err := httpsig.Sign(r, body, actorA+"#main-key", a, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	a, _ := testKeys(b)
	body := bytes.Repeat([]byte("x"), 2000)
	r := httptest.NewRequest(http.MethodPost, "https://lyceum.example/inbox", nil)
	if err := httpsig.Sign(r, body, actorA+"#main-key", a, now); err != nil {
		b.Fatal(err)
	}
	v := httpsig.NewVerifier(newKeyDir(), httpsig.WithClock(clock))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(context.Background(), r, body); err != nil {
			b.Fatal(err)
		}
	}
}
