package activity

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gowebpki/jcs"
)

// This file holds the strict JSON reader and the RFC 8785 (JCS) writer used
// for typed activities. encoding/json is not used on the wire path because
// it matches keys case-insensitively, keeps the last of duplicate keys and
// replaces invalid UTF-8 and lone surrogates silently: each is a way for two
// parsers to read different things from one signed document.

// kind is the type of a JSON value.
type kind uint8

const (
	kNull kind = iota
	kBool
	kNumber
	kString
	kArray
	kObject
	kRaw // already canonical JSON text, written verbatim (encoder only)
)

// value is a parsed JSON value. s holds the string, the number's literal
// text, "true"/"false", or raw canonical text.
type value struct {
	kind kind
	s    string
	arr  []value
	obj  []member
}

// member is one name/value pair of an object, in document order.
type member struct {
	key string
	val value
}

// parser is a recursive-descent JSON parser that enforces a depth limit as
// it descends, so deep input is rejected before it is built.
type parser struct {
	b        []byte
	i        int
	maxDepth int
	// The members and elements of the objects and arrays being parsed
	// pile up here; each closed one takes a copy of exactly its own, so
	// that it is allocated once at its size rather than grown.
	members  []member
	elements []value
}

// parseJSON parses one JSON value (top level must be an object) and rejects
// trailing bytes.
func parseJSON(b []byte, maxDepth int) (value, error) {
	p := parser{b: b, maxDepth: maxDepth}
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		return value{}, fmt.Errorf("%w: top level must be an object", ErrMalformed)
	}
	v, err := p.value(0)
	if err != nil {
		return value{}, err
	}
	p.ws()
	if p.i != len(p.b) {
		return value{}, p.errf("trailing data")
	}
	return v, nil
}

func (p *parser) errf(format string, args ...any) error {
	return fmt.Errorf("%w: offset %d: %s", ErrMalformed, p.i, fmt.Sprintf(format, args...))
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (value, error) {
	if p.i >= len(p.b) {
		return value{}, p.errf("unexpected end of input")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		if depth >= p.maxDepth {
			return value{}, fmt.Errorf("%w: more than %d levels", ErrTooDeep, p.maxDepth)
		}
		return p.object(depth + 1)
	case c == '[':
		if depth >= p.maxDepth {
			return value{}, fmt.Errorf("%w: more than %d levels", ErrTooDeep, p.maxDepth)
		}
		return p.array(depth + 1)
	case c == '"':
		s, err := p.str()
		return value{kind: kString, s: s}, err
	case c == 't':
		return p.lit("true", value{kind: kBool, s: "true"})
	case c == 'f':
		return p.lit("false", value{kind: kBool, s: "false"})
	case c == 'n':
		return p.lit("null", value{kind: kNull})
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return value{}, p.errf("unexpected character %q", c)
	}
}

func (p *parser) lit(word string, v value) (value, error) {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return value{}, p.errf("invalid literal")
	}
	p.i += len(word)
	return v, nil
}

func (p *parser) object(depth int) (value, error) {
	p.i++ // '{'
	v := value{kind: kObject}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return v, nil
	}
	var seen map[string]struct{}
	base := len(p.members)
	defer func() { p.members = p.members[:base] }()
	for {
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return value{}, p.errf("expected member name")
		}
		key, err := p.str()
		if err != nil {
			return value{}, err
		}
		// Duplicate names are the classic JCS ambiguity: reject them. A
		// linear scan is cheapest for the small objects we expect; a set
		// keeps a hostile object with thousands of members linear.
		if ms := p.members[base:]; len(ms) < 16 {
			for _, m := range ms {
				if m.key == key {
					return value{}, p.errf("duplicate member %q", key)
				}
			}
		} else {
			if seen == nil {
				seen = make(map[string]struct{}, 2*len(ms))
				for _, m := range ms {
					seen[m.key] = struct{}{}
				}
			}
			if _, dup := seen[key]; dup {
				return value{}, p.errf("duplicate member %q", key)
			}
			seen[key] = struct{}{}
		}
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return value{}, p.errf("expected ':'")
		}
		p.i++
		p.ws()
		mv, err := p.value(depth)
		if err != nil {
			return value{}, err
		}
		p.members = append(p.members, member{key: key, val: mv})
		p.ws()
		if p.i >= len(p.b) {
			return value{}, p.errf("unterminated object")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			v.obj = slices.Clone(p.members[base:])
			return v, nil
		default:
			return value{}, p.errf("expected ',' or '}'")
		}
	}
}

