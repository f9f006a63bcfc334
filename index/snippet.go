package index

import (
	"html"
	"strings"
	"unicode/utf8"
)

// snippetRunes bounds a snippet.
const snippetRunes = 200

// snippetLead is how much text a snippet shows before its first match.
const snippetLead = 40

// snippet returns an HTML excerpt of text, at most about snippetRunes
// long, around its first word whose analyzed term (with the analyzer of
// language suffix l) is in marks; those words are wrapped in
// <mark>…</mark> and everything else is escaped. Highlighting here, from
// the record, spares the search the match locations bleve's highlighter
// needs for every matching document.
func (ix *Index) snippet(text, l string, marks map[string]bool) string {
	if text == "" {
		return ""
	}
	type span struct{ start, end int }
	var spans []span
	if len(marks) > 0 {
		if an := ix.analyzers[l]; an != nil {
			for _, tok := range an.Analyze([]byte(text)) {
				if marks[string(tok.Term)] {
					spans = append(spans, span{tok.Start, tok.End})
				}
			}
		}
	}
	// The window: from a little before the first match, snippetRunes long.
	start := 0
	if len(spans) > 0 {
		start = spans[0].start
		for n := 0; n < snippetLead && start > 0; n++ {
			_, size := utf8.DecodeLastRuneInString(text[:start])
			start -= size
		}
		if start > 0 {
			// Begin at a word boundary.
			if i := strings.IndexByte(text[start:spans[0].start], ' '); i >= 0 {
				start += i + 1
			}
		}
	}
	end := start
	for n := 0; n < snippetRunes && end < len(text); n++ {
		_, size := utf8.DecodeRuneInString(text[end:])
		end += size
	}
	var b strings.Builder
	if start > 0 {
		b.WriteString("…")
	}
	at := start
	for _, s := range spans {
		if s.start < at || s.end > end {
			continue
		}
		b.WriteString(html.EscapeString(text[at:s.start]))
		b.WriteString("<mark>")
		b.WriteString(html.EscapeString(text[s.start:s.end]))
		b.WriteString("</mark>")
		at = s.end
	}
	b.WriteString(html.EscapeString(strings.TrimRight(text[at:end], " ")))
	if end < len(text) {
		b.WriteString("…")
	}
	return b.String()
}
