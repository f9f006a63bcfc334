package node

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
)

// signedLog makes n signed activities of a fresh remote actor: a profile,
// then resource Creates, chained by prev.
func signedLog(tb testing.TB, n int) []entry {
	tb.Helper()
	key, _ := activity.GenerateKey()
	did := activity.DIDKey(key.Public().(ed25519.PublicKey))
	out := make([]entry, 0, n)
	prev := ""
	for i := 1; i <= n; i++ {
		a := &activity.Activity{Actor: did, Seq: uint64(i), Prev: prev, Published: time.Now().UTC(), To: []string{activity.PublicAudience}}
		if i == 1 {
			a.Type = activity.TypeUpdate
			a.Object.Actor = &activity.Actor{ID: did, Type: activity.Person, PreferredUsername: "remote", Node: "12D3KooWEdQDJR6QSHPaLJjubQmT2wLSCdG7koruHTveU23kc3wK"}
		} else {
			a.Type = activity.TypeCreate
			a.Object.Resource = &activity.Resource{Type: activity.Document, Version: 1, Title: fmt.Sprintf("Worksheet number %d on fractions", i),
				Description: "Exercises on adding and comparing fractions with unlike denominators, with answers.",
				Media:       activity.Media{Kind: activity.KindFile, CID: "bafkreihodxmdpyba3sno7hecojcxqyiwmn546pmz3uz55txpwgbgrvnhr4", Filename: "sheet.pdf", MediaType: "application/pdf", Size: 16},
				License:     "CC-BY-4.0", Language: "fr", Subjects: []string{"0541"}, Level: "2", LearningResourceType: "assessment",
				Creators: []activity.Creator{{Name: "Remote", Actor: did}}, Published: time.Now().UTC()}
		}
		if err := activity.Sign(a, key, time.Now().UTC()); err != nil {
			tb.Fatal(err)
		}
		c, data, err := activity.Block(a)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, entry{act: a, cid: c, data: data})
		prev = c.String()
	}
	return out
}

// BenchmarkApplyActivities measures what a receiving node does with each
// gossip message: validate (decode, verify), then ingest (store the block,
// index it and update the views, durably).
func BenchmarkApplyActivities(b *testing.B) {
	n := mustSocialNode(b)
	log := signedLog(b, b.N+1)
	ctx := context.Background()
	if err := n.storeEntries(ctx, []entry{log[0]}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	before := n.ingested.Load()
	for i := 1; i <= b.N; i++ {
		v, dec := n.validate(ctx, "peer", TopicOfActor(log[i].act.Actor), log[i].data)
		if v != 0 {
			b.Fatalf("verdict %v", v)
		}
		n.onGossip("", "peer", nil, dec)
	}
	for n.ingested.Load()-before < int64(b.N) {
		time.Sleep(100 * time.Microsecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "activities/s")
	var k int
	n.db.db.QueryRow(`SELECT count(*) FROM versions`).Scan(&k)
	if k != b.N {
		b.Fatalf("%d versions stored, want %d", k, b.N)
	}
}

// BenchmarkPublishToFeed measures, on loopback, the time from Publish on
// the origin to the resource being in a follower's feed.
func BenchmarkPublishToFeed(b *testing.B) {
	origin := mustSocialNode(b)
	alice := mustPerson(b, origin, "alice")
	f := mustSocialNode(b, origin.ID().Addrs[0])
	mustPerson(b, f, "bob")
	ctx := context.Background()
	if _, err := f.Follow(ctx, "", handleOf(origin, alice)); err != nil {
		b.Fatal(err)
	}
	waitFor(b, "mesh", 20*time.Second, func() bool { return len(origin.gossip.TopicPeers(TopicOfActor(alice.DID))) > 0 })
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		res, err := origin.Publish(ctx, PublishRequest{As: "alice", URL: fmt.Sprintf("https://example.org/r/%d", i),
			Title: fmt.Sprintf("Resource %d", i), License: "CC-BY-4.0", Language: "en"})
		if err != nil {
			b.Fatal(err)
		}
		for {
			var k int
			f.db.db.QueryRow(`SELECT count(*) FROM versions WHERE resource_id = ?`, res.ID).Scan(&k)
			if k == 1 {
				break
			}
			if time.Since(start) > 20*time.Second {
				b.Fatal("never arrived")
			}
			time.Sleep(200 * time.Microsecond)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkBackfill10000 measures a follower fetching a 10,000-activity
// history from the origin: head over the log protocol, then the prev walk
// over bitswap, verifying and storing every entry.
func BenchmarkBackfill10000(b *testing.B) {
	const size = 10000
	log := signedLog(b, size)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		origin := mustSocialNode(b)
		ctx := context.Background()
		if err := origin.storeEntries(ctx, log); err != nil {
			b.Fatal(err)
		}
		f := mustSocialNode(b, origin.ID().Addrs[0])
		mustPerson(b, f, "bob")
		b.StartTimer()
		start := time.Now()
		if _, err := f.Follow(ctx, "", log[0].act.Actor); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/backfill")
		b.StopTimer()
		if k, _ := f.contiguous(ctx, log[0].act.Actor); k != size {
			b.Fatalf("backfilled %d of %d", k, size)
		}
		f.Close()
		origin.Close()
	}
}
