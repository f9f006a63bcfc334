// Package nodetest runs real Lyceum nodes for tests and benchmarks: a
// repo of the test profile in a temporary folder, a node on loopback
// (nothing outside the machine is dialled), its people and communities,
// publications, and signed activities of remote actors as other nodes
// would send them. Tests of every room use it, so that they all start
// nodes the way the daemon does.
package nodetest
