package runtime

import (
	"math"
	"os"
)

// Fast float32 exp, sigmoid and tanh: Exp, Sigmoid and Tanh (scalar.go,
// scalar_math.go) and their slice forms ExpSlice, SigmoidSlice and
// TanhSlice, which run vector kernels where the CPU has them
// (fastmath_amd64.s) and give bit for bit the results of the scalar
// functions.
//
// All three rest on expCore, a Cephes-style expf: x is clamped to
// [expMin, expMax] (NaN passes), n = round(x·log2 e) by the 1.5·2^23
// trick, r = x − n·ln2 in two steps (Cody and Waite: n·ln2Hi is exact),
// e^r ≈ 1 + r + r²·P(r) with Cephes' degree-5 minimax polynomial P, and
// the result is scaled by 2^n in two exact-then-rounded multiplications
// by 2^(n>>1) and 2^(n−n>>1), so that results from 2^128 (overflow to
// +Inf) down to the subnormals (and the underflow to 0 below 2^-150) are
// rounded once. Every product is rounded before it is added (the explicit
// float32 conversions forbid the compiler to fuse them into FMAs, which
// it does at GOAMD64=v3 and on arm64): the vector kernels use separate
// multiplies and adds in the same order, so scalar and vector results
// agree on every machine.
//
// Sigmoid(x) = num / (1 + e) with e = expCore(−|x|) and num = 1 for
// x >= +0 and e for negative x (−0 included), so e never overflows and
// sigmoid of a very negative x keeps its tiny (subnormal) value. Tanh(x)
// is Cephes' tanhf: x + x·s·Q(s) with s = x² and a degree-4 polynomial Q
// for |x| < 0.625, otherwise ±(1 − e)/(1 + e) with e = expCore(−2|x|).
//
// Measured error against math's float64 functions rounded to float32
// over all 2^32 float32 inputs (TestFastMathExhaustive): at most 1 ulp
// for Exp, 2 ulp for Sigmoid and 2 ulp for Tanh (see fastMathULPBound).

// fastMathULPBound is the tested bound, in float32 ulps, on the error
// of each fast function against math's float64 function rounded to
// float32.
var fastMathULPBound = map[string]int{"exp": 1, "sigmoid": 2, "tanh": 2}

const (
	// expMax clamps x above: e^89 overflows, as every x above
	// 88.72283172607422 does.
	expMax = 89.0
	// expMin clamps x below: e^-104 < 2^-150 rounds to 0, as every x below
	// -103.97207641601562 does.
	expMin = -104.0
	log2e  = 1.44269504088896341
	// expMagic is 1.5·2^23: adding it rounds a float32 of magnitude below
	// 2^22 to an integer, which its low mantissa bits then hold.
	expMagic     = 12582912.0
	expMagicBits = 0x4b400000
	ln2Hi        = 0.693359375 // 9 significant bits: n·ln2Hi is exact
	ln2Lo        = -2.12194440e-4
	expP0        = 1.9875691500e-4
	expP1        = 1.3981999507e-3
	expP2        = 8.3334519073e-3
	expP3        = 4.1665795894e-2
	expP4        = 1.6666665459e-1
	expP5        = 5.0000001201e-1

	// tanhSmall is the bound below which Tanh uses its polynomial.
	tanhSmall     = 0.625
	tanhSmallBits = 0x3f200000
	tanhQ0        = -5.70498872745e-3
	tanhQ1        = 2.06390887954e-2
	tanhQ2        = -5.37397155531e-2
	tanhQ3        = 1.33314422036e-1
	tanhQ4        = -3.33332819422e-1

	signBit = 1 << 31
	oneBits = 0x3f800000 // 1.0
)

// expCore returns e^x in float32 with the algorithm described above.
func expCore(x float32) float32 {
	if expMax < x {
		x = expMax
	}
	if expMin > x {
		x = expMin
	}
	f := float32(x*log2e) + expMagic
	n := int32(math.Float32bits(f) - expMagicBits)
	nf := f - expMagic
	r := x - float32(nf*ln2Hi)
	r -= float32(nf * ln2Lo)
	z := float32(r * r)
	p := float32(expP0*r) + expP1
	p = float32(p*r) + expP2
	p = float32(p*r) + expP3
	p = float32(p*r) + expP4
	p = float32(p*r) + expP5
	p = float32(float32(p*z)+r) + 1
	n1 := n >> 1
	n2 := n - n1
	p = float32(p * math.Float32frombits(uint32(n1+127)<<23))
	return float32(p * math.Float32frombits(uint32(n2+127)<<23))
}

