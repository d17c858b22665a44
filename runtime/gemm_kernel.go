package runtime

// Tile shape of the portable micro-kernel: it computes an mr×nr block of C
// from an mr-row sliver of packed A and an nr-column sliver of packed B.
//
// 2×4 is the largest tile whose accumulators, A values and B values all fit
// in the 15 scalar registers the Go compiler allocates on amd64; a 4×4 tile
// spills and measured about half as fast.
const (
	mr = 2
	nr = 4
)

// gemmGeneric is the portable implementation, used on every architecture
// without assembly kernels, on CPUs lacking the instructions they need, and
// when FLOW_KERNELS=generic. Products with few rows (and B not transposed)
// take sgemmRows; it has no narrow, strided (direct) or few-rows kernel of
// its own.
var gemmGeneric = &gemmImpl{
	name: "generic",
	mr:   mr, nr: nr,
	kc: 256, mc: 128, nc: 1024,
	parallelMin: gemmParallelMin,
	kernel:      kernelGenericTile,
}

// kernelGenericTile is the gemmImpl.kernel of gemmGeneric: it computes the
// tile with kernelGeneric and merges it into C.
func kernelGenericTile(kc int, a, b, c []float32, ldc int, alpha, beta float32) {
	var tile [mr * nr]float32
	kernelGeneric(kc, a, b, &tile)
	storeTile(mr, nr, nr, alpha, tile[:], beta, c, ldc)
}

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
