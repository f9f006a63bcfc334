package search_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/lyceum-oer/lyceum/node/actorlog"
	"github.com/lyceum-oer/lyceum/node/api"
	"github.com/lyceum-oer/lyceum/node/nodetest"
	"github.com/lyceum-oer/lyceum/node/search"
	"github.com/lyceum-oer/lyceum/node/social"
	"github.com/lyceum-oer/lyceum/node/sqlitedb"
	"github.com/lyceum-oer/lyceum/node/worker"
	"github.com/lyceum-oer/lyceum/p2p"
)

// mustSearch is the search room over its own log and index, offline, fed
// from the log until the test ends.
func mustSearch(tb testing.TB) *search.Service {
	s, _ := mustSearchAndLog(tb)
	return s
}

func mustSearchAndLog(tb testing.TB) (*search.Service, *actorlog.Log) {
	tb.Helper()
	dir := tb.TempDir()
	db, err := sqlitedb.Open(filepath.Join(dir, "lyceum.db"), sqlitedb.Options{ReadConns: 2})
	if err != nil {
		tb.Fatal(err)
	}
	views, err := social.OpenViews(db)
	if err != nil {
		tb.Fatal(err)
	}
	log, err := actorlog.New(db, actorlog.WithApplier(views))
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	workers := worker.NewGroup(nil, nil)
	s, err := search.New(ctx, search.Config{IndexPath: filepath.Join(dir, "index"), RateLimit: 100, RateLimited: 100},
		search.Deps{Log: log, DB: db, Handles: views, Workers: workers})
	if err != nil {
		tb.Fatal(err)
	}
	s.Start(ctx)
	tb.Cleanup(func() {
		cancel()
		workers.Wait()
		s.Close()
		db.Close()
	})
	return s, log
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name string
		q    api.SearchQuery
		ok   bool
	}{
		{"defaults are filled in", api.SearchQuery{Text: "fractions"}, true},
		{"the deepest page", api.SearchQuery{Page: 100, Size: 100}, true},
		{"one page deeper", api.SearchQuery{Page: 101, Size: 100}, false},
		{"a page that overflows", api.SearchQuery{Page: 4611686018427387905, Size: 2}, false},
		{"the largest int", api.SearchQuery{Page: math.MaxInt}, false},
		{"a negative page", api.SearchQuery{Page: -1}, false},
		{"a size over the maximum", api.SearchQuery{Size: 101}, false},
		{"a negative size", api.SearchQuery{Size: math.MinInt}, false},
		{"an unknown kind", api.SearchQuery{Kind: "note"}, false},
		{"an unknown sort", api.SearchQuery{Sort: "random"}, false},
		{"a language name", api.SearchQuery{Language: "french"}, false},
		{"a language tag", api.SearchQuery{Language: "pt-BR"}, true},
		{"an unknown level", api.SearchQuery{Level: "9"}, false},
		{"an unknown subject", api.SearchQuery{Subject: "maths"}, false},
		{"an unknown licence", api.SearchQuery{License: "GPL"}, false},
		{"an unknown type", api.SearchQuery{Type: "video"}, false},
		{"known filters", api.SearchQuery{License: "CC-BY-4.0", Subject: "0541", Level: "adult", Type: "assessment"}, true},
		{"many words (the index counts them)", api.SearchQuery{Text: strings.Repeat("word ", 33)}, true},
		{"too long a text", api.SearchQuery{Text: strings.Repeat("x", 1001)}, false},
		{"invalid UTF-8", api.SearchQuery{Text: "\xff"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := search.Check(tc.q)
			if tc.ok != (err == nil) {
				t.Fatalf("error %v, want ok=%v", err, tc.ok)
			}
			if err != nil && api.KindOf(err) != api.KindInvalid {
				t.Fatalf("kind %s, want invalid", api.KindOf(err))
			}
			if err == nil && (q.Page < 1 || q.Size < 1 || q.Page*q.Size > 10000) {
				t.Fatalf("normalised to page %d size %d", q.Page, q.Size)
			}
		})
	}
}

// The index refuses a text of more than its words, as a query error the
// caller can read.
func TestTooManyWordsAreRefused(t *testing.T) {
	s := mustSearch(t)
	_, err := s.Search(context.Background(), api.SearchQuery{Text: strings.Repeat("fractions ", 40)})
	if api.KindOf(err) != api.KindInvalid || !strings.Contains(api.PublicMessage(err), "words") {
		t.Fatalf("40 words: %v", err)
	}
}

