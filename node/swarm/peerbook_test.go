package swarm

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

func newPeerID(t *testing.T) peer.ID {
	t.Helper()
	_, pub, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// The book keeps the most recently seen peers up to its size, survives a
// save and a reopen, leaves out addresses nobody can dial, and starts
// empty over a file it cannot read.
func TestPeerBookKeepsTheMostRecentPeers(t *testing.T) {
	path := filepath.Join(t.TempDir(), PeerBookFile)
	b, err := OpenPeerBook(path, PeerBookConfig{Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var ids []peer.ID
	for i := range 5 {
		id := newPeerID(t)
		ids = append(ids, id)
		b.See(id, []ma.Multiaddr{
			ma.StringCast("/ip4/127.0.0.1/tcp/4001"),
			ma.StringCast("/ip4/0.0.0.0/tcp/4001"),
			ma.StringCast("/ip4/127.0.0.1/tcp/4001/p2p/" + id.String()),
		}, start.Add(time.Duration(i)*time.Second))
	}
	b.See(newPeerID(t), []ma.Multiaddr{ma.StringCast("/ip4/0.0.0.0/tcp/1")}, start.Add(time.Hour))
	if err := b.Save(); err != nil {
		t.Fatal(err)
	}
	again, err := OpenPeerBook(path, PeerBookConfig{Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	got := again.Peers()
	if len(got) != 3 || got[0].ID != ids[4] || got[1].ID != ids[3] || got[2].ID != ids[2] {
		t.Fatalf("remembered %v, want the last three seen, newest first", got)
	}
	if len(got[0].Addrs) != 1 || got[0].Addrs[0].String() != "/ip4/127.0.0.1/tcp/4001" {
		t.Fatalf("addresses %v", got[0].Addrs)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := OpenPeerBook(path, PeerBookConfig{}); err != nil || len(b.Peers()) != 0 {
		t.Fatalf("over a broken file: %v, %v", b.Peers(), err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}
