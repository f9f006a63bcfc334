package index

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lyceum-oer/lyceum/activity"
)

// The generated text follows what catalogue text is known to look like,
// so that a query word matches as many records as it would in a real
// catalogue (the first generator drew 70 words from ~40 per language, and
// every query word matched over half of the index):
//
//   - Word frequencies follow Zipf's law with s = 1 (the frequency of the
//     word of rank r is proportional to 1/r), the classic fit for natural
//     language text, over a vocabulary of ~10,000 words per language:
//     a general vocabulary of ~6,000 and 250 topic words per subject.
//   - Text is topical. Each ISCED-F subject has its own topic words, led by
//     real ones (fractions, photosynthesis, democracy…; the seed words of
//     the first generator) and completed with synthetic ones. A record
//     picks 2–4 focus words from its subject's list (Zipf again) and
//     repeats them, as a worksheet on fractions says "fractions" many
//     times, which most maths records never do; a few more words come from
//     the rest of the subject's list. So a topic word's document frequency
//     is its subject's share of the catalogue times its rank's share of
//     the subject: a few percent for the top words of a big subject, well
//     under one percent for the tail.
//   - About 38 % of the running words are the language's real stop words
//     (the, de, der…), as in real prose; 37 % are general vocabulary
//     (students, lesson, worksheet… then synthetic words), 15 % focus
//     words, 10 % other topic words. Titles are mostly focus and topic
//     words.
//   - Synthetic words are built deterministically from syllables and
//     suffixes typical of each language (-tion, -ment; -ción, -dad;
//     -ung, -keit; -zione; -ção; -heid…) so that the stemmers treat them
//     as words of that language.
//
// Record sizes (3–8-word titles, 55–85-word summaries) and the facet
// distributions (language, licence, level, type, subject) are those of
// real OER catalogues as estimated before; everything is drawn from a
// seeded RNG, so runs are comparable.

// genLangCols are the languages of the columns of genVocab.
var genLangCols = []string{"en", "fr", "es", "de", "it", "pt", "nl"}

