package runtime

// cpuid executes the CPUID instruction for the given leaf and sub-leaf.
func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)

// xgetbv0 reads extended control register XCR0. Call it only when CPUID
// reports OSXSAVE.
func xgetbv0() (eax, edx uint32)

// hasAVX2FMA reports whether the CPU implements AVX2 and FMA3 and the
// operating system saves the YMM registers across context switches, so
// that the AVX2 kernels may run.
func hasAVX2FMA() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
	)
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	// XCR0 bits 1 and 2: the OS saves the SSE and AVX (upper YMM) state.
	if xcr0, _ := xgetbv0(); xcr0&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const avx2 = 1 << 5
	return ebx7&avx2 != 0
}

// hasAVX512F reports whether the AVX-512 kernels may run: the CPU has
// AVX2 and FMA (hasAVX2FMA; the AVX-512 implementation shares the AVX2
// few-rows and narrow kernels) and AVX-512 Foundation, and the operating
// system saves the opmask and all 32 ZMM registers across context
// switches (XCR0 bits 5, 6 and 7, besides the SSE and AVX state).
func hasAVX512F() bool {
	if !hasAVX2FMA() {
		return false
	}
	// XCR0: 1 SSE, 2 AVX, 5 opmask, 6 upper halves of ZMM0..15, 7 ZMM16..31.
	const zmmState = 1<<1 | 1<<2 | 1<<5 | 1<<6 | 1<<7
	if xcr0, _ := xgetbv0(); xcr0&zmmState != zmmState {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const avx512f = 1 << 16
	return ebx7&avx512f != 0
}
