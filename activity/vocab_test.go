package activity

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"testing"
)

func TestVocabularies(t *testing.T) {
	v := Vocab()
	if len(v.Types) != 21 {
		t.Errorf("%d resource types, want 21", len(v.Types))
	}
	if len(v.Licenses) != 9 {
		t.Errorf("%d licences, want 9", len(v.Licenses))
	}
	if l, ok := LookupLicense("CC-BY-4.0"); !ok || l.URL != "https://creativecommons.org/licenses/by/4.0/" {
		t.Errorf("CC-BY-4.0: %+v", l)
	}
	if s, ok := LookupSubject("0533"); !ok || s.Name != "Physics" || s.Parent != "053" {
		t.Errorf("0533: %+v", s)
	}
	if _, ok := LookupSubject("F0533"); ok {
		t.Error("F0533 must not be a canonical code")
	}
	if code, ok := NormalizeSubject("F0533"); !ok || code != "0533" {
		t.Errorf("F0533 -> %q", code)
	}
	for _, s := range v.Subjects {
		if s.Parent != "" {
			if _, ok := LookupSubject(s.Parent); !ok {
				t.Errorf("%s has unknown parent %s", s.Code, s.Parent)
			}
		}
	}
	if l, ok := LookupLevel("adult"); !ok || l.MoodleNet != "ADT" {
		t.Errorf("adult: %+v", l)
	}
	if _, ok := LookupType("unit-of-study"); !ok {
		t.Error("unit-of-study")
	}
	if !json.Valid(ContextDocument()) {
		t.Error("context document is not JSON")
	}
}

func TestDIDKey(t *testing.T) {
	key := testKey("ana")
	did := DIDKey(key.Public().(ed25519.PublicKey))
	if did[:16] != "did:key:z6Mk"+did[12:16] {
		t.Fatalf("did %s", did)
	}
	pub, err := PublicKeyFromDID(did)
	if err != nil || !pub.Equal(key.Public()) {
		t.Fatalf("round trip: %v", err)
	}
	for _, bad := range []string{"", "did:key:", did + "#x", "did:web:example.org", "did:key:" + did[9:], "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"} {
		if _, err := PublicKeyFromDID(bad); !errors.Is(err, ErrBadKey) {
			t.Errorf("%q: got %v", bad, err)
		}
	}
	k, err := GenerateKey()
	if err != nil || len(k) != ed25519.PrivateKeySize {
		t.Fatal(err)
	}
}
