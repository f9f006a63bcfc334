package node

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
)

// A post made while the community's node could not hear it is delivered to
// that node later, which announces it, so the community's members get it.
func TestPostTheCommunityMissedIsDeliveredAndAnnounced(t *testing.T) {
	ctx := context.Background()
	host := mustSocialNode(t)
	community, err := host.CreateActor(ctx, "maths", "Maths teachers", "", activity.Group)
	if err != nil {
		t.Fatal(err)
	}
	author := mustSocialNode(t) // no bootstrap: nothing redials the host
	mustPerson(t, author, "ada")
	addr := host.ID().Addrs[0]
	if _, err := author.Follow(ctx, "ada", "maths@"+addr); err != nil {
		t.Fatalf("follow the community: %v", err)
	}
	// The community's node goes out of reach: the gossip of the post
	// reaches nobody.
	hostID := host.host.ID()
	author.host.Libp2p().Network().ClosePeer(hostID)
	host.host.Libp2p().Network().ClosePeer(author.host.ID())
	res, err := author.Publish(ctx, PublishRequest{As: "ada", URL: "https://example.org/fractions", Title: "Fractions", License: "CC0-1.0", Language: "en", Community: community.DID})
	if err != nil {
		t.Fatal(err)
	}
	announced := func(n *Node) bool {
		var k int
		_ = n.db.db.QueryRow(`SELECT count(*) FROM announces WHERE community = ? AND activity_cid = ?`, community.DID, res.ActivityCID).Scan(&k)
		return k == 1
	}
	waitFor(t, "the community to announce the post", 30*time.Second, func() bool { return announced(host) })
	waitFor(t, "the author to see the announce", 30*time.Second, func() bool { return announced(author) })
}

func TestDeliveryRefusesWhatIsNotForAHostedCommunity(t *testing.T) {
	ctx := context.Background()
	n := mustSocialNode(t)
	p := mustPerson(t, n, "ada")
	res := mustPublish(t, n, p.DID, "No community")
	e, err := n.loadEntry(ctx, mustCID(t, res.ActivityCID))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.acceptDelivery(ctx, "peer", e.data); err == nil {
		t.Error("a post in no community was accepted")
	}
	if err := n.acceptDelivery(ctx, "peer", []byte(`{"type":"Create"}`)); err == nil {
		t.Error("an unsigned activity was accepted")
	}
	if err := n.acceptDelivery(ctx, "peer", make([]byte, activity.DefaultMaxSize+1)); err == nil {
		t.Error("an oversized delivery was accepted")
	}
}

// FuzzAcceptDelivery feeds ProtocolDeliver's parser arbitrary bytes: it
// never panics, and what it accepts is stored.
func FuzzAcceptDelivery(f *testing.F) {
	ctx := context.Background()
	repo, err := OpenRepo(MustInitRepo(f))
	if err != nil {
		f.Fatal(err)
	}
	n, err := New(repo, WithOffline())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { n.Close() })
	community, err := n.CreateActor(ctx, "maths", "Maths teachers", "", activity.Group)
	if err != nil {
		f.Fatal(err)
	}
	key, _ := activity.GenerateKey()
	did := activity.DIDKey(key.Public().(ed25519.PublicKey))
	now := time.Now().UTC()
	a := &activity.Activity{Type: activity.TypeCreate, Actor: did, Seq: 1, Published: now, To: []string{activity.PublicAudience, community.DID},
		Object: activity.Object{Resource: &activity.Resource{Type: activity.Link, Version: 1, Title: "Fractions", Description: "A worksheet",
			Media: activity.Media{Kind: activity.KindLink, URL: "https://example.org/fractions"}, License: "CC-BY-4.0", Language: "en",
			Creators: []activity.Creator{{Name: "Ada", Actor: did}}, Published: now}}}
	if err := activity.Sign(a, key, now); err != nil {
		f.Fatal(err)
	}
	_, valid, err := activity.Block(a)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(append(append([]byte{}, valid...), ' '))
	f.Add([]byte(`{"type":"Create","actor":"did:key:z6Mk","seq":1}`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := n.acceptDelivery(ctx, "peer", data); err != nil {
			return
		}
		e, err := verifyBlock(data)
		if err != nil {
			t.Fatalf("accepted bytes that do not verify: %v", err)
		}
		if have, _, err := n.hasEntry(ctx, e.act, e.cid); err != nil || !have {
			t.Fatalf("accepted %s but did not store it (%v)", e.cid, err)
		}
	})
}
