package activity

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestEncodeDecodeRoundTripsEveryType(t *testing.T) {
	seen := map[Type]bool{}
	for _, a := range chain(t, "ana") {
		seen[a.Type] = true
		t.Run(string(a.Type)+" round-trips", func(t *testing.T) {
			b := mustEncode(t, a)
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("decode: %v\n%s", err, b)
			}
			if !reflect.DeepEqual(got, a) {
				t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, a)
			}
			if err := Verify(got); err != nil {
				t.Fatalf("verify: %v", err)
			}
			canon, err := Canonicalize(b)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(canon, b) {
				t.Fatalf("Encode is not JCS:\n%s\n%s", b, canon)
			}
		})
	}
	for _, typ := range Types() {
		if !seen[typ] {
			t.Errorf("no fixture for %s", typ)
		}
	}
}

func TestDecodeKeepsUnknownMembersUnderTheSignature(t *testing.T) {
	a := chain(t, "ana")[0]
	a.Extra = map[string]json.RawMessage{"futureTerm": json.RawMessage(`{"b":1e2,"a":[true,null,"x"]}`)}
	a.Object.Resource.Extra = map[string]json.RawMessage{"lyceum:accessibility": json.RawMessage(`"captions"`)}
	if err := Sign(a, testKey("ana"), t0); err != nil {
		t.Fatal(err)
	}
	b := mustEncode(t, a)
	if !bytes.Contains(b, []byte(`"futureTerm":{"a":[true,null,"x"],"b":100}`)) {
		t.Fatalf("extra not canonical in %s", b)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(got); err != nil {
		t.Fatalf("verify with extras: %v", err)
	}
	if !bytes.Equal(mustEncode(t, got), b) {
		t.Fatal("re-encoding changed the bytes")
	}
	delete(got.Extra, "futureTerm")
	if err := Verify(got); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("dropping an extra: got %v, want ErrBadSignature", err)
	}
}

