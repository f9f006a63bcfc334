package daemon_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/gateway"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/daemon"
)

// BenchmarkUpload256MiB compares, side by side on one daemon, a 256 MiB
// file published from the web app's page (a multipart POST of /publish,
// as the browser sends it: fields first, the file last, streamed from
// disk) with the same size imported by `lyceum add` (the CLI's client,
// POST /api/v1/add). The two alternate, each op a new file (no block is
// already stored). MB/s is each one's speed; max-heap-MiB the largest Go
// heap seen while it ran, which says whether the file was held in memory.
func BenchmarkUpload256MiB(b *testing.B) {
	const size = 256 << 20
	repo, _ := mustRepo(b, nil)
	d, err := daemon.New(repo, daemon.WithOffline(), daemon.WithListener(loopback(b)))
	if err != nil {
		b.Fatal(err)
	}
	defer closeDaemon(b, d)
	ctx := context.Background()
	if _, err := d.Node().Accounts().CreateAccount(ctx, api.CreateAccountRequest{Username: "ada", Password: "correct horse battery staple"}); err != nil {
		b.Fatal(err)
	}
	s, err := d.Node().Accounts().Login(ctx, api.LoginRequest{Username: "ada", Password: "correct horse battery staple"}, "bench")
	if err != nil {
		b.Fatal(err)
	}
	client := gateway.NewClient(d.URL(), repo.APIToken())
	dir := b.TempDir()
	seed := uint64(0)
	newFile := func() string {
		seed++
		p := filepath.Join(dir, fmt.Sprintf("f%d.bin", seed))
		writeRandomFile(b, p, size, seed)
		return p
	}
	b.Run("web-publish", func(b *testing.B) {
		b.SetBytes(size)
		runWithHeapWatch(b, newFile, func(p string) { publishFromPage(b, d.URL(), s, p) })
	})
	b.Run("lyceum-add", func(b *testing.B) {
		b.SetBytes(size)
		runWithHeapWatch(b, newFile, func(p string) {
			if _, err := client.Add(ctx, p, api.AddOptions{}, nil); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// runWithHeapWatch runs do on a new file each op, the file made outside
// the timer, and reports the largest heap seen meanwhile.
func runWithHeapWatch(b *testing.B, newFile func() string, do func(path string)) {
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		p := newFile()
		runtime.GC()
		b.StartTimer()
		do(p)
		b.StopTimer()
		_ = os.Remove(p)
		b.StartTimer()
	}
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(peak.Load())/(1<<20), "max-heap-MiB")
}

// publishFromPage posts the publish page's form with the file at path, as
// a browser does, and checks that it led to the new resource's page.
func publishFromPage(b *testing.B, base string, s api.Session, path string) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for _, kv := range [][2]string{{"title", "A large file"}, {"summary", "Measured"}, {"license", "CC-BY-4.0"}, {"language", "en"}} {
			_ = mw.WriteField(kv[0], kv[1])
		}
		part, err := mw.CreateFormFile("file", filepath.Base(path))
		if err == nil {
			_, err = io.Copy(part, f)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest(http.MethodPost, base+"/publish", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-CSRF-Token", s.CSRF)
	req.AddCookie(&http.Cookie{Name: "lyceum_session", Value: s.Token})
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/r/") {
		b.Fatalf("publish: %d %s\n%.400s", res.StatusCode, res.Header.Get("Location"), body)
	}
}

// writeRandomFile writes size pseudo-random bytes of one seed.
func writeRandomFile(tb testing.TB, path string, size int64, seed uint64) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16)})
	if _, err := io.CopyN(w, rng, size); err != nil {
		tb.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}
