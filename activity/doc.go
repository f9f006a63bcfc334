// Package activity is Lyceum's root domain package: the vocabulary every
// other package speaks.
//
// It holds the ActivityStreams 2.0 model with Lyceum's OER terms (Actor,
// Resource, Collection, Note, Tombstone, Activity), the versioned code
// tables they use (SPDX licences, ISCED-F 2013 subjects, ISCED 2011 levels,
// resource types, audiences; embedded JSON files under vocab/), the JSON-LD
// context document (context/lyceum-v1.jsonld), strict JSON decoding with
// size and depth limits, canonical bytes (RFC 8785 JCS), Ed25519 signatures
// as W3C Data Integrity proofs with the eddsa-jcs-2022 cryptosuite, and each
// actor's hash-linked log (seq, prev, IPLD blocks, backfill, fork detection).
//
// It imports no network, storage or HTTP code and nothing else of Lyceum's,
// and holds no package-level mutable state.
//
// # Identifiers and versions
//
// An actor's identity is its Ed25519 key as a did:key. An activity's
// identity is the CID of its block (CIDOf): the signed activity's JCS bytes,
// CIDv1, codec json (0x0200), sha2-256. A resource is immutable: its stable
// ID is the CID of the Create activity that published version 1. An Update
// publishes version n+1 of the resource as a complete new Resource that
// carries the stable ID in "id", its version number in "version" and, in
// "previousVersion", the CID of the activity that published version n, so
// the versions form a hash chain that any holder of the blocks can check.
// Collections are identified the same way (the CID of their Create).
//
// # Decoding policy
//
// Decode is strict about everything that could make two parties disagree
// about what was signed: duplicate keys, invalid UTF-8, lone surrogates,
// non-integer or unsafe integers, null, empty optional values, and
// non-canonical field values (timestamps must be RFC 3339 UTC as Encode
// writes them; language tags must be in canonical BCP 47 form; MoodleNet
// codes must be mapped with Resource.Normalize before signing). Unknown
// members of the activity and of its embedded object are kept, canonicalized,
// in Extra and written back by Encode, so a node can verify, store and
// relay activities that carry terms from a later version of this package
// (the signature covers them). Unknown members of the small nested
// structures (media, creators, thumbnail, origin, icon, proof) are errors.
// As a result, for every document Decode accepts, Encode returns exactly
// its RFC 8785 canonical form, which is what the signature covers.
package activity
