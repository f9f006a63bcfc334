// Package client speaks the IPFS Pinning Service API (v1) to a remote
// service: a Lyceum node's gateway/pinning, IPFS Cluster, or a commercial
// pinning service. It is what `lyceum pin remote` runs on.
package client
