package node_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"

	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/logsync"
	"github.com/lyceum-oer/lyceum/node/nodetest"
)

// These tests run two real nodes on loopback and check what the people of
// one see of what the people of the other do: comments, profiles, who
// holds a file.

// followed starts a node A with alice and a node B whose carol follows
// alice, and waits for B in alice's topic.
func followed(t *testing.T) (a, b *node.Node, alice api.Actor) {
	t.Helper()
	a = mustNode(t, nodetest.Options{})
	alice = mustPerson(t, a, "alice")
	b = joined(t, a)
	mustPerson(t, b, "carol")
	follow(t, b, "carol", handleOf(a, alice))
	waitFor(t, "B in alice's topic", 20*time.Second, func() bool {
		return len(topicPeers(a, logsync.TopicOfActor(alice.DID))) >= 1
	})
	return a, b, alice
}

// A comment made on node A, by someone node B's people do not follow,
// reaches B because B follows the resource's author: the comment copies
// the author and travels on the author's topic. B shows the commenter's
// name once it knows the commenter, and drops the comment when it is
// deleted.
func TestCommentReachesTheFollowersOfTheResourcesAuthor(t *testing.T) {
	ctx := context.Background()
	a, b, _ := followed(t)
	bob := mustPerson(t, a, "bob")
	res := mustPublish(t, a, "alice", "Fractions worksheet")
	waitFor(t, "the resource on B", 20*time.Second, func() bool {
		_, err := b.Social().ShowResource(ctx, res.ID)
		return err == nil
	})
	c, err := a.Social().Comment(ctx, api.CommentRequest{As: "bob", Resource: res.ID, Content: "Thanks, very useful."})
	if err != nil {
		t.Fatal(err)
	}
	comments := func() []api.Comment {
		cs, err := b.Social().Comments(ctx, res.ID)
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	waitFor(t, "the comment on B", 20*time.Second, func() bool {
		cs := comments()
		return len(cs) == 1 && cs[0].ID == c.ID && cs[0].Author == bob.DID && cs[0].Content == "Thanks, very useful."
	})
	follow(t, b, "carol", handleOf(a, bob))
	waitFor(t, "bob's name on B", 20*time.Second, func() bool {
		cs := comments()
		return len(cs) == 1 && cs[0].AuthorName == "Bob" && cs[0].AuthorHandle == handleOf(a, bob)
	})
	if err := a.Social().DeleteComment(ctx, "bob", c.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the comment gone from B", 20*time.Second, func() bool { return len(comments()) == 0 })
}

// A profile changed on node A — name, summary, icon — is what node B
// shows once the Update arrives.
func TestProfileUpdateReachesFollowers(t *testing.T) {
	ctx := context.Background()
	a, b, alice := followed(t)
	icon, err := a.Content().Add(ctx, "alice.png", files.NewBytesFile([]byte("\x89PNG\r\n\x1a\n a small picture")), api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Social().UpdateActor(ctx, api.ActorUpdate{As: "alice", Name: "Alice Martin", Summary: "Maths teacher.",
		IconCID: icon.String(), IconType: "image/png"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "alice's new profile on B", 20*time.Second, func() bool {
		p, err := b.Social().Profile(ctx, handleOf(a, alice), "carol")
		return err == nil && p.Name == "Alice Martin" && p.Summary == "Maths teacher." && p.IconCID == icon.String() &&
			p.Followers == 1 && p.FollowedByViewer
	})
}

// Providers counts the other peers whose provider records the DHT holds
// for a file, never the node itself, and says whether the node keeps the
// file; an offline node counts none.
func TestProvidersCountsThePeersThatAnnouncedAFile(t *testing.T) {
	ctx := context.Background()
	a := mustNode(t, nodetest.Options{})
	b := joined(t, a)
	for _, n := range []*node.Node{a, b} {
		waitFor(t, "a LAN routing table", 30*time.Second, func() bool { return n.Host().DHT().LAN.RoutingTable().Size() > 0 })
	}
	c, err := b.Content().Add(ctx, "sheet.txt", files.NewBytesFile(bytes.Repeat([]byte("a worksheet on fractions\n"), 40000)), api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	providers := func(n *node.Node) api.Providers {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		p, err := n.Content().Providers(ctx, c, 10)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	waitFor(t, "A to find B's record", 30*time.Second, func() bool {
		p := providers(a)
		return p.Peers == 1 && !p.Local
	})
	if p := providers(b); p.Peers != 0 || !p.Local {
		t.Fatalf("B, which provides it: %+v; want local and no other peer", p)
	}
	offline := mustNode(t, nodetest.Options{Offline: true})
	if p, err := offline.Content().Providers(ctx, c, 10); err != nil || p.Peers != 0 || p.Local {
		t.Fatalf("offline: %+v, %v; want no peers and no error", p, err)
	}
}

// Carol, on node B, follows a collection of alice's on node A that B
// fetched by its ID (found through search, say) without following alice:
// what alice adds to it afterwards reaches carol's collection feed, and
// after an unfollow B no longer keeps alice's log for her.
func TestAFollowedCollectionsAdditionsReachTheFollower(t *testing.T) {
	ctx := context.Background()
	a := mustNode(t, nodetest.Options{})
	alice := mustPerson(t, a, "alice")
	first := mustPublish(t, a, "alice", "Tides and the moon")
	col, err := a.Social().CreateCollection(ctx, api.CollectionRequest{As: "alice", Title: "Ocean science"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Social().AddToCollection(ctx, col.ID, api.CollectionItemRequest{As: "alice", Resource: first.ID}); err != nil {
		t.Fatal(err)
	}
	b := joined(t, a)
	mustPerson(t, b, "carol")
	if err := b.Sync().FetchObject(ctx, col.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Social().Follow(ctx, api.FollowRequest{As: "carol", Actor: col.ID}); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Social().Follows(ctx, "carol", col.ID); err != nil || !ok {
		t.Fatalf("carol follows the collection: %v (%v)", ok, err)
	}
	if !b.Social().Views().FollowedByLocal(ctx, alice.DID) {
		t.Fatal("B does not keep the log of the collection's owner")
	}
	waitFor(t, "B in alice's topic", 20*time.Second, func() bool {
		return len(topicPeers(a, logsync.TopicOfActor(alice.DID))) >= 1
	})
	second := mustPublish(t, a, "alice", "Waves and wind")
	if _, err := a.Social().AddToCollection(ctx, col.ID, api.CollectionItemRequest{As: "alice", Resource: second.ID}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the addition in carol's collection feed", 20*time.Second, func() bool {
		feed, err := b.Social().CollectionFeed(ctx, "carol", 10)
		return err == nil && len(feed) == 2 && feed[0].Title == "Waves and wind" && feed[0].CollectionTitle == "Ocean science"
	})
	if err := b.Social().Unfollow(ctx, api.FollowRequest{As: "carol", Actor: col.ID}); err != nil {
		t.Fatal(err)
	}
	if feed, _ := b.Social().CollectionFeed(ctx, "carol", 10); len(feed) != 0 {
		t.Fatalf("after the unfollow: %d additions", len(feed))
	}
	if b.Social().Views().FollowedByLocal(ctx, alice.DID) {
		t.Fatal("B still keeps alice's log after the unfollow")
	}
}
