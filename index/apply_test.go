package index

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/lyceum-oer/lyceum/activity"
)

// want describes the indexed state of resource "R" after a scenario.
type want struct {
	present bool
	title   string
	version uint64
	likes   int
}

const rid = "bafyCreateR" // the CID of R's Create, hence R's stable ID

var applyCases = []struct {
	name  string
	steps []Doc
	want  want
}{
	{"a create indexes the resource under its create CID",
		[]Doc{create(alice, rid, resource("Adding fractions", "s", "en"))},
		want{true, "Adding fractions", 1, 0}},
	{"an update with a higher version replaces the document",
		[]Doc{create(alice, rid, resource("v1", "s", "en")), update(alice, "u2", rid, 2, "v2")},
		want{true, "v2", 2, 0}},
	{"an older update arriving late does not overwrite a newer one",
		[]Doc{create(alice, rid, resource("v1", "s", "en")), update(alice, "u3", rid, 3, "v3"), update(alice, "u2", rid, 2, "v2")},
		want{true, "v3", 3, 0}},
	{"a create arriving after an update does not roll the resource back",
		[]Doc{update(alice, "u2", rid, 2, "v2"), create(alice, rid, resource("v1", "s", "en"))},
		want{true, "v2", 2, 0}},
	{"applying the same activities twice changes nothing",
		[]Doc{create(alice, rid, resource("v1", "s", "en")), update(alice, "u2", rid, 2, "v2"), like(bob, "l1", rid),
			create(alice, rid, resource("v1", "s", "en")), update(alice, "u2", rid, 2, "v2"), like(bob, "l1", rid)},
		want{true, "v2", 2, 1}},
	{"two updates of one version resolve to the smaller CID in any order",
		[]Doc{create(alice, rid, resource("v1", "s", "en")), update(alice, "u2-b", rid, 2, "fork b"), update(alice, "u2-a", rid, 2, "fork a"), update(alice, "u2-b", rid, 2, "fork b")},
		want{true, "fork a", 2, 0}},
	{"an update by someone other than the author is ignored",
		[]Doc{create(alice, rid, resource("v1", "s", "en")), update(bob, "u2", rid, 2, "hijacked")},
		want{true, "v1", 1, 0}},
	{"the genuine create overrides an earlier update by someone else",
		[]Doc{update(bob, "u9", rid, 9, "hijacked"), create(alice, rid, resource("v1", "s", "en"))},
		want{true, "v1", 1, 0}},
	{"a delete by reference from the author removes the resource",
		[]Doc{create(alice, rid, resource("v1", "s", "en")), deleteRef(alice, "d1", rid)},
		want{}},
	{"a delete with a tombstone from the author removes the resource",
		[]Doc{create(alice, rid, resource("v1", "s", "en")), deleteTomb(alice, "d1", rid)},
		want{}},
	{"a delete by someone other than the author is ignored",
		[]Doc{create(alice, rid, resource("v1", "s", "en")), deleteRef(bob, "d1", rid)},
		want{true, "v1", 1, 0}},
	{"a create arriving after its delete does not resurrect the resource",
		[]Doc{deleteRef(alice, "d1", rid), create(alice, rid, resource("v1", "s", "en"))},
		want{}},
	{"an update arriving after the delete does not resurrect the resource",
		[]Doc{create(alice, rid, resource("v1", "s", "en")), deleteTomb(alice, "d1", rid), update(alice, "u2", rid, 2, "v2")},
		want{}},
	{"a create is not suppressed by a delete from someone else that came first",
		[]Doc{deleteRef(bob, "d1", rid), create(alice, rid, resource("v1", "s", "en"))},
		want{true, "v1", 1, 0}},
	{"likes raise popularity once per liker",
		[]Doc{create(alice, rid, resource("v1", "s", "en")), like(bob, "l1", rid), like(carol, "l2", rid), like(bob, "l3", rid)},
		want{true, "v1", 1, 2}},
	{"an undo of a like lowers popularity",
		[]Doc{create(alice, rid, resource("v1", "s", "en")), like(bob, "l1", rid), like(carol, "l2", rid), undo(bob, "x1", "l1")},
		want{true, "v1", 1, 1}},
	{"an undo of a like by someone other than the liker is ignored",
		[]Doc{create(alice, rid, resource("v1", "s", "en")), like(bob, "l1", rid), undo(carol, "x1", "l1")},
		want{true, "v1", 1, 1}},
	{"likes arriving before the resource are kept until it comes",
		[]Doc{like(bob, "l1", rid), like(carol, "l2", rid), create(alice, rid, resource("v1", "s", "en"))},
		want{true, "v1", 1, 2}},
	{"an undo arriving before its like cancels it",
		[]Doc{create(alice, rid, resource("v1", "s", "en")), undo(bob, "x1", "l1"), like(bob, "l1", rid)},
		want{true, "v1", 1, 0}},
	{"a like replayed after its undo stays undone",
		[]Doc{create(alice, rid, resource("v1", "s", "en")), like(bob, "l1", rid), undo(bob, "x1", "l1"), like(bob, "l1", rid)},
		want{true, "v1", 1, 0}},
	{"likes survive an update",
		[]Doc{create(alice, rid, resource("v1", "s", "en")), like(bob, "l1", rid), update(alice, "u2", rid, 2, "v2")},
		want{true, "v2", 2, 1}},
	{"activities without an object or of other types are skipped",
		[]Doc{
			{CID: "n0"},
			{CID: "n1", Activity: &activity.Activity{Type: activity.TypeCreate, Actor: alice}},
			{CID: "n2", Activity: &activity.Activity{Type: activity.TypeUpdate, Actor: alice, Object: activity.Object{Actor: &activity.Actor{ID: alice}}}},
			{CID: "n3", Activity: &activity.Activity{Type: activity.TypeDelete, Actor: alice}},
			{CID: "n4", Activity: &activity.Activity{Type: activity.TypeLike, Actor: alice}},
			{CID: "n5", Activity: &activity.Activity{Type: activity.TypeUndo, Actor: alice}},
			{CID: "n6", Activity: &activity.Activity{Type: activity.TypeFollow, Actor: alice, Object: activity.Object{Ref: bob}}},
			{CID: "n7", Activity: &activity.Activity{Type: activity.TypeCreate, Actor: alice, Object: activity.Object{Note: &activity.Note{Content: "hi"}}}},
			create(alice, rid, resource("v1", "s", "en")),
		},
		want{true, "v1", 1, 0}},
}

