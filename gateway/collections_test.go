package gateway

import (
	"context"
	"net/http"
	"testing"

	"github.com/lyceum-oer/lyceum/node/api"
)

func TestCollectionsThroughTheAPI(t *testing.T) {
	ctx := context.Background()
	tn := mustStartNode(t)
	c := tn.client
	if _, err := c.CreateActor(ctx, api.CreateActorRequest{Username: "alice", Type: "Person"}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, title := range []string{"Fractions", "Decimals"} {
		p, err := c.Publish(ctx, api.PublishRequest{URL: "https://example.org/" + title, Title: title, License: "CC0-1.0", Language: "en"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	col, err := c.CreateCollection(ctx, api.CollectionRequest{As: "alice", Title: "Number sense", Summary: "Year 6"})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := c.AddToCollection(ctx, col.ID, api.CollectionItemRequest{Resource: id}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.RemoveFromCollection(ctx, col.ID, api.CollectionItemRequest{Resource: ids[0]}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateCollection(ctx, col.ID, api.CollectionRequest{Title: "Number sense (Y6)"}); err != nil {
		t.Fatal(err)
	}
	v, err := c.ShowCollection(ctx, col.ID)
	if err != nil || v.Title != "Number sense (Y6)" || v.Summary != "Year 6" || len(v.Entries) != 1 || v.Entries[0].Title != "Decimals" {
		t.Fatalf("show: %+v %v", v, err)
	}
	ls, err := c.Collections(ctx, "alice")
	if err != nil || len(ls) != 1 || ls[0].Items != 1 {
		t.Fatalf("ls: %+v %v", ls, err)
	}
	if _, err := c.RemoveFromCollection(ctx, col.ID, api.CollectionItemRequest{Resource: ids[0]}); api.KindOf(err) != api.KindNotFound {
		t.Fatalf("remove of an absent item: %v", err)
	}
	if _, err := c.CreateCollection(ctx, api.CollectionRequest{As: "alice"}); api.KindOf(err) != api.KindInvalid {
		t.Fatalf("no title: %v", err)
	}
	if _, err := c.DeleteCollection(ctx, "", col.ID); err != nil {
		t.Fatal(err)
	}
	if ls, _ := c.Collections(ctx, ""); len(ls) != 0 {
		t.Fatalf("deleted collection listed: %+v", ls)
	}
	// The routes need the token.
	resp, err := http.Get(tn.server.URL + "/api/v1/collections")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without the token: %d", resp.StatusCode)
	}
}