func (p *parser) array(depth int) (value, error) {
	p.i++ // '['
	v := value{kind: kArray}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		v.arr = []value{}
		return v, nil
	}
	base := len(p.elements)
	defer func() { p.elements = p.elements[:base] }()
	for {
		p.ws()
		ev, err := p.value(depth)
		if err != nil {
			return value{}, err
		}
		p.elements = append(p.elements, ev)
		p.ws()
		if p.i >= len(p.b) {
			return value{}, p.errf("unterminated array")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			v.arr = slices.Clone(p.elements[base:])
			return v, nil
		default:
			return value{}, p.errf("expected ',' or ']'")
		}
	}
}

// str parses a string, rejecting control characters, invalid UTF-8, bad
// escapes and lone surrogates (RFC 8785 requires well-formed strings).
func (p *parser) str() (string, error) {
	p.i++ // opening quote
	start := p.i
	// Fast path: no escapes.
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			s := p.b[start:p.i]
			if !utf8.Valid(s) {
				return "", p.errf("invalid UTF-8 in string")
			}
			p.i++
			return string(s), nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", p.errf("control character in string")
		}
		p.i++
	}
	buf := append([]byte(nil), p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			if !utf8.Valid(buf) {
				return "", p.errf("invalid UTF-8 in string")
			}
			p.i++
			return string(buf), nil
		case c < 0x20:
			return "", p.errf("control character in string")
		case c != '\\':
			buf = append(buf, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.b) {
			break
		}
		e := p.b[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, err := p.hex4()
			if err != nil {
				return "", err
			}
			if utf16.IsSurrogate(r) {
				if r >= 0xdc00 || p.i+1 >= len(p.b) || p.b[p.i] != '\\' || p.b[p.i+1] != 'u' {
					return "", p.errf("lone surrogate")
				}
				p.i += 2
				r2, err := p.hex4()
				if err != nil {
					return "", err
				}
				r = utf16.DecodeRune(r, r2)
				if r == utf8.RuneError {
					return "", p.errf("lone surrogate")
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", p.errf("invalid escape")
		}
	}
	return "", p.errf("unterminated string")
}

func (p *parser) hex4() (rune, error) {
	if len(p.b)-p.i < 4 {
		return 0, p.errf("short \\u escape")
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, p.errf("bad \\u escape")
		}
	}
	p.i += 4
	return r, nil
}

// number validates RFC 8259 number syntax and keeps the literal.
func (p *parser) number() (value, error) {
	start := p.i
	if p.b[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.b) && p.b[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return value{}, p.errf("invalid number")
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return value{}, p.errf("invalid number")
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return value{}, p.errf("invalid number")
		}
	}
	return value{kind: kNumber, s: string(p.b[start:p.i])}, nil
}

// writeCanonicalCut appends the RFC 8785 form of the object v to buf, and
// returns where the member named cut (with the comma that joins it to the
// others) begins and ends in buf: without those bytes, buf holds the
// canonical form of v without that member. from == to when v has no such
// member, or cut is empty (writeCanonical's objects).
func writeCanonicalCut(buf []byte, v value, cut string) (out []byte, from, to int, err error) {
	if v.kind != kObject {
		return nil, 0, 0, fmt.Errorf("%w: not an object", ErrMalformed)
	}
	ms := v.obj
	if !slices.IsSortedFunc(ms, compareMembers) {
		ms = slices.Clone(ms)
		slices.SortFunc(ms, compareMembers)
	}
	buf = append(buf, '{')
	from, to = -1, -1
	for i, m := range ms {
		start := len(buf)
		if i > 0 {
			buf = append(buf, ',')
		}
		if !utf8.ValidString(m.key) {
			return nil, 0, 0, fmt.Errorf("%w: invalid UTF-8 in member name", ErrMalformed)
		}
		buf = appendString(buf, m.key)
		buf = append(buf, ':')
		if buf, err = writeCanonical(buf, m.val); err != nil {
			return nil, 0, 0, err
		}
		switch {
		case cut == "" || m.key != cut:
		case i > 0:
			from, to = start, len(buf) // the comma before it, the member
		default:
			from, to = start, len(buf)+1 // the member, the comma after it (or none: below)
		}
	}
	buf = append(buf, '}')
	switch {
	case from < 0:
		from, to = len(buf), len(buf)
	case to > len(buf)-1:
		to = len(buf) - 1 // the only member: nothing follows it
	}
	return buf, from, to, nil
}

