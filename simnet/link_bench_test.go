package simnet

import (
	"io"
	"testing"
)

// BenchmarkPipe measures what the link model itself costs per byte: 16 KiB
// writes through a pipe with no latency, read at once.
func BenchmarkPipe(b *testing.B) {
	f := NewFabric(func(a, c int) LinkParams { return LinkParams{} }, 0, 1)
	w, r := f.pipe(1, 2, Addr(1), Addr(2))
	defer w.Close()
	defer r.Close()
	msg := make([]byte, 16<<10)
	buf := make([]byte, 16<<10)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(r, buf); err != nil {
			b.Fatal(err)
		}
	}
}
