package activity

import _ "embed"

// contextDocument is Lyceum's JSON-LD context, served at LyceumContext.
//
//go:embed context/lyceum-v1.jsonld
var contextDocument []byte

// ContextDocument returns a copy of the JSON-LD context document that
// LyceumContext names, for the gateway to serve (application/ld+json).
func ContextDocument() []byte { return append([]byte(nil), contextDocument...) }
