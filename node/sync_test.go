package node

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// A follower that missed a message while connected, and whose neighbours
// are other followers rather than the origin, catches up at its next
// periodic sync by asking a peer in the actor's topic.
func TestMissedMessageIsBackfilledFromAnotherFollower(t *testing.T) {
	ctx := context.Background()
	origin := mustSocialNode(t)
	alice := mustPerson(t, origin, "alice")
	b := mustSocialNode(t, origin.ID().Addrs[0])
	mustPerson(t, b, "bob")
	if _, err := b.Follow(ctx, "", handleOf(origin, alice)); err != nil {
		t.Fatal(err)
	}
	c := mustSocialNode(t, b.ID().Addrs[0])
	mustPerson(t, c, "carol")
	// Following by did:key asks the connected peers; the bootstrap dial
	// runs in the background.
	waitFor(t, "carol's node connected to bob's", 20*time.Second, func() bool {
		return c.host.Libp2p().Network().Connectedness(b.host.Libp2p().ID()) == network.Connected
	})
	if _, err := c.Follow(ctx, "", alice.DID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "carol in alice's topic", 20*time.Second, func() bool {
		return len(c.gossip.TopicPeers(TopicOfActor(alice.DID))) >= 1
	})

	// Carol's node steps out of alice's topics while she publishes, so
	// gossip never brings it, and stays out past GossipSub's history.
	c.unsubscribe(alice.DID)
	mustPublish(t, origin, "alice", "Missed worksheet")
	waitFor(t, "bob's copy", 20*time.Second, func() bool { return len(feedTitles(t, b)) == 1 })
	time.Sleep(5 * time.Second)
	c.subscribe(alice.DID)

	waitFor(t, "carol's copy", 30*time.Second, func() bool { return len(feedTitles(t, c)) == 1 })

	// Without a connection to the origin, the log is asked of a follower.
	p := c.logHolder(alice.DID, "")
	if p == "" || !slices.Contains(c.gossip.TopicPeers(TopicOfActor(alice.DID)), p) {
		t.Fatalf("logHolder without the origin = %q, want a peer of alice's topic", p)
	}
}

// A node that lacks only the newest entry of a log asks for that entry,
// not for a page of a thousand (simnet measured the full pages at 2.3×
// the payload on the wire at 20 publications a second).
func TestSyncAsksOnlyForTheEntriesItLacks(t *testing.T) {
	ctx := context.Background()
	origin := mustSocialNode(t)
	alice := mustPerson(t, origin, "alice")
	mustPublish(t, origin, "alice", "One")
	mustPublish(t, origin, "alice", "Two")
	full, err := origin.answerLogHead(ctx, logRequest{DID: alice.DID, Max: 10})
	if err != nil {
		t.Fatal(err)
	}
	if full.Seq < 3 || len(full.Entries) != int(full.Seq) {
		t.Fatalf("alice's log: seq %d, %d entries", full.Seq, len(full.Entries))
	}
	b := mustSocialNode(t, origin.ID().Addrs[0])
	var older []entry // every entry but the head, oldest first
	for _, data := range full.Entries[1:] {
		e, err := verifyBlock(data)
		if err != nil {
			t.Fatal(err)
		}
		older = append(older, e)
	}
	slices.Reverse(older)
	if err := b.storeEntries(ctx, older); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var asked []int
	origin.rpc.Serve(origin.ctx, ProtocolLog, logService(), func(ctx context.Context, from peer.ID, data []byte) ([]byte, error) {
		var req logRequest
		if err := json.Unmarshal(data, &req); err != nil {
			return nil, err
		}
		mu.Lock()
		asked = append(asked, req.Max)
		mu.Unlock()
		return origin.handleLog(ctx, from, data)
	})
	ans := logHeadAnswer{DID: alice.DID, Head: full.Head, Seq: full.Seq}
	if err := b.syncActor(ctx, ans, origin.host.Libp2p().ID()); err != nil {
		t.Fatal(err)
	}
	if have, err := b.contiguous(ctx, alice.DID); err != nil || have != full.Seq {
		t.Fatalf("b holds alice's log up to %d (%v), want %d", have, err, full.Seq)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(asked, []int{1}) {
		t.Errorf("b asked for %v entries, want [1]", asked)
	}
}

// An entry gossip brings above a gap in a tracked log is held, not
// backfilled at once: gossip often brings a log out of order, and the entry
// is stored as soon as the ones below it arrive. Meanwhile other actors'
// activities are stored. Before, the ingest loop walked the gap over the
// network itself, and everything queued behind it waited (for up to 30 s
// per missing entry on an HQ whose peers could not serve it).
func TestGapIsHeldWithoutHoldingUpOtherActors(t *testing.T) {
	hq := mustHQ(t, WithGapDelay(time.Hour)) // an indexer tracks every log
	ctx := context.Background()
	msgs := signedActivities(t, 2, 6) // actor 0: 0, 2, 4; actor 1: 1, 3, 5
	verified := func(i int) entry {
		e, err := verifyBlock(msgs[i])
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	above, other := verified(4), verified(1) // actor 0's seq 3 (nobody serves 1–2); actor 1's seq 1
	hq.ingestCh <- ingestItem{e: above}
	hq.ingestCh <- ingestItem{e: other}
	stored := func(e entry) bool {
		have, _, err := hq.hasEntry(ctx, e.act, e.cid)
		return err == nil && have
	}
	waitFor(t, "actor 1's activity stored", 10*time.Second, func() bool { return stored(other) })
	if stored(above) {
		t.Fatal("an entry above a gap was stored before the gap was filled")
	}
	hq.ingestCh <- ingestItem{e: verified(0)}
	hq.ingestCh <- ingestItem{e: verified(2)}
	waitFor(t, "the held entry stored once the gap closed", 10*time.Second, func() bool { return stored(above) })
	if got := hq.GossipStats()[ReasonBackfillErr]; got != 0 {
		t.Errorf("%d backfills failed; none should have started", got)
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
	msgs := signedActivities(t, 2, 6)
	item := func(i int, since time.Time) ingestItem {
		e, err := verifyBlock(msgs[i])
		if err != nil {
			t.Fatal(err)
		}
		return ingestItem{e: e, since: since}
	}
	old, young := time.Now().Add(-time.Minute), time.Now()
	n := &Node{gaps: newKeyedQueue[string, ingestItem](100)}
	held := &heldGaps{by: map[string][]ingestItem{}}
	a0, a1 := item(2, old), item(4, old) // actor 0, seq 2 and 3
	b := item(5, young)                  // actor 1, seq 3
	for _, it := range []ingestItem{a0, a1, b} {
		held.add(it)
	}
	n.releaseGaps(held, time.Second, false)
	if held.count != 1 || held.bytes != int64(len(b.e.data)) {
		t.Fatalf("%d entries (%d bytes) still held, want actor 1's one", held.count, held.bytes)
	}
	actor, it, ok := n.gaps.pop()
	if !ok || actor != a0.e.act.Actor || it.e.act.Seq != 3 {
		t.Fatalf("backfill job %q seq %d, want actor 0 from seq 3", actor, it.e.act.Seq)
	}
	if _, held1 := held.by[b.e.act.Actor]; !held1 || len(held.by) != 1 {
		t.Fatal("the young gap was released")
	}
	n.releaseGaps(held, time.Second, true)
	if held.count != 0 || held.bytes != 0 || len(held.by) != 0 {
		t.Fatalf("a full buffer left %d entries of %d actors", held.count, len(held.by))
	}
}
