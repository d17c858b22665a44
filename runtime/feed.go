package runtime

// Feed conversions between runtime.Model's float32 feeds and the element
// types of inputs and outputs of other dtypes. Each takes a buffer to
// reuse, grows it when it is too short and returns it resliced to the
// source's length, so repeated calls allocate nothing.

// FromFloat32 converts float32 feed values to T into dst. Integral values
// convert exactly (labels fed as 0, 1, 2, …); an integer type truncates
// fractions toward zero.
func FromFloat32[T int32 | int64 | float64](dst []T, src []float32) []T {
	if cap(dst) < len(src) {
		dst = make([]T, len(src))
	}
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = T(v)
	}
	return dst
}

// BoolFromFloat32 converts float32 feed values to bool into dst: true
// for every non-zero value.
func BoolFromFloat32(dst []bool, src []float32) []bool {
	if cap(dst) < len(src) {
		dst = make([]bool, len(src))
	}
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = v != 0
	}
	return dst
}

// ToFloat32 converts values of another element type to float32 into dst.
func ToFloat32[T int32 | int64 | float64](dst []float32, src []T) []float32 {
	if cap(dst) < len(src) {
		dst = make([]float32, len(src))
	}
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = float32(v)
	}
	return dst
}

// BoolToFloat32 converts booleans to float32 into dst: 1 for true, 0 for
// false.
func BoolToFloat32(dst []float32, src []bool) []float32 {
	if cap(dst) < len(src) {
		dst = make([]float32, len(src))
	}
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = 0
		if v {
			dst[i] = 1
		}
	}
	return dst
}