// genVocab lists real words, a row per concept: the ISCED-F subject it is
// a topic word of ("" for general vocabulary), then the word in each
// language of genLangCols. Within a subject, rows are in rank order.
var genVocab = [][]string{
	// General vocabulary of teaching material, most frequent first.
	{"", "students", "élèves", "alumnos", "Schüler", "studenti", "alunos", "leerlingen"},
	{"", "lesson", "leçon", "lección", "Unterricht", "lezione", "aula", "les"},
	{"", "exercises", "exercices", "ejercicios", "Übungen", "esercizi", "exercícios", "oefeningen"},
	{"", "learning", "apprentissage", "aprendizaje", "Lernen", "apprendimento", "aprendizagem", "leren"},
	{"", "worksheet", "fiche", "ficha", "Arbeitsblatt", "scheda", "ficha", "werkblad"},
	{"", "introduction", "introduction", "introducción", "Einführung", "introduzione", "introdução", "inleiding"},
	{"", "teacher", "professeur", "profesor", "Lehrer", "insegnante", "professor", "leraar"},
	{"", "examples", "exemples", "ejemplos", "Beispiele", "esempi", "exemplos", "voorbeelden"},
	{"", "activities", "activités", "actividades", "Aktivitäten", "attività", "atividades", "activiteiten"},
	{"", "school", "école", "escuela", "Schule", "scuola", "escola", "school"},
	{"", "questions", "questions", "preguntas", "Fragen", "domande", "perguntas", "vragen"},
	{"", "practice", "pratique", "práctica", "Praxis", "pratica", "prática", "praktijk"},
	{"", "course", "cours", "curso", "Kurs", "corso", "curso", "cursus"},
	{"", "experiment", "expérience", "experimento", "Experiment", "esperimento", "experimento", "experiment"},
	{"", "answers", "réponses", "respuestas", "Antworten", "risposte", "respostas", "antwoorden"},
	{"", "unit", "unité", "unidad", "Einheit", "unità", "unidade", "eenheid"},
	{"", "project", "projet", "proyecto", "Projekt", "progetto", "projeto", "project"},
	{"", "video", "vidéo", "vídeo", "Video", "video", "vídeo", "video"},
	{"", "advanced", "avancé", "avanzado", "fortgeschritten", "avanzato", "avançado", "gevorderd"},
	{"", "guide", "guide", "guía", "Leitfaden", "guida", "guia", "handleiding"},

	// 0541 Mathematics.
	{"0541", "equations", "équations", "ecuaciones", "Gleichungen", "equazioni", "equações", "vergelijkingen"},
	{"0541", "geometry", "géométrie", "geometría", "Geometrie", "geometria", "geometria", "meetkunde"},
	{"0541", "fractions", "fractions", "fracciones", "Brüche", "frazioni", "frações", "breuken"},
	{"0541", "algebra", "algèbre", "álgebra", "Algebra", "algebra", "álgebra", "algebra"},
	{"0541", "functions", "fonctions", "funciones", "Funktionen", "funzioni", "funções", "functies"},
	{"0541", "statistics", "statistiques", "estadística", "Statistik", "statistica", "estatística", "statistiek"},
	{"0541", "probability", "probabilités", "probabilidad", "Wahrscheinlichkeit", "probabilità", "probabilidade", "kansrekening"},
	{"0541", "triangles", "triangles", "triángulos", "Dreiecke", "triangoli", "triângulos", "driehoeken"},
	{"0541", "multiplication", "multiplication", "multiplicación", "Multiplikation", "moltiplicazione", "multiplicação", "vermenigvuldigen"},
	{"0541", "decimals", "décimaux", "decimales", "Dezimalzahlen", "decimali", "decimais", "decimalen"},
	// 0231 Language acquisition.
	{"0231", "vocabulary", "vocabulaire", "vocabulario", "Wortschatz", "vocabolario", "vocabulário", "woordenschat"},
	{"0231", "grammar", "grammaire", "gramática", "Grammatik", "grammatica", "gramática", "grammatica"},
	{"0231", "reading", "lecture", "lectura", "Lesen", "lettura", "leitura", "lezen"},
	{"0231", "language", "langue", "lengua", "Sprache", "lingua", "língua", "taal"},
	{"0231", "writing", "écriture", "escritura", "Schreiben", "scrittura", "escrita", "schrijven"},
	{"0231", "verbs", "verbes", "verbos", "Verben", "verbi", "verbos", "werkwoorden"},
	{"0231", "pronunciation", "prononciation", "pronunciación", "Aussprache", "pronuncia", "pronúncia", "uitspraak"},
	{"0231", "dialogue", "dialogue", "diálogo", "Dialog", "dialogo", "diálogo", "dialoog"},
	{"0231", "spelling", "orthographe", "ortografía", "Rechtschreibung", "ortografia", "ortografia", "spelling"},
	// 0533 Physics.
	{"0533", "energy", "énergie", "energía", "Energie", "energia", "energia", "energie"},
	{"0533", "forces", "forces", "fuerzas", "Kräfte", "forze", "forças", "krachten"},
	{"0533", "electricity", "électricité", "electricidad", "Elektrizität", "elettricità", "eletricidade", "elektriciteit"},
	{"0533", "atoms", "atomes", "átomos", "Atome", "atomi", "átomos", "atomen"},
	{"0533", "motion", "mouvement", "movimiento", "Bewegung", "moto", "movimento", "beweging"},
	{"0533", "light", "lumière", "luz", "Licht", "luce", "luz", "licht"},
	{"0533", "magnetism", "magnétisme", "magnetismo", "Magnetismus", "magnetismo", "magnetismo", "magnetisme"},
	// 0511 Biology.
	{"0511", "cell", "cellule", "célula", "Zelle", "cellula", "célula", "cel"},
	{"0511", "photosynthesis", "photosynthèse", "fotosíntesis", "Photosynthese", "fotosintesi", "fotossíntese", "fotosynthese"},
	{"0511", "plants", "plantes", "plantas", "Pflanzen", "piante", "plantas", "planten"},
	{"0511", "evolution", "évolution", "evolución", "Evolution", "evoluzione", "evolução", "evolutie"},
	{"0511", "genetics", "génétique", "genética", "Genetik", "genetica", "genética", "genetica"},
	{"0511", "ecosystem", "écosystème", "ecosistema", "Ökosystem", "ecosistema", "ecossistema", "ecosysteem"},
	// 0531 Chemistry.
	{"0531", "chemistry", "chimie", "química", "Chemie", "chimica", "química", "scheikunde"},
	{"0531", "molecules", "molécules", "moléculas", "Moleküle", "molecole", "moléculas", "moleculen"},
	{"0531", "reactions", "réactions", "reacciones", "Reaktionen", "reazioni", "reações", "reacties"},
	{"0531", "acids", "acides", "ácidos", "Säuren", "acidi", "ácidos", "zuren"},
	{"0531", "elements", "éléments", "elementos", "Elemente", "elementi", "elementos", "elementen"},
	// 0222 History and archaeology.
	{"0222", "history", "histoire", "historia", "Geschichte", "storia", "história", "geschiedenis"},
	{"0222", "war", "guerre", "guerra", "Krieg", "guerra", "guerra", "oorlog"},
	{"0222", "revolution", "révolution", "revolución", "Revolution", "rivoluzione", "revolução", "revolutie"},
	{"0222", "empire", "empire", "imperio", "Reich", "impero", "império", "rijk"},
	{"0222", "medieval", "médiéval", "medieval", "Mittelalter", "medievale", "medieval", "middeleeuwen"},
	{"0222", "sources", "sources", "fuentes", "Quellen", "fonti", "fontes", "bronnen"},
	// 0613 Software and applications development and analysis.
	{"0613", "programming", "programmation", "programación", "Programmierung", "programmazione", "programação", "programmeren"},
	{"0613", "computer", "ordinateur", "computadora", "Computer", "computer", "computador", "computer"},
	{"0613", "algorithms", "algorithmes", "algoritmos", "Algorithmen", "algoritmi", "algoritmos", "algoritmen"},
	{"0613", "data", "données", "datos", "Daten", "dati", "dados", "gegevens"},
	{"0613", "python", "python", "python", "Python", "python", "python", "python"},
	// 0532 Earth sciences.
	{"0532", "climate", "climat", "clima", "Klima", "clima", "clima", "klimaat"},
	{"0532", "water", "eau", "agua", "Wasser", "acqua", "água", "water"},
	{"0532", "map", "carte", "mapa", "Karte", "mappa", "mapa", "kaart"},
	{"0532", "river", "fleuve", "río", "Fluss", "fiume", "rio", "rivier"},
	{"0532", "mountain", "montagne", "montaña", "Berg", "montagna", "montanha", "berg"},
	{"0532", "volcanoes", "volcans", "volcanes", "Vulkane", "vulcani", "vulcões", "vulkanen"},
	{"0532", "rocks", "roches", "rocas", "Gesteine", "rocce", "rochas", "gesteenten"},
	// 0232 Literature and linguistics.
	{"0232", "poetry", "poésie", "poesía", "Gedichte", "poesia", "poesia", "gedichten"},
	{"0232", "novel", "roman", "novela", "Roman", "romanzo", "romance", "roman"},
	{"0232", "stories", "contes", "cuentos", "Erzählungen", "racconti", "contos", "verhalen"},
	{"0232", "theatre", "théâtre", "teatro", "Theater", "teatro", "teatro", "theater"},
	{"0232", "authors", "auteurs", "autores", "Autoren", "autori", "autores", "auteurs"},
	// 0311 Economics.
	{"0311", "economy", "économie", "economía", "Wirtschaft", "economia", "economia", "economie"},
	{"0311", "markets", "marchés", "mercados", "Märkte", "mercati", "mercados", "markten"},
	{"0311", "money", "monnaie", "dinero", "Geld", "denaro", "dinheiro", "geld"},
	{"0311", "trade", "commerce", "comercio", "Handel", "commercio", "comércio", "handel"},
	// 0215 Music and performing arts (and the visual arts seed word).
	{"0215", "music", "musique", "música", "Musik", "musica", "música", "muziek"},
	{"0215", "painting", "peinture", "pintura", "Malerei", "pittura", "pintura", "schilderkunst"},
	{"0215", "rhythm", "rythme", "ritmo", "Rhythmus", "ritmo", "ritmo", "ritme"},
	{"0215", "singing", "chant", "canto", "Singen", "canto", "canto", "zingen"},
	{"0215", "instruments", "instruments", "instrumentos", "Instrumente", "strumenti", "instrumentos", "instrumenten"},
	// 0114 Teacher training with subject specialisation.
	{"0114", "pedagogy", "pédagogie", "pedagogía", "Pädagogik", "pedagogia", "pedagogia", "pedagogiek"},
	{"0114", "classroom", "classe", "aula", "Klassenzimmer", "classe", "sala", "klaslokaal"},
	{"0114", "assessment", "évaluation", "evaluación", "Bewertung", "valutazione", "avaliação", "beoordeling"},
	{"0114", "curriculum", "programme", "currículo", "Lehrplan", "curricolo", "currículo", "leerplan"},
	// 0312 Political sciences and civics.
	{"0312", "democracy", "démocratie", "democracia", "Demokratie", "democrazia", "democracia", "democratie"},
	{"0312", "citizenship", "citoyenneté", "ciudadanía", "Bürgerschaft", "cittadinanza", "cidadania", "burgerschap"},
	{"0312", "elections", "élections", "elecciones", "Wahlen", "elezioni", "eleições", "verkiezingen"},
	{"0312", "rights", "droits", "derechos", "Rechte", "diritti", "direitos", "rechten"},
	// 0223 Philosophy and ethics.
	{"0223", "philosophy", "philosophie", "filosofía", "Philosophie", "filosofia", "filosofia", "filosofie"},
	{"0223", "ethics", "éthique", "ética", "Ethik", "etica", "ética", "ethiek"},
	{"0223", "logic", "logique", "lógica", "Logik", "logica", "lógica", "logica"},
	// 0521 Environmental sciences.
	{"0521", "pollution", "pollution", "contaminación", "Verschmutzung", "inquinamento", "poluição", "vervuiling"},
	{"0521", "biodiversity", "biodiversité", "biodiversidad", "Biodiversität", "biodiversità", "biodiversidade", "biodiversiteit"},
	{"0521", "recycling", "recyclage", "reciclaje", "Recycling", "riciclaggio", "reciclagem", "recycling"},
	// 0711 Chemical engineering and processes.
	{"0711", "processes", "procédés", "procesos", "Verfahren", "processi", "processos", "processen"},
	{"0711", "polymers", "polymères", "polímeros", "Polymere", "polimeri", "polímeros", "polymeren"},
	// 0912 Medicine.
	{"0912", "health", "santé", "salud", "Gesundheit", "salute", "saúde", "gezondheid"},
	{"0912", "anatomy", "anatomie", "anatomía", "Anatomie", "anatomia", "anatomia", "anatomie"},
	{"0912", "nutrition", "nutrition", "nutrición", "Ernährung", "nutrizione", "nutrição", "voeding"},
	// 1014 Sports.
	{"1014", "football", "football", "fútbol", "Fußball", "calcio", "futebol", "voetbal"},
	{"1014", "athletics", "athlétisme", "atletismo", "Leichtathletik", "atletica", "atletismo", "atletiek"},
	{"1014", "team", "équipe", "equipo", "Mannschaft", "squadra", "equipe", "team"},
}

