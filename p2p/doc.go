// Package p2p owns Lyceum's libp2p host: identity, transports (TCP and
// QUIC), security (Noise and TLS), the yamux muxer, the resource and
// connection managers, NAT traversal (AutoNAT, hole punching, relay client
// and, on well-connected nodes, relay service), the dual Kademlia DHT run as
// Kubo runs it (WAN /ipfs/kad/1.0.0 and LAN /ipfs/lan/kad/1.0.0) and mDNS
// discovery on the local network.
//
// It holds no application logic: what travels over the host is decided by
// the packages that use it.
package p2p
