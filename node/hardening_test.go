package node_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ipfs/boxo/files"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/nodetest"
)

// Attacks of the hardening issue that a whole node answers
// (docs/SECURITY-TESTS.md lists them all).

// A failed actor creation once left a local actor without a profile:
// "exists already" and "unknown" at once.
func TestFailedActorCreationLeavesNothing(t *testing.T) {
	ctx := context.Background()
	n := mustNode(t, nodetest.Options{Offline: true})
	create := func(name string) error {
		_, err := n.Social().CreateActor(ctx, api.CreateActorRequest{Username: "ada", Name: name})
		return err
	}
	if err := create(strings.Repeat("A", 10*activity.MaxText)); api.KindOf(err) != api.KindInvalid {
		t.Fatalf("a name far too long: %v", err)
	}
	if err := create("Ada"); err != nil {
		t.Fatalf("the username stayed taken: %v", err)
	}
	if err := create("Ada"); api.KindOf(err) != api.KindConflict {
		t.Fatalf("a second ada: %v", err)
	}
}

// A resource published by file_cid is pinned: gc once deleted its file.
func TestFileCIDPublicationSurvivesGC(t *testing.T) {
	ctx := context.Background()
	n := mustNode(t, nodetest.Options{Offline: true})
	mustPerson(t, n, "ada")
	data := strings.Repeat("a worksheet on fractions\n", 50000)
	c, err := n.Content().Add(ctx, "sheet.txt", files.NewBytesFile([]byte(data)), api.AddOptions{NoPin: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Social().Publish(ctx, api.PublishRequest{FileCID: c.String(), Filename: "sheet.txt", Title: "Fractions", License: "CC0-1.0", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Content().GC(ctx); err != nil {
		t.Fatal(err)
	}
	r, size, err := n.Content().Cat(ctx, c)
	if err != nil {
		t.Fatalf("the published file is gone: %v", err)
	}
	r.Close()
	if size != int64(len(data)) {
		t.Fatalf("size %d, want %d", size, len(data))
	}
}
