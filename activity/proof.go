package activity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multibase"
	voied "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// Data Integrity constants for eddsa-jcs-2022.
const (
	ProofType       = "DataIntegrityProof"
	Cryptosuite     = "eddsa-jcs-2022"
	AssertionMethod = "assertionMethod"
)

// hashData is step "Hashing" of eddsa-jcs-2022: SHA-256 of the canonical
// proof configuration followed by SHA-256 of the canonical document.
func hashData(canonProof, canonDoc []byte) []byte {
	out := make([]byte, 0, 64)
	h := sha256.Sum256(canonProof)
	out = append(out, h[:]...)
	h = sha256.Sum256(canonDoc)
	return append(out, h[:]...)
}

// Sign adds a Data Integrity proof (eddsa-jcs-2022) made with key to a,
// replacing any proof it had. a.Actor must be the did:key of key.
func Sign(a *Activity, key ed25519.PrivateKey, created time.Time) error {
	if len(key) != ed25519.PrivateKeySize {
		return fmt.Errorf("sign: %w: private key length %d", ErrBadKey, len(key))
	}
	did := DIDKey(key.Public().(ed25519.PublicKey))
	if a.Actor != did {
		return fmt.Errorf("sign: %w: key is %s, actor is %s", ErrBadKey, did, a.Actor)
	}
	if a.Context == nil {
		a.Context = DefaultContext()
	}
	proof := &Proof{
		Type:               ProofType,
		Cryptosuite:        Cryptosuite,
		Created:            created.UTC().Truncate(time.Second),
		VerificationMethod: VerificationMethod(did),
		ProofPurpose:       AssertionMethod,
		Context:            slices.Clone(a.Context),
		ProofValue:         "z", // placeholder so Validate passes; not hashed
	}
	a.Proof = nil
	if err := a.Validate(); err != nil {
		return fmt.Errorf("sign %s: %w", a.Type, err)
	}
	data, err := signingInput(a, proof)
	if err != nil {
		return fmt.Errorf("sign %s: %w", a.Type, err)
	}
	proof.ProofValue, _ = multibase.Encode(multibase.Base58BTC, ed25519.Sign(key, data))
	a.Proof = proof
	return nil
}

// signingInput is the hashData for a and proof, canonicalized with the
// typed JCS writer.
func signingInput(a *Activity, proof *Proof) ([]byte, error) {
	doc, err := activityTree(a, false)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 0, 2048)
	canonDoc, err := writeCanonical(buf, doc)
	if err != nil {
		return nil, err
	}
	canonProof, err := writeCanonical(nil, proofTree(proof, false))
	if err != nil {
		return nil, err
	}
	return hashData(canonProof, canonDoc), nil
}

// Verify checks a's proof: an eddsa-jcs-2022 DataIntegrityProof with
// proofPurpose assertionMethod, whose verificationMethod is the did:key of
// a.Actor, whose @context equals the activity's, and whose signature covers
// the canonical form of a without its proof. Errors match ErrUnsigned,
// ErrBadSignature or ErrInvalid.
func Verify(a *Activity) error { return (*Verifier)(nil).Verify(a) }

// Verify is the package's Verify with v's key cache.
func (v *Verifier) Verify(a *Activity) error {
	key, sig, err := v.checkProof(a)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	data, err := signingInput(a, a.Proof)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if !signedBy(key, data, sig) {
		return fmt.Errorf("verify %s seq %d: %w", a.Type, a.Seq, ErrBadSignature)
	}
	return nil
}

// checkProof checks everything about a's proof but the signature, and
// validates a; it returns the actor's key and the signature.
func (v *Verifier) checkProof(a *Activity) (*voied.ExpandedPublicKey, []byte, error) {
	key, sig, err := v.proofParts(a)
	if err != nil {
		return nil, nil, err
	}
	if err := a.Validate(); err != nil {
		return nil, nil, err
	}
	return key, sig, nil
}

// proofParts is checkProof for an activity already validated (by Decode).
func (v *Verifier) proofParts(a *Activity) (*voied.ExpandedPublicKey, []byte, error) {
	p := a.Proof
	if p == nil {
		return nil, nil, ErrUnsigned
	}
	if p.Type != ProofType || p.Cryptosuite != Cryptosuite || p.ProofPurpose != AssertionMethod {
		return nil, nil, fmt.Errorf("%w: want %s/%s/%s", ErrBadSignature, ProofType, Cryptosuite, AssertionMethod)
	}
	if p.VerificationMethod != VerificationMethod(a.Actor) {
		return nil, nil, fmt.Errorf("%w: verificationMethod %q is not the actor's key", ErrBadSignature, p.VerificationMethod)
	}
	ctx := a.Context
	if ctx == nil {
		ctx = DefaultContext()
	}
	if !slices.Equal(p.Context, ctx) {
		return nil, nil, fmt.Errorf("%w: proof @context differs from the activity's", ErrBadSignature)
	}
	key, err := v.actorKey(a.Actor)
	if err != nil {
		return nil, nil, err
	}
	sig, err := decodeProofValue(p.ProofValue)
	if err != nil {
		return nil, nil, err
	}
	return key, sig, nil
}

