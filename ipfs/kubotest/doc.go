// Package kubotest starts a real Kubo daemon on loopback for interop tests:
// Kubo v0.43.0 as docs/bench/kubo.sh builds it, configured as
// docs/bench/vs-kubo.sh configures it (test profile, no bootstrap peers, no
// mDNS, no telemetry, random loopback ports).
package kubotest