// genStop are real stop words of each language, most frequent first.
var genStop = map[string][]string{
	"en": strings.Fields("the of and to a in is for with on that this are as by an be it from at or how you your can will their we they which"),
	"fr": strings.Fields("de la le et les des à du un une en pour est que dans sur par avec au qui ce plus sont aux ou vous nous leur"),
	"es": strings.Fields("de la el en y que los a del las un una por para con es se al lo como más sus o su sobre"),
	"de": strings.Fields("der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden aus"),
	"it": strings.Fields("di e il la che in a per un del della le una con i sono si da al dei come più alla nel"),
	"pt": strings.Fields("de a o que e do da em um para com não uma os no se na por mais as dos como ao das"),
	"nl": strings.Fields("de en van het een in is op te dat die voor met zijn aan er niet als bij door ook om of naar"),
}

// genSyllables are the parts synthetic words are built from: onsets,
// vowels, codas and suffixes typical of each language.
var genSyllables = map[string][4][]string{
	"en": {strings.Fields("b c d f g h l m n p r s t v w br cr dr fl gr pl pr sc st tr th sh ch"), strings.Fields("a e i o u ea io ou ai"), strings.Fields("n r s l t m nd nt st ck"), strings.Fields("tion ment ness ity ing er ism al ics ology ance ure")},
	"fr": {strings.Fields("b c d f g l m n p r s t v br cr pl pr tr ch qu"), strings.Fields("a e i o u é è ou ai au eau oi"), strings.Fields("n r s l m"), strings.Fields("tion ment eur ique age ité ance oire isme elle")},
	"es": {strings.Fields("b c d f g l m n p r s t v br cr pl pr tr ch ll"), strings.Fields("a e i o u ia ue io"), strings.Fields("n r s l"), strings.Fields("ción dad ismo ero ante ico ura aje miento ador")},
	"de": {strings.Fields("b d f g h k l m n p r s t w z br gr kl pf sch st tr"), strings.Fields("a e i o u ä ö ü ei au ie"), strings.Fields("n r s l t m ch ck nd ng"), strings.Fields("ung keit heit schaft lich ismus er en nis tum")},
	"it": {strings.Fields("b c d f g l m n p r s t v br pr tr st sc gn"), strings.Fields("a e i o u ia io ie"), strings.Fields("n r l s"), strings.Fields("zione ità mento ismo tore ale ico ura ezza anza")},
	"pt": {strings.Fields("b c d f g l m n p r s t v br pr tr ch lh nh"), strings.Fields("a e i o u ei ou ão"), strings.Fields("n r s l m"), strings.Fields("ção dade mento ismo ador ico agem ura ência ista")},
	"nl": {strings.Fields("b d f g h k l m n p r s t v w z gr kl sch st tr"), strings.Fields("a e i o u aa ee oo oe ie ui ij"), strings.Fields("n r s l t m k ng nd"), strings.Fields("ing heid schap lijk isme er en te baar nis")},
}