func TestDecodeRejects(t *testing.T) {
	good := string(mustEncode(t, chain(t, "ana")[0]))
	sub := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("fixture lacks %q", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	tests := []struct {
		name  string
		in    string
		err   error
		field string
	}{
		{"an unknown licence, naming the field", sub(`"CC-BY-SA-4.0"`, `"CC-BY-5.0"`), ErrInvalid, "object.license"},
		{"a MoodleNet licence code", sub(`"CC-BY-SA-4.0"`, `"cc-by-sa"`), ErrInvalid, "object.license"},
		{"a MoodleNet subject code", sub(`"0541"`, `"F0541"`), ErrInvalid, "object.subjects[0]"},
		{"a non-canonical language tag", sub(`"pt-BR"`, `"pt-br"`), ErrInvalid, "object.language"},
		{"an unknown level", sub(`"level":"1"`, `"level":"ED1"`), ErrInvalid, "object.level"},
		{"a too short title", sub(`"name":"Fractions for beginners: a visual introduction"`, `"name":"Fr"`), ErrInvalid, "object.name"},
		{"raw HTML in the description", sub(`A short`, `<script>x</script> A short`), ErrInvalid, "object.summary"},
		{"a link with an ftp URL", sub(`"https://example.org/oer/fractions-1"`, `"ftp://example.org/x"`), ErrInvalid, "object.derivedFrom[0]"},
		{"a time not in UTC", sub(`"published":"2025-03-14T09:26:53Z"`, `"published":"2025-03-14T10:26:53+01:00"`), ErrInvalid, "object.published"},
		{"a float seq", sub(`"seq":1`, `"seq":1.0`), ErrInvalid, "seq"},
		{"a missing seq", sub(`"seq":1,`, ``), ErrInvalid, "seq"},
		{"an unsafe integer", sub(`"size":1234567`, `"size":9007199254740993`), ErrInvalid, "object.media.size"},
		{"null", sub(`"level":"1"`, `"level":null`), ErrInvalid, "object.level"},
		{"an empty optional array", sub(`"to":["https://www.w3.org/ns/activitystreams#Public"]`, `"to":[]`), ErrInvalid, "to"},
		{"an unknown member of a nested struct", sub(`"kind":"file"`, `"kind":"file","colour":"red"`), ErrInvalid, "object.media.colour"},
		{"an unknown activity type", sub(`"type":"Create"`, `"type":"Explode"`), ErrInvalid, "type"},
		{"a differently-cased key", sub(`"type":"Create"`, `"Type":"Create"`), ErrInvalid, "type"},
		{"a bad actor", sub(`"actor":"did:key:`, `"actor":"did:web:`), ErrInvalid, "actor"},
		{"a duplicate key", sub(`"seq":1`, `"seq":1,"seq":2`), ErrMalformed, ""},
		{"trailing data", good + "{}", ErrMalformed, ""},
		{"invalid UTF-8", sub(`Ana Silva`, "Ana \xff"), ErrMalformed, ""},
		{"a lone surrogate", sub(`Ana Silva`, `Ana \ud800`), ErrMalformed, ""},
		{"an array at top level", `[` + good + `]`, ErrMalformed, ""},
		{"deep nesting before building it", `{"x":` + strings.Repeat("[", 60000), ErrTooDeep, ""},
		{"deep nesting in an extra", sub(`"seq":1`, `"seq":1,"x":`+strings.Repeat("[", 17)+strings.Repeat("]", 17)), ErrTooDeep, ""},
	}
	for _, tt := range tests {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.in))
			if !errors.Is(err, tt.err) {
				t.Fatalf("got %v, want %v", err, tt.err)
			}
			if tt.field != "" {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != tt.field {
					t.Fatalf("got %v, want field %q", err, tt.field)
				}
			}
		})
	}
	t.Run("rejects oversized input", func(t *testing.T) {
		if _, err := Decode([]byte(good), WithMaxSize(100)); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestErrorsNameTheField(t *testing.T) {
	good := string(mustEncode(t, chain(t, "ana")[0]))
	_, err := Decode([]byte(strings.Replace(good, `"CC-BY-SA-4.0"`, `"CC-BY-5.0"`, 1)))
	want := `object.license: "CC-BY-5.0" is not a known SPDX licence id`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want it to contain %q", err, want)
	}
}

func TestNormalizeMapsMoodleNetCodes(t *testing.T) {
	r := sampleResource(testDID("ana"))
	r.License, r.Subjects, r.Level, r.Language = "cc-by", []string{"F0533"}, "ADT", "pt-br"
	r.Normalize()
	if r.License != "CC-BY-4.0" || r.Subjects[0] != "0533" || r.Level != "adult" || r.Language != "pt-BR" {
		t.Fatalf("got %q %q %q %q", r.License, r.Subjects, r.Level, r.Language)
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if code, _ := NormalizeLevel("ED1"); code != "1" {
		t.Fatalf("ED1 -> %q", code)
	}
}

func TestResourceValidateRequiresWhatPublishingNeeds(t *testing.T) {
	for _, tt := range []struct {
		field string
		clear func(*Resource)
	}{
		{"name", func(r *Resource) { r.Title = "" }},
		{"media.kind", func(r *Resource) { r.Media = Media{} }},
		{"license", func(r *Resource) { r.License = "" }},
		{"language", func(r *Resource) { r.Language = "" }},
		{"creators", func(r *Resource) { r.Creators = nil }},
	} {
		t.Run("requires "+tt.field, func(t *testing.T) {
			r := sampleResource(testDID("ana"))
			tt.clear(r)
			var fe *FieldError
			if err := r.Validate(); !errors.As(err, &fe) || fe.Field != tt.field {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestDescriptionAllowsMarkdownButNotHTML(t *testing.T) {
	for s, ok := range map[string]bool{
		"a < b and b > c":              true,
		"see <https://example.org>":    true,
		"**bold** and `x<y`":           false, // "<y" is not a tag, but be explicit below
		"line<br>break":                false,
		"<!-- hidden -->":              false,
		"<img src=x onerror=alert(1)>": false,
	} {
		if s == "**bold** and `x<y`" {
			ok = true
		}
		err := checkText("summary", s, 0, MaxDescription)
		if (err == nil) != ok {
			t.Errorf("%q: got %v, want ok=%v", s, err, ok)
		}
	}
}

// compareUTF16's byte-order shortcut agrees with the code-unit comparison,
// around the one range where UTF-8 and UTF-16 orders differ.
func TestCompareUTF16AgreesWithCodeUnits(t *testing.T) {
	alphabet := []rune{'a', 'b', 'é', 0x7ff, 0x800, 0xd7ff, 0xe000, 0xeeee, 0xffff, 0x10000, 0x1f600, 0x10ffff}
	r := rand.New(rand.NewPCG(5, 6))
	word := func() string {
		var b strings.Builder
		for range r.IntN(4) {
			b.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 100000 {
		a, b := word(), word()
		if got, want := compareUTF16(a, b), compareUTF16Units(a, b); got != want {
			t.Fatalf("compareUTF16(%q, %q) = %d, code units say %d", a, b, got, want)
		}
	}
}

// A title is plain text: what looks like a tag is text ("The <p>
// element"), which readers escape; the free texts that are Markdown keep
// refusing raw HTML.
func TestATitleMayHoldWhatLooksLikeATag(t *testing.T) {
	a := chain(t, "ana")[0]
	if a.Object.Resource == nil {
		t.Fatal("the fixture's first activity is not a resource")
	}
	for _, title := range []string{"The <p> element", "<script>alert(1)</script>", "a < b > c"} {
		a.Object.Resource.Title = title
		if err := a.Validate(); err != nil {
			t.Errorf("title %q: %v", title, err)
		}
	}
	a.Object.Resource.Description = "<script>x</script>"
	if err := a.Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("raw HTML in a summary: %v", err)
	}
}
