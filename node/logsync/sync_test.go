package logsync_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/actorlog"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/logsync"
	"github.com/lyceum-oer/lyceum/node/nodetest"
	"github.com/lyceum-oer/lyceum/p2p"
)

// Tests of sync with real nodes on loopback.

func mustNode(tb testing.TB, boot ...*node.Node) *node.Node {
	var addrs []string
	for _, b := range boot {
		addrs = append(addrs, nodetest.Addr(b))
	}
	return nodetest.MustNode(tb, nodetest.Options{Bootstrap: addrs})
}

func follow(tb testing.TB, n *node.Node, ref string) {
	tb.Helper()
	if _, err := n.Social().Follow(context.Background(), api.FollowRequest{Actor: ref}); err != nil {
		tb.Fatalf("follow %s: %v", ref, err)
	}
}

func topicPeers(n *node.Node, did string) []peer.ID {
	return n.Sync().Gossip().TopicPeers(logsync.TopicOfActor(did))
}

// A follower that missed a message while connected, and whose neighbours
// are other followers rather than the origin, catches up at its next
// periodic sync by asking a peer in the actor's topic.
func TestMissedMessageIsBackfilledFromAnotherFollower(t *testing.T) {
	origin := mustNode(t)
	alice := nodetest.MustPerson(t, origin, "alice")
	b := mustNode(t, origin)
	nodetest.MustPerson(t, b, "bob")
	follow(t, b, nodetest.HandleOf(origin, alice))
	c := mustNode(t, b)
	nodetest.MustPerson(t, c, "carol")
	// Following by did:key asks the connected peers; the bootstrap dial
	// runs in the background.
	nodetest.WaitFor(t, "carol's node connected to bob's", 20*time.Second, func() bool {
		return c.Host().Libp2p().Network().Connectedness(b.Host().ID()) == network.Connected
	})
	follow(t, c, alice.DID)
	nodetest.WaitFor(t, "carol in alice's topic", 20*time.Second, func() bool { return len(topicPeers(c, alice.DID)) >= 1 })

	// Carol's node steps out of alice's topics while she publishes, so
	// gossip never brings it, and stays out past GossipSub's history.
	c.Sync().Unsubscribe(alice.DID)
	nodetest.MustPublish(t, origin, "alice", "Missed worksheet")
	nodetest.WaitFor(t, "bob's copy", 20*time.Second, func() bool { return len(nodetest.FeedTitles(t, b)) == 1 })
	time.Sleep(5 * time.Second)
	c.Sync().Subscribe(alice.DID)

	nodetest.WaitFor(t, "carol's copy", 30*time.Second, func() bool { return len(nodetest.FeedTitles(t, c)) == 1 })

	// Without a connection to the origin, the log is asked of a follower.
	p := c.Sync().LogHolder(alice.DID, "")
	if p == "" || !slices.Contains(topicPeers(c, alice.DID), p) {
		t.Fatalf("logHolder without the origin = %q, want a peer of alice's topic", p)
	}
}

