package runtime

// Vector kernels of ExpSlice, SigmoidSlice and TanhSlice
// (fastmath_amd64.s): each sets dst[i] = f(src[i]) for i < n, n a
// multiple of 8 (AVX2 and FMA) or 16 (AVX-512 F and DQ), with the
// operations of the scalar function in the same order (separate
// multiplies and adds, no FMA), so that they agree with it bit for bit.

//go:noescape
func expAVX2(dst, src *float32, n int)

//go:noescape
func sigmoidAVX2(dst, src *float32, n int)

//go:noescape
func tanhAVX2(dst, src *float32, n int)

//go:noescape
func expAVX512(dst, src *float32, n int)

//go:noescape
func sigmoidAVX512(dst, src *float32, n int)

//go:noescape
func tanhAVX512(dst, src *float32, n int)

// mathLevelCPU is the best kernel level of the slice functions on this
// CPU.
var mathLevelCPU = func() int {
	switch {
	case !hasAVX2FMA():
		return mathGeneric
	case hasAVX512():
		return mathAVX512
	}
	return mathAVX2
}()

// hasAVX512 reports whether the CPU implements AVX-512 F and DQ and the
// operating system saves the opmask and ZMM registers. Call it only when
// hasAVX2FMA holds (CPUID leaf 7 exists and OSXSAVE is set).
func hasAVX512() bool {
	// XCR0 bits 5 to 7: opmask, upper halves of ZMM0-15, ZMM16-31; bits 1
	// and 2: SSE and AVX.
	if xcr0, _ := xgetbv0(); xcr0&0xe6 != 0xe6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const avx512f, avx512dq = 1 << 16, 1 << 17
	return ebx7&(avx512f|avx512dq) == avx512f|avx512dq
}

// mathSlice applies function fn to src into dst (of the same length)
// with the kernels of the given level, which the CPU must support: the
// vector kernel on the longest prefix of whole vectors, then on the
// tail padded to one vector in a buffer on the stack.
func mathSlice(level, fn int, dst, src []float32) {
	n := len(src)
	dst = dst[:n]
	width := 8
	switch level {
	case mathAVX512:
		width = 16
	case mathAVX2:
	default:
		mathSliceGo(fn, dst, src)
		return
	}
	m := n &^ (width - 1)
	if m > 0 {
		mathKernel(level, fn, &dst[0], &src[0], m)
	}
	if r := n - m; r > 0 {
		var buf [16]float32
		copy(buf[:], src[m:])
		mathKernel(level, fn, &buf[0], &buf[0], width)
		copy(dst[m:], buf[:r])
	}
}

// mathKernel calls the vector kernel of function fn at level (AVX2 or
// AVX-512) on n elements, a multiple of the level's width. It calls each
// kernel directly, so that its pointers do not escape.
func mathKernel(level, fn int, dst, src *float32, n int) {
	if level == mathAVX512 {
		switch fn {
		case mathExp:
			expAVX512(dst, src, n)
		case mathSigmoid:
			sigmoidAVX512(dst, src, n)
		case mathTanh:
			tanhAVX512(dst, src, n)
		}
		return
	}
	switch fn {
	case mathExp:
		expAVX2(dst, src, n)
	case mathSigmoid:
		sigmoidAVX2(dst, src, n)
	case mathTanh:
		tanhAVX2(dst, src, n)
	}
}
