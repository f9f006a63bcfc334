package ratelimit

import (
	"fmt"
	"testing"
)

func TestEachKeyHasItsBurst(t *testing.T) {
	l := New(0.001, 2, 10)
	for _, k := range []string{"a", "a", "b", "b"} {
		if !l.Allow(k) {
			t.Fatalf("%s refused within its burst", k)
		}
	}
	if l.Allow("a") || l.Allow("b") {
		t.Fatal("a key over its burst was allowed")
	}
}

// A flood of new keys forgets the least recently seen, never every key at
// once: a key that keeps sending keeps its limit.
func TestAFloodOfKeysDoesNotLiftTheLimitOfOthers(t *testing.T) {
	l := New(0.001, 1, 3)
	if !l.Allow("steady") {
		t.Fatal()
	}
	for i := range 100 {
		l.Allow(fmt.Sprint("new", i))
		if i%2 == 0 && l.Allow("steady") {
			t.Fatalf("steady was allowed again after %d new keys", i)
		}
	}
	if l.Len() != 3 {
		t.Fatalf("%d keys remembered, want 3", l.Len())
	}
}

// Exhausted tells a key over its limit without counting a request, and
// knows nothing of keys it has not seen.
func TestExhaustedCountsNothing(t *testing.T) {
	l := New(0.001, 2, 10)
	if l.Exhausted("a") || l.Len() != 0 {
		t.Fatal("an unknown key is exhausted, or was remembered")
	}
	l.Allow("a")
	for range 5 {
		if l.Exhausted("a") {
			t.Fatal("a key within its burst is exhausted")
		}
	}
	l.Allow("a")
	if !l.Exhausted("a") || l.Exhausted("b") {
		t.Fatal("a key over its burst is not exhausted, or another is")
	}
}
