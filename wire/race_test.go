//go:build race

package wire

// raceEnabled: the race detector makes sync.Pool drop some of what it is
// given, so allocation counts do not hold.
const raceEnabled = true
