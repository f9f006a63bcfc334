package node

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/p2p"
)

// The tests of this file each cover an attack of the hardening issue
// (docs/SECURITY-TESTS.md lists them).

// A page number whose offset overflows once crashed any node: bleve
// panicked on the negative offset in a goroutine nobody recovered. Over
// libp2p it is refused, and the node answers the next search.
func TestHugePageOverLibp2pIsRefusedAndTheNodeLives(t *testing.T) {
	ctx := context.Background()
	hq := mustHQ(t)
	client := mustSocialNode(t, hq.ID().Addrs[0])
	ask := func(q SearchQuery) error {
		body, err := json.Marshal(q)
		if err != nil {
			t.Fatal(err)
		}
		_, err = p2p.Request(ctx, client.host.Libp2p(), hq.host.ID(), ProtocolSearch, body, 0)
		return err
	}
	for _, q := range []SearchQuery{
		{Text: "x", Page: 4611686018427387905, Size: 2},
		{Text: "x", Page: math.MaxInt, Size: math.MaxInt},
		{Text: "x", Page: -1},
		{Text: "x", Size: -5},
		{Text: "x", Page: 5001, Size: 2},
	} {
		var re *p2p.RemoteError
		if err := ask(q); !errors.As(err, &re) || !re.Refused {
			t.Errorf("page %d size %d: %v, want a refusal", q.Page, q.Size, err)
		}
	}
	if err := ask(SearchQuery{Text: "fractions"}); err != nil {
		t.Fatalf("the node no longer answers: %v", err)
	}
}

func TestCheckSearch(t *testing.T) {
	cases := []struct {
		name string
		q    SearchQuery
		ok   bool
	}{
		{"defaults are filled in", SearchQuery{Text: "fractions"}, true},
		{"the deepest page", SearchQuery{Page: 100, Size: 100}, true},
		{"one page deeper", SearchQuery{Page: 101, Size: 100}, false},
		{"a page that overflows", SearchQuery{Page: 4611686018427387905, Size: 2}, false},
		{"the largest int", SearchQuery{Page: math.MaxInt}, false},
		{"a negative page", SearchQuery{Page: -1}, false},
		{"a size over the maximum", SearchQuery{Size: 101}, false},
		{"a negative size", SearchQuery{Size: math.MinInt}, false},
		{"an unknown kind", SearchQuery{Kind: "note"}, false},
		{"an unknown sort", SearchQuery{Sort: "random"}, false},
		{"a language name", SearchQuery{Language: "french"}, false},
		{"a language tag", SearchQuery{Language: "pt-BR"}, true},
		{"an unknown level", SearchQuery{Level: "9"}, false},
		{"an unknown subject", SearchQuery{Subject: "maths"}, false},
		{"an unknown licence", SearchQuery{License: "GPL"}, false},
		{"an unknown type", SearchQuery{Type: "video"}, false},
		{"known filters", SearchQuery{License: "CC-BY-4.0", Subject: "0541", Level: "adult", Type: "assessment"}, true},
		{"too many words", SearchQuery{Text: strings.Repeat("word ", 33)}, true}, // the index counts them
		{"too long a text", SearchQuery{Text: strings.Repeat("x", 1001)}, false},
		{"invalid UTF-8", SearchQuery{Text: "\xff"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := checkSearch(tc.q)
			if tc.ok != (err == nil) {
				t.Fatalf("error %v, want ok=%v", err, tc.ok)
			}
			if err != nil && KindOf(err) != KindInvalid {
				t.Fatalf("kind %s, want invalid", KindOf(err))
			}
			if err == nil && (q.Page < 1 || q.Size < 1 || q.Page*q.Size > 10000) {
				t.Fatalf("normalised to page %d size %d", q.Page, q.Size)
			}
		})
	}
}

// FuzzSearchRequest sends ProtocolSearch's handler every integer page and
// size with any text and filters: it refuses or answers, and never
// panics (a panic here would end the fuzzing process).
func FuzzSearchRequest(f *testing.F) {
	repo, err := OpenRepo(MustInitRepo(f))
	if err != nil {
		f.Fatal(err)
	}
	n, err := New(repo, WithOffline())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { n.Close() })
	mustPerson(f, n, "ada")
	mustPublish(f, n, "ada", "Fractions worksheet")
	f.Add(int64(4611686018427387905), int64(2), "x", "", "")
	f.Add(int64(math.MaxInt64), int64(math.MaxInt64), "fractions", "resource", "newest")
	f.Add(int64(math.MinInt64), int64(-1), "", "person", "popular")
	f.Add(int64(1), int64(20), `"equivalent fractions" worksheet`, "", "relevance")
	f.Add(int64(0), int64(0), strings.Repeat("fractions ", 40), "collection", "")
	f.Fuzz(func(t *testing.T, page, size int64, text, kind, sort string) {
		q := SearchQuery{Text: text, Kind: kind, Sort: sort, Page: int(page), Size: int(size), Facets: page%2 == 0}
		body, err := json.Marshal(q)
		if err != nil {
			return
		}
		ans, err := n.handleSearch(context.Background(), "", body)
		var refusal *p2p.Refusal
		if err != nil && !errors.As(err, &refusal) {
			t.Fatalf("page %d size %d: an internal error: %v", page, size, err)
		}
		if err == nil && !json.Valid(ans) {
			t.Fatalf("an answer that is not JSON: %q", ans)
		}
		// The HTTP path goes through Search, which checks the same way.
		if _, err := n.Search(context.Background(), q); err != nil && KindOf(err) != KindInvalid {
			t.Fatalf("Search: %v", err)
		}
	})
}

