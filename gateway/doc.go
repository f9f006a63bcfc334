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
// whose message tells a caller without the node's API token only what is
// safe to show (api.PublicMessage).
//
// Who may make each call is the permission table (permissions.go): the
// node's API token ($LYCEUM_PATH/api.token, the operator's) makes every
// call; an account's personal API token (lyc_…, auth.go) makes the calls
// its role allows (api.Account.Can), and a call that acts as a local
// actor (publish, follow, like, collections) acts as the account's own
// person only. Bad tokens are refused with 401 and limited per client.
package gateway
