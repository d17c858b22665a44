package runtime

import "math/rand/v2"

// Param initializers. Generated New functions call these; the values they
// produce are defined by the compiler (compiler.InitialValues) and must
// match it exactly: draws come from math/rand/v2's PCG seeded with
// (seed, InitStream) in row-major order, normal via NormFloat64 and
// uniform via Float64, computed in float64 and rounded to float32.

// InitStream is the second PCG seed word of initializer streams.
const InitStream = 0x9E3779B97F4A7C15

// InitConstant sets every element of dst to v.
func InitConstant(dst []float32, v float64) {
	for i := range dst {
		dst[i] = float32(v)
	}
}

// InitNormal fills dst with draws from N(mean, stddev²).
func InitNormal(dst []float32, mean, stddev float64, seed uint64) {
	r := rand.New(rand.NewPCG(seed, InitStream))
	for i := range dst {
		dst[i] = float32(mean + stddev*r.NormFloat64())
	}
}

// InitUniform fills dst with draws from U[low, high).
func InitUniform(dst []float32, low, high float64, seed uint64) {
	r := rand.New(rand.NewPCG(seed, InitStream))
	for i := range dst {
		dst[i] = float32(low + (high-low)*r.Float64())
	}
}