const (
	genGeneralWords = 6000 // general vocabulary per language, real words first
	genTopicWords   = 250  // topic words per subject, real words first
	genZipfS        = 1.0
)

// genLex is the vocabulary of one language.
type genLex struct {
	stop    zipf
	general zipf
	topics  map[string]zipf // by ISCED-F code
}

// zipf draws words of rank r with probability proportional to 1/r^s.
type zipf struct {
	words []string
	cum   []float64
}

func newZipf(words []string, s float64) zipf {
	z := zipf{words: words, cum: make([]float64, len(words))}
	total := 0.0
	for i := range words {
		total += 1 / pow(float64(i+1), s)
		z.cum[i] = total
	}
	for i := range z.cum {
		z.cum[i] /= total
	}
	return z
}

func pow(x, s float64) float64 {
	if s == 1 {
		return x
	}
	return math.Pow(x, s)
}

func (z zipf) pick(r *rand.Rand) string {
	i, _ := slices.BinarySearch(z.cum, r.Float64())
	return z.words[min(i, len(z.words)-1)]
}

// genLexicon builds every language's vocabulary once; it is the same in
// every run.
var genLexicon = sync.OnceValue(func() map[string]*genLex {
	out := map[string]*genLex{}
	for col, lang := range genLangCols {
		seen := map[string]bool{}
		for _, w := range genStop[lang] {
			seen[strings.ToLower(w)] = true
		}
		real := map[string][]string{}
		for _, row := range genVocab {
			w := row[1+col]
			seen[strings.ToLower(w)] = true
			real[row[0]] = append(real[row[0]], w)
		}
		h := fnv.New64a()
		h.Write([]byte(lang))
		r := rand.New(rand.NewPCG(h.Sum64(), 0x5eed))
		synth := func(n int) []string {
			var ws []string
			for len(ws) < n {
				w := genSynthWord(r, lang)
				if utf8.RuneCountInString(w) < 4 || seen[strings.ToLower(w)] {
					continue
				}
				seen[strings.ToLower(w)] = true
				ws = append(ws, w)
			}
			return ws
		}
		lex := &genLex{stop: newZipf(genStop[lang], genZipfS), topics: map[string]zipf{}}
		lex.general = newZipf(append(real[""], synth(genGeneralWords-len(real[""]))...), genZipfS)
		for _, subj := range genSubj.values {
			lex.topics[subj] = newZipf(append(slices.Clone(real[subj]), synth(genTopicWords-len(real[subj]))...), genZipfS)
		}
		out[lang] = lex
	}
	return out
})

