package pinning_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/lyceum-oer/lyceum/gateway/pinning/client"
	"github.com/lyceum-oer/lyceum/node/api"
)

// The client speaks to the server: add, get, replace, delete, and list
// with paging by created over more than one page; the server's refusals
// come back as the node's error kinds.
func TestTheClientPagesThroughEveryRequest(t *testing.T) {
	base := startAPI(t)
	ctx := context.Background()
	cl, err := client.New(base, "t-ada")
	if err != nil {
		t.Fatal(err)
	}
	var first api.PinRequest
	for i := range 25 {
		h, _ := multihash.Sum([]byte(fmt.Sprint("page ", i)), multihash.SHA2_256, -1)
		st, err := cl.Add(ctx, api.Pin{CID: cid.NewCidV1(cid.Raw, h).String(), Name: fmt.Sprint("n", i)})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = st
		}
	}
	all := []api.PinState{api.PinQueued, api.PinPinning, api.PinPinned, api.PinFailed}
	got, err := cl.ListAll(ctx, api.PinQuery{Statuses: all, Limit: 7}, 1000)
	if err != nil || len(got) != 25 || got[24].RequestID != first.RequestID {
		t.Fatalf("ListAll: %d results (%v)", len(got), err)
	}
	seen := map[string]bool{}
	for _, r := range got {
		if seen[r.RequestID] {
			t.Fatalf("request %s listed twice", r.RequestID)
		}
		seen[r.RequestID] = true
	}
	rep, err := cl.Replace(ctx, first.RequestID, api.Pin{CID: first.Pin.CID, Name: "renamed"})
	if err != nil || rep.RequestID == first.RequestID {
		t.Fatalf("Replace: %+v %v", rep, err)
	}
	if _, err := cl.Get(ctx, first.RequestID); api.KindOf(err) != api.KindNotFound {
		t.Fatalf("Get of the replaced request: %v", err)
	}
	if err := cl.Delete(ctx, rep.RequestID); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Add(ctx, api.Pin{CID: "nope"}); api.KindOf(err) != api.KindInvalid {
		t.Fatalf("Add of a bad CID: %v", err)
	}
	if _, err := cl.List(ctx, api.PinQuery{Limit: 1001}); api.KindOf(err) != api.KindInvalid {
		t.Fatalf("List with limit 1001: %v", err)
	}
	bad, _ := client.New(base, "t-nobody")
	if _, err := bad.List(ctx, api.PinQuery{}); api.KindOf(err) != api.KindUnauthorized {
		t.Fatalf("a bad token: %v", err)
	}
	for _, endpoint := range []string{"ftp://x", "http://", "https://h/p?q=1", "not a url"} {
		if _, err := client.New(endpoint, "t"); api.KindOf(err) != api.KindInvalid {
			t.Errorf("endpoint %q: %v", endpoint, err)
		}
	}
}
