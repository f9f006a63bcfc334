package daemon_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/daemon"
	"github.com/lyceum-oer/lyceum/node/nodetest"
)

// mustRepo makes a test-profile repo and opens it; edit, if not nil,
// changes its configuration first.
func mustRepo(tb testing.TB, edit func(*node.Config)) (*node.Repo, string) {
	tb.Helper()
	repo := nodetest.OpenRepo(tb, edit)
	return repo, repo.Path()
}

func loopback(tb testing.TB) net.Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return ln
}

// get fetches url, with the API token when token is not "".
func get(tb testing.TB, url, token string) (int, []byte) {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, body
}

func closeDaemon(tb testing.TB, d *daemon.Daemon) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Close(ctx); err != nil {
		tb.Fatalf("close: %v", err)
	}
}

// A daemon started as the binary starts it serves the API and /metrics on
// loopback, tells the CLI where, and gives everything back on Close.
func TestADaemonServesTheAPIAndMetrics(t *testing.T) {
	repo, path := mustRepo(t, nil)
	d, err := daemon.New(repo, daemon.WithListener(loopback(t)))
	if err != nil {
		t.Fatal(err)
	}
	token := repo.APIToken()
	status, body := get(t, d.URL()+"/api/v1/id", token)
	var id api.Identity
	if status != http.StatusOK || json.Unmarshal(body, &id) != nil || !id.Online || id.PeerID != repo.PeerID().String() {
		t.Fatalf("GET /api/v1/id: %d %s", status, body)
	}
	if status, _ := get(t, d.URL()+"/api/v1/id", ""); status != http.StatusUnauthorized {
		t.Fatalf("GET /api/v1/id without the token: %d", status)
	}
	if status, body := get(t, d.URL()+"/metrics", ""); status != http.StatusOK || !strings.Contains(string(body), "go_goroutines") {
		t.Fatalf("GET /metrics: %d", status)
	}
	addr, tok, err := node.ReadAPI(path)
	if err != nil || addr != d.URL() || tok != token {
		t.Fatalf("api file: %q %q %v, want %s", addr, tok, err, d.URL())
	}
	if d.Bridge() != nil {
		t.Fatal("a bridge runs without gateway.public_url")
	}
	closeDaemon(t, d)
	if err := d.Err(); err != nil {
		t.Fatalf("the HTTP server failed: %v", err)
	}
	if _, _, err := node.ReadAPI(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("api file after Close: %v", err)
	}
	again, err := node.OpenRepo(path)
	if err != nil {
		t.Fatalf("the repo is still held after Close: %v", err)
	}
	again.Close()
	if _, err := net.Dial("tcp", strings.TrimPrefix(d.URL(), "http://")); err == nil {
		t.Fatal("the HTTP port is still open after Close")
	}
}

// With gateway.public_url the daemon runs the fediverse bridge and its
// delivery queue, whose counters are on /metrics.
func TestADaemonWithAPublicURLBridgesTheFediverse(t *testing.T) {
	repo, path := mustRepo(t, func(c *node.Config) { c.Gateway.PublicURL = "https://lyceum.test" })
	d, err := daemon.New(repo, daemon.WithOffline(), daemon.WithListener(loopback(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer closeDaemon(t, d)
	if d.Bridge() == nil {
		t.Fatal("no bridge")
	}
	if status, body := get(t, d.URL()+"/metrics", ""); status != http.StatusOK || !strings.Contains(string(body), "lyceum_fediverse_deliveries_pending") {
		t.Fatalf("GET /metrics lacks the delivery queue: %d", status)
	}
	if status, body := get(t, d.URL()+"/.well-known/nodeinfo", ""); status != http.StatusOK {
		t.Fatalf("GET /.well-known/nodeinfo: %d %s", status, body)
	}
	if status, body := get(t, d.URL()+"/api/v1/fediverse/flags", repo.APIToken()); status != http.StatusOK || strings.TrimSpace(string(body)) != "[]" {
		t.Fatalf("GET /api/v1/fediverse/flags: %d %s", status, body)
	}
	for _, f := range []string{"fediverse.db", "delivery.db"} {
		if st, err := os.Stat(filepath.Join(path, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, st, err)
		}
	}
}

// A taken HTTP port fails New at once, with KindUnavailable, before the
// node starts; the repo is released.
func TestATakenHTTPPortFailsFast(t *testing.T) {
	taken := loopback(t)
	defer taken.Close()
	repo, path := mustRepo(t, func(c *node.Config) { c.HTTP.Listen = taken.Addr().String() })
	if _, err := daemon.New(repo, daemon.WithOffline()); api.KindOf(err) != api.KindUnavailable {
		t.Fatalf("New on a taken port: %v", err)
	}
	again, err := node.OpenRepo(path)
	if err != nil {
		t.Fatalf("the repo is still held after a failed New: %v", err)
	}
	again.Close()
}

// Services wires every interface of the gateway, and BridgeServices every
// one of the bridge: a room left out would silently drop its routes.
func TestTheDaemonWiresEveryService(t *testing.T) {
	repo, _ := mustRepo(t, nil)
	n, err := node.New(repo, node.WithOffline())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	for name, v := range map[string]any{"gateway": daemon.Services(n), "fediverse": daemon.BridgeServices(n)} {
		s := reflect.ValueOf(v)
		for i := range s.NumField() {
			if s.Field(i).IsNil() {
				t.Errorf("%s.Services.%s is not wired", name, s.Type().Field(i).Name)
			}
		}
	}
}

// TestMain fails the run when a goroutine the daemon started outlives the
// tests: every one must stop with Close.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leak := nodetest.Leaked("daemon.(*Daemon)", "fediverse.(*Bridge)", "delivery.(*Queue)", "gateway.(*Server)"); leak != "" {
			fmt.Fprintf(os.Stderr, "goroutines of a daemon still running after the tests:\n%s\n", leak)
			code = 1
		}
	}
	os.Exit(code)
}
