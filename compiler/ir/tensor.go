package ir

import "fmt"

// Tensor is a value in the reference interpreter: a dtype, concrete
// sizes and the elements in row-major order as float64 (integers and
// booleans are stored exactly as float64 values; f32 values are rounded
// to float32 precision after every op).
type Tensor struct {
	DType DType
	Shape []int
	Data  []float64
	// Elems are a tuple's elements (the value of an op with several
	// results); nil for a tensor.
	Elems []*Tensor
}

// NewTuple returns the tuple of elems.
func NewTuple(elems ...*Tensor) *Tensor {
	if elems == nil {
		elems = []*Tensor{}
	}
	return &Tensor{Elems: elems}
}

// NewTensor returns a zero tensor of the given dtype and sizes.
func NewTensor(dt DType, shape []int) *Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &Tensor{DType: dt, Shape: append([]int{}, shape...), Data: make([]float64, n)}
}

// Size is the number of elements.
func (t *Tensor) Size() int { return len(t.Data) }

// Round converts every element to the precision of t's dtype, so the
// interpreter follows the arithmetic of generated code for f32.
func (t *Tensor) Round() *Tensor {
	switch t.DType {
	case F32:
		for i, v := range t.Data {
			t.Data[i] = float64(float32(v))
		}
	case I32, I64, I8:
		for i, v := range t.Data {
			t.Data[i] = float64(int64(v))
		}
	case Bool:
		for i, v := range t.Data {
			if v != 0 {
				t.Data[i] = 1
			}
		}
	}
	return t
}

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{DType: t.DType, Shape: append([]int{}, t.Shape...), Data: append([]float64{}, t.Data...)}
}

// String renders a short description such as "f32[2,3]".
func (t *Tensor) String() string {
	if t.Elems != nil {
		return fmt.Sprintf("tuple of %d", len(t.Elems))
	}
	return fmt.Sprintf("%s%v", t.DType, t.Shape)
}

// strides returns the row-major strides of sizes.
func strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// broadcastIndex maps a flat index in out to the flat index of an operand
// of shape in that broadcasts to out.
func broadcastIndex(flat int, out, outStrides, in, inStrides []int) int {
	idx := 0
	off := len(out) - len(in)
	for d := range out {
		c := (flat / outStrides[d]) % out[d]
		if d >= off && in[d-off] != 1 {
			idx += c * inStrides[d-off]
		}
	}
	return idx
}
