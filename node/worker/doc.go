// Package worker is how the node's rooms run their goroutines: each in a
// Group that starts it and waits for it, stopped by the context it was
// given; and the work they do on what other nodes send run through
// Survive, which recovers a panic (logged with its stack, counted in
// lyceum_node_panics_total), so that one bad input cannot end the
// process.
package worker
