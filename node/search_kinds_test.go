package node_test

import (
	"context"
	"testing"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/nodetest"
)

// A node indexes the persons, communities and collections it creates, as
// well as resources, and search finds each by kind.
func TestSearchFindsEveryKind(t *testing.T) {
	ctx := context.Background()
	n := mustNode(t, nodetest.Options{})
	ada := mustPerson(t, n, "ada")
	if _, err := n.Social().CreateActor(ctx, api.CreateActorRequest{Username: "geometers", Name: "Geometry teachers", Summary: "Sharing polygon worksheets", Type: string(activity.Group)}); err != nil {
		t.Fatal(err)
	}
	col, err := n.Social().CreateCollection(ctx, api.CollectionRequest{As: ada.DID, Title: "Polygon favourites", Summary: "The best polygon sheets"})
	if err != nil {
		t.Fatal(err)
	}
	publishLink(t, n, ada.DID, 1)
	search := func(q api.SearchQuery) []api.SearchHit {
		t.Helper()
		return localSearch(t, n, q).Hits
	}
	cases := []struct {
		name string
		q    api.SearchQuery
		id   string
		kind string
	}{
		{"a person by username", api.SearchQuery{Text: "ada", Kind: "person"}, ada.DID, "person"},
		{"a community by its summary", api.SearchQuery{Text: "polygon", Kind: "community"}, "", "community"},
		{"a collection by its title", api.SearchQuery{Text: "favourites", Kind: "collection"}, col.ID, "collection"},
		{"a resource by its title", api.SearchQuery{Text: "fiche fractions", Kind: "resource"}, "", "resource"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hs := search(tc.q)
			if len(hs) != 1 || hs[0].Kind != tc.kind || (tc.id != "" && hs[0].ID != tc.id) {
				t.Fatalf("hits %+v", hs)
			}
		})
	}
	t.Run("an updated collection is found by its new title only", func(t *testing.T) {
		if _, err := n.Social().UpdateCollection(ctx, col.ID, api.CollectionRequest{As: ada.DID, Title: "Hexagon picks"}); err != nil {
			t.Fatal(err)
		}
		if hs := search(api.SearchQuery{Text: "hexagon", Kind: "collection"}); len(hs) != 1 || hs[0].ID != col.ID {
			t.Fatalf("new title: %+v", hs)
		}
		if hs := search(api.SearchQuery{Text: "favourites", Kind: "collection"}); len(hs) != 0 {
			t.Fatalf("old title still found: %+v", hs)
		}
	})
	t.Run("a deleted collection is not found", func(t *testing.T) {
		if _, err := n.Social().DeleteCollection(ctx, ada.DID, col.ID); err != nil {
			t.Fatal(err)
		}
		if hs := search(api.SearchQuery{Kind: "collection"}); len(hs) != 0 {
			t.Fatalf("deleted collection found: %+v", hs)
		}
	})
}