// genSynthWord builds a word of 2–3 syllables, often with a suffix.
// German nouns (those with a noun suffix) are capitalised.
func genSynthWord(r *rand.Rand, lang string) string {
	parts := genSyllables[lang]
	onsets, vowels, codas, suffixes := parts[0], parts[1], parts[2], parts[3]
	var b strings.Builder
	n := 2 + r.IntN(2)
	suffixed := r.IntN(5) < 3
	for i := range n {
		b.WriteString(onsets[r.IntN(len(onsets))])
		b.WriteString(vowels[r.IntN(len(vowels))])
		if r.IntN(3) == 0 && !(suffixed && i == n-1) {
			b.WriteString(codas[r.IntN(len(codas))])
		}
	}
	w := b.String()
	if suffixed {
		suf := suffixes[r.IntN(len(suffixes))]
		w += suf
		if lang == "de" && slices.Contains([]string{"ung", "keit", "heit", "schaft", "ismus", "nis", "tum"}, suf) {
			rs := []rune(w)
			rs[0] = unicode.ToUpper(rs[0])
			w = string(rs)
		}
	}
	return w
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

// Shares of the running words of a summary (see the comment on genVocab).
const (
	genStopShare  = 0.38
	genFocusShare = 0.15
	genTopicShare = 0.10
)

// generator makes realistic Create activities from a seeded RNG, so runs
// are comparable.
type generator struct {
	r   *rand.Rand
	n   int
	now time.Time
	lex map[string]*genLex
}

func newGenerator(seed uint64) *generator {
	return &generator{r: rand.New(rand.NewPCG(seed, 0x1cea)), now: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), lex: genLexicon()}
}

