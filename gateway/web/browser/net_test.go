package browser_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/gateway"
	"github.com/lyceum-oer/lyceum/gateway/web"
	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/daemon"
)

// The passwords of the accounts the tests make.
const (
	adminPassword  = "correct horse battery staple"
	memberPassword = "a long enough passphrase"
)

// site is a running daemon, as a browser reaches it.
type site struct {
	d     *daemon.Daemon
	url   string
	admin string // the first admin's username (adminPassword)
	dir   string
}

// Node returns the site's node, for what a test sets up or checks behind
// the pages.
func (s *site) Node() *node.Node { return s.d.Node() }

// The network of the tests: the school, an indexing peer (an HQ) that
// publishes, and the library, a node whose searches go to the school.
// Started by the first test that needs them, closed by TestMain.
var testNet struct {
	once    sync.Once
	school  *site
	library *site
	err     error
}

// sites returns the school and the library.
func sites(t *testing.T) (school, library *site) {
	t.Helper()
	requireBrowser(t)
	testNet.once.Do(func() {
		testNet.school, testNet.err = startSite("school", "ada", func(c *node.Config) {
			c.Search.Indexer = true
			c.Search.RateLimit = 1000
		})
		if testNet.err != nil {
			return
		}
		addr := testNet.school.Node().Swarm().ID().Addrs[0]
		testNet.library, testNet.err = startSite("library", "lea", func(c *node.Config) {
			c.Swarm.Bootstrap = []string{addr}
			c.Search.HQs = []string{addr}
			c.Search.RateLimit = 1000
		})
	})
	if testNet.err != nil {
		t.Fatal(testNet.err)
	}
	return testNet.school, testNet.library
}

func closeNet() {
	for _, s := range []*site{testNet.library, testNet.school, moodleNode.site} {
		if s != nil {
			s.close()
		}
	}
}

// startSite starts a daemon on loopback in a new repo of the test
// profile, edited by edit, and makes its first admin (admin, with
// adminPassword) unless admin is "".
func startSite(name, admin string, edit func(*node.Config)) (*site, error) {
	return startSiteAt(name, admin, func(c *node.Config, _ string) {
		if edit != nil {
			edit(c)
		}
	})
}

// startSiteAt is startSite whose edit also learns the site's URL (for
// gateway.public_url).
func startSiteAt(name, admin string, edit func(c *node.Config, url string)) (*site, error) {
	dir, err := os.MkdirTemp("", "lyceum-browser-"+name+"-")
	if err != nil {
		return nil, err
	}
	s := &site{dir: dir, admin: admin}
	path := filepath.Join(dir, "repo")
	if err := node.InitRepo(path, node.ProfileTest); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	repo, err := node.OpenRepo(path)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		repo.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	cfg := repo.Config()
	cfg.Swarm.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	edit(&cfg, "http://"+ln.Addr().String())
	repo.SetConfig(cfg)
	// A quiet daemon: its log goes nowhere unless a test fails loudly.
	s.d, err = daemon.New(repo, daemon.WithListener(ln), daemon.WithLogger(quietLogger()),
		daemon.WithNodeOptions(node.WithSyncInterval(500*time.Millisecond)))
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start the %s: %w", name, err)
	}
	s.url = s.d.URL()
	if admin != "" {
		if err := s.setUp(admin); err != nil {
			s.close()
			return nil, fmt.Errorf("set up the %s: %w", name, err)
		}
	}
	return s, nil
}

// setUp makes the site's first admin with the setup token, as the
// printed setup link would.
func (s *site) setUp(admin string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	accounts := s.Node().Accounts()
	tok, ok, err := accounts.SetupToken(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("the node has an admin already")
	}
	_, err = accounts.CompleteSetup(ctx, api.SetupRequest{Token: tok.Token, Username: admin, DisplayName: "Ada Admin", Password: adminPassword, Language: "en"})
	return err
}

// setupLink is the path of the setup link the daemon printed when it
// started without an admin.
func (s *site) setupLink(t *testing.T) string {
	t.Helper()
	link, ok := s.d.Setup()
	if !ok {
		t.Fatal("the daemon made no setup link")
	}
	if !strings.HasPrefix(link.URL, s.url+"/setup?token=") {
		t.Fatalf("the setup link %s is not on %s", link.URL, s.url)
	}
	return strings.TrimPrefix(link.URL, s.url)
}

func (s *site) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.d.Close(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "close %s: %v\n", s.url, err)
	}
	os.RemoveAll(s.dir)
}

// mustAccount makes an active member account behind the pages.
func (s *site) mustAccount(t *testing.T, username, display string) {
	t.Helper()
	_, err := s.Node().Accounts().CreateAccount(context.Background(), api.CreateAccountRequest{Username: username, DisplayName: display, Password: memberPassword})
	if err != nil && api.KindOf(err) != api.KindConflict {
		t.Fatalf("make the account %s: %v", username, err)
	}
}

// freshSite starts an offline daemon with no admin, for the setup test;
// Cleanup stops it.
func freshSite(t *testing.T) *site {
	t.Helper()
	requireBrowser(t)
	s, err := startSite("fresh", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	return s
}

// quietLogger drops the daemons' logs, unless LYCEUM_BROWSER_LOG is set.
func quietLogger() *slog.Logger {
	if os.Getenv("LYCEUM_BROWSER_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// mustPublish publishes a one-page PDF as the local account as, behind
// the pages, with the metadata of the tests; it returns its ID.
func (s *site) mustPublish(t *testing.T, as, title string) string {
	t.Helper()
	ctx := context.Background()
	path := mustPDF(t, "sheet.pdf", "Worksheet")
	c, err := s.Node().Content().AddPath(ctx, path, api.AddOptions{CIDVersion: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Node().Social().Publish(ctx, api.PublishRequest{
		As: as, FileCID: c.String(), Filename: "sheet.pdf", Title: title, Summary: "A worksheet with answers.",
		License: "CC-BY-4.0", Language: "fr", Subjects: []string{"0541"}, Level: "2", Type: "assessment",
	})
	if err != nil {
		t.Fatalf("publish %q: %v", title, err)
	}
	return res.ID
}

// withUploadLimit serves the site's web app, over the same node, with
// uploads limited to max bytes, on a listener of its own; it returns its
// URL. Cleanup stops it.
//
// The daemon has no setting for the web app's upload limit (it takes
// web.Config's default, 16 GiB), so the oversized-upload test builds the
// app as the daemon does (daemon.WebServices, gateway.New), with the
// limit set.
func (s *site) withUploadLimit(t *testing.T, max int64) string {
	t.Helper()
	n := s.Node()
	app, err := web.New(web.Config{MaxUploadBytes: max, Logger: quietLogger()}, daemon.WebServices(n, nil))
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(gateway.Config{Token: n.Repo().APIToken(), Web: app, Logger: quietLogger()}, daemon.Services(n))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = gw.Serve(ln)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = gw.Shutdown(ctx)
		<-served
	})
	return "http://" + ln.Addr().String()
}
