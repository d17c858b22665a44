package runtime

// DropoutMask fills dst with dropout's training mask for one step: each
// element i (row-major) is 1/(1-rate) when its uniform draw
// DropoutUniform(seed, step, i) is below 1-rate, and 0 otherwise. step is
// the training step counter as the model stores it (a float32 param).
// dst holds float32 or float64 elements, the dtype of the tensor dropped
// out.
func DropoutMask[F Float](dst []F, step float32, rate float64, seed uint64) {
	var s uint64 // a negative or NaN step, only ever set by hand, counts as 0
	if step >= 0 {
		s = uint64(step)
	}
	keep := 1 - rate
	scale := F(1 / keep)
	for i := range dst {
		if DropoutUniform(seed, s, uint64(i)) < keep {
			dst[i] = scale
		} else {
			dst[i] = 0
		}
	}
}

// DropoutUniform is the uniform draw in [0, 1) deciding whether dropout
// keeps element i at step step with seed seed: with splitmix64's
// finalizer splitmix and wrapping uint64 arithmetic,
//
//	k = splitmix(seed*0x9E3779B97F4A7C15 + step + 1)
//	u = (splitmix(k + i*0x9E3779B97F4A7C15) >> 11) * 2^-53
//
// The compiler's reference interpreter defines the same draw
// independently (compiler/ir.DropoutUniform).
func DropoutUniform(seed, step, i uint64) float64 {
	const golden = 0x9E3779B97F4A7C15
	k := splitmix(seed*golden + step + 1)
	return float64(splitmix(k+i*golden)>>11) / (1 << 53)
}

// splitmix is splitmix64's output function.
func splitmix(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xBF58476D1CE4E5B9
	z ^= z >> 27
	z *= 0x94D049BB133111EB
	z ^= z >> 31
	return z
}