// topic is what one record is about: its language's vocabulary, its
// subjects' topic words and the focus words it repeats.
type topic struct {
	lex    *genLex
	topics []zipf
	focus  []string
}

func (g *generator) topic(lang string, subjects []string) topic {
	lex := g.lex[primary(lang)]
	t := topic{lex: lex}
	for _, s := range subjects {
		t.topics = append(t.topics, lex.topics[s])
	}
	for i := range 2 + g.r.IntN(3) {
		// The first focus word comes from the main subject, the others
		// from any of the record's subjects.
		z := t.topics[0]
		if i > 0 {
			z = t.topics[g.r.IntN(len(t.topics))]
		}
		t.focus = append(t.focus, z.pick(g.r))
	}
	return t
}

// summary writes n words of running text about t.
func (g *generator) summary(t topic, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		var w string
		switch x := g.r.Float64(); {
		case x < genStopShare:
			w = t.lex.stop.pick(g.r)
		case x < genStopShare+genFocusShare:
			w = t.focus[g.r.IntN(len(t.focus))]
		case x < genStopShare+genFocusShare+genTopicShare:
			w = t.topics[g.r.IntN(len(t.topics))].pick(g.r)
		default:
			w = t.lex.general.pick(g.r)
		}
		b.WriteString(w)
	}
	return b.String()
}

