package runtime

import "math"

// Scalar functions that generated element-wise loops call per element.
// They are small enough for the Go compiler to inline.

// Exp returns e^x in float32, computed in float32 (fastmath.go): NaN
// for NaN, +Inf above 88.72283172607422, 0 below -103.97207641601562,
// subnormal results rounded once, within 1 ulp of the correctly rounded
// value. ExpOf[float64] stays exact.
func Exp(x float32) float32 { return expCore(x) }

// Log returns the natural logarithm of x in float32, computed in float64.
func Log(x float32) float32 { return LogOf(x) }

// Sqrt returns the square root of x in float32, computed in float64.
func Sqrt(x float32) float32 { return SqrtOf(x) }

// Relu returns max(x, 0).
// It is x where x > 0 and 0 elsewhere (NaN included), computed on the
// bits without a branch: activations are positive or negative at random,
// and a mispredicted branch per element costs more than the arithmetic.
func Relu(x float32) float32 {
	b := math.Float32bits(x)
	return math.Float32frombits(b &^ notPositive(b))
}

// ReluGrad returns dy where x > 0 and 0 elsewhere: the gradient of Relu.
// Like Relu it has no branch.
func ReluGrad(dy, x float32) float32 {
	b := math.Float32bits(x)
	zero := uint32(int32(b-1) >> 31) // all ones for +0
	return math.Float32frombits(math.Float32bits(dy) &^ (notPositive(b) | zero))
}

// notPositive returns all ones when the float32 with bits b has its sign
// set (negative or -0) or is NaN, and 0 otherwise (+0, positive, +Inf).
func notPositive(b uint32) uint32 {
	sign := uint32(int32(b) >> 31)
	nan := uint32(int32(0x7f800000-(b&0x7fffffff)) >> 31)
	return sign | nan
}

// Sigmoid returns 1 / (1 + e^-x) in float32, computed in float32 without
// overflow for large |x| (fastmath.go): NaN for NaN, exactly 0 or 1 only
// where the true value rounds to it (tiny and subnormal values for very
// negative x), within 2 ulp of the correctly rounded value.
func Sigmoid(x float32) float32 { return sigmoidFast(x) }
