// Package gateway is every HTTP surface of a node: the JSON API that the
// CLI and scripts use, the trustless IPFS gateway under /ipfs/ (boxo's),
// Prometheus metrics and, as later work adds them, the web UI and the
// ActivityPub endpoints. It reaches the node only through the small
// interfaces it declares (Content, Network).
package gateway