// title writes n words: the first focus word, then mostly focus and
// topic words, a few general and stop words.
func (g *generator) title(t topic, n int) string {
	ws := []string{t.focus[0]}
	for len(ws) < n {
		switch x := g.r.Float64(); {
		case x < 0.35:
			ws = append(ws, t.focus[g.r.IntN(len(t.focus))])
		case x < 0.55:
			ws = append(ws, t.topics[0].pick(g.r))
		case x < 0.75:
			ws = append(ws, t.lex.stop.pick(g.r))
		default:
			ws = append(ws, t.lex.general.pick(g.r))
		}
	}
	return strings.Join(ws, " ")
}

// next returns the next document: a Create of a resource with a title of
// 3–8 words and a summary of about 70.
func (g *generator) next() Doc {
	g.n++
	lang := genLangs.pick(g.r)
	subj := []string{genSubj.pick(g.r)}
	if g.r.IntN(4) == 0 {
		if s := genSubj.pick(g.r); s != subj[0] {
			subj = append(subj, s)
		}
	}
	t := g.topic(lang, subj)
	author := fmt.Sprintf("did:key:z6MkGen%05d", g.r.IntN(5000))
	node := fmt.Sprintf("12D3KooWGenNode%03d", g.r.IntN(300))
	res := &activity.Resource{
		Type:                 activity.Document,
		Version:              1,
		Title:                g.title(t, 3+g.r.IntN(6)),
		Description:          g.summary(t, 55+g.r.IntN(30)),
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

// genShare returns, for each word, the share of n generated documents
// (seed 3, as Benchmark1M) whose title or summary has it as a word (case
// folded, not stemmed).
func genShare(n int, ws []string) map[string]float64 {
	g := newGenerator(3)
	counts := map[string]int{}
	for range n {
		r := g.next().Activity.Object.Resource
		has := map[string]bool{}
		for _, w := range words(strings.ToLower(r.Title + " " + r.Description)) {
			has[w] = true
		}
		for _, w := range ws {
			if has[strings.ToLower(w)] {
				counts[w]++
			}
		}
	}
	out := map[string]float64{}
	for _, w := range ws {
		out[w] = float64(counts[w]) / float64(n)
	}
	return out
}

// TestGeneratorIsRealistic checks the properties the benchmarks rely on:
// the same seed gives the same records, each language has a vocabulary of
// thousands of words, and every benchmark query word is a topic word that
// a few percent of the records have, neither almost all of them (as with
// the first generator) nor almost none.
func TestGeneratorIsRealistic(t *testing.T) {
	a, b := newGenerator(5).next(), newGenerator(5).next()
	if ra, rb := a.Activity.Object.Resource, b.Activity.Object.Resource; ra.Title != rb.Title || ra.Description != rb.Description {
		t.Fatalf("same seed, different records: %q, %q", ra.Title, rb.Title)
	}
	for _, l := range genLangCols {
		lex := genLexicon()[l]
		n := len(lex.general.words)
		for _, z := range lex.topics {
			n += len(z.words)
		}
		if n < 5000 {
			t.Errorf("%s: %d words, want thousands", l, n)
		}
	}
	n := 20_000
	if testing.Short() {
		n = 5_000
	}
	share := genShare(n, benchWords)
	for _, w := range benchWords {
		t.Logf("%-15s in %5.2f %% of %d records", w, 100*share[w], n)
		if s := share[w]; s < 0.003 || s > 0.10 {
			t.Errorf("%q is in %.2f %% of the records, want 0.3–10 %%", w, 100*s)
		}
	}
}
