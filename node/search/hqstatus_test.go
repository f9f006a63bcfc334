package search_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/lyceum-oer/lyceum/node/actorlog"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/search"
	"github.com/lyceum-oer/lyceum/node/social"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
	"github.com/lyceum-oer/lyceum/node/worker"
)

// HQStatus lists every configured HQ by peer ID, in order, with how it
// last answered a search: nothing before any search, a failure in plain
// words after one it did not answer.
func TestHQStatusSaysHowEachHQLastAnswered(t *testing.T) {
	ids := make([]string, 2)
	for i := range ids {
		_, pub, err := crypto.GenerateEd25519Key(nil)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := peer.IDFromPublicKey(pub)
		ids[i] = id.String()
	}
	hqs := []string{ids[0], "/ip4/127.0.0.1/tcp/1/p2p/" + ids[1], "not an HQ"}
	dir := t.TempDir()
	db, err := sqlitedb.Open(filepath.Join(dir, "lyceum.db"), sqlitedb.Options{ReadConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	views, err := social.OpenViews(db)
	if err != nil {
		t.Fatal(err)
	}
	log, err := actorlog.New(db, actorlog.WithApplier(views))
	if err != nil {
		t.Fatal(err)
	}
	s, err := search.New(context.Background(), search.Config{IndexPath: filepath.Join(dir, "index"), HQs: hqs, RateLimit: 10, RateLimited: 10},
		search.Deps{Log: log, DB: db, Handles: views, Workers: worker.NewGroup(nil, nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	before := s.HQStatus()
	want := []string{ids[0], ids[1], "not an HQ"}
	if len(before) != 3 {
		t.Fatalf("status %+v", before)
	}
	for i, st := range before {
		if st.Peer != want[i] || st.Connected || !st.LastOK.IsZero() || !st.LastFail.IsZero() || st.LastError != "" {
			t.Fatalf("before any search, HQ %d: %+v", i, st)
		}
	}
	res, err := s.Search(context.Background(), api.SearchQuery{Text: "fractions"})
	if err != nil || len(res.Failed) != 3 {
		t.Fatalf("search offline: %+v (%v)", res, err)
	}
	for i, st := range s.HQStatus() {
		if st.Peer != want[i] || st.LastFail.IsZero() || st.LastError != "did not answer" || !st.LastOK.IsZero() {
			t.Fatalf("after a failed search, HQ %d: %+v", i, st)
		}
	}
}
