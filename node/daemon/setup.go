package daemon

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// SetupLink is the one-time link that makes a fresh node's first admin:
// the web app's setup page with the token of accounts.SetupToken.
type SetupLink struct {
	URL     string
	Expires time.Time
}

// String is the line the daemon prints: where to go, and until when.
func (l SetupLink) String() string {
	return fmt.Sprintf("Open %s to create this node's first admin (valid until %s)", l.URL, l.Expires.Local().Format("2006-01-02 15:04 MST"))
}

// Setup is the first-admin setup link made at start, when the node had
// no admin then; ok is false otherwise. Each start makes a new one and
// ends the earlier ones: only the link printed last works.
func (d *Daemon) Setup() (SetupLink, bool) {
	if d.setup == nil {
		return SetupLink{}, false
	}
	return *d.setup, true
}

// makeSetupLink makes the setup link when the node needs its first admin,
// and logs it; nil when the node has an admin. The link is on the public
// URL when there is one, else on the address the server listens on.
func (d *Daemon) makeSetupLink(ctx context.Context, publicURL string) (*SetupLink, error) {
	tok, ok, err := d.node.Accounts().SetupToken(ctx)
	if err != nil {
		return nil, fmt.Errorf("make the setup link: %w", err)
	}
	if !ok {
		return nil, nil
	}
	base := strings.TrimRight(publicURL, "/")
	if base == "" {
		base = localBase(d.url, d.ln.Addr())
	}
	l := &SetupLink{URL: base + "/setup?token=" + url.QueryEscape(tok.Token), Expires: tok.Expires}
	d.log.Info("this node has no admin yet: open the setup link to create the first one", "url", l.URL, "valid_until", l.Expires)
	return l, nil
}

// localBase is the server's URL as a browser on this machine reaches it:
// a wildcard address (0.0.0.0, ::) becomes loopback.
func localBase(serverURL string, addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return serverURL
	}
	scheme, _, _ := strings.Cut(serverURL, "://")
	host := "127.0.0.1"
	if tcp.IP.To4() == nil {
		host = "::1"
	}
	return scheme + "://" + net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}
