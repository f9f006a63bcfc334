package gateway

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/nodetest"
)

// testNode is a real offline node in a temporary repo behind a real HTTP
// server.
type testNode struct {
	node   *node.Node
	server *httptest.Server
	client *Client
}

func mustStartNode(tb testing.TB) *testNode {
	tb.Helper()
	repo := nodetest.OpenRepo(tb, nil)
	n, err := node.New(repo, node.WithOffline())
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := New(Config{Token: repo.APIToken(), Blocks: n.BlockService(), Metrics: n.Metrics()}, servicesOf(n))
	if err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	tb.Cleanup(func() {
		hs.Close()
		if err := n.Close(); err != nil {
			tb.Errorf("close node: %v", err)
		}
	})
	return &testNode{node: n, server: hs, client: NewClient(hs.URL, repo.APIToken())}
}

// servicesOf wires the node's rooms to the gateway's interfaces, as
// node/daemon does for the binary (which a test of this package cannot
// import: it imports the gateway).
func servicesOf(n *node.Node) Services {
	content, social, search, accounts := n.Content(), n.Social(), n.Search(), n.Accounts()
	return Services{
		Identity: n.Swarm(), Swarm: n.Swarm(), Stat: n,
		Adder: content, Catter: content, Pinner: content, Collector: content, CARs: content,
		Actors: social, Publisher: social, Resources: social, Follower: social, Liker: social, Feeds: social,
		Curator: social, Collections: social, Views: social, Blocker: n.Blocklist(),
		Searcher: search, Delister: search, Index: search,
		Accounts: accounts, AccountAdmin: accounts, Tokens: accounts, Registrations: accounts, Drafts: accounts,
	}
}

