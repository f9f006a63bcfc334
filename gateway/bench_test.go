package gateway

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
)

func randomFile(tb testing.TB, dir, name string, size int, seed uint64) string {
	tb.Helper()
	data := make([]byte, size)
	r := rand.NewChaCha8([32]byte{byte(seed)})
	r.Read(data)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// BenchmarkGatewayServe256MiB measures /ipfs/ serving a 256 MiB file from
// an on-disk repo over loopback HTTP.
func BenchmarkGatewayServe256MiB(b *testing.B) {
	const size = 256 << 20
	tn := mustStartNode(b)
	c, err := tn.client.Add(context.Background(), randomFile(b, b.TempDir(), "big", size, 1), api.AddOptions{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	url := tn.server.URL + "/ipfs/" + c.String()
	b.SetBytes(size)
	for b.Loop() {
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != size {
			b.Fatalf("read %d bytes: %v", n, err)
		}
	}
}

// BenchmarkGatewayServeSmallFiles measures /ipfs/ serving 4 KiB files out
// of a folder of 1,000, one request each.
func BenchmarkGatewayServeSmallFiles(b *testing.B) {
	const n = 1000
	tn := mustStartNode(b)
	dir := filepath.Join(b.TempDir(), "small")
	os.MkdirAll(dir, 0o755)
	for i := range n {
		randomFile(b, dir, fmt.Sprintf("f%04d.txt", i), 4096, uint64(i))
	}
	c, err := tn.client.Add(context.Background(), dir, api.AddOptions{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	var elapsed time.Duration
	served := 0
	for b.Loop() {
		start := time.Now()
		for i := range n {
			resp, err := client.Get(fmt.Sprintf("%s/ipfs/%s/f%04d.txt", tn.server.URL, c, i))
			if err != nil {
				b.Fatal(err)
			}
			m, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || m != 4096 {
				b.Fatalf("file %d: status %d, %d bytes", i, resp.StatusCode, m)
			}
		}
		elapsed += time.Since(start)
		served += n
	}
	b.ReportMetric(float64(served)/elapsed.Seconds(), "files/s")
}
