package logsync

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/actorlog"
)

// The unit tests of sync's own types; tests of sync with real nodes are
// in sync_test.go.

// signedEntries are n signed activities of each of actors fresh actors,
// interleaved: actor i%actors has entry i.
func signedEntries(tb testing.TB, actors, n int) []actorlog.Entry {
	tb.Helper()
	keys := make([]ed25519.PrivateKey, actors)
	type state struct {
		did  string
		seq  uint64
		prev string
	}
	st := make([]state, actors)
	for i := range keys {
		k, _ := activity.GenerateKey()
		keys[i] = k
		st[i].did = activity.DIDKey(k.Public().(ed25519.PublicKey))
	}
	var out []actorlog.Entry
	for i := range n {
		s := &st[i%actors]
		s.seq++
		a := &activity.Activity{Type: activity.TypeLike, Actor: s.did, Seq: s.seq, Prev: s.prev, Published: time.Now().UTC(),
			To: []string{activity.PublicAudience}, Object: activity.Object{Ref: "bafkreihodxmdpyba3sno7hecojcxqyiwmn546pmz3uz55txpwgbgrvnhr4"}}
		if err := activity.Sign(a, keys[i%actors], time.Now().UTC()); err != nil {
			tb.Fatal(err)
		}
		c, data, err := activity.Block(a)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, actorlog.Entry{Act: a, CID: c, Data: data})
		s.prev = c.String()
	}
	return out
}

// waitFor polls cond until it holds or d has passed.
func waitFor(tb testing.TB, what string, d time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestKeyedQueueKeepsOneJobPerKey(t *testing.T) {
	q := newKeyedQueue[string, int](100)
	higher := func(old, new int) bool { return new > old }
	q.push("a", 3, higher)
	q.push("b", 1, higher)
	q.push("a", 2, higher) // lower: the pending 3 stays
	q.push("a", 5, higher)
	q.push("c", 7, nil)
	q.push("c", 6, nil) // no keep: the newer wins
	var got []string
	for {
		k, v, ok := q.pop()
		if !ok {
			break
		}
		got = append(got, fmt.Sprintf("%s=%d", k, v))
	}
	if want := []string{"a=5", "b=1", "c=6"}; !slices.Equal(got, want) {
		t.Fatalf("popped %v, want %v", got, want)
	}

	// A key is worked on by one worker at a time.
	q.push("a", 8, higher)
	q.push("d", 1, nil)
	if k, _, ok := q.pop(); !ok || k != "d" {
		t.Fatalf("popped %q while a is busy, want d", k)
	}
	if _, _, ok := q.pop(); ok {
		t.Fatal("popped a second job of a busy key")
	}
	q.done("a")
	if k, v, ok := q.pop(); !ok || k != "a" || v != 8 {
		t.Fatalf("after done: popped %q=%d, want a=8", k, v)
	}
	for _, k := range []string{"a", "b", "c", "d"} {
		q.done(k)
	}

	// Workers share a queue and stop with their context.
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.work(ctx, func(_ context.Context, k string, v int) {
				mu.Lock()
				seen[k] = v
				mu.Unlock()
			})
		}()
	}
	for i := range 100 {
		q.push(fmt.Sprint(i), i, nil)
	}
	waitFor(t, "every job done", 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == 100
	})
	cancel()
	wg.Wait()
}

