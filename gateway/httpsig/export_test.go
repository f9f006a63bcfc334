package httpsig

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
)

// SignHeaders signs r over any list of headers, to build requests that
// Sign would never make. Headers such as Digest must already be set.
func SignHeaders(r *http.Request, _ []byte, keyID, alg string, headers []string, key *rsa.PrivateKey) error {
	return signParams(r, Params{KeyID: keyID, Algorithm: alg, Headers: headers}, key)
}

// SignCreated signs r with hs2019 and (created)/(expires) parameters.
func SignCreated(r *http.Request, _ []byte, keyID string, headers []string, created, expires int64, key *rsa.PrivateKey) error {
	return signParams(r, Params{KeyID: keyID, Algorithm: "hs2019", Headers: headers, Created: created, Expires: expires}, key)
}

func signParams(r *http.Request, p Params, key *rsa.PrivateKey) error {
	s, err := signingString(r, p, r.URL.RequestURI())
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(s))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return err
	}
	v := fmt.Sprintf(`keyId="%s",algorithm="%s",headers="%s",signature="%s"`, p.KeyID, p.Algorithm,
		strings.Join(p.Headers, " "), base64.StdEncoding.EncodeToString(sig))
	if p.Created != 0 {
		v += fmt.Sprintf(",created=%d", p.Created)
	}
	if p.Expires != 0 {
		v += fmt.Sprintf(",expires=%d", p.Expires)
	}
	r.Header.Set("Signature", v)
	return nil
}
