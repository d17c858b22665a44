package runtime

// AVX-512 kernels (gemm512_amd64.s). They need AVX-512F; gemmAVX512 is nil
// on CPUs without it (or whose operating system does not save the ZMM
// registers), so they are never called there.

// sgemmKernel8x32 computes C = alpha*Ap*Bp + beta*C for one 8×32 tile:
// a points at an 8-row sliver of packed A (column p at a[8p:8p+8]), b at a
// 32-column sliver of packed B (row p at b[32p:32p+32]), both kc (> 0)
// steps long, and c at the tile's top-left element, with row stride ldc.
// C is not read when beta is zero.
//
//go:noescape
func sgemmKernel8x32(kc int, a, b, c *float32, ldc int, alpha, beta float32)

// sgemmKernel8x32S is sgemmKernel8x32 for operands read where they are:
// column p of the 8-row sliver of op(A) is a[p*lda:p*lda+8] and row p of
// the 32-column sliver of op(B) is b[p*ldb:p*ldb+32]. Packed slivers have
// lda = 8 and ldb = 32.
//
//go:noescape
func sgemmKernel8x32S(kc int, a, b, c *float32, lda, ldb, ldc int, alpha, beta float32)

// gemmAVX512 is the AVX-512 implementation, or nil when the CPU or the
// operating system does not support it.
var gemmAVX512 = newGemmAVX512()

// newGemmAVX512 returns the AVX-512 implementation if the CPU supports it
// (hasAVX512F).
//
// The 8×32 tile keeps its 16 accumulators, one row of B (two registers)
// and the eight broadcast values of A in 26 of the 32 ZMM registers: per
// k step two loads of B and eight broadcasts feed 16 FMAs (the 6×16 AVX2
// tile needs eight loads for 12 FMAs of half the width). Eight rows divide
// the batch sizes the models use (64, 128) and 32 columns their layer
// widths, so few edge tiles are computed into scratch. The blocking is the
// AVX2 one: with kc = 256 a sliver of B (32 KiB) fills Zen4's L1, yet on
// the shared 2-core Zen4 (EPYC, AVX-512 double-pumped on 256-bit units) it
// measured 2-4% faster than kc = 128 on 512² and 1024² and the same on
// the LSTM's products. The few-rows and narrow kernels (memory-bound dot
// products and row sweeps) are the AVX2 ones.
func newGemmAVX512() *gemmImpl {
	if !hasAVX512F() {
		return nil
	}
	g := *newGemmAVX2() // its few-rows and narrow kernels, thresholds, split
	g.name = "avx512"
	g.mr, g.nr = 8, 32
	g.kernel, g.kernelS = kernelAVX512, kernelSAVX512
	return &g
}

// kernelAVX512 is the gemmImpl.kernel of the AVX-512 implementation.
func kernelAVX512(kc int, a, b, c []float32, ldc int, alpha, beta float32) {
	// Bounds checks once per tile, so the assembly stays within the slices.
	_ = a[kc*8-1]
	_ = b[kc*32-1]
	_ = c[7*ldc+31]
	sgemmKernel8x32(kc, &a[0], &b[0], &c[0], ldc, alpha, beta)
}

// kernelSAVX512 is the gemmImpl.kernelS of the AVX-512 implementation.
func kernelSAVX512(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	// Bounds checks once per tile, so the assembly stays within the slices.
	_ = a[(kc-1)*lda+7]
	_ = b[(kc-1)*ldb+31]
	_ = c[7*ldc+31]
	sgemmKernel8x32S(kc, &a[0], &b[0], &c[0], lda, ldb, ldc, alpha, beta)
}
