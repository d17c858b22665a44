package runtime

import "math"

// The scalar functions for every element type of generated code. Each
// <Name>Of is the generic form of the float32 function <Name> (scalar.go,
// scalar_math.go, scalar_schedule.go), which generated code calls for
// f32 tensors; the generic forms serve f64 and, for the ops that take
// integers (abs, relu, maximum, minimum and the gradients of those and of
// max, min and prod), i32 and i64. Most float32 functions are the
// generic form instantiated; Abs, Relu and ReluGrad keep their
// branch-free float32 bit arithmetic, and AbsOf, ReluOf and ReluGradOf
// compute the same values with comparisons (a test checks that they
// agree). PickGradTieOf and PickGradNoTieOf, the gradients of maximum
// and minimum under TensorFlow's tie rule, have no float32 namesake:
// generated code calls them for every dtype.

// Float is the floating-point element types of generated code.
type Float interface{ ~float32 | ~float64 }

// Number is the numeric element types of generated code.
type Number interface {
	~float32 | ~float64 | ~int32 | ~int64
}

// ExpOf returns e^x, computed in float64.
func ExpOf[F Float](x F) F { return F(math.Exp(float64(x))) }

// LogOf returns the natural logarithm of x, computed in float64.
func LogOf[F Float](x F) F { return F(math.Log(float64(x))) }

// SqrtOf returns the square root of x, computed in float64.
func SqrtOf[F Float](x F) F { return F(math.Sqrt(float64(x))) }

// RsqrtOf returns 1 / sqrt(x), computed in float64.
func RsqrtOf[F Float](x F) F { return F(1 / math.Sqrt(float64(x))) }

// TanhOf returns the hyperbolic tangent of x, computed in float64.
func TanhOf[F Float](x F) F { return F(math.Tanh(float64(x))) }

// FloorOf returns the largest integer value not above x.
func FloorOf[F Float](x F) F { return F(math.Floor(float64(x))) }

// CosOf returns the cosine of x (in radians), computed in float64.
func CosOf[F Float](x F) F { return F(math.Cos(float64(x))) }

// SinOf returns the sine of x (in radians), computed in float64.
func SinOf[F Float](x F) F { return F(math.Sin(float64(x))) }

// SigmoidOf returns 1 / (1 + e^-x), computed in float64 without
// overflow for large |x|.
func SigmoidOf[F Float](x F) F {
	v := float64(x)
	if v >= 0 {
		return F(1 / (1 + math.Exp(-v)))
	}
	e := math.Exp(v)
	return F(e / (1 + e))
}

// PowOf returns a^b, computed in float64 (with math.Pow's special
// cases: a negative a with a non-integer b gives NaN).
func PowOf[F Float](a, b F) F { return F(math.Pow(float64(a), float64(b))) }

// PowGradBOf returns g * log(a) where a > 0 and 0 elsewhere: the gradient
// of pow(a, b) with respect to b, given g = dy * a^b.
func PowGradBOf[F Float](g, a F) F {
	if a > 0 {
		return F(float64(g) * math.Log(float64(a)))
	}
	return 0
}

// LeakyReluOf returns x where x > 0 and alpha * x elsewhere.
func LeakyReluOf[F Float](x, alpha F) F {
	if x > 0 {
		return x
	}
	return alpha * x
}

// LeakyReluGradOf returns dy where x > 0 and alpha * dy elsewhere: the
// gradient of LeakyReluOf.
func LeakyReluGradOf[F Float](dy, x, alpha F) F {
	if x > 0 {
		return dy
	}
	return alpha * dy
}

// AbsOf returns |x|: 0 - x where x <= 0, so that AbsOf(-0) is +0 and a
// NaN stays NaN, as Abs does.
func AbsOf[T Number](x T) T {
	if x <= 0 {
		return 0 - x
	}
	return x
}

// AbsGradOf returns dy where x > 0, -dy where x < 0 and 0 elsewhere: the
// gradient of AbsOf.
func AbsGradOf[T Number](dy, x T) T {
	switch {
	case x > 0:
		return dy
	case x < 0:
		return -dy
	}
	return 0
}

// ReluOf returns x where x > 0 and 0 elsewhere (NaN included).
func ReluOf[T Number](x T) T {
	if x > 0 {
		return x
	}
	return 0
}

// ReluGradOf returns dy where x > 0 and 0 elsewhere: the gradient of
// ReluOf.
func ReluGradOf[T Number](dy, x T) T {
	if x > 0 {
		return dy
	}
	return 0
}

// MaximumOf returns the larger of a and b, or NaN if either is NaN.
func MaximumOf[T Number](a, b T) T {
	if a > b || a != a {
		return a
	}
	return b
}

// MinimumOf returns the smaller of a and b, or NaN if either is NaN.
func MinimumOf[T Number](a, b T) T {
	if a < b || a != a {
		return a
	}
	return b
}

// PickGradOf returns dy where a > b, dy / 2 where a == b and 0
// elsewhere: the share of the gradient of MaximumOf(a, b) that flows to a
// (and, with the operands swapped, of MinimumOf). Integer halves
// truncate toward zero.
func PickGradOf[T Number](dy, a, b T) T {
	switch {
	case a > b:
		return dy
	case a == b:
		return dy / 2
	}
	return 0
}

// PickGradTieOf returns dy where a >= b and 0 elsewhere: the gradient of
// MaximumOf(a, b) for a under TensorFlow's rule, which gives a tie to the
// first operand (and, with the operands swapped, of MinimumOf).
func PickGradTieOf[T Number](dy, a, b T) T {
	if a >= b {
		return dy
	}
	return 0
}

// PickGradNoTieOf returns dy where a > b and 0 elsewhere: the gradient of
// MaximumOf(b, a) for a under TensorFlow's rule, where the first operand
// b takes the ties.
func PickGradNoTieOf[T Number](dy, a, b T) T {
	if a > b {
		return dy
	}
	return 0
}

// EqualMaskOf returns 1 where a == b and 0 elsewhere.
func EqualMaskOf[T Number](a, b T) T {
	if a == b {
		return 1
	}
	return 0
}

// ZeroMaskOf returns 1 where x == 0 and 0 elsewhere.
func ZeroMaskOf[T Number](x T) T {
	if x == 0 {
		return 1
	}
	return 0
}

// ProdGradOf returns the gradient of a product with respect to its factor
// x: the product of the other factors times dy. p is the product of the
// group's nonzero factors and z the number of its zero factors, so no
// zero is ever divided by: with no zero it is dy * p / x, with one zero
// it is dy * p at that zero and 0 elsewhere, with more it is 0.
func ProdGradOf[T Number](x, p, z, dy T) T {
	switch {
	case z == 0:
		return dy * (p / x)
	case z == 1 && x == 0:
		return dy * p
	}
	return 0
}
