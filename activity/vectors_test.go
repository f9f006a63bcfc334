package activity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func readVector(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "eddsa-jcs-2022", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestSpecVectorsEddsaJcs2022 checks every intermediate value of the
// specification's eddsa-jcs-2022 example byte for byte.
func TestSpecVectorsEddsaJcs2022(t *testing.T) {
	var kp struct{ PublicKeyMultibase, PrivateKeyMultibase string }
	if err := json.Unmarshal(readVector(t, "keyPair.json"), &kp); err != nil {
		t.Fatal(err)
	}
	key, err := PrivateKeyFromMultibase(kp.PrivateKeyMultibase)
	if err != nil {
		t.Fatal(err)
	}
	if got := PublicKeyMultibase(key.Public().(ed25519.PublicKey)); got != kp.PublicKeyMultibase {
		t.Fatalf("public key %s, want %s", got, kp.PublicKeyMultibase)
	}
	did := "did:key:" + kp.PublicKeyMultibase

	canonDoc, err := Canonicalize(readVector(t, "unsecured.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(canonDoc, readVector(t, "canonDocJCS.txt")) {
		t.Fatalf("canonical document:\n%s", canonDoc)
	}
	docHash := sha256.Sum256(canonDoc)
	if got := hex.EncodeToString(docHash[:]); got != string(readVector(t, "docHashJCS.txt")) {
		t.Fatalf("document hash %s", got)
	}

	created := time.Date(2023, 2, 24, 23, 36, 38, 0, time.UTC)
	signed, err := SignDocument(readVector(t, "unsecured.json"), key, ProofOptions{
		VerificationMethod: VerificationMethod(did), Created: created,
	})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(signed, &m); err != nil {
		t.Fatal(err)
	}
	var proof map[string]json.RawMessage
	if err := json.Unmarshal(m["proof"], &proof); err != nil {
		t.Fatal(err)
	}
	var proofValue string
	_ = json.Unmarshal(proof["proofValue"], &proofValue)
	delete(proof, "proofValue")
	canonProof, err := canonicalizeMap(proof)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(canonProof, readVector(t, "proofCanonJCS.txt")) {
		t.Fatalf("canonical proof config:\n%s", canonProof)
	}
	proofHash := sha256.Sum256(canonProof)
	if got := hex.EncodeToString(proofHash[:]); got != string(readVector(t, "proofHashJCS.txt")) {
		t.Fatalf("proof hash %s", got)
	}
	if got := hex.EncodeToString(hashData(canonProof, canonDoc)); got != string(readVector(t, "combinedHashJCS.txt")) {
		t.Fatalf("combined hash %s", got)
	}
	sig, err := decodeProofValue(proofValue)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(sig); got != string(readVector(t, "sigHexJCS.txt")) {
		t.Fatalf("signature %s", got)
	}
	if proofValue != string(readVector(t, "sigBTC58JCS.txt")) {
		t.Fatalf("proofValue %s", proofValue)
	}

	// The published signed document verifies, and so does ours.
	for name, doc := range map[string][]byte{"published": readVector(t, "signedJCS.json"), "ours": signed} {
		got, err := VerifyDocument(doc)
		if err != nil || got != did {
			t.Fatalf("%s: VerifyDocument = %q, %v", name, got, err)
		}
	}
	tampered := bytes.Replace(readVector(t, "signedJCS.json"), []byte("The School of Examples"), []byte("The School of Exemples"), 1)
	if _, err := VerifyDocument(tampered); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered: %v", err)
	}
}

// TestTypedSigningMatchesGenericSigning checks that Sign over the typed
// model signs exactly what the generic, library-based path signs.
func TestTypedSigningMatchesGenericSigning(t *testing.T) {
	for _, a := range chain(t, "ana") {
		b := mustEncode(t, a)
		did, err := VerifyDocument(b)
		if err != nil || did != a.Actor {
			t.Fatalf("%s: VerifyDocument = %q, %v", a.Type, did, err)
		}
	}
}
