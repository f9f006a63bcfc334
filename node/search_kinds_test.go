package node

import (
	"context"
	"testing"

	"github.com/lyceum-oer/lyceum/activity"
)

// A node indexes the persons, communities and collections it creates, as
// well as resources, and search finds each by kind.
func TestSearchFindsEveryKind(t *testing.T) {
	ctx := context.Background()
	n := mustSocialNode(t)
	ada := mustPerson(t, n, "ada")
	if _, err := n.CreateActor(ctx, "geometers", "Geometry teachers", "Sharing polygon worksheets", activity.Group); err != nil {
		t.Fatal(err)
	}
	col, err := n.CreateCollection(ctx, ada.DID, "Polygon favourites", "The best polygon sheets")
	if err != nil {
		t.Fatal(err)
	}
	publishLink(t, n, ada.DID, 1)
	search := func(q SearchQuery) []SearchHit {
		t.Helper()
		if err := n.WaitIndexed(ctx); err != nil {
			t.Fatal(err)
		}
		r, err := n.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return r.Hits
	}
	cases := []struct {
		name string
		q    SearchQuery
		id   string
		kind string
	}{
		{"a person by username", SearchQuery{Text: "ada", Kind: "person"}, ada.DID, "person"},
		{"a community by its summary", SearchQuery{Text: "polygon", Kind: "community"}, "", "community"},
		{"a collection by its title", SearchQuery{Text: "favourites", Kind: "collection"}, col.ID, "collection"},
		{"a resource by its title", SearchQuery{Text: "fiche fractions", Kind: "resource"}, "", "resource"},
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
		if _, err := n.UpdateCollection(ctx, ada.DID, col.ID, "Hexagon picks", ""); err != nil {
			t.Fatal(err)
		}
		if hs := search(SearchQuery{Text: "hexagon", Kind: "collection"}); len(hs) != 1 || hs[0].ID != col.ID {
			t.Fatalf("new title: %+v", hs)
		}
		if hs := search(SearchQuery{Text: "favourites", Kind: "collection"}); len(hs) != 0 {
			t.Fatalf("old title still found: %+v", hs)
		}
	})
	t.Run("a deleted collection is not found", func(t *testing.T) {
		if _, err := n.DeleteCollection(ctx, ada.DID, col.ID); err != nil {
			t.Fatal(err)
		}
		if hs := search(SearchQuery{Kind: "collection"}); len(hs) != 0 {
			t.Fatalf("deleted collection found: %+v", hs)
		}
	})
}
