package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/daemon"
	"github.com/lyceum-oer/lyceum/node/nodetest"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
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
	for name, v := range map[string]any{"gateway": daemon.Services(n), "fediverse": daemon.BridgeServices(n), "web": daemon.WebServices(n, nil)} {
		s := reflect.ValueOf(v)
		for i := range s.NumField() {
			field := s.Type().Field(i).Name
			if name == "web" && field == "Fetcher" {
				continue // an offline node has nobody to fetch from
			}
			if s.Field(i).IsNil() {
				t.Errorf("%s.Services.%s is not wired", name, field)
			}
		}
	}
}

// TestMain fails the run when a goroutine the daemon started outlives the
// tests: every one must stop with Close.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leak := nodetest.Leaked("daemon.(*Daemon)", "fediverse.(*Bridge)", "delivery.(*Queue)", "gateway.(*Server)", "swarm.(*Reachability)", "pinsvc.(*Service)"); leak != "" {
			fmt.Fprintf(os.Stderr, "goroutines of a daemon still running after the tests:\n%s\n", leak)
			code = 1
		}
	}
	os.Exit(code)
}

// A fresh node's daemon makes a setup link, on its own address or the
// public URL, logs it, and the link's token makes the first admin; once
// the node has an admin, a new start makes none.
func TestAFreshNodePrintsItsSetupLink(t *testing.T) {
	logs := &syncWriter{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	repo, path := mustRepo(t, nil)
	d, err := daemon.New(repo, daemon.WithOffline(), daemon.WithListener(loopback(t)), daemon.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	link, ok := d.Setup()
	if !ok || !strings.HasPrefix(link.URL, d.URL()+"/setup?token=") || time.Until(link.Expires) < 23*time.Hour {
		t.Fatalf("setup link %+v (%v)", link, ok)
	}
	if line := link.String(); !strings.HasPrefix(line, "Open "+link.URL+" to create this node's first admin (valid until ") {
		t.Fatalf("the line %q", line)
	}
	if !strings.Contains(logs.String(), link.URL) {
		t.Fatalf("the log lacks the link:\n%s", logs.String())
	}
	u, err := url.Parse(link.URL)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := d.Node().Accounts().CompleteSetup(context.Background(), api.SetupRequest{
		Token: u.Query().Get("token"), Username: "ada", Password: "correct horse battery staple"})
	if err != nil || reg.Account.Role != api.RoleAdmin {
		t.Fatalf("setup with the link's token: %+v (%v)", reg, err)
	}
	closeDaemon(t, d)

	repo, err = node.OpenRepo(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err = daemon.New(repo, daemon.WithOffline(), daemon.WithListener(loopback(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer closeDaemon(t, d)
	if link, ok := d.Setup(); ok {
		t.Fatalf("a node with an admin made a setup link %s", link.URL)
	}
}

// With gateway.public_url, the link is on it.
func TestTheSetupLinkIsOnThePublicURL(t *testing.T) {
	repo, _ := mustRepo(t, func(c *node.Config) { c.Gateway.PublicURL = "https://lyceum.test/" })
	d, err := daemon.New(repo, daemon.WithOffline(), daemon.WithListener(loopback(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer closeDaemon(t, d)
	if link, ok := d.Setup(); !ok || !strings.HasPrefix(link.URL, "https://lyceum.test/setup?token=") {
		t.Fatalf("setup link %+v", link)
	}
}

// syncWriter lets the daemon's goroutines log into one buffer.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// The daemon serves the web app: a fresh node's setup page, reached by
// the link it printed.
func TestTheDaemonServesTheWebApp(t *testing.T) {
	repo, _ := mustRepo(t, nil)
	d, err := daemon.New(repo, daemon.WithOffline(), daemon.WithListener(loopback(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer closeDaemon(t, d)
	link, ok := d.Setup()
	if !ok {
		t.Fatal("no setup link")
	}
	status, body := get(t, link.URL, "")
	if status != http.StatusOK || !strings.Contains(string(body), "<form") {
		t.Fatalf("GET the setup link: %d\n%.500s", status, body)
	}
}

// A resource's comments are the node's and the fediverse's replies, in
// one list, oldest first, the replies' HTML as plain text.
func TestCommentsMergeTheFediversesReplies(t *testing.T) {
	repo, path := mustRepo(t, func(c *node.Config) { c.Gateway.PublicURL = "https://lyceum.test" })
	d, err := daemon.New(repo, daemon.WithOffline(), daemon.WithListener(loopback(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer closeDaemon(t, d)
	ctx := context.Background()
	if _, err := d.Node().Accounts().CreateAccount(ctx, api.CreateAccountRequest{Username: "ada", Password: "correct horse battery staple"}); err != nil {
		t.Fatal(err)
	}
	svc := daemon.WebServices(d.Node(), d.Bridge())
	p, err := svc.Resources.Publish(ctx, api.PublishRequest{As: "ada", URL: "https://example.org/f", Title: "Fractions", License: "CC0-1.0", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Hour).UTC()
	if _, err := svc.Comments.Comment(ctx, api.CommentRequest{As: "ada", Resource: p.ID, Content: "Answers on page 2"}); err != nil {
		t.Fatal(err)
	}
	after := time.Now().Add(time.Hour).UTC()
	// The bridge stores what its inbox accepted; the test writes two
	// replies and a like as the inbox would.
	db, err := sqlitedb.Open(filepath.Join(path, "fediverse.db"), sqlitedb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, it := range []struct {
		id, kind, content string
		at                time.Time
	}{
		{"https://m.example/notes/1", "comment", "<p>Thanks!</p><p>Used it &amp; loved it</p>", before},
		{"https://m.example/notes/2", "comment", "<p>Later<br>reply</p>", after},
		{"https://m.example/likes/3", "like", "", after},
	} {
		if _, err := db.Exec(ctx, `INSERT INTO interactions (id, kind, actor, object, content, url, published) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			it.id, it.kind, "https://m.example/users/bea", p.ID, it.content, "", it.at.Format(time.RFC3339Nano)); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := svc.Comments.Comments(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 {
		t.Fatalf("%d comments: %+v", len(cs), cs)
	}
	first, mine, last := cs[0], cs[1], cs[2]
	if !first.Fediverse || first.Content != "Thanks!\n\nUsed it & loved it" || first.AuthorHandle != "bea@m.example" || first.URL != "https://m.example/notes/1" {
		t.Errorf("the first reply: %+v", first)
	}
	if mine.Fediverse || mine.Content != "Answers on page 2" || !strings.HasPrefix(mine.AuthorHandle, "ada@") {
		t.Errorf("the node's comment: %+v", mine)
	}
	if !last.Fediverse || last.Content != "Later\nreply" {
		t.Errorf("the last reply: %+v", last)
	}
}

// The dashboard of an online daemon: its peers, reachability, HQs (how
// each answered the last search) and accounts.
func TestTheDashboardShowsTheNode(t *testing.T) {
	hq := nodetest.MustNode(t, nodetest.Options{HQ: true})
	hqAddr := hq.Swarm().ID().Addrs[0] + "/p2p/" + hq.Swarm().ID().PeerID
	repo, _ := mustRepo(t, func(c *node.Config) {
		c.Search.HQs = []string{hqAddr}
		c.Swarm.Bootstrap = []string{hqAddr}
	})
	d, err := daemon.New(repo, daemon.WithListener(loopback(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer closeDaemon(t, d)
	ctx := context.Background()
	if _, err := d.Node().Accounts().CreateAccount(ctx, api.CreateAccountRequest{Username: "ada", Password: "correct horse battery staple", Role: api.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Node().Search().Search(ctx, api.SearchQuery{Text: "fractions"}); err != nil {
		t.Fatal(err)
	}
	db, err := d.Dashboard(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if db.Node.PeerID != repo.PeerID().String() || !db.Stat.Online || db.Reachability == "" {
		t.Errorf("node %+v, online %v, reachability %q", db.Node, db.Stat.Online, db.Reachability)
	}
	if len(db.HQs) != 1 || db.HQs[0].Peer != hq.Swarm().ID().PeerID || !db.HQs[0].Connected || db.HQs[0].LastOK.IsZero() {
		t.Errorf("HQs %+v", db.HQs)
	}
	if len(db.Peers) == 0 {
		t.Error("no peers, though connected to the HQ")
	}
	if db.Accounts[api.StatusActive] != 1 || db.Registration != api.RegistrationInvitation {
		t.Errorf("accounts %v, registration %s", db.Accounts, db.Registration)
	}
}
