// Package content is the node's content room: the services over its IPFS
// store (package ipfs) that the surfaces call — add, cat, get, pin, gc,
// CAR import and export, repo statistics, whether the node holds a file
// and which peers announced it (the DHT) — with errors given the kinds
// the surfaces report. It owns no state of its own: the store is the
// ipfs package's.
package content
