package node

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/lyceum-oer/lyceum/activity"
)

// benchWords are the vocabularies of generated resources: about 70 words
// of summary and 3–8 of title, drawn with a skew toward the first words.
var benchWords = map[string][]string{
	"en": strings.Fields("fractions equations geometry photosynthesis cell energy history revolution grammar reading writing poetry climate water chemistry atoms algebra probability statistics programming music map river democracy economy vocabulary experiment worksheet lesson students exercises examples"),
	"fr": strings.Fields("fractions équations géométrie photosynthèse cellule énergie histoire révolution grammaire lecture écriture poésie climat eau chimie atomes algèbre probabilités statistiques programmation musique carte fleuve démocratie économie vocabulaire expérience fiche leçon élèves exercices exemples"),
	"es": strings.Fields("fracciones ecuaciones geometría fotosíntesis célula energía historia revolución gramática lectura escritura poesía clima agua química átomos álgebra probabilidad estadística programación música mapa río democracia economía vocabulario experimento ficha lección alumnos ejercicios ejemplos"),
	"de": strings.Fields("Brüche Gleichungen Geometrie Photosynthese Zelle Energie Geschichte Revolution Grammatik Lesen Schreiben Gedichte Klima Wasser Chemie Atome Algebra Wahrscheinlichkeit Statistik Programmierung Musik Karte Fluss Demokratie Wirtschaft Wortschatz Experiment Arbeitsblatt Unterricht Schüler Übungen Beispiele"),
}

var benchLangs = []string{"en", "en", "en", "fr", "es", "de"}

func benchText(r *rand.Rand, lang string, n int) string {
	ws := benchWords[lang]
	out := make([]string, n)
	for i := range out {
		f := r.Float64()
		out[i] = ws[int(f*f*float64(len(ws)))]
	}
	return strings.Join(out, " ")
}

// signedActivities makes total signed activities of actors remote actors,
// each log a profile then resource Creates with realistic multilingual
// text, interleaved across actors as gossip would bring them (each actor's
// in seq order). They are returned as the bytes a peer would send.
func signedActivities(tb testing.TB, actors, total int) [][]byte {
	tb.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	type actorState struct {
		key  ed25519.PrivateKey
		did  string
		seq  uint64
		prev string
	}
	as := make([]*actorState, actors)
	for i := range as {
		key, _ := activity.GenerateKey()
		as[i] = &actorState{key: key, did: activity.DIDKey(key.Public().(ed25519.PublicKey))}
	}
	now := time.Now().UTC()
	out := make([][]byte, 0, total)
	for i := range total {
		s := as[i%actors]
		s.seq++
		a := &activity.Activity{Actor: s.did, Seq: s.seq, Prev: s.prev, Published: now, To: []string{activity.PublicAudience}}
		if s.seq == 1 {
			a.Type = activity.TypeUpdate
			a.Object.Actor = &activity.Actor{ID: s.did, Type: activity.Person, PreferredUsername: fmt.Sprintf("teacher%d", i), Name: fmt.Sprintf("Teacher %d", i),
				Node: "12D3KooWEdQDJR6QSHPaLJjubQmT2wLSCdG7koruHTveU23kc3wK"}
		} else {
			lang := benchLangs[r.IntN(len(benchLangs))]
			a.Type = activity.TypeCreate
			a.Object.Resource = &activity.Resource{Type: activity.Link, Version: 1, Title: benchText(r, lang, 3+r.IntN(6)),
				Description: benchText(r, lang, 55+r.IntN(30)),
				Media:       activity.Media{Kind: activity.KindLink, URL: fmt.Sprintf("https://example.org/oer/%d", i)},
				License:     "CC-BY-4.0", Language: lang, Subjects: []string{"0541"}, Level: "2", LearningResourceType: "assessment",
				Keywords: []string{"worksheet"}, Creators: []activity.Creator{{Name: "Remote Teacher", Actor: s.did}}, Published: now}
		}
		if err := activity.Sign(a, s.key, now); err != nil {
			tb.Fatal(err)
		}
		c, data, err := activity.Block(a)
		if err != nil {
			tb.Fatal(err)
		}
		s.prev = c.String()
		out = append(out, data)
	}
	return out
}

const ingestBenchActors = 200

