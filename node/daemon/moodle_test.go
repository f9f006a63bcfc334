package daemon_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/gateway"
	"github.com/lyceum-oer/lyceum/gateway/moodle"
	"github.com/lyceum-oer/lyceum/gateway/moodle/mbz"
	"github.com/lyceum-oer/lyceum/gateway/moodle/mbz/mbztest"
	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/daemon"
)

// A daemon whose public URL is https speaks to Moodle; one whose public
// URL is plain http on a public name does not (Moodle would refuse it).
func TestADaemonSpeaksToMoodleOnlyOverHTTPS(t *testing.T) {
	for _, tc := range []struct {
		public string
		want   int
	}{{"https://lyceum.test", http.StatusOK}, {"http://lyceum.test", http.StatusNotFound}} {
		repo, _ := mustRepo(t, func(c *node.Config) { c.Gateway.PublicURL = tc.public })
		d, err := daemon.New(repo, daemon.WithOffline(), daemon.WithListener(loopback(t)))
		if err != nil {
			t.Fatal(err)
		}
		status, body := get(t, d.URL()+"/.well-known/oauth-authorization-server", "")
		closeDaemon(t, d)
		if status != tc.want {
			t.Fatalf("%s: HTTP %d %s", tc.public, status, body)
		}
		if status == http.StatusOK && !strings.Contains(string(body), `"registration_endpoint":"https://lyceum.test/oauth/register"`) {
			t.Fatalf("%s: %s", tc.public, body)
		}
	}
}

// shareNode is a daemon with a teacher whose Moodle holds an access
// token: what the benchmark uploads to.
type shareNode struct {
	d      *daemon.Daemon
	access string
}

func startShareNode(tb testing.TB) *shareNode {
	tb.Helper()
	ln := loopback(tb)
	repo, _ := mustRepo(tb, func(c *node.Config) { c.Gateway.PublicURL = "http://" + ln.Addr().String() })
	d, err := daemon.New(repo, daemon.WithOffline(), daemon.WithListener(ln),
		daemon.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { closeDaemon(tb, d) })
	ctx := context.Background()
	acc := d.Node().Accounts()
	if _, err := acc.CreateAccount(ctx, api.CreateAccountRequest{Username: "mona", Password: "correct horse battery staple"}); err != nil {
		tb.Fatal(err)
	}
	c, err := acc.RegisterOAuthClient(ctx, api.OAuthClientRequest{ClientName: "Moodle", RedirectURIs: []string{"https://moodle.test/admin/oauth2callback.php"}})
	if err != nil {
		tb.Fatal(err)
	}
	code, err := acc.Authorize(ctx, "mona", api.AuthorizeRequest{ClientID: c.ClientID, RedirectURI: c.RedirectURIs[0]})
	if err != nil {
		tb.Fatal(err)
	}
	toks, err := acc.ExchangeOAuthCode(ctx, api.OAuthCodeExchange{ClientID: c.ClientID, ClientSecret: c.Secret, Code: code, RedirectURI: c.RedirectURIs[0]})
	if err != nil {
		tb.Fatal(err)
	}
	return &shareNode{d: d, access: toks.AccessToken}
}

// writeBackup writes a course backup of about size bytes, most of it one
// incompressible file (as the media of a real course are), stored in the
// gzip stream uncompressed.
func writeBackup(tb testing.TB, path string, size int64, seed uint64) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.NewChaCha8([32]byte{byte(seed)})
	err = mbztest.WriteTarGz(w, mbztest.Backup{Type: "course", Course: "Sciences 5e", Activities: []mbz.Activity{{Module: "resource", Title: "Film"}},
		Big: rng, BigSize: size, Stored: true})
	if err == nil {
		err = w.Flush()
	}
	if err := errorsJoin(err, f.Close()); err != nil {
		tb.Fatal(err)
	}
}

func errorsJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// share posts the backup at path as Moodle's client (Guzzle) does:
// streamed from the file, with a Content-Length.
func (n *shareNode) share(tb testing.TB, path string) cid.Cid {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		tb.Fatal(err)
	}
	var head, tail bytes.Buffer
	mw := multipart.NewWriter(&head)
	w, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Disposition": {`form-data; name="."`}})
	w.Write([]byte(`{"name":"Sciences 5e","description":"The whole course."}`))
	mw.CreatePart(textproto.MIMEHeader{"Content-Disposition": {`form-data; name=".resource"; filename="course_backup.mbz"`},
		"Content-Type": {"application/vnd.moodle.backup"}, "Content-Length": {strconv.FormatInt(st.Size(), 10)}})
	tail.WriteString("\r\n--" + mw.Boundary() + "--\r\n")
	req, _ := http.NewRequest(http.MethodPost, n.d.URL()+"/.pkg/@moodlenet/ed-resource/basic/v1/create", io.MultiReader(&head, f, &tail))
	req.ContentLength = int64(head.Len()) + st.Size() + int64(tail.Len())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+n.access)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Draft int64 `json:"draft"`
		File  struct {
			CID string `json:"cid"`
		} `json:"file"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusCreated {
		tb.Fatalf("share: HTTP %d (%v)", res.StatusCode, err)
	}
	// The draft goes, so that the next round starts from the same state.
	if err := n.d.Node().Accounts().DeleteDraft(context.Background(), "mona", out.Draft); err != nil {
		tb.Fatal(err)
	}
	c, err := cid.Decode(out.File.CID)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// heapPeak samples the heap in use while it runs, for "flat memory".
type heapPeak struct {
	stop chan struct{}
	done sync.WaitGroup
	peak atomic.Uint64
	base uint64
}

func startHeapPeak() *heapPeak {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h := &heapPeak{stop: make(chan struct{}), base: ms.HeapInuse}
	h.done.Add(1)
	go func() {
		defer h.done.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > h.peak.Load() {
					h.peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	return h
}

// growthMiB stops sampling and says how far the heap rose above where
// it started.
func (h *heapPeak) growthMiB() float64 {
	close(h.stop)
	h.done.Wait()
	p := h.peak.Load()
	if p < h.base {
		return 0
	}
	return float64(p-h.base) / (1 << 20)
}

// BenchmarkMoodleShareVsAdd stores the same course backup, 1 GiB less
// the 3.7 MB that Moodle's own limit cuts (resource_sender::MAX_FILESIZE
// is 1,070,000,000 bytes, 0.997 GiB), on one node through `lyceum add`
// (the CLI's client: POST /api/v1/add) and through Moodle's share (the
// create call, which also reads the backup's moodle_backup.xml as it
// streams), one after the other in one run. Each round starts from an
// empty store (unpin and GC, off the clock). It reports MB/s and how far
// the heap rose (heap-MiB): flat memory is a rise that does not grow with
// the file. LYCEUM_BENCH_SHARE_MIB sets another size.
//
//	go test ./node/daemon/ -run '^$' -bench MoodleShareVsAdd -benchtime 2x
func BenchmarkMoodleShareVsAdd(b *testing.B) {
	size := int64(moodle.MaxResourceBytes - 1<<20) // room for the tar's headers and the manifest
	if s := os.Getenv("LYCEUM_BENCH_SHARE_MIB"); s != "" {
		if v, err := strconv.ParseInt(s, 10, 64); err == nil && v > 0 {
			size = v << 20
		}
	}
	n := startShareNode(b)
	path := filepath.Join(b.TempDir(), "course_backup.mbz")
	writeBackup(b, path, size, 1)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	client := gateway.NewClient(n.d.URL(), n.d.Node().Repo().APIToken())
	ctx := context.Background()
	reset := func(c cid.Cid) {
		if err := n.d.Node().Content().Unpin(ctx, c); err != nil {
			b.Fatal(err)
		}
		if _, err := n.d.Node().Content().GC(ctx); err != nil {
			b.Fatal(err)
		}
	}
	var cids [2]cid.Cid
	for i, path2 := range []struct {
		name  string
		store func() cid.Cid
	}{
		{"lyceum-add", func() cid.Cid {
			c, err := client.Add(ctx, path, api.AddOptions{}, nil)
			if err != nil {
				b.Fatal(err)
			}
			return c
		}},
		{"moodle-share", func() cid.Cid { return n.share(b, path) }},
	} {
		b.Run(path2.name, func(b *testing.B) {
			b.SetBytes(st.Size())
			var growth float64
			for range b.N {
				h := startHeapPeak()
				b.StartTimer()
				c := path2.store()
				b.StopTimer()
				growth = max(growth, h.growthMiB())
				cids[i] = c
				reset(c)
			}
			b.ReportMetric(growth, "heap-MiB")
		})
	}
	if cids[0].Defined() && cids[1].Defined() && cids[0] != cids[1] {
		b.Fatalf("the two paths stored different files: %s and %s", cids[0], cids[1])
	}
}
