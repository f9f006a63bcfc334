package node_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/backup"
	"github.com/lyceum-oer/lyceum/node/nodetest"
)

// A node backed up while it runs comes back whole in a new repo: every
// pin's bytes, every log at the same head, the same keys (a new
// publication verifies under the same DID), its accounts, and an index
// rebuilt from the logs.
func TestARestoredBackupIsTheSameNode(t *testing.T) {
	ctx := context.Background()
	n := nodetest.MustNode(t, nodetest.Options{})
	person := nodetest.MustPerson(t, n, "ada")
	pub := nodetest.MustPublish(t, n, "ada", "Fractions for beginners")
	data := bytes.Repeat([]byte("a pinned lesson plan\n"), 30000)
	pinned, err := n.Content().Add(ctx, "plan.txt", files.NewBytesFile(data), api.AddOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Content().Pin(ctx, pinned); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Accounts().CreateAccount(ctx, api.CreateAccountRequest{Username: "grace", Password: "correct horse battery staple"}); err != nil {
		t.Fatal(err)
	}
	actors, err := n.Social().Actors(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	heads := map[string]string{}
	for _, a := range actors {
		_, head, err := n.Log().Head(ctx, a.DID)
		if err != nil {
			t.Fatal(err)
		}
		heads[a.DID] = head
	}
	pins, err := n.Content().Pins(ctx)
	if err != nil {
		t.Fatal(err)
	}

	var archive bytes.Buffer
	m, err := n.Backup(ctx, &archive)
	if err != nil {
		t.Fatal(err)
	}
	if m.NodeID != n.Repo().PeerID().String() || m.Blocks.Count == 0 {
		t.Fatalf("manifest %+v", m)
	}
	// The node goes on working while and after it is backed up.
	nodetest.MustPublish(t, n, "ada", "After the backup")

	target := filepath.Join(t.TempDir(), "restored")
	if _, err := backup.Restore(ctx, bytes.NewReader(archive.Bytes()), target, backup.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := backup.Restore(ctx, bytes.NewReader(archive.Bytes()), target, backup.Options{}); !errors.Is(err, backup.ErrNotEmpty) {
		t.Fatalf("a restore over a repo: %v, want ErrNotEmpty", err)
	}
	if _, err := os.Stat(filepath.Join(target, "index")); !os.IsNotExist(err) {
		t.Fatalf("the index was restored (%v)", err)
	}
	r := nodetest.MustOpen(t, target, nodetest.Options{})
	if r.Repo().PeerID() != n.Repo().PeerID() {
		t.Fatal("the restored node has another peer ID")
	}
	for _, c := range pins {
		rc, _, err := r.Content().Cat(ctx, c)
		if err != nil {
			t.Fatalf("cat %s: %v", c, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read %s: %v", c, err)
		}
		if c == pinned && !bytes.Equal(got, data) {
			t.Fatalf("%s: %d bytes back, want %d", c, len(got), len(data))
		}
	}
	for did, want := range heads {
		if _, head, err := r.Log().Head(ctx, did); err != nil || head != want {
			t.Fatalf("head of %s: %s (%v), want %s", did, head, err, want)
		}
	}
	if _, err := r.Accounts().Account(ctx, "grace"); err != nil {
		t.Fatalf("the account: %v", err)
	}
	if _, err := r.Social().ShowResource(ctx, pub.ID); err != nil {
		t.Fatalf("the resource: %v", err)
	}
	again := nodetest.MustPublish(t, r, "ada", "Signed by the same key")
	c, err := cid.Decode(again.ActivityCID)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := r.BlockService().GetBlock(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	act, _, err := activity.VerifyBlock(blk.RawData())
	if err != nil || act.Actor != person.DID {
		t.Fatalf("the new publication: actor %v (%v), want %s", act, err, person.DID)
	}
	nodetest.WaitFor(t, "the index rebuilt from the logs", 20*time.Second, func() bool {
		res, err := r.Search().Search(ctx, api.SearchQuery{Text: "beginners"})
		return err == nil && len(res.Hits) == 1
	})
	var _ node.Option // the restored repo opens as any other
}