func TestApply(t *testing.T) {
	modes := []struct {
		name string
		run  func(t *testing.T, ix *Index, steps []Doc)
	}{
		{"one batch per activity", func(t *testing.T, ix *Index, steps []Doc) {
			for _, d := range steps {
				MustApply(t, ix, d)
			}
		}},
		{"all activities in one batch", func(t *testing.T, ix *Index, steps []Doc) {
			MustApply(t, ix, steps...)
		}},
	}
	backends(t, func(t *testing.T, open func() *Index) {
		for _, m := range modes {
			t.Run(m.name, func(t *testing.T) {
				for _, tc := range applyCases {
					t.Run(tc.name, func(t *testing.T) {
						ix := open()
						m.run(t, ix, tc.steps)
						h, ok := lookup(t, ix, rid)
						if ok != tc.want.present {
							t.Fatalf("present = %v, want %v", ok, tc.want.present)
						}
						n, err := ix.Count()
						if err != nil {
							t.Fatal(err)
						}
						if wantN := map[bool]uint64{true: 1, false: 0}[tc.want.present]; n != wantN {
							t.Errorf("Count = %d, want %d", n, wantN)
						}
						if !ok {
							return
						}
						if h.Title != tc.want.title || h.Version != tc.want.version || h.Likes != tc.want.likes {
							t.Errorf("got title %q version %d likes %d, want %q %d %d", h.Title, h.Version, h.Likes, tc.want.title, tc.want.version, tc.want.likes)
						}
					})
				}
			})
		}
	})
}

func TestHitCarriesWhereTheResourceComesFrom(t *testing.T) {
	ix := MustOpen(t, "")
	d := create(alice, rid, resource("Adding fractions", "A <b>worksheet</b>", "pt-BR"))
	d.Activity.To = []string{activity.PublicAudience, community}
	d.AuthorHandle, d.CommunityHandle = "alice@12D3KooWNodeA", "math@12D3KooWNodeA"
	MustApply(t, ix, d)
	h, ok := lookup(t, ix, rid)
	if !ok {
		t.Fatal("not indexed")
	}
	want := Hit{ID: rid, Kind: KindResource, Title: "Adding fractions", Snippet: "A &lt;b&gt;worksheet&lt;/b&gt;", Author: alice, AuthorHandle: "alice@12D3KooWNodeA",
		Community: community, CommunityHandle: "math@12D3KooWNodeA", License: "CC-BY-4.0", Language: "pt-BR", Origin: "12D3KooWNodeA",
		FileCID: "bafyfile-Adding fractions", URL: "https://a.example/r/1", Version: 1, Published: t0, Score: h.Score}
	if h != want {
		t.Errorf("hit\n got %+v\nwant %+v", h, want)
	}
}

