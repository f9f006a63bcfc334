// Package pinning serves the IPFS Pinning Service API (the public v1
// spec, ipfs/pinning-services-api-spec) under a path prefix of the
// gateway, /api/pinning/v1 by default: GET and POST /pins, GET, POST and
// DELETE /pins/{requestid}. Clients (Kubo's `ipfs pin remote`, IPFS
// Cluster, Lyceum's own client in package pinning/client) authenticate
// with a pinning token (lyp_…, an account's API token of scope pinning,
// issued by the admin) as a bearer token; errors have the spec's Failure
// shape.
//
// The package parses and bounds what comes in (bodies, query strings)
// and leaves the requests to the Pins service it is given.
package pinning