// VerifyBlock decodes an activity block received from outside, checks its
// proof as Verify does and that the bytes are its canonical form (Encode),
// and returns the activity and the block's CID. It does the work of Decode,
// Verify and Block with one validation and one canonical encoding: the
// signed document is the canonical form with its proof member cut out,
// since JCS sorts members and removing one leaves the rest as they were.
// Errors match those of Decode and Verify, and ErrMalformed for bytes that
// are not canonical.
func VerifyBlock(data []byte, opts ...DecodeOption) (*Activity, cid.Cid, error) {
	return (*Verifier)(nil).VerifyBlock(data, opts...)
}

// VerifyBlock is the package's VerifyBlock with v's key cache.
func (v *Verifier) VerifyBlock(data []byte, opts ...DecodeOption) (*Activity, cid.Cid, error) {
	a, err := Decode(data, opts...) // validates a
	if err != nil {
		return nil, cid.Undef, err
	}
	key, sig, err := v.proofParts(a)
	if err != nil {
		return nil, cid.Undef, fmt.Errorf("verify: %w", err)
	}
	tree, err := activityTree(a, true)
	if err != nil {
		return nil, cid.Undef, fmt.Errorf("verify: %w", err)
	}
	canonical, from, to, err := writeCanonicalCut(make([]byte, 0, len(data)), tree, "proof")
	if err != nil {
		return nil, cid.Undef, fmt.Errorf("verify: %w", err)
	}
	doc := make([]byte, 0, len(canonical)-(to-from))
	doc = append(append(doc, canonical[:from]...), canonical[to:]...)
	canonProof, err := writeCanonical(nil, proofTree(a.Proof, false))
	if err != nil {
		return nil, cid.Undef, fmt.Errorf("verify: %w", err)
	}
	if !signedBy(key, hashData(canonProof, doc), sig) {
		return nil, cid.Undef, fmt.Errorf("verify %s seq %d: %w", a.Type, a.Seq, ErrBadSignature)
	}
	if !bytes.Equal(canonical, data) {
		return nil, cid.Undef, fmt.Errorf("%w: the bytes are not in canonical form", ErrMalformed)
	}
	c, err := BlockCID(data)
	return a, c, err
}

func decodeProofValue(s string) ([]byte, error) {
	if !strings.HasPrefix(s, "z") {
		return nil, fmt.Errorf("%w: proofValue is not base58btc multibase", ErrBadSignature)
	}
	_, sig, err := multibase.Decode(s)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: proofValue is not a 64-byte signature", ErrBadSignature)
	}
	if enc, _ := multibase.Encode(multibase.Base58BTC, sig); enc != s {
		return nil, fmt.Errorf("%w: proofValue is not canonical base58btc", ErrBadSignature)
	}
	return sig, nil
}

// ProofOptions are the inputs of SignDocument besides the document.
type ProofOptions struct {
	VerificationMethod string    // e.g. "did:key:z6Mk…#z6Mk…"
	Created            time.Time // written as RFC 3339 UTC
	ProofPurpose       string    // default "assertionMethod"
}

