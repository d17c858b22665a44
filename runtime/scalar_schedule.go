package runtime

// Scalar functions of the element-wise ops learning-rate schedules are
// written with. Like the interpreter, they compute in float64 and round
// once to float32.

// Floor returns the largest integer value not above x.
func Floor(x float32) float32 { return FloorOf(x) }

// Cos returns the cosine of x (in radians).
func Cos(x float32) float32 { return CosOf(x) }

// Sin returns the sine of x (in radians).
func Sin(x float32) float32 { return SinOf(x) }
