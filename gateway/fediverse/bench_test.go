package fediverse

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/gateway/delivery"
	"github.com/lyceum-oer/lyceum/gateway/httpsig"
	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
)

// BenchmarkOutboxFanOut measures the bridge's side of a publication to
// 10,000 remote followers on 1,000 servers: render the Create of the Note,
// read the followers, collapse them to 1,000 shared inboxes and store the
// deliveries durably in a real delivery queue (not running: the POSTs are
// gateway/delivery's benchmark). One op is one publication.
func BenchmarkOutboxFanOut(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	if err := node.InitRepo(dir, node.ProfileTest); err != nil {
		b.Fatal(err)
	}
	repo, err := node.OpenRepo(dir)
	if err != nil {
		b.Fatal(err)
	}
	n, err := node.New(repo, node.WithOffline())
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	var br *Bridge
	q, err := delivery.Open(filepath.Join(dir, "delivery.db"), delivery.WithSigner(delivery.SignerFunc(func(k string) (*rsa.PrivateKey, error) { return br.Key(k) })))
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	br, err = New(Config{PublicURL: "https://lyceum.example", DBPath: filepath.Join(dir, "fediverse.db"), Client: http.DefaultClient, Delivery: q}, servicesOf(n))
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	if _, err := n.Social().CreateActor(ctx, api.CreateActorRequest{Username: "alice", Name: "Alice", Type: string(activity.Person)}); err != nil {
		b.Fatal(err)
	}
	alice := br.actorURL("alice")
	err = br.db.db.Tx(ctx, func(tx *sqlitedb.Tx) error {
		for i := 0; i < 10000; i++ {
			host := fmt.Sprintf("https://s%d.example", i%1000)
			id := fmt.Sprintf("%s/users/u%d", host, i)
			if _, err := tx.Exec(ctx, `INSERT INTO remote_actors (id, inbox, shared_inbox, software, fetched) VALUES (?, ?, ?, 'mastodon', ?)`, id, id+"/inbox", host+"/inbox", now()); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO followers (local, remote, follow_id, state, since) VALUES (?, ?, ?, 'accepted', ?)`, alice, id, id+"#f", now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	pub, err := n.Social().Publish(ctx, api.PublishRequest{As: "alice", URL: "https://example.org/f", Title: "Fractions worksheet",
		Summary: "Adding fractions with unlike denominators.", License: "CC-BY-4.0", Language: "en", Subjects: []string{"0541"}})
	if err != nil {
		b.Fatal(err)
	}
	a, err := n.Log().Activity(ctx, pub.ActivityCID)
	if err != nil {
		b.Fatal(err)
	}
	e := api.LogEntry{CID: pub.ActivityCID, Activity: a, Local: true}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := br.dispatch(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if st := q.Stats(); st.Pending != int64(1000*b.N) {
		b.Fatalf("%d deliveries queued, want %d", st.Pending, 1000*b.N)
	}
}

// BenchmarkInboxLike measures one signed Like through the shared inbox:
// signature verification (key cached), parsing, de-duplication and the
// durable write. Requests are signed before the timer runs.
func BenchmarkInboxLike(b *testing.B) {
	ctx := context.Background()
	s := newSite(b, func(c *Config) { c.InboxRate = 1e6 }) // the rate limit is not what is measured
	s.actor(b, "alice", activity.Person)
	pub, err := s.node.Social().Publish(ctx, api.PublishRequest{As: "alice", URL: "https://example.org/l", Title: "Liked", License: "CC0-1.0", Language: "en"})
	if err != nil {
		b.Fatal(err)
	}
	f := newFakeServer(b, "mastodon", "eve")
	note := s.url + "/ap/resources/" + pub.ID
	mux := http.NewServeMux()
	s.bridge.Register(mux)
	reqs := make([]*http.Request, b.N)
	bodies := make([][]byte, b.N)
	for i := range reqs {
		body, _ := json.Marshal(obj{"id": fmt.Sprintf("%s/likes/%d", f.url, i), "type": "Like", "actor": f.actor("eve"), "object": note})
		r := httptest.NewRequest(http.MethodPost, s.url+"/ap/inbox", bytes.NewReader(body))
		r.Header.Set("Content-Type", apType)
		if err := httpsig.Sign(r, body, f.actor("eve")+"#main-key", f.keys["eve"], time.Now()); err != nil {
			b.Fatal(err)
		}
		reqs[i], bodies[i] = r, body
	}
	// Warm the key cache.
	if _, err := s.bridge.FetchKey(ctx, f.actor("eve")+"#main-key", false); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, reqs[i])
		if w.Code != http.StatusAccepted {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