// SignDocument signs an arbitrary JSON object with eddsa-jcs-2022 and
// returns it with a "proof" member added (the document's own formatting is
// not kept: the result is canonical). It follows the specification's Create
// Proof algorithm step by step, using the jcs library for canonicalization,
// so the specification's test vectors can be checked against it.
func SignDocument(doc []byte, key ed25519.PrivateKey, opts ProofOptions) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, fmt.Errorf("sign document: %w: %v", ErrMalformed, err)
	}
	if _, ok := m["proof"]; ok {
		return nil, fmt.Errorf("sign document: already has a proof")
	}
	if opts.ProofPurpose == "" {
		opts.ProofPurpose = AssertionMethod
	}
	proof := map[string]json.RawMessage{
		"type":               jsonString(ProofType),
		"cryptosuite":        jsonString(Cryptosuite),
		"created":            jsonString(formatTime(opts.Created.Truncate(time.Second))),
		"verificationMethod": jsonString(opts.VerificationMethod),
		"proofPurpose":       jsonString(opts.ProofPurpose),
	}
	if ctx, ok := m["@context"]; ok {
		proof["@context"] = ctx
	}
	canonDoc, err := Canonicalize(doc)
	if err != nil {
		return nil, fmt.Errorf("sign document: %w", err)
	}
	canonProof, err := canonicalizeMap(proof)
	if err != nil {
		return nil, fmt.Errorf("sign document: proof config: %w", err)
	}
	sig := ed25519.Sign(key, hashData(canonProof, canonDoc))
	pv, _ := multibase.Encode(multibase.Base58BTC, sig)
	proof["proofValue"] = jsonString(pv)
	pb, err := json.Marshal(proof)
	if err != nil {
		return nil, fmt.Errorf("sign document: %w", err)
	}
	m["proof"] = pb
	return canonicalizeMap(m)
}

// VerifyDocument verifies the eddsa-jcs-2022 proof of an arbitrary JSON
// object. The verificationMethod must be a did:key URL; its key checks the
// signature. It returns the did:key that signed.
func VerifyDocument(doc []byte) (string, error) {
	var m map[string]json.RawMessage
	if _, err := Canonicalize(doc); err != nil { // rejects duplicate keys
		return "", fmt.Errorf("verify document: %w", err)
	}
	if err := json.Unmarshal(doc, &m); err != nil {
		return "", fmt.Errorf("verify document: %w: %v", ErrMalformed, err)
	}
	rawProof, ok := m["proof"]
	if !ok {
		return "", fmt.Errorf("verify document: %w", ErrUnsigned)
	}
	delete(m, "proof")
	var opts map[string]json.RawMessage
	if err := json.Unmarshal(rawProof, &opts); err != nil {
		return "", fmt.Errorf("verify document: proof: %w: %v", ErrMalformed, err)
	}
	var pv, typ, suite, vm, created string
	for k, dst := range map[string]*string{"proofValue": &pv, "type": &typ, "cryptosuite": &suite, "verificationMethod": &vm, "created": &created} {
		if raw, ok := opts[k]; ok {
			if err := json.Unmarshal(raw, dst); err != nil {
				return "", fmt.Errorf("verify document: proof.%s: %w: %v", k, ErrMalformed, err)
			}
		}
	}
	delete(opts, "proofValue")
	if typ != ProofType || suite != Cryptosuite {
		return "", fmt.Errorf("verify document: %w: not a %s proof", ErrBadSignature, Cryptosuite)
	}
	if created != "" {
		if _, err := time.Parse(time.RFC3339Nano, created); err != nil {
			return "", fmt.Errorf("verify document: proof.created: %w", ErrBadSignature)
		}
	}
	// The spec: the document's @context must start with the proof's, and
	// the unsecured document takes the proof's @context.
	if pctx, ok := opts["@context"]; ok {
		var dctx, pc []any
		_ = json.Unmarshal(m["@context"], &dctx)
		if err := json.Unmarshal(pctx, &pc); err != nil || len(pc) > len(dctx) {
			return "", fmt.Errorf("verify document: %w: proof @context does not match", ErrBadSignature)
		}
		for i := range pc {
			a, _ := json.Marshal(pc[i])
			b, _ := json.Marshal(dctx[i])
			if string(a) != string(b) {
				return "", fmt.Errorf("verify document: %w: proof @context does not match", ErrBadSignature)
			}
		}
		m["@context"] = pctx
	}
	did, _, _ := strings.Cut(vm, "#")
	key, err := (*Verifier)(nil).actorKey(did)
	if err != nil {
		return "", fmt.Errorf("verify document: verificationMethod: %w", err)
	}
	sig, err := decodeProofValue(pv)
	if err != nil {
		return "", fmt.Errorf("verify document: %w", err)
	}
	canonDoc, err := canonicalizeMap(m)
	if err != nil {
		return "", fmt.Errorf("verify document: %w", err)
	}
	canonProof, err := canonicalizeMap(opts)
	if err != nil {
		return "", fmt.Errorf("verify document: %w", err)
	}
	if !signedBy(key, hashData(canonProof, canonDoc), sig) {
		return "", fmt.Errorf("verify document: %w", ErrBadSignature)
	}
	return did, nil
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// canonicalizeMap marshals m and canonicalizes it with the jcs library.
func canonicalizeMap(m map[string]json.RawMessage) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return Canonicalize(b)
}
