package node

import (
	"context"
	"slices"
	"testing"
	"time"
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
