// Package doctor looks a node over for what a new operator hits and says
// what to do about each problem: whether other nodes can reach it
// (AutoNAT), whether it has peers and its HQs answer, the disk space left
// in the repo's filesystem, the clock, and the repo's integrity (a random
// sample of blocks re-hashed against their CIDs; each local actor's log
// walked from its head, checking signatures, seqs and prev links).
//
// It owns no state and changes nothing.
package doctor
