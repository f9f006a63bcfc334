package nodetest

import (
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
	"github.com/lyceum-oer/lyceum/node/actorlog"
)

// RemoteNode is the peer ID the profiles of SignedLog and SignedActivities
// name as their actors' node.
const RemoteNode = "12D3KooWEdQDJR6QSHPaLJjubQmT2wLSCdG7koruHTveU23kc3wK"

// SignedLog makes n signed activities of a fresh remote actor: a profile,
// then resource Creates, chained by prev; verified entries, as a node
// stores them.
func SignedLog(tb testing.TB, n int) []actorlog.Entry {
	tb.Helper()
	key, _ := activity.GenerateKey()
	did := activity.DIDKey(key.Public().(ed25519.PublicKey))
	out := make([]actorlog.Entry, 0, n)
	prev := ""
	for i := 1; i <= n; i++ {
		a := &activity.Activity{Actor: did, Seq: uint64(i), Prev: prev, Published: time.Now().UTC(), To: []string{activity.PublicAudience}}
		if i == 1 {
			a.Type = activity.TypeUpdate
			a.Object.Actor = &activity.Actor{ID: did, Type: activity.Person, PreferredUsername: "remote", Node: RemoteNode}
		} else {
			a.Type = activity.TypeCreate
			a.Object.Resource = &activity.Resource{Type: activity.Document, Version: 1, Title: fmt.Sprintf("Worksheet number %d on fractions", i),
				Description: "Exercises on adding and comparing fractions with unlike denominators, with answers.",
				Media:       activity.Media{Kind: activity.KindFile, CID: "bafkreihodxmdpyba3sno7hecojcxqyiwmn546pmz3uz55txpwgbgrvnhr4", Filename: "sheet.pdf", MediaType: "application/pdf", Size: 16},
				License:     "CC-BY-4.0", Language: "fr", Subjects: []string{"0541"}, Level: "2", LearningResourceType: "assessment",
				Creators: []activity.Creator{{Name: "Remote", Actor: did}}, Published: time.Now().UTC()}
		}
		out = append(out, sign(tb, a, key))
		prev = out[len(out)-1].CID.String()
	}
	return out
}

func sign(tb testing.TB, a *activity.Activity, key ed25519.PrivateKey) actorlog.Entry {
	tb.Helper()
	if err := activity.Sign(a, key, time.Now().UTC()); err != nil {
		tb.Fatal(err)
	}
	c, data, err := activity.Block(a)
	if err != nil {
		tb.Fatal(err)
	}
	return actorlog.Entry{Act: a, CID: c, Data: data}
}

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

// SignedActivities makes total signed activities of actors remote actors,
// each log a profile then resource Creates with realistic multilingual
// text, interleaved across actors as gossip would bring them (each actor's
// in seq order). They are returned as the bytes a peer would send.
func SignedActivities(tb testing.TB, actors, total int) [][]byte {
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
				Node: RemoteNode}
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
