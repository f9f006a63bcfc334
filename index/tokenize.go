package index

import (
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	unicodetok "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
)

// wordTokenizer gives exactly the tokens of bleve's unicode tokenizer
// (Unicode word segmentation, UAX #29), three times faster on text
// in the Latin script: for text of ASCII, Latin letters up to U+024F and
// the quotation marks ‘ and ’, it applies the few segmentation rules such
// text can meet; any other text goes to fallback, the unicode tokenizer
// itself. The index's analyzers (documents, query words, snippets) use it;
// the mapping keeps bleve's, which give the same tokens.
// FuzzWordTokenizerMatchesUnicode holds the two together.
type wordTokenizer struct {
	fallback analysis.Tokenizer
}

// Classes of characters in the fast path, after their UAX #29 word-break
// property.
const (
	clOther     = iota // breaks on both sides (spaces, punctuation)
	clLetter           // ALetter
	clDigit            // Numeric
	clMidLetter        // MidLetter (:): joins letters
	clMidNumLet        // MidNumLet (. ' ‘ ’): joins letters and joins digits
	clMidNum           // MidNum (, ;): joins digits
	clSlow             // anything else: the fallback tokenizes the text
)

// asciiClass is the class of each ASCII character.
var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := range t {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			t[c] = clLetter
		case '0' <= c && c <= '9':
			t[c] = clDigit
		case c == ':':
			t[c] = clMidLetter
		case c == '.' || c == '\'':
			t[c] = clMidNumLet
		case c == ',' || c == ';':
			t[c] = clMidNum
		case c == '_' || c == '"' || c == 0x7f || c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			// ExtendNumLet, Double_Quote and controls have rules of
			// their own; they are rare in titles and summaries.
			t[c] = clSlow
		default:
			t[c] = clOther
		}
	}
	return t
}()

// classOf is the class of the rune r.
func classOf(r rune) uint8 {
	switch {
	case r < utf8.RuneSelf:
		return asciiClass[r]
	case r >= 0xC0 && r <= 0x24F && r != 0xD7 && r != 0xF7 && unicode.IsLetter(r):
		return clLetter
	case r == 0x2018 || r == 0x2019:
		return clMidNumLet
	}
	return clSlow
}

// Tokenize splits input into words.
func (t wordTokenizer) Tokenize(input []byte) analysis.TokenStream {
	var (
		out     = make(analysis.TokenStream, 0, len(input)/6+1)
		slab    []analysis.Token // tokens are cut from slabs; a full one is left to its tokens
		start   = -1             // start of the open word
		last    uint8            // class of the open word's last character
		letters bool             // whether the open word has a letter
	)
	emit := func(end int) {
		if len(slab) == cap(slab) {
			slab = make([]analysis.Token, 0, max(16, (len(input)-end)/6))
		}
		typ := analysis.Numeric
		if letters {
			typ = analysis.AlphaNumeric
		}
		slab = append(slab, analysis.Token{Term: input[start:end], Start: start, End: end, Position: len(out) + 1, Type: typ})
		out = append(out, &slab[len(slab)-1])
		start, letters = -1, false
	}
	for i := 0; i < len(input); {
		cl, size := classAt(input, i)
		switch cl {
		case clLetter, clDigit:
			if start < 0 {
				start = i
			}
			letters = letters || cl == clLetter
			last = cl
			i += size
			continue
		case clSlow:
			return t.fallback.Tokenize(input)
		}
		if start >= 0 {
			// A mid character joins the word to what follows when both
			// neighbours qualify (UAX #29 rules WB6, WB7, WB11, WB12).
			next, _ := classAt(input, i+size)
			if next == clSlow {
				return t.fallback.Tokenize(input)
			}
			joinsLetters := (cl == clMidLetter || cl == clMidNumLet) && last == clLetter && next == clLetter
			joinsDigits := (cl == clMidNum || cl == clMidNumLet) && last == clDigit && next == clDigit
			if !joinsLetters && !joinsDigits {
				emit(i)
			}
		}
		i += size
	}
	if start >= 0 {
		emit(len(input))
	}
	return out
}

// classAt is the class and length of the character at b[i]; clOther at
// the end of the input.
func classAt(b []byte, i int) (uint8, int) {
	if i >= len(b) {
		return clOther, 0
	}
	if c := b[i]; c < utf8.RuneSelf {
		return asciiClass[c], 1
	}
	r, size := utf8.DecodeRune(b[i:])
	return classOf(r), size
}

// withWordTokenizer returns a copy of an that tokenizes with
// wordTokenizer, if an is an analyzer built on bleve's unicode tokenizer;
// otherwise an itself.
func withWordTokenizer(an analysis.Analyzer) analysis.Analyzer {
	d, ok := an.(*analysis.DefaultAnalyzer)
	if !ok {
		return an
	}
	if _, ok := d.Tokenizer.(*unicodetok.UnicodeTokenizer); !ok {
		return an
	}
	c := *d
	c.Tokenizer = wordTokenizer{fallback: d.Tokenizer}
	return &c
}
