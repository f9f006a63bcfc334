package index

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// The relevance test set guards what people find: queries in six
// languages (and one without an analyzer), with typos and with filters,
// each with the resources that must come in its top hits, over a fixed
// corpus of hand-written resources among a few hundred from the realistic
// generator (seeded, so the corpus is the same on every run). Run it
// before and after any change to the mapping, the analyzers or Search; a
// change that moves a case is a change of behaviour to argue for, not a
// case to edit quietly.

// relevanceSet is testdata/relevance.json.
type relevanceSet struct {
	// Filler is how many generated resources surround the hand-written
	// ones, and the generator's seed.
	Filler struct {
		Seed  uint64 `json:"seed"`
		Count int    `json:"count"`
	} `json:"filler"`
	Docs  []relevanceDoc  `json:"docs"`
	Cases []relevanceCase `json:"cases"`
}

// relevanceDoc is one hand-written resource; its ID is id.
type relevanceDoc struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Summary  string   `json:"summary"`
	Lang     string   `json:"lang"`
	License  string   `json:"license"`
	Subject  string   `json:"subject"`
	Type     string   `json:"type"`
	Level    string   `json:"level"`
	Keywords []string `json:"keywords"`
}

// relevanceCase is one query and the hits it must return.
type relevanceCase struct {
	Name  string `json:"name"`
	Query struct {
		Text     string `json:"text"`
		Kind     string `json:"kind"`
		Language string `json:"language"`
		License  string `json:"license"`
		Subject  string `json:"subject"`
		Type     string `json:"type"`
		Level    string `json:"level"`
	} `json:"query"`
	// Want must all be among the first Top hits (default
	// relevanceTop); with Ordered, Want[i] must be hit i.
	Want    []string `json:"want"`
	Top     int      `json:"top"`
	Ordered bool     `json:"ordered"`
}

// relevanceTop is how deep a case's expected hits may be by default.
const relevanceTop = 3

func loadRelevanceSet(tb testing.TB) relevanceSet {
	tb.Helper()
	data, err := os.ReadFile("testdata/relevance.json")
	if err != nil {
		tb.Fatal(err)
	}
	var set relevanceSet
	if err := json.Unmarshal(data, &set); err != nil {
		tb.Fatalf("testdata/relevance.json: %v", err)
	}
	return set
}

// relevanceDocs is the corpus of set: generated resources with the
// hand-written ones spread among them, so none is first or last in index
// order only by being hand-written.
func relevanceDocs(tb testing.TB, set relevanceSet) []Doc {
	tb.Helper()
	docs := newGenerator(set.Filler.Seed).batch(set.Filler.Count)
	seen := map[string]bool{}
	for i, d := range set.Docs {
		if seen[d.ID] {
			tb.Fatalf("testdata/relevance.json: resource %q twice", d.ID)
		}
		seen[d.ID] = true
		r := resource(d.Title, d.Summary, d.Lang)
		r.License, r.Subjects, r.LearningResourceType, r.Level = d.License, []string{d.Subject}, d.Type, d.Level
		r.Keywords = d.Keywords
		r.Published = t0.Add(time.Duration(i) * time.Hour)
		r.Media.CID = "bafyrelevance-" + d.ID
		doc := create(alice, d.ID, r)
		at := (i*7 + 3) % (len(docs) + 1)
		docs = slices.Insert(docs, at, doc)
	}
	return docs
}

func TestRelevance(t *testing.T) {
	set := loadRelevanceSet(t)
	known := map[string]bool{}
	for _, d := range set.Docs {
		known[d.ID] = true
	}
	docs := relevanceDocs(t, set)
	backends(t, func(t *testing.T, open func() *Index) {
		ix := open()
		MustApply(t, ix, docs...)
		if n, err := ix.Count(); err != nil || n != uint64(len(docs)) {
			t.Fatalf("Count() = %d, %v; want %d", n, err, len(docs))
		}
		for _, c := range set.Cases {
			checkRelevance(t, ix, c, known)
		}
	})
}

// checkRelevance runs c on ix as a subtest.
func checkRelevance(t *testing.T, ix *Index, c relevanceCase, known map[string]bool) {
	t.Helper()
	t.Run(c.Name, func(t *testing.T) {
		for _, id := range c.Want {
			if !known[id] {
				t.Fatalf("want %q, which is not a resource of the set", id)
			}
		}
		top := c.Top
		if top <= 0 {
			top = relevanceTop
		}
		q := Query{
			Text: c.Query.Text, Kind: c.Query.Kind, Language: c.Query.Language, License: c.Query.License,
			Subject: c.Query.Subject, Type: c.Query.Type, Level: c.Query.Level, Size: top,
		}
		res := MustSearch(t, ix, q)
		// Filters are checked on every hit, not only on the expected ones.
		for _, h := range res.Hits {
			if q.Language != "" && primary(h.Language) != primary(q.Language) {
				t.Errorf("%+v: hit %s is in %s", q, h.ID, h.Language)
			}
			if q.License != "" && h.License != q.License {
				t.Errorf("%+v: hit %s is under %s", q, h.ID, h.License)
			}
		}
		got := ids(res)
		if c.Ordered {
			if len(got) < len(c.Want) || !slices.Equal(got[:len(c.Want)], c.Want) {
				t.Fatalf("%+v: top %d = %s; want %s first, in that order", q, top, strings.Join(got, ", "), strings.Join(c.Want, ", "))
			}
			return
		}
		for _, id := range c.Want {
			if !slices.Contains(got, id) {
				t.Fatalf("%+v: top %d = %s; want %s among them", q, top, strings.Join(got, ", "), strings.Join(c.Want, ", "))
			}
		}
	})
}
