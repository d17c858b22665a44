package runtime

import (
	"fmt"
	"math/rand/v2"
)

// rngStream is the second PCG seed word NewRNG uses: the 64-bit golden-ratio
// constant, so that a seed of 0 still gives a well-mixed stream.
const rngStream = 0x9E3779B97F4A7C15

// RNG is a seeded pseudo-random number generator whose output depends only
// on its seed, so runs are reproducible on every platform. It is
// math/rand/v2's Rand over a PCG source constructed as
// rand.NewPCG(seed, 0x9E3779B97F4A7C15); all values derive from that
// source's 64-bit outputs through integer arithmetic, except NormFloat64
// (see there).
//
// An RNG is not safe for concurrent use by multiple goroutines.
type RNG struct {
	src *rand.PCG
	r   *rand.Rand
}

// NewRNG returns a generator seeded with seed; equal seeds give equal
// streams.
func NewRNG(seed uint64) *RNG {
	src := rand.NewPCG(seed, rngStream)
	return &RNG{src: src, r: rand.New(src)}
}

// Uint64 returns a uniformly distributed 64-bit value.
func (g *RNG) Uint64() uint64 { return g.src.Uint64() }

// Float64 returns a uniformly distributed value in [0, 1).
func (g *RNG) Float64() float64 { return g.r.Float64() }

// NormFloat64 returns a standard normally distributed value (mean 0,
// standard deviation 1), using math/rand/v2's ziggurat method. Its rare
// tail and wedge steps call math.Exp and math.Log, whose last bit may in
// principle differ between architectures.
func (g *RNG) NormFloat64() float64 { return g.r.NormFloat64() }

// IntN returns a uniformly distributed value in [0, n). It panics if
// n <= 0, like math/rand/v2.
func (g *RNG) IntN(n int) int { return g.r.IntN(n) }

// Shuffle pseudo-randomizes the order of n elements with the Fisher-Yates
// algorithm, calling swap to exchange the elements at i and j. It panics if
// n < 0, like math/rand/v2.
func (g *RNG) Shuffle(n int, swap func(i, j int)) { g.r.Shuffle(n, swap) }

// State returns the generator's complete state, for checkpoints; SetState
// restores it.
func (g *RNG) State() ([]byte, error) {
	b, err := g.src.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("runtime: saving RNG state: %w", err)
	}
	return b, nil
}

// SetState restores a state returned by State, after which the generator
// continues exactly where the saved one would have. On error the generator
// is unchanged.
func (g *RNG) SetState(state []byte) error {
	var p rand.PCG
	if err := p.UnmarshalBinary(state); err != nil {
		return fmt.Errorf("runtime: restoring RNG state from %d bytes: %w", len(state), err)
	}
	*g.src = p
	return nil
}