// A node that lacks only the newest entry of a log asks for that entry,
// not for a page of a thousand (simnet measured the full pages at 2.3×
// the payload on the wire at 20 publications a second).
func TestSyncAsksOnlyForTheEntriesItLacks(t *testing.T) {
	ctx := context.Background()
	origin := mustNode(t)
	alice := nodetest.MustPerson(t, origin, "alice")
	nodetest.MustPublish(t, origin, "alice", "One")
	nodetest.MustPublish(t, origin, "alice", "Two")
	head, seq, full, err := origin.Sync().LogPage(ctx, alice.DID, 10)
	if err != nil || seq < 3 || len(full) != int(seq) {
		t.Fatalf("alice's log: seq %d, %d entries (%v)", seq, len(full), err)
	}
	b := mustNode(t, origin)
	var older []actorlog.Entry // every entry but the head, oldest first
	for _, data := range full[1:] {
		a, c, err := activity.VerifyBlock(data)
		if err != nil {
			t.Fatal(err)
		}
		older = append(older, actorlog.Entry{Act: a, CID: c, Data: data})
	}
	slices.Reverse(older)
	if _, err := b.Log().Store(ctx, older); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var asked []int
	if err := origin.Sync().ObserveLogRequests(ctx, func(max int) {
		mu.Lock()
		asked = append(asked, max)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	if err := b.Sync().SyncLog(ctx, alice.DID, head, seq, origin.Host().ID()); err != nil {
		t.Fatal(err)
	}
	if have, err := b.Log().Contiguous(ctx, alice.DID); err != nil || have != seq {
		t.Fatalf("b holds alice's log up to %d (%v), want %d", have, err, seq)
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
	ctx := context.Background()
	hq := nodetest.MustNode(t, nodetest.Options{HQ: true, Node: []node.Option{node.WithGapDelay(time.Hour)}}) // an indexer tracks every log
	a, b := nodetest.SignedLog(t, 3), nodetest.SignedLog(t, 1)
	above, other := a[2], b[0] // a's seq 3 (nobody serves 1–2); b's seq 1
	hq.Sync().Receive(logsync.TopicIndex, "", nil, above)
	hq.Sync().Receive(logsync.TopicIndex, "", nil, other)
	stored := func(e actorlog.Entry) bool {
		have, _, err := hq.Log().Has(ctx, e.Act, e.CID, false)
		return err == nil && have
	}
	nodetest.WaitFor(t, "b's activity stored", 10*time.Second, func() bool { return stored(other) })
	if stored(above) {
		t.Fatal("an entry above a gap was stored before the gap was filled")
	}
	hq.Sync().Receive(logsync.TopicIndex, "", nil, a[0])
	hq.Sync().Receive(logsync.TopicIndex, "", nil, a[1])
	nodetest.WaitFor(t, "the held entry stored once the gap closed", 10*time.Second, func() bool { return stored(above) })
	if got := hq.Sync().Stats()[logsync.ReasonBackfillErr]; got != 0 {
		t.Errorf("%d backfills failed; none should have started", got)
	}
}

// A post made while the community's node could not hear it is delivered to
// that node later, which announces it, so the community's members get it.
func TestPostTheCommunityMissedIsDeliveredAndAnnounced(t *testing.T) {
	ctx := context.Background()
	host := mustNode(t)
	community := nodetest.MustCommunity(t, host, "maths")
	author := mustNode(t) // no bootstrap: nothing redials the host
	nodetest.MustPerson(t, author, "ada")
	follow(t, author, "maths@"+nodetest.Addr(host))
	// The community's node goes out of reach: the gossip of the post
	// reaches nobody.
	author.Host().Libp2p().Network().ClosePeer(host.Host().ID())
	host.Host().Libp2p().Network().ClosePeer(author.Host().ID())
	res, err := author.Social().Publish(ctx, api.PublishRequest{As: "ada", URL: "https://example.org/fractions", Title: "Fractions", License: "CC0-1.0", Language: "en", Community: community.DID})
	if err != nil {
		t.Fatal(err)
	}
	announced := func(n *node.Node) bool { return n.Social().Views().Announced(ctx, community.DID, res.ActivityCID) }
	nodetest.WaitFor(t, "the community to announce the post", 30*time.Second, func() bool { return announced(host) })
	nodetest.WaitFor(t, "the author to see the announce", 30*time.Second, func() bool { return announced(author) })
}

func TestDeliveryRefusesWhatIsNotForAHostedCommunity(t *testing.T) {
	ctx := context.Background()
	n := mustNode(t)
	p := nodetest.MustPerson(t, n, "ada")
	res := nodetest.MustPublish(t, n, p.DID, "No community")
	e, err := n.Log().Get(ctx, cidOf(t, res.ActivityCID))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Sync().AcceptDelivery(ctx, "peer", e.Data); err == nil {
		t.Error("a post in no community was accepted")
	}
	if err := n.Sync().AcceptDelivery(ctx, "peer", []byte(`{"type":"Create"}`)); err == nil {
		t.Error("an unsigned activity was accepted")
	}
	if err := n.Sync().AcceptDelivery(ctx, "peer", make([]byte, activity.DefaultMaxSize+1)); err == nil {
		t.Error("an oversized delivery was accepted")
	}
}

// signedPost is a post in community by a fresh throwaway actor, and that
// actor's Follow (join) of it, as another node would send them.
func signedPost(tb testing.TB, community string) (post, join []byte) {
	tb.Helper()
	key, _ := activity.GenerateKey()
	did := activity.DIDKey(key.Public().(ed25519.PublicKey))
	now := time.Now().UTC()
	sign := func(a *activity.Activity) ([]byte, string) {
		a.Actor, a.Published = did, now
		if err := activity.Sign(a, key, now); err != nil {
			tb.Fatal(err)
		}
		c, data, err := activity.Block(a)
		if err != nil {
			tb.Fatal(err)
		}
		return data, c.String()
	}
	join, joinCID := sign(&activity.Activity{Type: activity.TypeFollow, Seq: 1, To: []string{activity.PublicAudience, community}, Object: activity.Object{Ref: community}})
	post, _ = sign(&activity.Activity{Type: activity.TypeCreate, Seq: 2, Prev: joinCID, To: []string{activity.PublicAudience, community},
		Object: activity.Object{Resource: &activity.Resource{Type: activity.Link, Version: 1, Title: "Cheap pills", Description: "Buy now",
			Media: activity.Media{Kind: activity.KindLink, URL: "https://spam.example/"}, License: "CC0-1.0", Language: "en",
			Creators: []activity.Creator{{Name: "Spammer", Actor: did}}, Published: now}}})
	return post, join
}

// FuzzAcceptDelivery feeds ProtocolDeliver's handling arbitrary bytes: it
// never panics, and what it accepts is stored.
func FuzzAcceptDelivery(f *testing.F) {
	ctx := context.Background()
	n := mustNode(f)
	community := nodetest.MustCommunity(f, n, "maths")
	post, join := signedPost(f, community.DID)
	f.Add(post)
	f.Add(join)
	f.Add(append(append([]byte{}, post...), ' '))
	f.Add([]byte(`{"type":"Create","actor":"did:key:z6Mk","seq":1}`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := n.Sync().AcceptDelivery(ctx, "peer", data); err != nil {
			if api.KindOf(err) == api.KindInternal {
				t.Fatalf("an internal error: %v", err)
			}
			return
		}
		a, c, err := activity.VerifyBlock(data)
		if err != nil {
			t.Fatalf("accepted bytes that do not verify: %v", err)
		}
		if have, _, err := n.Log().Has(ctx, a, c, false); err != nil || !have {
			t.Fatalf("accepted %s but did not store it (%v)", c, err)
		}
	})
}

// Anyone could post into a community over ProtocolDeliver: 100 posts from
// 100 throwaway did:keys in a second were all announced. A post is now
// announced only when its author joined the community.
func TestCommunityAnnouncesOnlyMembersPosts(t *testing.T) {
	ctx := context.Background()
	host := mustNode(t)
	g := nodetest.MustCommunity(t, host, "maths")
	var members []string
	for i := range 20 {
		post, join := signedPost(t, g.DID)
		err := host.Sync().AcceptDelivery(ctx, "peer", post)
		if i%2 == 0 {
			if api.KindOf(err) != api.KindForbidden || !strings.Contains(api.PublicMessage(err), "join") {
				t.Fatalf("a non-member's post: %v", err)
			}
			continue
		}
		if err := host.Sync().AcceptDelivery(ctx, "peer", join); err != nil {
			t.Fatalf("a join: %v", err)
		}
		if err := host.Sync().AcceptDelivery(ctx, "peer", post); err != nil {
			t.Fatalf("a member's post: %v", err)
		}
		a, _, _ := activity.VerifyBlock(post)
		members = append(members, a.Actor)
	}
	ids, err := host.Social().ResourceIDs(ctx, g.DID, 100)
	if err != nil {
		t.Fatal(err)
	}
	announced := 0
	for _, id := range ids {
		if host.Social().Views().Announced(ctx, g.DID, id) {
			announced++
		}
	}
	if announced != len(members) {
		t.Fatalf("the community announced %d posts, want the members' %d", announced, len(members))
	}
	if host.Sync().Stats()[logsync.ReasonNotMember] == 0 {
		t.Error("refused posts were not counted")
	}
}

// One member posting faster than limits.community_posts_per_minute gets
// the burst announced and the rest refused for later.
func TestCommunityPostsAreRateLimitedPerActor(t *testing.T) {
	ctx := context.Background()
	host := mustNode(t)
	g := nodetest.MustCommunity(t, host, "maths")
	host.Sync().SetPostLimit(0.06, 3)
	key, _ := activity.GenerateKey()
	did := activity.DIDKey(key.Public().(ed25519.PublicKey))
	now := time.Now().UTC()
	prev := ""
	var refused int
	for seq := uint64(1); seq <= 8; seq++ {
		a := &activity.Activity{Actor: did, Seq: seq, Prev: prev, Published: now, To: []string{activity.PublicAudience, g.DID}}
		if seq == 1 {
			a.Type, a.Object = activity.TypeFollow, activity.Object{Ref: g.DID}
		} else {
			a.Type, a.Object = activity.TypeCreate, activity.Object{Resource: &activity.Resource{Type: activity.Link, Version: 1,
				Title: fmt.Sprintf("Post %d", seq), Media: activity.Media{Kind: activity.KindLink, URL: "https://example.org/"},
				License: "CC0-1.0", Language: "en", Creators: []activity.Creator{{Name: "Ada", Actor: did}}, Published: now}}
		}
		if err := activity.Sign(a, key, now); err != nil {
			t.Fatal(err)
		}
		c, data, err := activity.Block(a)
		if err != nil {
			t.Fatal(err)
		}
		prev = c.String()
		if err := host.Sync().AcceptDelivery(ctx, "peer", data); err != nil {
			if api.KindOf(err) != api.KindRateLimited {
				t.Fatalf("post %d: %v", seq, err)
			}
			refused++
		}
	}
	if refused != 4 {
		t.Fatalf("%d of 7 posts refused, want 4 over a burst of 3", refused)
	}
}

// mustBareHost is a libp2p host on loopback that serves nothing of
// Lyceum's until the test says so: an attacker's peer.
func mustBareHost(tb testing.TB) *p2p.Host {
	tb.Helper()
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		tb.Fatal(err)
	}
	h, err := p2p.New(p2p.Config{Identity: key, ListenAddrs: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")}, MaxMemory: 256 << 20})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.Close() })
	return h
}

// A peer that answers an HQ's "origins" with invented actors, each with a
// head that does not verify and a page of garbage, leaves nothing behind:
// the pages are kept only once their head is checked. It once grew an
// HQ's heap by 350 MiB a round.
func TestInventedOriginsLeaveNothingCached(t *testing.T) {
	ctx := context.Background()
	hq := nodetest.MustNode(t, nodetest.Options{HQ: true})
	evil := mustBareHost(t)
	srv, err := p2p.NewServer(evil.Libp2p(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	garbage := make([][]byte, 20)
	for i := range garbage {
		garbage[i] = []byte(strings.Repeat("g", 64<<10))
	}
	var dids []string
	for range 30 {
		key, _ := activity.GenerateKey()
		dids = append(dids, activity.DIDKey(key.Public().(ed25519.PublicKey)))
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	head := "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
	srv.Serve(sctx, logsync.ProtocolLog, hq.Sync().LogService(), func(_ context.Context, _ peer.ID, data []byte) ([]byte, error) {
		var req logsync.LogRequest
		if err := json.Unmarshal(data, &req); err != nil {
			return nil, err
		}
		if req.Origins {
			var ans logsync.LogAnswer
			for _, d := range dids {
				ans.Origins = append(ans.Origins, logsync.LogAnswer{DID: d, Head: head, Seq: 1000})
			}
			return json.Marshal(ans)
		}
		return json.Marshal(logsync.LogAnswer{DID: req.DID, Head: head, Seq: 1000, Entries: garbage})
	})
	if _, err := hq.Host().Connect(ctx, evil.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	sctx2, cancel2 := context.WithTimeout(ctx, 20*time.Second)
	defer cancel2()
	hq.Sync().SyncOrigins(sctx2, evil.ID())
	if logs, bytes := hq.Sync().PagesHeld(); logs != 0 || bytes != 0 {
		t.Fatalf("the HQ keeps %d pages (%d bytes) for invented actors", logs, bytes)
	}
}

// A backfill of a log longer than its memory budget waits in a file, and
// still stores the log whole and in order; the file is gone afterwards.
func TestLongBackfillSpoolsToDiskAndStoresInOrder(t *testing.T) {
	ctx := context.Background()
	origin := mustNode(t)
	nodetest.MustPerson(t, origin, "alice")
	const posts = 60
	for i := range posts {
		nodetest.MustPublish(t, origin, "alice", fmt.Sprintf("Worksheet %d", i))
	}
	// Unfollowing and following again puts an Undo above the Follow it
	// undoes: stored out of order, the follow would come back.
	bob := nodetest.MustPerson(t, origin, "bob")
	if _, err := origin.Social().Follow(ctx, api.FollowRequest{As: "alice", Actor: bob.DID}); err != nil {
		t.Fatal(err)
	}
	if err := origin.Social().Unfollow(ctx, api.FollowRequest{As: "alice", Actor: bob.DID}); err != nil {
		t.Fatal(err)
	}
	alice, _ := origin.Social().Actor(ctx, "alice")
	follower := mustNode(t, origin)
	follower.Sync().SetSpoolBudget(4 << 10) // a few entries in memory, the rest on disk
	nodetest.MustPerson(t, follower, "carol")
	if _, err := follower.Social().Follow(ctx, api.FollowRequest{As: "carol", Actor: nodetest.HandleOf(origin, alice)}); err != nil {
		t.Fatal(err)
	}
	have, err := follower.Log().Contiguous(ctx, alice.DID)
	if err != nil || have < posts+3 {
		t.Fatalf("the follower holds alice's log up to %d (%v)", have, err)
	}
	if following, err := follower.Social().FollowingOf(ctx, alice.DID); err != nil || len(following) != 0 {
		t.Errorf("the follower sees alice follow %v (%v): an Undo was stored before its Follow", following, err)
	}
	if left, _ := os.ReadDir(follower.Repo().Path() + "/tmp"); len(left) != 0 {
		t.Errorf("%d spool files left behind", len(left))
	}
}

func cidOf(tb testing.TB, s string) cid.Cid {
	tb.Helper()
	c, err := cid.Decode(s)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// A join travels to the community's node only: the node knows its new
// member at once, and the join is not gossiped to the other members.
func TestJoinIsDeliveredToTheCommunitysNodeOnly(t *testing.T) {
	ctx := context.Background()
	host := mustNode(t)
	g := nodetest.MustCommunity(t, host, "maths")
	member := mustNode(t, host)
	nodetest.MustPerson(t, member, "bea")
	follow(t, member, "maths@"+nodetest.Addr(host))
	newcomer := mustNode(t, host)
	ada := nodetest.MustPerson(t, newcomer, "ada")
	follow(t, newcomer, "maths@"+nodetest.Addr(host))
	if ok, err := host.Social().Views().IsMember(ctx, g.DID, ada.DID); err != nil || !ok {
		t.Fatalf("the community's node does not know its new member (%v)", err)
	}
	time.Sleep(time.Second) // what gossip would have brought by now
	if ok, _ := member.Social().Views().IsMember(ctx, g.DID, ada.DID); ok {
		t.Error("another member's node received the join")
	}
}

// A node that follows nobody fetches a resource it found through search
// by its ID: the first version over bitswap, then the author's log, so
// the page shows the latest version. A bad ID is refused without a fetch.
func TestFetchObjectBringsTheLatestVersion(t *testing.T) {
	origin := mustNode(t)
	nodetest.MustPerson(t, origin, "alice")
	pub := nodetest.MustPublish(t, origin, "alice", "Tides, first draft")
	ctx := context.Background()
	if _, err := origin.Social().UpdateResource(ctx, pub.ID, api.PublishRequest{As: "alice", Title: "Tides"}); err != nil {
		t.Fatal(err)
	}
	b := mustNode(t, origin)
	nodetest.WaitFor(t, "the two nodes connected", 20*time.Second, func() bool {
		return b.Host().Libp2p().Network().Connectedness(origin.Host().ID()) == network.Connected
	})
	if _, err := b.Social().ShowResource(ctx, pub.ID); api.KindOf(err) != api.KindNotFound {
		t.Fatalf("before the fetch: %v, want not found", err)
	}
	if err := b.Sync().FetchObject(ctx, pub.ID); err != nil {
		t.Fatal(err)
	}
	rv, err := b.Social().ShowResource(ctx, pub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rv.Latest.Title != "Tides" || len(rv.Versions) != 2 {
		t.Fatalf("after the fetch: title %q with %d versions, want Tides with 2", rv.Latest.Title, len(rv.Versions))
	}
	for _, bad := range []string{"", "nonsense", pub.FileCID} {
		if err := b.Sync().FetchObject(ctx, bad); api.KindOf(err) != api.KindInvalid {
			t.Errorf("FetchObject(%q) = %v, want invalid", bad, err)
		}
	}
}

// The clock estimate rests on the gossip a node accepts: a follower that
// received an actor's posts over gossip sees its own clock in step with
// the signer's (both are this machine's).
func TestClockOffsetComesFromAcceptedGossip(t *testing.T) {
	origin := mustNode(t)
	alice := nodetest.MustPerson(t, origin, "alice")
	b := mustNode(t, origin)
	nodetest.MustPerson(t, b, "bob")
	if _, n := b.Sync().ClockOffset(); n != 0 {
		t.Fatalf("%d samples before any gossip", n)
	}
	follow(t, b, nodetest.HandleOf(origin, alice))
	nodetest.WaitFor(t, "bob in alice's topic", 20*time.Second, func() bool { return len(topicPeers(origin, alice.DID)) >= 1 })
	for i := range 3 {
		nodetest.MustPublish(t, origin, "alice", fmt.Sprintf("Worksheet %d", i))
	}
	nodetest.WaitFor(t, "three samples", 20*time.Second, func() bool { _, n := b.Sync().ClockOffset(); return n >= 3 })
	if off, _ := b.Sync().ClockOffset(); off < -2*time.Second || off > 10*time.Second {
		t.Fatalf("offset %v between two nodes of one machine", off)
	}
}