// writeCanonical appends the RFC 8785 form of v to buf.
func writeCanonical(buf []byte, v value) ([]byte, error) {
	switch v.kind {
	case kNull:
		return append(buf, "null"...), nil
	case kBool, kRaw:
		return append(buf, v.s...), nil
	case kNumber:
		return appendNumber(buf, v.s)
	case kString:
		if !utf8.ValidString(v.s) {
			return nil, fmt.Errorf("%w: invalid UTF-8 in string", ErrMalformed)
		}
		return appendString(buf, v.s), nil
	case kArray:
		buf = append(buf, '[')
		for i, e := range v.arr {
			if i > 0 {
				buf = append(buf, ',')
			}
			var err error
			if buf, err = writeCanonical(buf, e); err != nil {
				return nil, err
			}
		}
		return append(buf, ']'), nil
	case kObject:
		buf, _, _, err := writeCanonicalCut(buf, v, "")
		return buf, err
	}
	return nil, fmt.Errorf("activity: internal: unknown JSON kind %d", v.kind)
}

// compareMembers orders member names by their UTF-16 code units, as RFC
// 8785 section 3.2.3 requires. For names without supplementary-plane
// characters this is plain byte order of their UTF-8.
func compareMembers(a, b member) int { return compareUTF16(a.key, b.key) }

func compareUTF16(a, b string) int {
	// UTF-8 byte order is code point order, and so is UTF-16 order but
	// for one case: a character of U+E000–U+FFFF (lead byte 0xEE or 0xEF)
	// sorts after a supplementary one (lead byte 0xF0–0xF4, a surrogate
	// pair in UTF-16). Only a first difference of that kind needs the
	// code units.
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(a) || i == len(b) {
		return cmp.Compare(len(a), len(b))
	}
	x, y := a[i], b[i]
	if (x == 0xEE || x == 0xEF) && y >= 0xF0 || (y == 0xEE || y == 0xEF) && x >= 0xF0 {
		return compareUTF16Units(a, b)
	}
	return cmp.Compare(x, y)
}

// compareUTF16Units is compareUTF16 rune by rune.
func compareUTF16Units(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ua, ub := utf16Unit(ra), utf16Unit(rb)
			if ua != ub {
				if ua < ub {
					return -1
				}
				return 1
			}
			// Same high surrogate: compare the low ones.
			_, la := utf16.EncodeRune(ra)
			_, lb := utf16.EncodeRune(rb)
			if la < lb {
				return -1
			}
			return 1
		}
		a, b = a[na:], b[nb:]
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	default:
		return 1
	}
}

// utf16Unit returns the first UTF-16 code unit of r.
func utf16Unit(r rune) rune {
	if r >= 0x10000 {
		hi, _ := utf16.EncodeRune(r)
		return hi
	}
	return r
}

// appendNumber writes a number as ECMAScript's Number.prototype.toString
// does (RFC 8785 section 3.2.2.3). Integers that are safe in a double are
// written directly; anything else goes through the jcs library's formatter.
func appendNumber(buf []byte, lit string) ([]byte, error) {
	if n, err := strconv.ParseInt(lit, 10, 64); err == nil && n > -maxSafeInt && n < maxSafeInt && lit != "-0" {
		return strconv.AppendInt(buf, n, 10), nil
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("%w: number %s is not an IEEE 754 double", ErrMalformed, lit)
	}
	s, err := jcs.NumberToJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%w: number %s: %v", ErrMalformed, lit, err)
	}
	return append(buf, s...), nil
}

// maxSafeInt is 2^53: integers of smaller magnitude are exact in a double.
const maxSafeInt = 1 << 53

// appendString writes a JSON string with RFC 8785 escaping: only '"', '\\'
// and control characters are escaped, the usual short forms first, else
// \u00xx in lower-case hex; everything else is literal UTF-8.
func appendString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		buf = append(buf, s[start:i]...)
		switch c {
		case '"':
			buf = append(buf, '\\', '"')
		case '\\':
			buf = append(buf, '\\', '\\')
		case '\b':
			buf = append(buf, '\\', 'b')
		case '\f':
			buf = append(buf, '\\', 'f')
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		default:
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// Canonicalize returns the RFC 8785 (JCS) canonical form of arbitrary JSON,
// using the github.com/gowebpki/jcs implementation. It rejects duplicate
// member names and invalid strings.
func Canonicalize(doc []byte) ([]byte, error) {
	out, err := jcs.Transform(doc)
	if err != nil {
		return nil, fmt.Errorf("%w: canonicalize: %v", ErrMalformed, err)
	}
	return out, nil
}
