// Package gateway is every HTTP surface of a node: the JSON API that the
// CLI and scripts use (described by the OpenAPI 3.1 document openapi.json,
// served at /api/v1/openapi.json), the trustless IPFS gateway under
// /ipfs/ (boxo's), Prometheus metrics, the fediverse bridge's routes when
// one is mounted and, as later work adds them, the web UI. Client is the
// API's one HTTP client, which the CLI uses.
//
// The gateway reaches the node only through the small interfaces it
// declares (services.go: Adder, Catter, Pinner, Publisher, Searcher…), one
// job each, in the request and response types of node/api; New takes them
// in a Services struct, and node/daemon wires the node's rooms to them.
// JSON keys are snake_case and lists are [], never null; errors are
// {"error": {"kind", "message"}}, whose kind decides the status, and
// whose message tells a caller without the API token only what is safe
// to show (api.PublicMessage).
package gateway
