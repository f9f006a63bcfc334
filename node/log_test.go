package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/nodetest"
)

// A published entry is served from lyceum.db, to the node itself and to a
// follower over bitswap, as any block.
func TestLogEntriesAreServedAsBlocks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a := mustNode(t, nodetest.Options{})
	p := mustPerson(t, a, "ada")
	pub := mustPublish(t, a, p.DID, "Fractions worksheet")
	c, err := api.ParseCID(pub.ActivityCID)
	if err != nil {
		t.Fatal(err)
	}
	body, ok, err := a.Log().LookupBlock(ctx, c)
	if err != nil || !ok {
		t.Fatalf("the entry is not in lyceum.db: %v, %v", ok, err)
	}
	got, err := a.Content().GetBlock(ctx, c)
	if err != nil || string(got) != string(body) {
		t.Fatalf("GetBlock = %d bytes, %v; want the stored entry", len(got), err)
	}
	b := joined(t, a)
	got, err = b.Content().GetBlock(ctx, c)
	if err != nil || string(got) != string(body) {
		t.Fatalf("GetBlock over bitswap = %d bytes, %v; want the entry", len(got), err)
	}
}