// BenchmarkHQIngest measures what an HQ does with signed activities that
// arrive on the index topic, end to end: the gossip validator (decode,
// verify the signature) in two goroutines as pubsub runs validators
// concurrently, the ingest loop (blocks and SQLite, durable: this is when
// an activity is acknowledged), the index loop (load, index, checkpoint),
// until the index is persisted too. One op is one activity.
func BenchmarkHQIngest(b *testing.B) {
	hq := mustHQ(b)
	msgs := signedActivities(b, ingestBenchActors, b.N)
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	cpuStart := processCPU(b)
	before := hq.ingested.Load()
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Worker w takes every other actor, so each actor's activities
			// stay in order.
			for i := range msgs {
				if (i%ingestBenchActors)%2 != w {
					continue
				}
				v, dec := hq.validate(ctx, "peer", TopicIndex, msgs[i])
				if v != 0 {
					b.Errorf("verdict %v", v)
					return
				}
				hq.onGossip(TopicIndex, "peer", nil, dec)
			}
		}()
	}
	wg.Wait()
	for hq.ingested.Load()-before < int64(b.N) {
		time.Sleep(200 * time.Microsecond)
	}
	acked := time.Since(start)
	if err := hq.WaitIndexed(ctx); err != nil {
		b.Fatal(err)
	}
	if err := hq.index.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	el := time.Since(start)
	cpu := processCPU(b) - cpuStart
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "activities/s")
	b.ReportMetric(float64(b.N)/acked.Seconds(), "acked/s")
	// CPU per activity varies less than the rate on a shared machine,
	// and says what 2 cores could do at best.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/activity")
	wantRes := b.N - min(b.N, ingestBenchActors)
	if got := indexedResources(b, hq); got != wantRes {
		b.Fatalf("%d resources indexed, want %d", got, wantRes)
	}
}

// processCPU is the CPU time, user and system, the process has used.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHQIngestBleveDefaults does the same work on the same records
// with a bleve index of plain defaults (default mapping with _all, every
// batch persisted before it returns) in place of the node's index, in
// batches of 1000: verify (two goroutines), store durably, index. One op
// is one activity.
func BenchmarkHQIngestBleveDefaults(b *testing.B) {
	hq := mustHQ(b)
	bi, err := bleve.New(filepath.Join(b.TempDir(), "defaults"), bleve.NewIndexMapping())
	if err != nil {
		b.Fatal(err)
	}
	defer bi.Close()
	msgs := signedActivities(b, ingestBenchActors, b.N)
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for lo := 0; lo < len(msgs); lo += 1000 {
		es := verifyAll(b, msgs[lo:min(lo+1000, len(msgs))])
		if err := hq.storeEntries(ctx, es); err != nil {
			b.Fatal(err)
		}
		if err := defaultsIndex(bi, es); err != nil {
			b.Fatal(err)
		}
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "activities/s")
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
		hq := mustHQ(b)
		msgs := signedActivities(b, ingestBenchActors, b.N)
		b.ResetTimer()
		start := time.Now()
		for lo := 0; lo < len(msgs); lo += 1000 {
			es := verifyAll(b, msgs[lo:min(lo+1000, len(msgs))])
			if err := hq.index.ApplyThrough(ctx, hq.indexDocs(ctx, es), uint64(lo)); err != nil {
				b.Fatal(err)
			}
		}
		if err := hq.index.Sync(ctx); err != nil {
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
		msgs := signedActivities(b, ingestBenchActors, b.N)
		b.ResetTimer()
		start := time.Now()
		for lo := 0; lo < len(msgs); lo += 1000 {
			es := verifyAll(b, msgs[lo:min(lo+1000, len(msgs))])
			if err := defaultsIndex(bi, es); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "activities/s")
	})
}

// defaultsIndex indexes the resources of es with bleve's dynamic default
// mapping, in one batch.
func defaultsIndex(bi bleve.Index, es []entry) error {
	batch := bi.NewBatch()
	for _, e := range es {
		if r := e.act.Object.Resource; r != nil {
			if err := batch.Index(e.cid.String(), map[string]any{"title": r.Title, "summary": r.Description, "license": r.License,
				"language": r.Language, "subjects": r.Subjects, "type": r.LearningResourceType, "level": r.Level, "author": e.act.Actor,
				"keywords": r.Keywords, "url": r.Media.URL, "published": r.Published, "version": float64(r.Version)}); err != nil {
				return err
			}
		}
	}
	return bi.Batch(batch)
}

// verifyAll decodes and verifies msgs in two goroutines, as pubsub runs
// validators concurrently.
func verifyAll(tb testing.TB, msgs [][]byte) []entry {
	es := make([]entry, len(msgs))
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(msgs); i += 2 {
				e, err := verifyBlock(msgs[i])
				if err != nil {
					tb.Error(err)
					return
				}
				es[i] = e
			}
		}()
	}
	wg.Wait()
	return es
}
