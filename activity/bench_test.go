package activity

import (
	"testing"
)

func benchActivity(b *testing.B) *Activity {
	b.Helper()
	a := chain(b, "bench")[0]
	// Trim the fixture to a typical ~1.5 KiB resource Create.
	r := a.Object.Resource
	r.Origin, r.DerivedFrom, r.Teaches = nil, nil, r.Teaches[:1]
	r.Description = r.Description[:150]
	if err := Sign(a, testKey("bench"), t0); err != nil {
		b.Fatal(err)
	}
	if n := len(mustEncode(b, a)); n < 1200 || n > 2200 {
		b.Fatalf("benchmark activity is %d bytes, want about 1.5 KiB", n)
	}
	return a
}

func opsPerSec(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkSign(b *testing.B) {
	a := benchActivity(b)
	key := testKey("bench")
	b.SetBytes(int64(len(mustEncode(b, a))))
	b.ReportAllocs()
	for b.Loop() {
		if err := Sign(a, key, t0); err != nil {
			b.Fatal(err)
		}
	}
	opsPerSec(b)
}

func BenchmarkVerify(b *testing.B) {
	a := benchActivity(b)
	b.SetBytes(int64(len(mustEncode(b, a))))
	b.ReportAllocs()
	for b.Loop() {
		if err := Verify(a); err != nil {
			b.Fatal(err)
		}
	}
	opsPerSec(b)
}

func BenchmarkDecodeVerify(b *testing.B) {
	raw := mustEncode(b, benchActivity(b))
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		a, err := Decode(raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := Verify(a); err != nil {
			b.Fatal(err)
		}
	}
	opsPerSec(b)
}

func BenchmarkBlock(b *testing.B) {
	a := benchActivity(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Block(a); err != nil {
			b.Fatal(err)
		}
	}
	opsPerSec(b)
}