// A peer that answers an HQ's "origins" with invented actors, each with a
// head that does not verify and a page of garbage, leaves nothing behind:
// the pages are kept only once their head is checked. It once grew an
// HQ's heap by 350 MiB a round.
func TestInventedOriginsLeaveNothingCached(t *testing.T) {
	ctx := context.Background()
	hq := mustHQ(t)
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
	head := mustCID(t, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")
	srv.Serve(sctx, ProtocolLog, logService(), func(_ context.Context, _ peer.ID, data []byte) ([]byte, error) {
		var req logRequest
		if err := json.Unmarshal(data, &req); err != nil {
			return nil, err
		}
		if req.Origins {
			var ans logHeadAnswer
			for _, d := range dids {
				ans.Origins = append(ans.Origins, logHeadAnswer{DID: d, Head: head.String(), Seq: 1000})
			}
			return json.Marshal(ans)
		}
		return json.Marshal(logHeadAnswer{DID: req.DID, Head: head.String(), Seq: 1000, Entries: garbage})
	})
	if _, err := hq.host.Connect(ctx, evil.Addrs()[0]); err != nil {
		t.Fatal(err)
	}
	sync, cancelSync := context.WithTimeout(ctx, 20*time.Second)
	defer cancelSync()
	hq.syncOrigins(sync, evil.ID())
	if logs, bytes := hq.pages.size(); logs != 0 || bytes != 0 {
		t.Fatalf("the HQ keeps %d pages (%d bytes) for invented actors", logs, bytes)
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

// A backfill of a log longer than its memory budget waits in a file, and
// still stores the log whole and in order; the file is gone afterwards.
func TestLongBackfillSpoolsToDiskAndStoresInOrder(t *testing.T) {
	ctx := context.Background()
	origin := mustSocialNode(t)
	mustPerson(t, origin, "alice")
	const posts = 60
	for i := range posts {
		mustPublish(t, origin, "alice", fmt.Sprintf("Worksheet %d", i))
	}
	// Unfollowing and following again puts an Undo above the Follow it
	// undoes: stored out of order, the follow would come back.
	bob := mustPerson(t, origin, "bob")
	if _, err := origin.Follow(ctx, "alice", bob.DID); err != nil {
		t.Fatal(err)
	}
	if err := origin.Unfollow(ctx, "alice", bob.DID); err != nil {
		t.Fatal(err)
	}
	alice, _ := origin.Actor(ctx, "alice")
	follower := mustSocialNode(t, origin.ID().Addrs[0])
	follower.spoolBudget = 4 << 10 // a few entries in memory, the rest on disk
	mustPerson(t, follower, "carol")
	if _, err := follower.Follow(ctx, "carol", handleOf(origin, alice)); err != nil {
		t.Fatal(err)
	}
	have, err := follower.contiguous(ctx, alice.DID)
	if err != nil || have < posts+3 {
		t.Fatalf("the follower holds alice's log up to %d (%v)", have, err)
	}
	var k int
	if err := follower.db.db.QueryRow(`SELECT count(*) FROM follows WHERE follower = ?`, alice.DID).Scan(&k); err != nil || k != 0 {
		t.Errorf("the follower sees alice follow %d actors (%v): an Undo was stored before its Follow", k, err)
	}
	if left, _ := os.ReadDir(follower.tmpDir()); len(left) != 0 {
		t.Errorf("%d spool files left behind", len(left))
	}
}

func TestSpoolGivesEntriesBackOldestFirst(t *testing.T) {
	msgs := signedActivities(t, 1, 40) // one actor, seq 1..40
	sp := newSpool(t.TempDir(), 3000)
	for i := len(msgs) - 1; i >= 0; i-- { // newest first, as a walk down
		e, err := verifyBlock(msgs[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := sp.add(e); err != nil {
			t.Fatal(err)
		}
	}
	if sp.f == nil {
		t.Fatal("nothing went to disk")
	}
	last, _ := verifyBlock(msgs[len(msgs)-1])
	var seqs []uint64
	if err := sp.drain(7, last, func(es []entry) error {
		if len(es) > 7 {
			t.Errorf("a batch of %d", len(es))
		}
		for _, e := range es {
			seqs = append(seqs, e.act.Seq)
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
	if len(seqs) != len(msgs)+1 || seqs[len(seqs)-1] != last.act.Seq {
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

// mustCommunity creates a community on n.
func mustCommunity(tb testing.TB, n *Node, name string) ActorInfo {
	tb.Helper()
	g, err := n.CreateActor(context.Background(), name, "Community "+name, "", activity.Group)
	if err != nil {
		tb.Fatal(err)
	}
	return g
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

// Anyone could post into a community over ProtocolDeliver: 100 posts from
// 100 throwaway did:keys in a second were all announced. A post is now
// announced only when its author joined the community.
func TestCommunityAnnouncesOnlyMembersPosts(t *testing.T) {
	ctx := context.Background()
	host := mustSocialNode(t)
	g := mustCommunity(t, host, "maths")
	var announced int
	for i := range 20 {
		post, join := signedPost(t, g.DID)
		err := host.acceptDelivery(ctx, "peer", post)
		if i%2 == 0 {
			if KindOf(err) != KindUnauthorized || !strings.Contains(PublicMessage(err), "join") {
				t.Fatalf("a non-member's post: %v", err)
			}
			continue
		}
		if err := host.acceptDelivery(ctx, "peer", join); err != nil {
			t.Fatalf("a join: %v", err)
		}
		if err := host.acceptDelivery(ctx, "peer", post); err != nil {
			t.Fatalf("a member's post: %v", err)
		}
		announced++
	}
	var k int
	if err := host.db.db.QueryRow(`SELECT count(*) FROM announces WHERE community = ?`, g.DID).Scan(&k); err != nil {
		t.Fatal(err)
	}
	if k != announced {
		t.Fatalf("the community announced %d posts, want the members' %d", k, announced)
	}
	if host.GossipStats()[ReasonNotMember] == 0 {
		t.Error("refused posts were not counted")
	}
}

// One member posting faster than limits.community_posts_per_minute gets
// the burst announced and the rest refused for later.
func TestCommunityPostsAreRateLimitedPerActor(t *testing.T) {
	ctx := context.Background()
	host := mustSocialNode(t)
	g := mustCommunity(t, host, "maths")
	host.postLimit = newClientLimiter(0.001, 3, 100)
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
		if err := host.acceptDelivery(ctx, "peer", data); err != nil {
			if KindOf(err) != KindUnavailable {
				t.Fatalf("post %d: %v", seq, err)
			}
			refused++
		}
	}
	if refused != 4 {
		t.Fatalf("%d of 7 posts refused, want 4 over a burst of 3", refused)
	}
}

// A failed actor creation once left a local actor without a profile:
// "exists already" and "unknown" at once.
func TestFailedActorCreationLeavesNothing(t *testing.T) {
	ctx := context.Background()
	repo, err := OpenRepo(MustInitRepo(t))
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(repo, WithOffline())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, err := n.CreateActor(ctx, "ada", strings.Repeat("A", 10*activity.MaxText), "", activity.Person); KindOf(err) != KindInvalid {
		t.Fatalf("a name far too long: %v", err)
	}
	if _, err := n.CreateActor(ctx, "ada", "Ada", "", activity.Person); err != nil {
		t.Fatalf("the username stayed taken: %v", err)
	}
	if _, err := n.CreateActor(ctx, "ada", "Ada", "", activity.Person); KindOf(err) != KindConflict {
		t.Fatalf("a second ada: %v", err)
	}
}

// A resource published by file_cid is pinned: gc once deleted its file.
func TestFileCIDPublicationSurvivesGC(t *testing.T) {
	ctx := context.Background()
	repo, err := OpenRepo(MustInitRepo(t))
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(repo, WithOffline())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	mustPerson(t, n, "ada")
	data := strings.Repeat("a worksheet on fractions\n", 50000)
	c, err := n.AddFiles(ctx, "sheet.txt", files.NewBytesFile([]byte(data)), AddOptions{NoPin: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Publish(ctx, PublishRequest{FileCID: c.String(), Filename: "sheet.txt", Title: "Fractions", License: "CC0-1.0", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.GC(ctx); err != nil {
		t.Fatal(err)
	}
	r, size, err := n.Cat(ctx, c)
	if err != nil {
		t.Fatalf("the published file is gone: %v", err)
	}
	r.Close()
	if size != int64(len(data)) {
		t.Fatalf("size %d, want %d", size, len(data))
	}
}
