package compiler

import "math/rand/v2"

// InitStream is the second PCG seed word of initializer random streams.
const InitStream = 0x9E3779B97F4A7C15

func newInitRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, InitStream))
}