func writeTemp(tb testing.TB, name, content string) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestAddThenCatThroughTheAPI(t *testing.T) {
	tn := mustStartNode(t)
	ctx := context.Background()
	var sent int64
	c, err := tn.client.Add(ctx, writeTemp(t, "hello.txt", "hello moodlenet\n"), api.AddOptions{}, func(n int64) { sent = n })
	if err != nil {
		t.Fatal(err)
	}
	if c.String() != "QmXXTspswPk9Ysyk9rexFn4W8RinZ7SSVcR6ioHCrXyAgT" {
		t.Fatalf("CID %s differs from Kubo's", c)
	}
	if sent == 0 {
		t.Error("progress never reported")
	}
	r, size, err := tn.client.Cat(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, _ := io.ReadAll(r)
	if string(got) != "hello moodlenet\n" || size != 16 {
		t.Fatalf("cat gave %q (size %d)", got, size)
	}
}

func TestAddFolderThenGetItBack(t *testing.T) {
	tn := mustStartNode(t)
	ctx := context.Background()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "course", "week1"), 0o755)
	os.WriteFile(filepath.Join(dir, "course", "intro.md"), []byte("# Fractions\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "course", "week1", "sheet.txt"), []byte("1/2 + 1/4 = ?\n"), 0o644)
	c, err := tn.client.Add(ctx, filepath.Join(dir, "course"), api.AddOptions{CIDVersion: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "copy")
	if err := tn.client.Get(ctx, c, out, nil); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(out, "week1", "sheet.txt"))
	if err != nil || string(got) != "1/2 + 1/4 = ?\n" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestPinsGCAndCARThroughTheAPI(t *testing.T) {
	tn := mustStartNode(t)
	ctx := context.Background()
	keep, err := tn.client.Add(ctx, writeTemp(t, "keep.txt", "keep me"), api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	drop, err := tn.client.Add(ctx, writeTemp(t, "drop.txt", "drop me"), api.AddOptions{NoPin: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var car bytes.Buffer
	if err := tn.client.ExportCAR(ctx, drop, &car); err != nil {
		t.Fatal(err)
	}
	removed, err := tn.client.GC(ctx)
	if err != nil || removed == 0 {
		t.Fatalf("gc removed %d, err %v", removed, err)
	}
	if _, _, err := tn.client.Cat(ctx, drop); api.KindOf(err) != api.KindNotFound {
		t.Fatalf("unpinned content after gc: err %v, want not found", err)
	}
	if _, _, err := tn.client.Cat(ctx, keep); err != nil {
		t.Fatalf("pinned content after gc: %v", err)
	}
	res, err := tn.client.ImportCAR(ctx, &car)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Roots) != 1 || res.Roots[0] != drop.String() {
		t.Fatalf("imported roots %v, want %s", res.Roots, drop)
	}
	pins, err := tn.client.Pins(ctx)
	if err != nil || len(pins) != 2 {
		t.Fatalf("pins %v, err %v", pins, err)
	}
	if err := tn.client.Unpin(ctx, keep); err != nil {
		t.Fatal(err)
	}
	st, err := tn.client.Stat(ctx)
	if err != nil || st.Pins != 1 || st.Blocks == 0 {
		t.Fatalf("stat %+v, err %v", st, err)
	}
}

func TestAPIErrorsCarryTheirKind(t *testing.T) {
	tn := mustStartNode(t)
	ctx := context.Background()
	missing, _ := cid.Decode("bafkreihodxmdpyba3sno7hecojcxqyiwmn546pmz3uz55txpwgbgrvnhr4")
	tests := []struct {
		name string
		call func() error
		want api.Kind
	}{
		{"a CID the node lacks is not found", func() error { _, _, err := tn.client.Cat(ctx, missing); return err }, api.KindNotFound},
		{"a corrupt CAR is invalid", func() error { _, err := tn.client.ImportCAR(ctx, strings.NewReader("not a car")); return err }, api.KindInvalid},
		{"connecting while offline is unavailable", func() error {
			_, err := tn.client.Connect(ctx, api.ConnectRequest{Addr: "/ip4/127.0.0.1/tcp/1/p2p/12D3KooWEdQDJR6QSHPaLJjubQmT2wLSCdG7koruHTveU23kc3wK"})
			return err
		}, api.KindUnavailable},
		{"a wrong token is refused", func() error { _, err := NewClient(tn.server.URL, "wrong").Stat(ctx); return err }, api.KindUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := api.KindOf(tt.call()); got != tt.want {
				t.Fatalf("kind %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMalformedCIDInPathIsABadRequest(t *testing.T) {
	tn := mustStartNode(t)
	req, _ := http.NewRequest(http.MethodGet, tn.server.URL+"/api/v1/cat/not-a-cid", nil)
	req.Header.Set("Authorization", "Bearer "+tn.client.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
}

// The /ipfs/ gateway serves files, raw blocks and CARs as the trustless
// gateway spec says.
func TestIPFSGatewayServesTrustlessFormats(t *testing.T) {
	tn := mustStartNode(t)
	c, err := tn.client.Add(context.Background(), writeTemp(t, "h.txt", "hello moodlenet\n"), api.AddOptions{CIDVersion: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ accept, wantType string }{
		{"", "text/plain"},
		{"application/vnd.ipld.raw", "application/vnd.ipld.raw"},
		{"application/vnd.ipld.car", "application/vnd.ipld.car"},
	} {
		t.Run("Accept "+tt.accept, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, tn.server.URL+"/ipfs/"+c.String(), nil)
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.wantType) {
				t.Fatalf("status %d, type %q, want 200 %s", resp.StatusCode, resp.Header.Get("Content-Type"), tt.wantType)
			}
			if tt.accept == "" && string(body) != "hello moodlenet\n" {
				t.Fatalf("body %q", body)
			}
		})
	}
}

func TestMetricsAreServed(t *testing.T) {
	tn := mustStartNode(t)
	resp, err := http.Get(tn.server.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "go_goroutines") {
		t.Fatalf("status %d, body lacks go_goroutines", resp.StatusCode)
	}
}

// One JSON style across the API: a list with nothing in it is [], and no
// answer holds a null.
func TestEmptyListsAreEmptyArraysNotNull(t *testing.T) {
	tn := mustStartNode(t)
	for _, tc := range []struct{ path, want string }{
		{"/api/v1/peers", `[]`},
		{"/api/v1/actors", `[]`},
		{"/api/v1/feed", `[]`},
		{"/api/v1/collections", `[]`},
		{"/api/v1/pins", `"pins": []`},
		{"/api/v1/id", `"addrs": []`},
		{"/api/v1/search?q=fractions", `"hits": []`},
	} {
		t.Run(tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, tn.server.URL+tc.path, nil)
			req.Header.Set("Authorization", "Bearer "+tn.client.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), tc.want) || strings.Contains(string(body), "null") {
				t.Fatalf("status %d, body %s; want %s and no null", resp.StatusCode, body, tc.want)
			}
		})
	}
}

// An uploaded HTML or SVG file opened from /ipfs/ runs no script on the
// node's origin: every answer but a PDF's is sandboxed.
func TestIPFSGatewaySandboxesActiveContent(t *testing.T) {
	tn := mustStartNode(t)
	for _, tc := range []struct {
		name, body string
		sandboxed  bool
	}{
		{"page.html", "<!doctype html><script>fetch('/api/v1/me')</script>", true},
		{"logo.svg", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`, true},
		{"notes.txt", "plain", true},
		{"sheet.pdf", "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n", false},
	} {
		c, err := tn.client.Add(context.Background(), writeTemp(t, tc.name, tc.body), api.AddOptions{CIDVersion: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(tn.server.URL + "/ipfs/" + c.String() + "?filename=" + tc.name)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if got := strings.HasPrefix(csp, "sandbox"); got != tc.sandboxed || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s (%s): CSP %q, nosniff %q", tc.name, resp.Header.Get("Content-Type"), csp, resp.Header.Get("X-Content-Type-Options"))
		}
	}
}
