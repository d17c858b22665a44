//go:build !race

package runtime

// raceEnabled reports whether the race detector is on. It makes sync.Pool
// drop objects at random, so steady-state allocation counts are not zero.
const raceEnabled = false
