package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/lyceum-oer/lyceum/node/api"
)

// fetcher downloads the http(s) sources of an import to temporary files,
// streamed, bounded in size and time. A manifest may come from anyone, so
// by default it refuses addresses of this machine and its private
// networks: a line must not make the import publish what only this
// machine can reach (a router's page, a cloud's metadata service).
type fetcher struct {
	client   *http.Client
	maxBytes int64
	timeout  time.Duration
	dir      string // where the temporary files go
}

// errPrivateAddress refuses a connection to a local or private address.
var errPrivateAddress = errors.New("the address is this machine's or a private network's (--allow-private-urls allows it)")

func newFetcher(maxBytes int64, timeout time.Duration, allowPrivate bool, dir string) *fetcher {
	dialer := &net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		// Checked on the address dialled, after DNS: a name that
		// resolves to a private address is refused too.
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("dial %s: %w", address, err)
			}
			if ip := ap.Addr().Unmap(); !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
				return errPrivateAddress
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       30 * time.Second,
	}
	return &fetcher{
		client: &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("more than 5 redirects")
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("a redirect to %s: only http(s) is followed", req.URL.Scheme)
			}
			return nil
		}},
		maxBytes: maxBytes, timeout: timeout, dir: dir,
	}
}

// fetch downloads u to a temporary file and returns its path, the file's
// name (from Content-Disposition or the URL's path) and its size. The
// caller removes the file. Errors are the line's (KindInvalid: the URL
// answered otherwise, or too much) or the network's (KindUnavailable).
func (f *fetcher) fetch(ctx context.Context, u string, progress func(int64)) (tmp, name string, size int64, err error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", "", 0, api.Wrap(api.KindInvalid, "not a URL", err)
	}
	req.Header.Set("User-Agent", "lyceum-import/"+currentVersion().Version)
	resp, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, errPrivateAddress) {
			return "", "", 0, api.Wrap(api.KindInvalid, "refused", errPrivateAddress)
		}
		return "", "", 0, api.Wrap(api.KindUnavailable, "could not fetch it", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", "", 0, api.Errorf(api.KindInvalid, "the server answered %s", resp.Status)
	}
	if resp.ContentLength > f.maxBytes {
		return "", "", 0, api.Errorf(api.KindInvalid, "it is %d bytes, more than --max-size (%d)", resp.ContentLength, f.maxBytes)
	}
	out, err := os.CreateTemp(f.dir, "lyceum-import-*")
	if err != nil {
		return "", "", 0, fmt.Errorf("a temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(out.Name())
		}
	}()
	n, err := io.Copy(out, &countingReader{r: io.LimitReader(resp.Body, f.maxBytes+1), progress: progress})
	if err != nil {
		if ctx.Err() != nil {
			return "", "", 0, api.Errorf(api.KindInvalid, "it took longer than --fetch-timeout (%s)", f.timeout)
		}
		return "", "", 0, api.Wrap(api.KindUnavailable, "the download broke off", err)
	}
	if n > f.maxBytes {
		return "", "", 0, api.Errorf(api.KindInvalid, "it is more than --max-size (%d bytes)", f.maxBytes)
	}
	if err = out.Close(); err != nil {
		return "", "", 0, fmt.Errorf("write a temporary file: %w", err)
	}
	return out.Name(), downloadName(resp), n, nil
}

// downloadName is the name of a downloaded file: Content-Disposition's
// filename, else the last segment of the (final) URL's path, made safe.
func downloadName(resp *http.Response) string {
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
		if n := safeName(params["filename"]); n != "" {
			return n
		}
	}
	if n := safeName(path.Base(resp.Request.URL.Path)); n != "" && n != "/" && n != "." {
		return n
	}
	return "download"
}

// safeName keeps a file name without folders or control characters, at
// most 255 bytes.
func safeName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if s == "." || s == ".." {
		return ""
	}
	for len(s) > 255 {
		r := []rune(s)
		s = string(r[:len(r)-1])
	}
	return s
}

// countingReader reports how many bytes it has read.
type countingReader struct {
	r        io.Reader
	n        int64
	progress func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.progress != nil && n > 0 {
		c.progress(c.n)
	}
	return n, err
}
