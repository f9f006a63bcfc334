package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths.
func selfSigned(tb testing.TB, dir string) (certFile, keyFile string) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lyceum test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile = writeFile(tb, dir, "cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyFile = writeFile(tb, dir, "key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
	return certFile, keyFile
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// fediverseRepo creates a test repo whose gateway serves HTTPS at addr and
// bridges to the fediverse as https://addr.
func fediverseRepo(tb testing.TB, addr, certFile, keyFile string) string {
	tb.Helper()
	repo := filepath.Join(tb.TempDir(), "repo")
	mustLyceum(tb, repo, "init", "--profile", "test")
	path := filepath.Join(repo, "config.toml")
	cfg, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	s := string(cfg)
	for old, repl := range map[string]string{
		`public_url = ''`: `public_url = "https://` + addr + `"`,
		`tls_cert = ''`:   `tls_cert = "` + certFile + `"`,
		`tls_key = ''`:    `tls_key = "` + keyFile + `"`,
	} {
		if !strings.Contains(s, old) {
			tb.Fatalf("config.toml lacks %s", old)
		}
		s = strings.Replace(s, old, repl, 1)
	}
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		tb.Fatal(err)
	}
	return repo
}

// Two daemons that share no libp2p connection (both offline) federate
// through their HTTPS gateways: a person on B follows a person on A by
// WebFinger handle, sees A's new resource, and replies; the reply is a
// comment on A's resource.
func TestTwoDaemonsFederateOverHTTPS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two daemons")
	}
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	t.Setenv("SSL_CERT_FILE", certFile) // the daemons and the CLI trust the test certificate
	addrA, addrB := freeAddr(t), freeAddr(t)
	repoA := fediverseRepo(t, addrA, certFile, keyFile)
	repoB := fediverseRepo(t, addrB, certFile, keyFile)
	startDaemon(t, repoA, "--offline", "--http", addrA)
	startDaemon(t, repoB, "--offline", "--http", addrB)
	mustLyceum(t, repoA, "actor", "create", "alice", "--name", "Alice Martin")
	mustLyceum(t, repoB, "actor", "create", "bob")

	resp, err := http.Get("https://" + addrA + "/.well-known/webfinger?resource=acct:alice@" + addrA)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("webfinger over HTTPS: %v %v", resp, err)
	}
	resp.Body.Close()

	mustLyceum(t, repoB, "fediverse", "follow", "--as", "bob", "alice@"+addrA)
	aliceURL := "https://" + addrA + "/ap/users/alice"
	waitCLI(t, "the follow accepted", func() bool {
		var f map[string]string
		_ = json.Unmarshal([]byte(mustLyceum(t, repoB, "fediverse", "following", "bob", "--json")), &f)
		return f[aliceURL] == "accepted"
	})
	if out := mustLyceum(t, repoA, "fediverse", "followers", "alice"); !strings.Contains(out, "/ap/users/bob") {
		t.Fatalf("followers of alice: %s", out)
	}

	out := mustLyceum(t, repoA, "publish", "https://example.org/fractions", "--as", "alice", "--title", "Fractions worksheet",
		"--license", "CC-BY-4.0", "--language", "en", "--json")
	id := jsonField(t, out, "id").(string)
	noteURL := "https://" + addrA + "/ap/resources/" + id
	waitCLI(t, "the post on B", func() bool {
		return strings.Contains(mustLyceum(t, repoB, "fediverse", "timeline"), "Fractions worksheet")
	})
	mustLyceum(t, repoB, "fediverse", "reply", "--as", "bob", noteURL, "Thank you, Alice!")
	waitCLI(t, "the comment on A", func() bool {
		return strings.Contains(mustLyceum(t, repoA, "fediverse", "interactions", id), "Thank you, Alice!")
	})
	resp, err = http.Get("https://" + addrB + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "lyceum_fediverse_delivered_total") {
		t.Fatal("no delivery metrics on /metrics")
	}
	if r := lyceum(t, repoA, "fediverse", "followers", "nobody"); r.code != exitNotFound {
		t.Fatalf("followers of an unknown actor: exit %d\n%s", r.code, r.stderr)
	}
}

func waitCLI(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
