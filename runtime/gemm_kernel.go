package runtime

// Micro-tile shape of the GEMM: the micro-kernel computes an mr×nr block of
// C from an mr-row sliver of packed A and an nr-column sliver of packed B.
//
// 2×4 is the largest tile whose accumulators, A values and B values all fit
// in the 15 scalar registers the Go compiler allocates on amd64; a 4×4 tile
// spills and measured about half as fast.
const (
	mr = 2
	nr = 4
)

// microKernel computes tile = Ap*Bp for one mr×kc sliver of packed A
// (column p at a[p*mr:(p+1)*mr]) and one kc×nr sliver of packed B (row p at
// b[p*nr:(p+1)*nr]), writing the mr×nr result row-major into tile. It
// overwrites tile rather than accumulating into it.
//
// It is a variable so that an architecture-specific kernel (assembly or
// SIMD) can replace the portable one at init time; a replacement must keep
// the mr×nr shape and the packed layouts above, or change mr and nr with it.
var microKernel func(kc int, a, b []float32, tile *[mr * nr]float32) = kernelGeneric

// kernelGeneric is the portable micro-kernel: a 2×4 register-blocked loop,
// unrolled twice over k, whose slice re-slicing lets the compiler drop all
// bounds checks.
func kernelGeneric(kc int, a, b []float32, tile *[mr * nr]float32) {
	var (
		c00, c01, c02, c03 float32
		c10, c11, c12, c13 float32
	)
	a = a[:kc*mr]
	b = b[:kc*nr]
	for len(a) >= 2*mr && len(b) >= 2*nr {
		a0, a1 := a[0], a[1]
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a0, a1 = a[2], a[3]
		b0, b1, b2, b3 = b[4], b[5], b[6], b[7]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a = a[2*mr:]
		b = b[2*nr:]
	}
	if len(a) >= mr && len(b) >= nr {
		a0, a1 := a[0], a[1]
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
	}
	*tile = [mr * nr]float32{
		c00, c01, c02, c03,
		c10, c11, c12, c13,
	}
}
