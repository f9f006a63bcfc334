//go:build !race

package ipfs

// raceEnabled reports whether the race detector is on; big transfers are
// scaled down under it.
const raceEnabled = false
