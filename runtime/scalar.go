package runtime

import "math"

// Scalar functions that generated element-wise loops call per element.
// They are small enough for the Go compiler to inline.

// Exp returns e^x in float32, computed in float64.
func Exp(x float32) float32 { return float32(math.Exp(float64(x))) }

// Log returns the natural logarithm of x in float32, computed in float64.
func Log(x float32) float32 { return float32(math.Log(float64(x))) }

// Sqrt returns the square root of x in float32, computed in float64.
func Sqrt(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// Relu returns max(x, 0).
func Relu(x float32) float32 {
	if x > 0 {
		return x
	}
	return 0
}

// ReluGrad returns dy where x > 0 and 0 elsewhere: the gradient of Relu.
func ReluGrad(dy, x float32) float32 {
	if x > 0 {
		return dy
	}
	return 0
}

// Sigmoid returns 1 / (1 + e^-x), computed without overflow for large |x|.
func Sigmoid(x float32) float32 {
	v := float64(x)
	if v >= 0 {
		return float32(1 / (1 + math.Exp(-v)))
	}
	e := math.Exp(v)
	return float32(e / (1 + e))
}