func TestOriginFallsBackToTheHandlesNode(t *testing.T) {
	ix := MustOpen(t, "")
	r := resource("Adding fractions", "s", "en")
	r.Origin = &activity.Origin{Handle: "alice@12D3KooWNodeB"}
	MustApply(t, ix, create(alice, rid, r))
	if h, _ := lookup(t, ix, rid); h.Origin != "12D3KooWNodeB" || h.AuthorHandle != "alice@12D3KooWNodeB" {
		t.Errorf("origin %q handle %q", h.Origin, h.AuthorHandle)
	}
}

func TestDelist(t *testing.T) {
	ctx := context.Background()
	backends(t, func(t *testing.T, open func() *Index) {
		ix := open()
		MustApply(t, ix, create(alice, rid, resource("Adding fractions", "s", "en")), create(alice, "other", resource("Other fractions", "s", "en")))
		t.Run("a delisted resource never appears in results", func(t *testing.T) {
			if err := ix.Delist(ctx, rid, "spam"); err != nil {
				t.Fatal(err)
			}
			for _, q := range []Query{{Facets: true}, {Text: "adding", Facets: true}, {Text: "fractions", Facets: true}, {License: "CC-BY-4.0", Facets: true}} {
				r := MustSearch(t, ix, q)
				for _, h := range r.Hits {
					if h.ID == rid {
						t.Errorf("query %+v returned the delisted resource", q)
					}
				}
				sum := 0
				for _, c := range r.Facets[FacetLicense] {
					sum += c.Count
				}
				if c := r.Facets[FacetLicense]; uint64(sum) != r.Total || r.Total > 1 {
					t.Errorf("query %+v: facets count the delisted resource: %+v", q, c)
				}
			}
			if reason, ok, err := ix.Delisted(rid); err != nil || !ok || reason != "spam" {
				t.Errorf("Delisted = %q %v %v", reason, ok, err)
			}
		})
		t.Run("a delisted resource stays hidden when a new version arrives", func(t *testing.T) {
			MustApply(t, ix, update(alice, "u2", rid, 2, "Adding fractions v2"))
			if _, ok := lookup(t, ix, rid); ok {
				t.Error("update brought the delisted resource back")
			}
		})
		t.Run("relist brings it back at its latest version", func(t *testing.T) {
			if err := ix.Relist(ctx, rid); err != nil {
				t.Fatal(err)
			}
			h, ok := lookup(t, ix, rid)
			if !ok || h.Version != 2 {
				t.Errorf("after relist: present %v version %d", ok, h.Version)
			}
			if _, ok, _ := ix.Delisted(rid); ok {
				t.Error("still marked delisted")
			}
		})
		t.Run("a resource delisted before it arrives is hidden when it comes", func(t *testing.T) {
			if err := ix.Delist(ctx, "later", "illegal"); err != nil {
				t.Fatal(err)
			}
			MustApply(t, ix, create(bob, "later", resource("Later", "s", "en")))
			if _, ok := lookup(t, ix, "later"); ok {
				t.Error("delisted-in-advance resource is visible")
			}
		})
	})
}

func TestStateSurvivesReopening(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "idx")
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	MustApply(t, ix, create(alice, rid, resource("v1", "s", "en")), like(bob, "l1", rid), deleteRef(alice, "d1", "gone"))
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix = MustOpen(t, dir)
	MustApply(t, ix, create(alice, "gone", resource("Gone", "s", "en")), like(bob, "l2", rid), like(carol, "l3", rid))
	if h, ok := lookup(t, ix, rid); !ok || h.Likes != 2 {
		t.Errorf("after reopen: present %v likes %d, want 2", ok, h.Likes)
	}
	if _, ok := lookup(t, ix, "gone"); ok {
		t.Error("tombstone forgotten across reopen")
	}
}

func TestOpenRefusesAnIndexWithAnotherMappingVersion(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "idx")
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.bi.SetInternal([]byte(keyMappingVersion), []byte("lyceum-index-0")); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	if _, err := Open(dir); !errors.Is(err, ErrStaleMapping) {
		t.Fatalf("Open = %v, want ErrStaleMapping", err)
	}
}

func TestCanceledContextWritesNothing(t *testing.T) {
	ix := MustOpen(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ix.Apply(ctx, []Doc{create(alice, rid, resource("v1", "s", "en"))}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Apply = %v, want context.Canceled", err)
	}
	if n, _ := ix.Count(); n != 0 {
		t.Errorf("Count = %d", n)
	}
}