// FuzzSearchRequest sends ProtocolSearch's handler every integer page and
// size with any text and filters: it refuses or answers, and never
// panics (a panic here would end the fuzzing process).
func FuzzSearchRequest(f *testing.F) {
	s, log := mustSearchAndLog(f)
	ctx := context.Background()
	if _, err := log.Store(ctx, nodetest.SignedLog(f, 3)); err != nil {
		f.Fatal(err)
	}
	if err := s.WaitIndexed(ctx); err != nil {
		f.Fatal(err)
	}
	f.Add(int64(4611686018427387905), int64(2), "x", "", "")
	f.Add(int64(math.MaxInt64), int64(math.MaxInt64), "fractions", "resource", "newest")
	f.Add(int64(math.MinInt64), int64(-1), "", "person", "popular")
	f.Add(int64(1), int64(20), `"equivalent fractions" worksheet`, "", "relevance")
	f.Add(int64(0), int64(0), strings.Repeat("fractions ", 40), "collection", "")
	f.Fuzz(func(t *testing.T, page, size int64, text, kind, sort string) {
		q := api.SearchQuery{Text: text, Kind: kind, Sort: sort, Page: int(page), Size: int(size), Facets: page%2 == 0}
		body, err := json.Marshal(q)
		if err != nil {
			return
		}
		ans, err := s.HandleSearch(ctx, "", body)
		var refusal *p2p.Refusal
		if err != nil && !errors.As(err, &refusal) {
			t.Fatalf("page %d size %d: an internal error: %v", page, size, err)
		}
		if err == nil && !json.Valid(ans) {
			t.Fatalf("an answer that is not JSON: %q", ans)
		}
		// The HTTP path goes through Search, which checks the same way.
		if _, err := s.Search(ctx, q); err != nil && api.KindOf(err) != api.KindInvalid {
			t.Fatalf("Search: %v", err)
		}
	})
}

// The feeder follows the log: what is stored is soon found, and a
// rebuild gives the same index.
func TestIndexFollowsTheLogAndRebuildsFromIt(t *testing.T) {
	ctx := context.Background()
	s, log := mustSearchAndLog(t)
	if _, err := log.Store(ctx, nodetest.SignedLog(t, 11)); err != nil {
		t.Fatal(err)
	}
	count := func() uint64 {
		if err := s.WaitIndexed(ctx); err != nil {
			t.Fatal(err)
		}
		r, err := s.Search(ctx, api.SearchQuery{Kind: "resource"})
		if err != nil {
			t.Fatal(err)
		}
		return r.Total
	}
	if n := count(); n != 10 {
		t.Fatalf("%d resources indexed, want 10", n)
	}
	rebuilt, err := s.Rebuild(ctx)
	if err != nil || rebuilt.Count == 0 {
		t.Fatalf("rebuild: %+v %v", rebuilt, err)
	}
	if n := count(); n != 10 {
		t.Fatalf("%d resources after the rebuild, want 10", n)
	}
	// The feeder goes on with the new index.
	if _, err := log.Store(ctx, nodetest.SignedLog(t, 3)); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitFor(t, "the new resources", 10*time.Second, func() bool { return count() == 12 })
}

// BenchmarkVerifyAndIndex isolates the index's share of HQ ingest: the
// same signed activities are decoded and verified (two goroutines) and
// indexed in batches of 1000 until persisted, without the block store and
// SQLite of BenchmarkHQIngest; side by side, the node's index (the same
// index.Doc path as the index loop) and a bleve index of plain defaults.
// One op is one activity.
func BenchmarkVerifyAndIndex(b *testing.B) {
	ctx := context.Background()
	b.Run("lyceum", func(b *testing.B) {
		s := mustSearch(b)
		msgs := nodetest.SignedActivities(b, 200, b.N)
		b.ResetTimer()
		start := time.Now()
		for lo := 0; lo < len(msgs); lo += 1000 {
			es := nodetest.VerifyAll(b, msgs[lo:min(lo+1000, len(msgs))])
			if err := s.IndexEntries(ctx, es); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Persist(ctx); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "activities/s")
	})
	b.Run("bleve-defaults", func(b *testing.B) {
		bi, err := bleve.New(filepath.Join(b.TempDir(), "defaults"), bleve.NewIndexMapping())
		if err != nil {
			b.Fatal(err)
		}
		defer bi.Close()
		msgs := nodetest.SignedActivities(b, 200, b.N)
		b.ResetTimer()
		start := time.Now()
		for lo := 0; lo < len(msgs); lo += 1000 {
			es := nodetest.VerifyAll(b, msgs[lo:min(lo+1000, len(msgs))])
			if err := nodetest.IndexWithBleveDefaults(bi, es); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "activities/s")
	})
}
