// Package daemon runs a whole Lyceum node as the `lyceum daemon` binary
// does, so that tests and the simulator can start one too: the node
// (package node) over an opened repo, the HTTP server (package gateway)
// with its JSON API, IPFS gateway and metrics, and — when
// gateway.public_url is set — the fediverse bridge (gateway/fediverse)
// with its durable delivery queue (gateway/delivery); and the IPFS
// Pinning Service (node/pinsvc, served by gateway/pinning) with its
// workers.
//
// New starts them in this order: the HTTP listener (so that a taken port
// fails before anything else starts), the node and the follower of its
// AutoNAT reachability, the pinning service's store, the delivery queue
// and the bridge, the HTTP server with the web app (gateway/web, over
// WebServices), the pinning workers; then it records the API's address
// in the repo for the CLI and, on a node with no admin yet, makes the
// one-time setup link of the first admin (Setup, logged; `lyceum daemon`
// prints it). Close stops them in reverse: the HTTP server stops taking
// requests and finishes those under way, the API address is forgotten,
// the bridge stops following the log, the queue's workers stop (what is
// queued stays in delivery.db), the pinning workers stop (pins under way
// go back to queued in pinning.db), the reachability follower stops, and
// the node closes its storage and releases the repo.
//
// This package is the wiring between the node's rooms and the gateway's
// small interfaces; it holds no logic of its own beyond the adapters that
// join parts no room joins: a resource's comments (the node's and the
// bridge's fediverse replies, their HTML reduced to text) and the
// operator's dashboard.
package daemon
