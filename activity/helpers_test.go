package activity

import (
	"crypto/ed25519"
	"crypto/sha256"
	"testing"
	"time"
)

// testKey returns a deterministic key for name.
func testKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("lyceum test key " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func testDID(name string) string { return DIDKey(testKey(name).Public().(ed25519.PublicKey)) }

const (
	testNode = "12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf"
	fileCID  = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
	thumbCID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
)

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// sampleResource is a realistic resource of about 1.5 KiB once signed.
func sampleResource(did string) *Resource {
	return &Resource{
		Type: Document, Version: 1,
		Title:       "Fractions for beginners: a visual introduction",
		Description: "A short illustrated unit on fractions for primary pupils. It covers halves, thirds and quarters, equivalent fractions, and comparing fractions on a number line.\n\nIncludes exercises with answers and a teacher's guide with ideas for group work.",
		Media:       Media{Kind: KindFile, CID: fileCID, Filename: "fractions.pdf", MediaType: "application/pdf", Size: 1234567},
		License:     "CC-BY-SA-4.0", Language: "pt-BR",
		Subjects: []string{"0541", "0113"}, Keywords: []string{"fractions", "primary", "number line"},
		Level: "1", LearningResourceType: "unit-of-study", Created: "2021-03",
		Published: t0,
		Creators: []Creator{
			{Name: "Ana Silva", Actor: did, Role: "author"},
			{Name: "Ben Okafor", Role: "illustrator"},
		},
		CreditText:  "Fractions for beginners by Ana Silva, CC BY-SA 4.0",
		DerivedFrom: []string{"https://example.org/oer/fractions-1"},
		Teaches:     []string{"Compare fractions on a number line", "Recognise equivalent fractions"},
		Thumbnail:   &Image{CID: thumbCID, MediaType: "image/png", Credit: "Ben Okafor"},
		Audience:    []string{"teacher", "learner"},
		Origin:      &Origin{Node: testNode, Handle: "ana@" + testNode, URL: "https://lyceum.example/r/fractions"},
	}
}

// chain builds a signed log of one actor, one activity of every type.
func chain(tb testing.TB, name string) []*Activity {
	tb.Helper()
	key := testKey(name)
	did := testDID(name)
	other := testDID("other")
	objs := []struct {
		typ    Type
		obj    Object
		target string
	}{
		{TypeCreate, Object{Resource: sampleResource(did)}, ""},
		{TypeCreate, Object{Note: &Note{Content: "Great resource, *thanks*! a < b", InReplyTo: fileCID, Published: t0}}, ""},
		{TypeCreate, Object{Collection: &Collection{Title: "Maths year 5", Description: "Fractions and more", Owner: did, Items: []string{fileCID}}}, ""},
		{TypeUpdate, Object{Actor: &Actor{ID: did, Type: Person, PreferredUsername: "ana", Name: "Ana Silva", Summary: "Maths teacher", Node: testNode, Published: t0, Icon: &Image{CID: thumbCID, MediaType: "image/jpeg"}}}, ""},
		{TypeFollow, Object{Ref: other}, ""},
		{TypeAccept, Object{Ref: fileCID}, ""},
		{TypeReject, Object{Ref: fileCID}, ""},
		{TypeUndo, Object{Ref: fileCID}, ""},
		{TypeLike, Object{Ref: fileCID}, ""},
		{TypeAnnounce, Object{Ref: fileCID}, ""},
		{TypeAdd, Object{Ref: fileCID}, fileCID},
		{TypeRemove, Object{Ref: fileCID}, fileCID},
		{TypeFlag, Object{Ref: other}, ""},
		{TypeBlock, Object{Ref: other}, ""},
		{TypeDelete, Object{Tombstone: &Tombstone{ID: fileCID, FormerType: "Document", Deleted: t0}}, ""},
		{TypeDelete, Object{Ref: fileCID}, ""},
		{TypeMove, Object{Ref: did}, testNode},
	}
	var out []*Activity
	prev := ""
	for i, o := range objs {
		a := &Activity{Context: DefaultContext(), Type: o.typ, Actor: did, Object: o.obj, Target: o.target,
			Seq: uint64(i + 1), Prev: prev, Published: t0.Add(time.Duration(i) * time.Minute),
			To: []string{PublicAudience}}
		if o.typ == TypeFlag {
			a.Summary = "spam"
		}
		if o.typ == TypeUpdate && o.obj.Actor == nil {
			tb.Fatal("bad fixture")
		}
		if err := Sign(a, key, t0.Add(time.Duration(i)*time.Minute)); err != nil {
			tb.Fatalf("sign %s: %v", o.typ, err)
		}
		c, err := CIDOf(a)
		if err != nil {
			tb.Fatal(err)
		}
		prev = c.String()
		out = append(out, a)
	}
	// A resource Update: version 2 of the first Create.
	first, _ := CIDOf(out[0])
	r := sampleResource(did)
	r.ID, r.Version, r.PreviousVersion = first.String(), 2, first.String()
	r.Title = "Fractions for beginners (2nd edition)"
	r.Updated = t0.Add(time.Hour)
	a := &Activity{Context: DefaultContext(), Type: TypeUpdate, Actor: did, Object: Object{Resource: r},
		Seq: uint64(len(out) + 1), Prev: prev, Published: t0.Add(time.Hour)}
	if err := Sign(a, key, t0.Add(time.Hour)); err != nil {
		tb.Fatalf("sign update: %v", err)
	}
	return append(out, a)
}

// mustEncode encodes a or fails the test.
func mustEncode(tb testing.TB, a *Activity) []byte {
	tb.Helper()
	b, err := Encode(a)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
