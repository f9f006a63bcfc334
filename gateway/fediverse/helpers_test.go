package fediverse

import (
	"context"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/gateway/delivery"
	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/nodetest"
)

// TestMain makes the process trust httptest's certificate as a root, so
// that the real federation HTTP client (system roots, address checks)
// talks HTTPS to the test servers on loopback.
func TestMain(m *testing.M) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	srv.Close()
	f, err := os.CreateTemp("", "lyceum-test-root-*.pem")
	if err != nil {
		panic(err)
	}
	_, _ = f.Write(cert)
	f.Close()
	os.Setenv("SSL_CERT_FILE", f.Name())
	code := m.Run()
	os.Remove(f.Name())
	if code == 0 {
		if leak := nodetest.Leaked("fediverse.(*Bridge)", "delivery.(*Queue)"); leak != "" {
			fmt.Fprintf(os.Stderr, "goroutines of the bridge still running after the tests:\n%s\n", leak)
			code = 1
		}
	}
	os.Exit(code)
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// site is one Lyceum node with its bridge, delivery queue and HTTPS
// server on loopback.
type site struct {
	node   *node.Node
	bridge *Bridge
	queue  *delivery.Queue
	srv    *httptest.Server
	url    string
	host   string
}

type siteOption func(*Config)

func newSite(tb testing.TB, opts ...siteOption) *site {
	tb.Helper()
	dir := tb.TempDir()
	if err := node.InitRepo(dir, node.ProfileTest); err != nil {
		tb.Fatal(err)
	}
	repo, err := node.OpenRepo(dir)
	if err != nil {
		tb.Fatal(err)
	}
	n, err := node.New(repo, node.WithOffline())
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	s := &site{node: n, srv: srv, host: srv.Listener.Addr().String()}
	s.url = "https://" + s.host
	client := delivery.NewHTTPClient(delivery.WithAllowedNetworks(loopback), delivery.WithTimeout(10*time.Second))
	var br *Bridge
	q, err := delivery.Open(filepath.Join(dir, "delivery.db"),
		delivery.WithSigner(delivery.SignerFunc(func(k string) (*rsa.PrivateKey, error) { return br.Key(k) })),
		delivery.WithHTTPClient(client), delivery.WithBackoff(50*time.Millisecond, time.Second))
	if err != nil {
		tb.Fatal(err)
	}
	cfg := Config{PublicURL: s.url, DBPath: filepath.Join(dir, "fediverse.db"), Client: client, Delivery: q}
	for _, o := range opts {
		o(&cfg)
	}
	br, err = New(cfg, servicesOf(n))
	if err != nil {
		tb.Fatal(err)
	}
	s.bridge, s.queue = br, q
	mux := http.NewServeMux()
	br.Register(mux)
	mux.Handle("/ipfs/", http.NotFoundHandler())
	srv.Config.Handler = mux
	srv.StartTLS()
	br.Start()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = q.Run(ctx)
	}()
	tb.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
		_ = q.Close()
		_ = br.Close()
		_ = n.Close()
	})
	return s
}

func (s *site) actor(tb testing.TB, name string, typ activity.ActorType) api.Actor {
	tb.Helper()
	a, err := s.node.Social().CreateActor(context.Background(), api.CreateActorRequest{Username: name, Name: "Name of " + name, Summary: "About " + name, Type: string(typ)})
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// servicesOf is the node's rooms as the bridge reads them, as node/daemon
// wires them for the binary (which a test of this package cannot import:
// it imports the bridge).
func servicesOf(n *node.Node) Services {
	return Services{Identity: n.Swarm(), Actors: n.Social(), Resources: n.Social(), Collections: n.Social(), Log: n.Log()}
}

// eventually polls cond until it holds or the test's time runs out.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
