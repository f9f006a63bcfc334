package httpsig_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lyceum-oer/lyceum/gateway/httpsig"
)

func FuzzParseSignature(f *testing.F) {
	f.Add(`keyId="https://a.example/users/x#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="AAAA"`)
	f.Add(`keyId="k",algorithm="hs2019",created=1700000000,expires=1700000300,headers="(request-target) (created) (expires) host digest",signature="AAAA"`)
	f.Add(`keyId="k\"",signature="AA=="`)
	f.Fuzz(func(t *testing.T, header string) {
		p, err := httpsig.ParseSignature(header)
		if err != nil {
			if !errors.Is(err, httpsig.ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if p.KeyID == "" || len(p.KeyID) > httpsig.MaxKeyIDLen {
			t.Fatalf("keyId of %d bytes accepted", len(p.KeyID))
		}
		if len(p.Signature) == 0 || len(p.Signature) > httpsig.MaxSignatureLen {
			t.Fatalf("signature of %d bytes accepted", len(p.Signature))
		}
		if len(p.Headers) == 0 || len(p.Headers) > httpsig.MaxSignedHeaders {
			t.Fatalf("%d headers accepted", len(p.Headers))
		}
		seen := map[string]bool{}
		for _, h := range p.Headers {
			if h != strings.ToLower(h) || seen[h] || strings.ContainsAny(h, " \t\r\n:") {
				t.Fatalf("header %q accepted", h)
			}
			seen[h] = true
		}
	})
}

func FuzzDigestSHA256(f *testing.F) {
	f.Add(httpsig.Digest([]byte("hello")))
	f.Add("sha-256=LCa0a2j/xo/5m0U8HTBBNBNCLXBkg7+g+YpeiGJm564=,SHA-512=AAAA")
	f.Add("MD5=AAAA")
	f.Fuzz(func(t *testing.T, header string) {
		sum, err := httpsig.DigestSHA256(header)
		if err != nil {
			if !errors.Is(err, httpsig.ErrMalformed) && !errors.Is(err, httpsig.ErrDigest) {
				t.Fatalf("error %v of no kind", err)
			}
			return
		}
		if len(sum) != sha256.Size {
			t.Fatalf("%d-byte digest accepted", len(sum))
		}
	})
}

// FuzzVerifyHeaders feeds arbitrary Signature, Date and Digest headers to
// Verify: it must answer with one of its error kinds, never panic.
func FuzzVerifyHeaders(f *testing.F) {
	a, _ := testKeys(f)
	r := httptest.NewRequest(http.MethodPost, "https://lyceum.example/inbox", nil)
	if err := httpsig.Sign(r, []byte("{}"), actorA+"#main-key", a, now); err != nil {
		f.Fatal(err)
	}
	f.Add(r.Header.Get("Signature"), r.Header.Get("Date"), r.Header.Get("Digest"), "POST", "{}")
	f.Add(`keyId="k",headers="(request-target) (created)",algorithm="hs2019",created=1,signature="AA=="`, "", "", "GET", "")
	v := httpsig.NewVerifier(newKeyDir(), httpsig.WithClock(clock))
	f.Fuzz(func(t *testing.T, sig, date, digest, method, body string) {
		switch method {
		case "GET", "POST", "HEAD":
		default:
			method = "POST"
		}
		req := httptest.NewRequest(method, "https://lyceum.example/inbox", nil)
		req.Header.Set("Signature", sig)
		req.Header.Set("Date", date)
		req.Header.Set("Digest", digest)
		_, err := v.Verify(context.Background(), req, []byte(body))
		if err != nil && httpsig.Status(err) == http.StatusInternalServerError {
			t.Fatalf("error %v of no kind", err)
		}
	})
}
