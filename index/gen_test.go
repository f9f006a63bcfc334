package index

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/lyceum-oer/lyceum/activity"
)

// words per language for generated titles and summaries. Small lists keep
// term frequencies realistic-ish: a few words are very common, as in a
// real subject-specific catalogue.
var genWords = map[string][]string{
	"en": strings.Fields("fractions equations geometry photosynthesis cell energy history revolution grammar reading writing poetry climate water chemistry atoms molecules algebra probability statistics programming computer music painting map river mountain democracy economy language vocabulary experiment worksheet lesson introduction advanced students teacher exercises practice examples"),
	"fr": strings.Fields("fractions équations géométrie photosynthèse cellule énergie histoire révolution grammaire lecture écriture poésie climat eau chimie atomes molécules algèbre probabilités statistiques programmation ordinateur musique peinture carte fleuve montagne démocratie économie langue vocabulaire expérience fiche leçon introduction élèves professeur exercices pratique exemples"),
	"es": strings.Fields("fracciones ecuaciones geometría fotosíntesis célula energía historia revolución gramática lectura escritura poesía clima agua química átomos moléculas álgebra probabilidad estadística programación computadora música pintura mapa río montaña democracia economía lengua vocabulario experimento ficha lección introducción alumnos profesor ejercicios práctica ejemplos"),
	"de": strings.Fields("Brüche Gleichungen Geometrie Photosynthese Zelle Energie Geschichte Revolution Grammatik Lesen Schreiben Gedichte Klima Wasser Chemie Atome Moleküle Algebra Wahrscheinlichkeit Statistik Programmierung Computer Musik Malerei Karte Fluss Berg Demokratie Wirtschaft Sprache Wortschatz Experiment Arbeitsblatt Unterricht Einführung Schüler Lehrer Übungen Beispiele"),
	"it": strings.Fields("frazioni equazioni geometria fotosintesi cellula energia storia rivoluzione grammatica lettura scrittura poesia clima acqua chimica atomi molecole algebra probabilità statistica programmazione computer musica pittura mappa fiume montagna democrazia economia lingua vocabolario esperimento scheda lezione introduzione studenti insegnante esercizi esempi"),
	"pt": strings.Fields("frações equações geometria fotossíntese célula energia história revolução gramática leitura escrita poesia clima água química átomos moléculas álgebra probabilidade estatística programação computador música pintura mapa rio montanha democracia economia língua vocabulário experimento ficha aula introdução alunos professor exercícios prática exemplos"),
	"nl": strings.Fields("breuken vergelijkingen meetkunde fotosynthese cel energie geschiedenis revolutie grammatica lezen schrijven gedichten klimaat water scheikunde atomen algebra kans statistiek programmeren computer muziek kaart rivier berg democratie economie taal woordenschat experiment werkblad les inleiding leerlingen leraar oefeningen voorbeelden"),
}

// weighted picks from values with the given weights.
type weighted struct {
	values []string
	cum    []float64
}

func newWeighted(pairs ...any) weighted {
	var w weighted
	total := 0.0
	for i := 0; i < len(pairs); i += 2 {
		total += pairs[i+1].(float64)
		w.values = append(w.values, pairs[i].(string))
		w.cum = append(w.cum, total)
	}
	for i := range w.cum {
		w.cum[i] /= total
	}
	return w
}

func (w weighted) pick(r *rand.Rand) string {
	x := r.Float64()
	for i, c := range w.cum {
		if x < c {
			return w.values[i]
		}
	}
	return w.values[len(w.values)-1]
}

