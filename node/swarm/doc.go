// Package swarm is the node's view of its connections: its identity and
// addresses, dialling a peer by multiaddr, the peers connected, and the
// peers recently seen. The libp2p host is package p2p's; the swarm room
// owns one piece of state, the peer book (peers.json in the repo), so
// that a restarted node dials the peers it knew again.
package swarm
