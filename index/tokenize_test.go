package index

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
)

// sameTokens reports how got differs from want, "" if in nothing.
func sameTokens(got, want analysis.TokenStream) string {
	if len(got) != len(want) {
		return "token count"
	}
	for i := range want {
		g, w := got[i], want[i]
		if string(g.Term) != string(w.Term) || g.Start != w.Start || g.End != w.End || g.Position != w.Position || g.Type != w.Type {
			return "token " + w.String()
		}
	}
	return ""
}

func checkWordTokenizer(t *testing.T, text string) {
	t.Helper()
	uni := unicode.NewUnicodeTokenizer()
	got := wordTokenizer{fallback: uni}.Tokenize([]byte(text))
	want := uni.Tokenize([]byte(text))
	if d := sameTokens(got, want); d != "" {
		t.Fatalf("%q: differs at %s\ngot  %v\nwant %v", text, d, got, want)
	}
}

// FuzzWordTokenizerMatchesUnicode checks that wordTokenizer and bleve's
// unicode tokenizer agree on any text.
func FuzzWordTokenizerMatchesUnicode(f *testing.F) {
	for _, s := range wordTokenizerCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkWordTokenizer(t, s)
	})
}

var wordTokenizerCases = []string{
	"", " ", "a", "1", "abc123 123abc", "3.14 1,000 12,34.56 1.2.3 1'2 1:2 1;2",
	"a.b a:b a'b a;b a,b a..b a::b a.'b e.g. U.S.A. don't l’élève l‘a",
	"a1.2 1a.b 1.a a.1", "Les élèves étudient les fractions: ½, ¾.",
	"Übungen für Schüler — Gleichungen lösen", "¿Qué es la fotosíntesis?",
	"naïve café Œuvre ǅemal ȸ", "x\u00adb", "e\u0301te", "snake_case _x", `"quoted" text`,
	"tab\tseparated\r\nlines\n", "中文 日本語 한국어", "emoji 👩‍🏫 teacher", "a\x00b", "\xff\xfe broken utf-8",
	"×÷", "µ ª º", "end.Next 10.5.2026 12:30",
}

func TestWordTokenizerMatchesUnicode(t *testing.T) {
	for _, s := range wordTokenizerCases {
		checkWordTokenizer(t, s)
	}
	// Random text over the fast path's alphabet, and over it with a few
	// characters outside it.
	fast := []rune("aZéßÀÿĀžǺɏ09 .:',;-!?()\t\n’‘")
	slow := append([]rune("€_\"×µ中\u0301"), fast...)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 40000 {
		alphabet := fast
		if i%4 == 0 {
			alphabet = slow
		}
		var b strings.Builder
		for range r.IntN(24) {
			b.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		checkWordTokenizer(t, b.String())
	}
}

func BenchmarkTokenize(b *testing.B) {
	g := newGenerator(1)
	var texts [][]byte
	for range 100 {
		texts = append(texts, []byte(newResourceRecord(new(g.next())).Summary))
	}
	uni := unicode.NewUnicodeTokenizer()
	for _, c := range []struct {
		name string
		tk   analysis.Tokenizer
	}{{"unicode", uni}, {"word", wordTokenizer{fallback: uni}}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				c.tk.Tokenize(texts[i%len(texts)])
			}
		})
	}
}
