package runtime

import "math"

// Scalar functions of the element-wise ops learning-rate schedules are
// written with. Like the interpreter, they compute in float64 and round
// once to float32.

// Floor returns the largest integer value not above x.
func Floor(x float32) float32 { return float32(math.Floor(float64(x))) }

// Cos returns the cosine of x (in radians).
func Cos(x float32) float32 { return float32(math.Cos(float64(x))) }

// Sin returns the sine of x (in radians).
func Sin(x float32) float32 { return float32(math.Sin(float64(x))) }
