package index

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
)

const (
	alice     = "did:key:z6MkAlice"
	bob       = "did:key:z6MkBob"
	carol     = "did:key:z6MkCarol"
	community = "did:key:z6MkMathTeachers"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// backends runs f on in-memory and on-disk indexes; each open call
// makes a fresh one.
func backends(t *testing.T, f func(t *testing.T, open func() *Index)) {
	t.Helper()
	t.Run("in memory", func(t *testing.T) {
		f(t, func() *Index { return MustOpen(t, "") })
	})
	t.Run("on disk", func(t *testing.T) {
		f(t, func() *Index { return MustOpen(t, filepath.Join(t.TempDir(), "idx")) })
	})
}

// MustOpen opens an index and closes it when the test ends.
func MustOpen(tb testing.TB, path string) *Index {
	tb.Helper()
	ix, err := Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ix.Close() })
	return ix
}

// MustApply applies docs, failing the test on error.
func MustApply(tb testing.TB, ix *Index, docs ...Doc) {
	tb.Helper()
	if err := ix.Apply(context.Background(), docs); err != nil {
		tb.Fatal(err)
	}
}

// MustSearch searches, failing the test on error.
func MustSearch(tb testing.TB, ix *Index, q Query) Result {
	tb.Helper()
	r, err := ix.Search(context.Background(), q)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// lookup finds id among all hits.
func lookup(tb testing.TB, ix *Index, id string) (Hit, bool) {
	tb.Helper()
	for page := 1; ; page++ {
		r := MustSearch(tb, ix, Query{Size: MaxSize, Page: page})
		for _, h := range r.Hits {
			if h.ID == id {
				return h, true
			}
		}
		if len(r.Hits) < MaxSize {
			return Hit{}, false
		}
	}
}

func ids(r Result) []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, h.ID)
	}
	return out
}

// resource is a minimal valid resource in language lang.
func resource(title, summary, lang string) *activity.Resource {
	return &activity.Resource{
		Type:                 activity.Document,
		Version:              1,
		Title:                title,
		Description:          summary,
		License:              "CC-BY-4.0",
		Language:             lang,
		Subjects:             []string{"0541"},
		Level:                "2",
		LearningResourceType: "reading",
		Published:            t0,
		Media:                activity.Media{Kind: activity.KindFile, CID: "bafyfile-" + title, Filename: "f.pdf", MediaType: "application/pdf", Size: 10},
		Creators:             []activity.Creator{{Name: "A"}},
		Origin:               &activity.Origin{Node: "12D3KooWNodeA", Handle: "alice@12D3KooWNodeA", URL: "https://a.example/r/1"},
	}
}

func create(actor, cid string, r *activity.Resource) Doc {
	return Doc{CID: cid, Activity: &activity.Activity{Type: activity.TypeCreate, Actor: actor, Object: activity.Object{Resource: r}, Published: r.Published, To: []string{activity.PublicAudience}}}
}

// update publishes version v of id with a new title.
func update(actor, cid, id string, v uint64, title string) Doc {
	r := resource(title, "updated", "en")
	r.ID, r.Version = id, v
	r.Published = t0.Add(time.Duration(v) * time.Hour)
	return Doc{CID: cid, Activity: &activity.Activity{Type: activity.TypeUpdate, Actor: actor, Object: activity.Object{Resource: r}}}
}

func deleteRef(actor, cid, id string) Doc {
	return Doc{CID: cid, Activity: &activity.Activity{Type: activity.TypeDelete, Actor: actor, Object: activity.Object{Ref: id}}}
}

func deleteTomb(actor, cid, id string) Doc {
	return Doc{CID: cid, Activity: &activity.Activity{Type: activity.TypeDelete, Actor: actor, Object: activity.Object{Tombstone: &activity.Tombstone{ID: id, Deleted: t0}}}}
}

func like(actor, cid, id string) Doc {
	return Doc{CID: cid, Activity: &activity.Activity{Type: activity.TypeLike, Actor: actor, Object: activity.Object{Ref: id}}}
}

func undo(actor, cid, ref string) Doc {
	return Doc{CID: cid, Activity: &activity.Activity{Type: activity.TypeUndo, Actor: actor, Object: activity.Object{Ref: ref}}}
}