// A gap held longer than the delay goes to the backfill queue, once per
// actor, from its highest entry; younger gaps stay held unless the buffer
// is full.
func TestHeldGapsAreReleasedAfterTheDelay(t *testing.T) {
	msgs := signedEntries(t, 2, 6)
	item := func(i int, since time.Time) ingestItem { return ingestItem{e: msgs[i], since: since} }
	old, young := time.Now().Add(-time.Minute), time.Now()
	n := &Service{gaps: newKeyedQueue[string, ingestItem](100)}
	held := &heldGaps{by: map[string][]ingestItem{}}
	a0, a1 := item(2, old), item(4, old) // actor 0, seq 2 and 3
	b := item(5, young)                  // actor 1, seq 3
	for _, it := range []ingestItem{a0, a1, b} {
		held.add(it)
	}
	n.releaseGaps(held, time.Second, false)
	if held.count != 1 || held.bytes != int64(len(b.e.Data)) {
		t.Fatalf("%d entries (%d bytes) still held, want actor 1's one", held.count, held.bytes)
	}
	actor, it, ok := n.gaps.pop()
	if !ok || actor != a0.e.Act.Actor || it.e.Act.Seq != 3 {
		t.Fatalf("backfill job %q seq %d, want actor 0 from seq 3", actor, it.e.Act.Seq)
	}
	if _, held1 := held.by[b.e.Act.Actor]; !held1 || len(held.by) != 1 {
		t.Fatal("the young gap was released")
	}
	n.releaseGaps(held, time.Second, true)
	if held.count != 0 || held.bytes != 0 || len(held.by) != 0 {
		t.Fatalf("a full buffer left %d entries of %d actors", held.count, len(held.by))
	}
}

func TestPageCacheIsBoundedInLogsAndBytes(t *testing.T) {
	c := newPageCache(3, 1000)
	page := func(n int) [][]byte { return [][]byte{make([]byte, n)} }
	c.put("a", page(400))
	c.put("b", page(400))
	c.put("c", page(400)) // over 1000 bytes: a goes
	if logs, bytes := c.size(); logs != 2 || bytes != 800 {
		t.Fatalf("%d logs, %d bytes", logs, bytes)
	}
	if c.take("a") != nil {
		t.Error("the oldest page was kept over the byte bound")
	}
	c.put("d", page(10))
	c.put("e", page(10)) // over 3 logs: b goes
	if logs, _ := c.size(); logs != 3 || c.take("b") != nil {
		t.Errorf("%d logs kept, want 3 without b", logs)
	}
	c.put("huge", page(2000))
	if c.take("huge") != nil {
		t.Error("a page larger than the cache was kept")
	}
}

func TestSpoolGivesEntriesBackOldestFirst(t *testing.T) {
	msgs := signedEntries(t, 1, 40) // one actor, seq 1..40
	verify := func(data []byte) (actorlog.Entry, error) {
		a, c, err := activity.VerifyBlock(data)
		return actorlog.Entry{Act: a, CID: c, Data: data}, err
	}
	sp := newSpool(t.TempDir(), 3000, verify)
	for i := len(msgs) - 1; i >= 0; i-- { // newest first, as a walk down
		if err := sp.add(msgs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if sp.f == nil {
		t.Fatal("nothing went to disk")
	}
	last := msgs[len(msgs)-1]
	var seqs []uint64
	if err := sp.drain(7, last, func(es []actorlog.Entry) error {
		if len(es) > 7 {
			t.Errorf("a batch of %d", len(es))
		}
		for _, e := range es {
			seqs = append(seqs, e.Act.Seq)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sp.close()
	for i, s := range seqs[:len(seqs)-1] {
		if s != uint64(i+1) {
			t.Fatalf("seq %d at %d: %v", s, i, seqs)
		}
	}
	if len(seqs) != len(msgs)+1 || seqs[len(seqs)-1] != last.Act.Seq {
		t.Fatalf("drained %v", seqs)
	}
}

func TestBackfillQueueIsBounded(t *testing.T) {
	q := newKeyedQueue[string, int](3)
	for i, k := range []string{"a", "b", "c"} {
		if q.push(k, i, nil) {
			t.Fatalf("dropped a job under the limit")
		}
	}
	if !q.push("d", 3, nil) {
		t.Fatal("a fourth key did not drop the oldest")
	}
	if q.push("d", 4, nil) {
		t.Fatal("replacing a waiting job dropped one")
	}
	k, _, _ := q.pop()
	if k != "b" {
		t.Fatalf("first job %q, want b (a was dropped)", k)
	}
}