var (
	genLangs = newWeighted("en", 40.0, "fr", 14.0, "es", 14.0, "de", 10.0, "pt", 6.0, "pt-BR", 4.0, "it", 5.0, "nl", 4.0, "en-GB", 3.0)
	genLic   = newWeighted("CC-BY-4.0", 45.0, "CC-BY-SA-4.0", 20.0, "CC0-1.0", 10.0, "CC-BY-NC-SA-4.0", 10.0, "CC-BY-NC-4.0", 7.0, "CC-BY-ND-4.0", 3.0, "CC-BY-NC-ND-4.0", 3.0, "LicenseRef-other-open", 2.0)
	genLevel = newWeighted("0", 3.0, "1", 20.0, "2", 25.0, "3", 22.0, "4", 5.0, "5", 5.0, "6", 10.0, "7", 5.0, "8", 1.0, "adult", 4.0)
	genType  = newWeighted("reading", 20.0, "assessment", 15.0, "guides-and-tutorials", 12.0, "course", 8.0, "experiment", 6.0, "unit-of-study", 6.0, "project", 5.0, "questionnaire", 4.0, "simulation", 4.0, "game", 3.0, "map", 3.0, "glossary", 2.0, "data-set", 2.0, "concept-map", 2.0, "curriculum", 2.0, "graph", 1.0, "interactive-learning-object", 1.0, "online-courses-site", 1.0, "references", 1.0, "report", 1.0, "repository", 1.0)
	// ISCED-F fields, Zipf-like: mathematics and languages dominate.
	genSubj = newWeighted("0541", 20.0, "0231", 14.0, "0533", 9.0, "0511", 8.0, "0531", 7.0, "0222", 7.0, "0613", 6.0, "0532", 5.0, "0232", 4.0, "0311", 4.0, "0215", 3.0, "0114", 3.0, "0312", 2.0, "0223", 2.0, "0521", 2.0, "0711", 1.0, "0912", 1.0, "1014", 1.0)
)

// generator makes realistic Create activities from a seeded RNG, so runs
// are comparable.
type generator struct {
	r   *rand.Rand
	n   int
	now time.Time
}

func newGenerator(seed uint64) *generator {
	return &generator{r: rand.New(rand.NewPCG(seed, 0x1cea)), now: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (g *generator) text(lang string, n int) string {
	ws := genWords[lang]
	if ws == nil {
		ws = genWords[primary(lang)]
	}
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		// Squaring skews choices toward the start of the list.
		f := g.r.Float64()
		b.WriteString(ws[int(f*f*float64(len(ws)))])
	}
	return b.String()
}

// next returns the next document: a Create of a resource with a title of
// 3–8 words and a summary of about 70.
func (g *generator) next() Doc {
	g.n++
	lang := genLangs.pick(g.r)
	subj := []string{genSubj.pick(g.r)}
	if g.r.IntN(4) == 0 {
		subj = append(subj, genSubj.pick(g.r))
	}
	author := fmt.Sprintf("did:key:z6MkGen%05d", g.r.IntN(5000))
	node := fmt.Sprintf("12D3KooWGenNode%03d", g.r.IntN(300))
	res := &activity.Resource{
		Type:                 activity.Document,
		Version:              1,
		Title:                g.text(lang, 3+g.r.IntN(6)),
		Description:          g.text(lang, 55+g.r.IntN(30)),
		License:              genLic.pick(g.r),
		Language:             lang,
		Subjects:             subj,
		Level:                genLevel.pick(g.r),
		LearningResourceType: genType.pick(g.r),
		Published:            g.now.Add(time.Duration(g.n) * time.Minute),
		Media:                activity.Media{Kind: activity.KindFile, CID: fmt.Sprintf("bafybeigenfile%08d", g.n), Filename: "r.pdf", MediaType: "application/pdf", Size: 1 << 20},
		Creators:             []activity.Creator{{Name: "Gen", Actor: author}},
		Origin:               &activity.Origin{Node: node, Handle: "gen@" + node},
	}
	return Doc{
		CID:          fmt.Sprintf("bafyreigencreate%08d", g.n),
		AuthorHandle: "gen@" + node,
		Activity:     &activity.Activity{Type: activity.TypeCreate, Actor: author, Object: activity.Object{Resource: res}, Published: res.Published, To: []string{activity.PublicAudience}},
	}
}

func (g *generator) batch(n int) []Doc {
	docs := make([]Doc, n)
	for i := range docs {
		docs[i] = g.next()
	}
	return docs
}

// flatDoc is a record for the bleve-defaults comparison: the same data,
// mapped dynamically by bleve.NewIndexMapping() (with _all).
type flatDoc struct {
	Title, Summary, License, Language, Type, Level, Author, AuthorHandle, Origin, FileCID string
	Subjects                                                                              []string
	Published                                                                             time.Time
	Likes                                                                                 float64
	Version                                                                               float64
}

func flatten(d Doc) (string, flatDoc) {
	r := d.Activity.Object.Resource
	return d.CID, flatDoc{Title: r.Title, Summary: r.Description, License: r.License, Language: r.Language, Type: r.LearningResourceType,
		Level: r.Level, Author: d.Activity.Actor, AuthorHandle: d.AuthorHandle, Origin: r.Origin.Node, FileCID: r.Media.CID,
		Subjects: r.Subjects, Published: r.Published, Version: float64(r.Version)}
}
