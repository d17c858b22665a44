package runtime

import "math"

// More scalar functions for generated element-wise loops: abs, rsqrt,
// tanh, leaky_relu, pow, maximum, minimum, and the gradient helpers of
// those ops and of the max, min and prod reductions.

// Abs returns |x|, clearing the sign bit (so Abs(-0) is +0 and NaN stays
// NaN).
func Abs(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// AbsGrad returns dy where x > 0, -dy where x < 0 and 0 elsewhere: the
// gradient of Abs.
func AbsGrad(dy, x float32) float32 { return AbsGradOf(dy, x) }

// Rsqrt returns 1 / sqrt(x) in float32, computed in float64.
func Rsqrt(x float32) float32 { return RsqrtOf(x) }

// Tanh returns the hyperbolic tangent of x in float32, computed in
// float32 (fastmath.go): NaN for NaN, ±1 for large |x|, -0 for -0,
// within 2 ulp of the correctly rounded value.
func Tanh(x float32) float32 { return tanhFast(x) }

// LeakyRelu returns x where x > 0 and alpha * x elsewhere.
func LeakyRelu(x, alpha float32) float32 { return LeakyReluOf(x, alpha) }

// LeakyReluGrad returns dy where x > 0 and alpha * dy elsewhere: the
// gradient of LeakyRelu.
func LeakyReluGrad(dy, x, alpha float32) float32 { return LeakyReluGradOf(dy, x, alpha) }

// Pow returns a^b in float32, computed in float64 (with math.Pow's
// special cases: a negative a with a non-integer b gives NaN).
func Pow(a, b float32) float32 { return PowOf(a, b) }

// PowGradB returns g * log(a) where a > 0 and 0 elsewhere: the gradient
// of pow(a, b) with respect to b, given g = dy * a^b.
func PowGradB(g, a float32) float32 { return PowGradBOf(g, a) }

// Maximum returns the larger of a and b, or NaN if either is NaN.
func Maximum(a, b float32) float32 { return MaximumOf(a, b) }

// Minimum returns the smaller of a and b, or NaN if either is NaN.
func Minimum(a, b float32) float32 { return MinimumOf(a, b) }

// PickGrad returns dy where a > b, dy / 2 where a == b and 0 elsewhere:
// the share of the gradient of Maximum(a, b) that flows to a (and, with
// the operands swapped, of Minimum).
func PickGrad(dy, a, b float32) float32 { return PickGradOf(dy, a, b) }

// EqualMask returns 1 where a == b and 0 elsewhere.
func EqualMask(a, b float32) float32 { return EqualMaskOf(a, b) }

// ZeroMask returns 1 where x == 0 and 0 elsewhere.
func ZeroMask(x float32) float32 { return ZeroMaskOf(x) }

// ProdGrad returns the gradient of a product with respect to its factor
// x: the product of the other factors times dy. p is the product of the
// group's nonzero factors and z the number of its zero factors, so no
// zero is ever divided by: with no zero it is dy * p / x, with one zero
// it is dy * p at that zero and 0 elsewhere, with more it is 0.
func ProdGrad(x, p, z, dy float32) float32 { return ProdGradOf(x, p, z, dy) }
