package npy

import (
	"fmt"
	"math"
)

// Array is one array read from a .npy file, its data in C (row-major)
// order whatever order the file stored it in.
type Array struct {
	// DType is the element type without its byte order: "f2", "f4", "f8",
	// "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8" or "b1".
	DType string
	// Shape is the array's shape; empty for a 0-d (scalar) array.
	Shape []int

	dt   dtype
	n    int64
	data []byte
}

// Len returns the number of elements: the product of Shape, 1 for a scalar.
func (a *Array) Len() int { return int(a.n) }

// Float32s returns the elements converted to float32, as NumPy's
// astype(np.float32) would: halves widen exactly, float64 and large
// integers round to nearest, bools become 0 or 1.
func (a *Array) Float32s() []float32 {
	out := make([]float32, a.n)
	if a.dt.kind == 'f' && a.dt.size == 4 {
		for i := range out {
			out[i] = math.Float32frombits(a.dt.order.Uint32(a.data[4*i:]))
		}
		return out
	}
	if a.dt.kind == 'f' && a.dt.size == 2 {
		for i := range out {
			out[i] = halfToFloat32(a.dt.order.Uint16(a.data[2*i:]))
		}
		return out
	}
	for i := range out {
		out[i] = float32(a.float64At(i))
	}
	return out
}

// Float64s returns the elements converted to float64; integers beyond
// 2^53 round to nearest.
func (a *Array) Float64s() []float64 {
	out := make([]float64, a.n)
	for i := range out {
		out[i] = a.float64At(i)
	}
	return out
}

// Int64s returns the elements as int64, for labels and indices. Integer and
// bool arrays convert exactly; a u8 element above math.MaxInt64 is an
// error. Float arrays convert only if every element is a whole number in
// range, so labels saved as floats still load but 0.5 does not become 0.
func (a *Array) Int64s() ([]int64, error) {
	out := make([]int64, a.n)
	for i := range out {
		v, err := a.int64At(i)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// Int32s is Int64s for int32, with every element also checked to fit in an
// int32.
func (a *Array) Int32s() ([]int32, error) {
	out := make([]int32, a.n)
	for i := range out {
		v, err := a.int64At(i)
		if err != nil {
			return nil, err
		}
		if v < math.MinInt32 || v > math.MaxInt32 {
			return nil, fmt.Errorf("npy: element %d of %s array is %d, out of int32 range", i, a.DType, v)
		}
		out[i] = int32(v)
	}
	return out, nil
}

// float64At returns element i as a float64.
func (a *Array) float64At(i int) float64 {
	switch a.dt.kind {
	case 'f':
		switch a.dt.size {
		case 2:
			return float64(halfToFloat32(a.dt.order.Uint16(a.data[2*i:])))
		case 4:
			return float64(math.Float32frombits(a.dt.order.Uint32(a.data[4*i:])))
		default:
			return math.Float64frombits(a.dt.order.Uint64(a.data[8*i:]))
		}
	case 'u':
		return float64(a.uint64At(i))
	default:
		return float64(a.signedAt(i))
	}
}

// int64At returns element i as an int64, or an error if it is not a whole
// number in int64 range.
func (a *Array) int64At(i int) (int64, error) {
	switch a.dt.kind {
	case 'f':
		f := a.float64At(i)
		// -2^63 is exact in float64; 2^63 is the first value out of range.
		if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
			return 0, fmt.Errorf("npy: element %d of %s array is %v, not a whole number in int64 range", i, a.DType, f)
		}
		return int64(f), nil
	case 'u':
		u := a.uint64At(i)
		if u > math.MaxInt64 {
			return 0, fmt.Errorf("npy: element %d of %s array is %d, out of int64 range", i, a.DType, u)
		}
		return int64(u), nil
	default:
		return a.signedAt(i), nil
	}
}

// uint64At returns element i of an unsigned array.
func (a *Array) uint64At(i int) uint64 {
	switch a.dt.size {
	case 1:
		return uint64(a.data[i])
	case 2:
		return uint64(a.dt.order.Uint16(a.data[2*i:]))
	case 4:
		return uint64(a.dt.order.Uint32(a.data[4*i:]))
	default:
		return a.dt.order.Uint64(a.data[8*i:])
	}
}

// signedAt returns element i of a signed or bool array.
func (a *Array) signedAt(i int) int64 {
	switch a.dt.size {
	case 1:
		if a.dt.kind == 'b' {
			if a.data[i] != 0 {
				return 1
			}
			return 0
		}
		return int64(int8(a.data[i]))
	case 2:
		return int64(int16(a.dt.order.Uint16(a.data[2*i:])))
	case 4:
		return int64(int32(a.dt.order.Uint32(a.data[4*i:])))
	default:
		return int64(a.dt.order.Uint64(a.data[8*i:]))
	}
}
