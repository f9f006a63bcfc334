// Package simnet runs many real Lyceum nodes (node.New, unchanged) in one
// process over simulated links and measures what users would feel:
// delivery latency, delivery ratio, duplicates, bytes on the wire, CPU
// and memory per node.
//
// It owns the topology, the link model, the scenarios and the tracers,
// never protocol logic. The link model (link.go) is a libp2p transport
// whose connections are in-memory byte pipes with a per-link latency, a
// per-node uplink bandwidth and loss modelled as a retransmission delay;
// unlike go-libp2p's mocknet it is pipelined: a burst of writes arrives
// one latency later, not one latency per write. Security is libp2p's
// plaintext handshake and muxing is yamux, so streams behave as over TCP
// (flow-control windows included) without spending CPU on encryption.
//
// Scenarios (scenario.go) are TOML files; the same seed gives the same
// topology and schedule. cmd/lyceum-sim is the command line.
package simnet
