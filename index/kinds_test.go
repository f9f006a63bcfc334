package index

import (
	"slices"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
)

func actorDoc(cid string, seq uint64, p *activity.Actor) Doc {
	return Doc{CID: cid, Activity: &activity.Activity{Type: activity.TypeUpdate, Actor: p.ID, Seq: seq, Object: activity.Object{Actor: p}, Published: t0}}
}

func collectionDoc(actor, cid string, seq uint64, typ activity.Type, c *activity.Collection) Doc {
	return Doc{CID: cid, AuthorHandle: "alice@12D3KooWNodeA", Activity: &activity.Activity{Type: typ, Actor: actor, Seq: seq, Object: activity.Object{Collection: c}, Published: t0.Add(time.Duration(seq) * time.Hour)}}
}

// mustKinds indexes one thing of every kind.
func mustKinds(t *testing.T, ix *Index) {
	t.Helper()
	r := resource("Adding fractions", "A worksheet on common denominators.", "en")
	r.Keywords = []string{"arithmetic"}
	r.Creators = []activity.Creator{{Name: "Ada Lovelace"}}
	MustApply(t, ix,
		create(alice, "res", r),
		actorDoc("p1", 1, &activity.Actor{ID: alice, Type: activity.Person, PreferredUsername: "alice", Name: "Alice Martin", Summary: "I teach fractions and geometry.", Node: "12D3KooWNodeA"}),
		actorDoc("g1", 1, &activity.Actor{ID: community, Type: activity.Group, PreferredUsername: "mathteachers", Name: "Math teachers", Summary: "Sharing fractions worksheets.", Node: "12D3KooWNodeA"}),
		actorDoc("s1", 1, &activity.Actor{ID: "did:key:z6MkNode", Type: activity.Service, PreferredUsername: "node", Node: "12D3KooWNodeA"}),
		collectionDoc(alice, "col", 2, activity.TypeCreate, &activity.Collection{Title: "Best fractions resources", Description: "My picks.", Owner: alice, Items: []string{"res"}}),
	)
}

func TestEveryPublicKindIsIndexed(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Index) {
		ix := open()
		mustKinds(t, ix)
		cases := []struct {
			name string
			q    Query
			want []string
		}{
			{"every kind for a word they share", Query{Text: "fractions"}, []string{"res", alice, community, "col"}},
			{"only resources with kind=resource", Query{Text: "fractions", Kind: KindResource}, []string{"res"}},
			{"only collections with kind=collection", Query{Text: "fractions", Kind: KindCollection}, []string{"col"}},
			{"only communities with kind=community", Query{Text: "fractions", Kind: KindCommunity}, []string{community}},
			{"only persons with kind=person", Query{Text: "fractions", Kind: KindPerson}, []string{alice}},
			{"a resource by a keyword", Query{Text: "arithmetic"}, []string{"res"}},
			{"a resource by a creator's name", Query{Text: "lovelace"}, []string{"res"}},
			{"a resource by a creator's full name as a phrase", Query{Text: `"Ada Lovelace"`}, []string{"res"}},
			{"a person by username", Query{Text: "alice", Kind: KindPerson}, []string{alice}},
			{"browsing a kind", Query{Kind: KindCommunity}, []string{community}},
			{"nodes are not indexed", Query{Text: "node"}, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got := ids(MustSearch(t, ix, tc.q))
				slices.Sort(got)
				want := slices.Clone(tc.want)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("got %v, want %v", got, want)
				}
			})
		}
		t.Run("hits say their kind", func(t *testing.T) {
			for _, h := range MustSearch(t, ix, Query{Text: "fractions"}).Hits {
				want := map[string]string{"res": KindResource, alice: KindPerson, community: KindCommunity, "col": KindCollection}[h.ID]
				if h.Kind != want {
					t.Errorf("%s: kind %q, want %q", h.ID, h.Kind, want)
				}
			}
		})
		t.Run("the kind facet counts each kind", func(t *testing.T) {
			r := MustSearch(t, ix, Query{Text: "fractions", Facets: true})
			got := map[string]int{}
			for _, c := range r.Facets[FacetKind] {
				got[c.Term] = c.Count
			}
			if len(got) != 4 || got[KindResource] != 1 || got[KindPerson] != 1 || got[KindCommunity] != 1 || got[KindCollection] != 1 {
				t.Errorf("kind facet %v", got)
			}
		})
		t.Run("an unknown kind is refused", func(t *testing.T) {
			if _, err := ix.Search(t.Context(), Query{Kind: "note"}); err == nil {
				t.Error("no error")
			}
		})
	})
}

func TestActorsAndCollectionsAreVersionOrdered(t *testing.T) {
	backends(t, func(t *testing.T, open func() *Index) {
		ix := open()
		mustKinds(t, ix)
		newer := &activity.Actor{ID: alice, Type: activity.Person, PreferredUsername: "alice", Name: "Alice Dupont", Node: "12D3KooWNodeA"}
		older := &activity.Actor{ID: alice, Type: activity.Person, PreferredUsername: "alice", Name: "Alice Old", Node: "12D3KooWNodeA"}
		MustApply(t, ix, actorDoc("p3", 3, newer), actorDoc("p2", 2, older))
		if h, ok := lookup(t, ix, alice); !ok || h.Title != "Alice Dupont" || h.Version != 3 {
			t.Errorf("person: present %v title %q version %d", ok, h.Title, h.Version)
		}
		// Someone else cannot describe alice.
		MustApply(t, ix, Doc{CID: "p9", Activity: &activity.Activity{Type: activity.TypeUpdate, Actor: bob, Seq: 9, Object: activity.Object{Actor: &activity.Actor{ID: alice, Type: activity.Person, PreferredUsername: "evil", Name: "Evil"}}}})
		if h, _ := lookup(t, ix, alice); h.Title != "Alice Dupont" {
			t.Errorf("another actor rewrote alice: %q", h.Title)
		}
		MustApply(t, ix, collectionDoc(alice, "col5", 5, activity.TypeUpdate, &activity.Collection{ID: "col", Title: "Renamed", Owner: alice, Items: []string{"res", "x"}}),
			collectionDoc(alice, "col4", 4, activity.TypeUpdate, &activity.Collection{ID: "col", Title: "Stale", Owner: alice}),
			collectionDoc(bob, "colb", 9, activity.TypeUpdate, &activity.Collection{ID: "col", Title: "Bob's", Owner: bob}))
		if h, ok := lookup(t, ix, "col"); !ok || h.Title != "Renamed" || h.Items != 2 {
			t.Errorf("collection: present %v title %q items %d", ok, h.Title, h.Items)
		}
		MustApply(t, ix, deleteRef(alice, "dcol", "col"), deleteRef(community, "dg", community))
		for _, id := range []string{"col", community} {
			if _, ok := lookup(t, ix, id); ok {
				t.Errorf("%s survived its deletion", id)
			}
		}
	})
}

func TestTypoFallback(t *testing.T) {
	ix := MustOpen(t, "")
	MustApply(t, ix, create(alice, "frac", resource("Adding fractions", "Common denominators.", "en")),
		create(alice, "fract", resource("Fractal geometry", "Self-similar shapes.", "en")))
	cases := []struct {
		name string
		text string
		want []string
	}{
		{"a typo of a rare word finds the word", "commn", []string{"frac"}},
		{"a word that matches exactly is not blurred", "fractions", []string{"frac"}},
		{"a typo in one word of two still finds it", "adding commn", []string{"frac"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ids(MustSearch(t, ix, Query{Text: tc.text}))
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
