// Package node wires a Lyceum node together and runs it: the repo
// directory (config.toml, identity, lock), the content store and exchange
// (package ipfs), the libp2p host (package p2p), and the services that every
// surface — the HTTP API, the CLI, the simulator — calls. It is the only
// package besides cmd that knows every other one.
package node