// sigmoidFast returns 1 / (1 + e^-x) in float32 (see Sigmoid). It
// picks the numerator on the bits, without a branch: activations are
// positive or negative at random.
func sigmoidFast(x float32) float32 {
	b := math.Float32bits(x)
	e := expCore(math.Float32frombits(b | signBit))
	neg := uint32(int32(b) >> 31) // all ones where x's sign is set
	num := math.Float32frombits(oneBits&^neg | math.Float32bits(e)&neg)
	return num / (1 + e)
}

// tanhFast returns the hyperbolic tangent of x in float32 (see Tanh). It
// computes both the polynomial and (1 - e)/(1 + e) and picks one on the
// bits, without a branch (which |x| < 0.625 would mispredict on
// activations). Both give a value of x's sign or +0, and setting the
// sign bit of x in it makes Tanh(-0) = -0 (the polynomial gives +0
// there).
func tanhFast(x float32) float32 {
	b := math.Float32bits(x)
	ab := b &^ signBit
	ax := math.Float32frombits(ab)
	s := float32(x * x)
	q := float32(tanhQ0*s) + tanhQ1
	q = float32(q*s) + tanhQ2
	q = float32(q*s) + tanhQ3
	q = float32(q*s) + tanhQ4
	tp := float32(float32(q*s)*x) + x
	e := expCore(-2 * ax)
	te := float32(1-e) / (1 + e)
	// All ones where ax < 0.625: the bits of non-negative float32s order
	// as their values do, and a NaN's are above 0.625's.
	small := uint32(int32(ab-tanhSmallBits) >> 31)
	t := math.Float32bits(tp)&small | math.Float32bits(te)&^small
	return math.Float32frombits(t | b&signBit)
}

// ExpSlice sets dst[i] = Exp(src[i]) for i < len(src), bit for bit, with
// the widest vector kernel the CPU has. dst must be at least as long as
// src, and either be src or not overlap it.
func ExpSlice(dst, src []float32) { mathSlice(mathLevel, mathExp, dst[:len(src)], src) }

// SigmoidSlice sets dst[i] = Sigmoid(src[i]) for i < len(src), bit for
// bit, with the widest vector kernel the CPU has. dst must be at least as
// long as src, and either be src or not overlap it.
func SigmoidSlice(dst, src []float32) { mathSlice(mathLevel, mathSigmoid, dst[:len(src)], src) }

// TanhSlice sets dst[i] = Tanh(src[i]) for i < len(src), bit for bit,
// with the widest vector kernel the CPU has. dst must be at least as long
// as src, and either be src or not overlap it.
func TanhSlice(dst, src []float32) { mathSlice(mathLevel, mathTanh, dst[:len(src)], src) }

// The functions of the slice kernels.
const (
	mathExp = iota
	mathSigmoid
	mathTanh
)

// The kernel levels of the slice functions: the portable Go loop, and
// on amd64 the AVX2+FMA and AVX-512 (F, DQ) kernels.
const (
	mathGeneric = iota
	mathAVX2
	mathAVX512
)

// mathLevel is the kernel level the slice functions use, chosen once at
// init by selectMathLevel.
var mathLevel = selectMathLevel(mathLevelCPU, os.Getenv("FLOW_KERNELS"))

// selectMathLevel returns the kernel level given the best level of the
// CPU and the value of FLOW_KERNELS: "generic" forces the Go loop (as it
// does the portable GEMM), "avx2" caps the level at AVX2.
func selectMathLevel(cpu int, env string) int {
	switch env {
	case "generic":
		return mathGeneric
	case "avx2":
		return min(cpu, mathAVX2)
	}
	return cpu
}

// mathSliceGo applies function fn to src into dst (of the same length)
// one element at a time.
func mathSliceGo(fn int, dst, src []float32) {
	dst = dst[:len(src)]
	switch fn {
	case mathExp:
		for i, v := range src {
			dst[i] = expCore(v)
		}
	case mathSigmoid:
		for i, v := range src {
			dst[i] = sigmoidFast(v)
		}
	case mathTanh:
		for i, v := range src {
			dst[i] = tanhFast(v)
		}
	}
}
