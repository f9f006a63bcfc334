package node

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
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
	full := origin.answerLogHead(ctx, logRequest{DID: alice.DID, Max: 10})
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
	origin.host.Libp2p().SetStreamHandler(ProtocolLog, func(s network.Stream) {
		defer s.Close()
		var req logRequest
		if err := json.NewDecoder(s).Decode(&req); err != nil {
			_ = s.Reset()
			return
		}
		mu.Lock()
		asked = append(asked, req.Max)
		mu.Unlock()
		_ = json.NewEncoder(s).Encode(origin.answerLogHead(ctx, req))
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
