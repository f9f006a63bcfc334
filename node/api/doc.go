// Package api holds the request and response types of the node's
// services and their error kinds: the vocabulary that every surface — the
// HTTP API and web app (gateway), the CLI (cmd), the simulator (simnet) —
// speaks with the node. It imports nothing of the node, so each surface
// can declare the small interfaces it needs in these types.
//
// Every type here is also the JSON the HTTP API sends and takes: keys in
// snake_case, lists that are empty rather than null, times in RFC 3339.
package api
