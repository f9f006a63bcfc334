package ipfs

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
)

// Add benchmarks use an on-disk store, which is what users get.

func BenchmarkAdd256MiB(b *testing.B) {
	const size = 256 << 20
	data := randomBytes(40, size)
	b.SetBytes(size)
	for b.Loop() {
		b.StopTimer()
		c := New(MustOpenStore(b, b.TempDir()), nil, WithLogger(quietLogger()))
		b.StartTimer()
		if _, err := c.Add(context.Background(), "bench", files.NewBytesFile(data), ImportOptions{Pin: true}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAddSmallFiles(b *testing.B) {
	const n = 10000
	contents := make([][]byte, n)
	for i := range contents {
		contents[i] = randomBytes(uint64(1000+i), 1024+int(randomBytes(uint64(i), 2)[0])*28) // 1–8 KiB
	}
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		c := New(MustOpenStore(b, b.TempDir()), nil, WithLogger(quietLogger()))
		m := make(map[string]files.Node, n)
		for i, data := range contents {
			m[fmt.Sprintf("f%05d.txt", i)] = files.NewBytesFile(data)
		}
		dir := files.NewMapDirectory(m)
		b.StartTimer()
		start := time.Now()
		if _, err := c.Add(context.Background(), "bench", dir, ImportOptions{Pin: true}, nil); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "files/s")
}

func BenchmarkBitswapFetch256MiB(b *testing.B) {
	const size = 256 << 20
	a := MustOnline(b, NewMemStore(WithStoreLogger(quietLogger())))
	root := MustAddBytes(b, a, randomBytes(41, size), ImportOptions{Pin: true})
	b.SetBytes(size)
	for b.Loop() {
		b.StopTimer()
		p := peerPair{a: a}.connect(b)
		b.StartTimer()
		r, _, err := p.b.Cat(context.Background(), root)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, r)
		r.Close()
		if err != nil || n != size {
			b.Fatalf("read %d bytes: %v", n, err)
		}
	}
}

func BenchmarkBitswapFirstByte4KiB(b *testing.B) {
	p := MustPeerPair(b)
	var total time.Duration
	i := 0
	for b.Loop() {
		b.StopTimer()
		root := MustAddBytes(b, p.a, randomBytes(uint64(5000+i), 4<<10), ImportOptions{})
		i++
		b.StartTimer()
		start := time.Now()
		r, _, err := p.b.Cat(context.Background(), root)
		if err != nil {
			b.Fatal(err)
		}
		var one [1]byte
		if _, err := io.ReadFull(r, one[:]); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		r.Close()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/op")
}
