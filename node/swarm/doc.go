// Package swarm is the node's view of its connections: its identity and
// addresses, dialling a peer by multiaddr, and the peers connected. It
// owns no state: the libp2p host is package p2p's.
package swarm
