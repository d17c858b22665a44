package ir

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Hand-computed TensorFlow results for the ops' TensorFlow attributes.
// The expected values were worked out once from TensorFlow's documented
// semantics (and Python's slicing rules, which tf.strided_slice follows);
// nothing here runs TensorFlow.

// TestSoftmaxAxis: tf.nn.softmax(x, axis=0) and
// tf.nn.log_softmax(x, axis=0) of [[1 2 3] [4 6 5]] normalize each column.
func TestSoftmaxAxis(t *testing.T) {
	x := ten([]int{2, 3}, 1, 2, 3, 4, 6, 5)
	want := []float64{
		0.04742587317756678, 0.01798620996209156, 0.11920292202211756,
		0.9525741268224331, 0.9820137900379085, 0.8807970779778824,
	}
	require.InDeltaSlice(t, want, eval(t, "softmax", Attrs{"axis": 0}, x).Data, 1e-15)
	require.InDeltaSlice(t, want, eval(t, "softmax", Attrs{"axis": -2}, x).Data, 1e-15)
	wantLog := []float64{
		-3.048587351573742, -4.0181499279178094, -2.1269280110429722,
		-0.048587351573742055, -0.01814992791780945, -0.12692801104297224,
	}
	require.InDeltaSlice(t, wantLog, eval(t, "log_softmax", Attrs{"axis": 0}, x).Data, 1e-14)
	// The last axis keeps its canonical -1, whichever way it is written.
	g := NewModule("t", "t")
	in := g.MustApply(Input, nil, Attrs{"dtype": F64, "shape": Shp(2, 3)})
	for _, a := range []int{-1, 1} {
		n := g.MustApply(Softmax, []*Node{in}, Attrs{"axis": a})
		require.Equal(t, -1, n.Attrs.Int("axis", 0))
	}
	require.Equal(t, 0, g.MustApply(Softmax, []*Node{in}, Attrs{"axis": -2}).Attrs.Int("axis", -1))
}

// TestArgKeepDims: argmax and argmin with keep_dims keep the searched
// axis with size 1, as reductions do; the indices are those without it.
func TestArgKeepDims(t *testing.T) {
	x := ten([]int{2, 3}, 1, 5, 3, 7, 2, 7)
	r := eval(t, "argmax", Attrs{"axis": 1, "keep_dims": true}, x)
	require.Equal(t, []int{2, 1}, r.Shape)
	require.Equal(t, []float64{1, 0}, r.Data, "the first of tied maxima")
	r = eval(t, "argmin", Attrs{"axis": 0, "keep_dims": true}, x)
	require.Equal(t, []int{1, 3}, r.Shape)
	require.Equal(t, []float64{0, 1, 0}, r.Data)
	r = eval(t, "argmax", Attrs{"axis": -1}, x)
	require.Equal(t, []int{2}, r.Shape)
	require.Equal(t, I64, r.DType)
}

// TestOneHotTF: tf.one_hot with on_value, off_value and axis, on the
// examples of TensorFlow's documentation: indices [0, 2, -1, 1], depth 3,
// on 5, off -1; and [[0, 2], [1, -1]], depth 3, with the new axis in the
// middle (axis = 1), which is TensorFlow's axis = -1 result with its last
// two axes swapped.
func TestOneHotTF(t *testing.T) {
	idx := &Tensor{DType: I32, Shape: []int{4}, Data: []float64{0, 2, -1, 1}}
	r := eval(t, "one_hot", Attrs{"depth": 3, "on_value": 5.0, "off_value": -1.0}, idx)
	require.Equal(t, []int{4, 3}, r.Shape)
	require.Equal(t, []float64{5, -1, -1, -1, -1, 5, -1, -1, -1, -1, 5, -1}, r.Data)
	r = eval(t, "one_hot", Attrs{"depth": 3, "on_value": 5.0, "off_value": -1.0, "axis": 0}, idx)
	require.Equal(t, []int{3, 4}, r.Shape)
	require.Equal(t, []float64{5, -1, -1, -1, -1, -1, -1, 5, -1, 5, -1, -1}, r.Data)

	idx2 := &Tensor{DType: I64, Shape: []int{2, 2}, Data: []float64{0, 2, 1, -1}}
	r = eval(t, "one_hot", Attrs{"depth": 3, "axis": 1, "dtype": "i32"}, idx2)
	require.Equal(t, []int{2, 3, 2}, r.Shape)
	require.Equal(t, I32, r.DType)
	require.Equal(t, []float64{1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0}, r.Data)
	r = eval(t, "one_hot", Attrs{"depth": 3, "axis": 2}, idx2)
	require.Equal(t, []float64{1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0}, r.Data, "axis = rank is the last axis")

	g := NewModule("t", "t")
	in := g.MustApply(Input, nil, Attrs{"dtype": I32, "shape": Shp(4)})
	for _, c := range []struct {
		attrs Attrs
		err   string
	}{
		{Attrs{"depth": 3, "axis": -2}, "axis -2 is out of range; the new axis goes at -1 (last) or 0..1"},
		{Attrs{"depth": 3, "axis": 2}, "axis 2 is out of range"},
		{Attrs{"depth": 3, "on_value": 0.5, "dtype": "i32"}, "one_hot: on_value 0.5 is not an integer, but the dtype is i32"},
		{Attrs{"depth": 3, "off_value": 2.0, "dtype": "bool"}, "one_hot: off_value 2 is not 0 or 1"},
	} {
		_, err := g.Apply(OneHot, []*Node{in}, c.attrs)
		require.ErrorContains(t, err, c.err)
	}
}

// counting is a tensor of shape holding 0, 1, 2, … in row-major order.
func counting(shape ...int) *Tensor {
	t := NewTensor(F64, shape)
	for i := range t.Data {
		t.Data[i] = float64(i)
	}
	return t
}

// TestStridedSliceTF checks tf.strided_slice on x = range(size) reshaped,
// against the Python expressions each spec stands for (TensorFlow's
// tf.strided_slice is Python's slicing; the values were computed once
// with Python lists).
func TestStridedSliceTF(t *testing.T) {
	for _, c := range []struct {
		expr  string
		x     *Tensor
		attrs Attrs
		shape []int
		want  []float64
	}{
		{"x[4:0:-1]", counting(5), Attrs{"begin": []int{4}, "end": []int{0}, "strides": []int{-1}}, []int{4}, []float64{4, 3, 2, 1}},
		{"x[::-2]", counting(5), Attrs{"begin": []int{0}, "end": []int{0}, "strides": []int{-2}, "begin_mask": 1, "end_mask": 1}, []int{3}, []float64{4, 2, 0}},
		{"x[-2::-2]", counting(5), Attrs{"begin": []int{-2}, "end": []int{0}, "strides": []int{-2}, "end_mask": 1}, []int{2}, []float64{3, 1}},
		{"x[-100:100]", counting(5), Attrs{"begin": []int{-100}, "end": []int{100}}, []int{5}, []float64{0, 1, 2, 3, 4}},
		{"x[-10:10:2]", counting(6), Attrs{"begin": []int{-10}, "end": []int{10}, "strides": []int{2}}, []int{3}, []float64{0, 2, 4}},
		{"x[10:-10:-3]", counting(6), Attrs{"begin": []int{10}, "end": []int{-10}, "strides": []int{-3}}, []int{2}, []float64{5, 2}},
		{"x[-1:0:-2, 1:-1:2]", counting(4, 5), Attrs{"begin": []int{-1, 1}, "end": []int{0, -1}, "strides": []int{-2, 2}}, []int{2, 2}, []float64{16, 18, 6, 8}},
		{"x[..., 1:3]", counting(3, 4, 5), Attrs{"begin": []int{0, 1}, "end": []int{0, 3}, "ellipsis_mask": 1}, []int{3, 4, 2},
			[]float64{1, 2, 6, 7, 11, 12, 16, 17, 21, 22, 26, 27, 31, 32, 36, 37, 41, 42, 46, 47, 51, 52, 56, 57}},
		{"x[tf.newaxis, :, 2]", counting(3, 4), Attrs{"begin": []int{0, 0, 2}, "end": []int{0, 0, 3}, "begin_mask": 2, "end_mask": 2, "new_axis_mask": 1, "shrink_axis_mask": 4}, []int{1, 3}, []float64{2, 6, 10}},
		{"x[-1, ::-1]", counting(2, 3, 4), Attrs{"begin": []int{-1, 0}, "end": []int{0, 0}, "strides": []int{1, -1}, "begin_mask": 2, "end_mask": 2, "shrink_axis_mask": 1}, []int{3, 4},
			[]float64{20, 21, 22, 23, 16, 17, 18, 19, 12, 13, 14, 15}},
		{"x[0, ..., tf.newaxis, 1:]", counting(2, 3, 4), Attrs{"begin": []int{0, 0, 0, 1}, "end": []int{0, 0, 0, 0}, "shrink_axis_mask": 1, "ellipsis_mask": 2, "new_axis_mask": 4, "end_mask": 8}, []int{3, 1, 3},
			[]float64{1, 2, 3, 5, 6, 7, 9, 10, 11}},
		{"x[1, 2]", counting(3, 4), Attrs{"begin": []int{1, 2}, "end": []int{2, 3}, "shrink_axis_mask": 3}, []int{}, []float64{6}},
		{"x[::-1, 1::3]", counting(2, 7), Attrs{"begin": []int{0, 1}, "end": []int{0, 0}, "strides": []int{-1, 3}, "begin_mask": 1, "end_mask": 3}, []int{2, 2}, []float64{8, 11, 1, 4}},
		{"x[1]: an implied ellipsis takes the other axes whole", counting(3, 2), Attrs{"begin": []int{1}, "end": []int{2}, "shrink_axis_mask": 1}, []int{2}, []float64{2, 3}},
		{"x[...]", counting(2, 2), Attrs{"begin": []int{0}, "end": []int{0}, "ellipsis_mask": 1}, []int{2, 2}, []float64{0, 1, 2, 3}},
		{"x[..., tf.newaxis] (the ellipsis bit wins over new_axis)", counting(2), Attrs{"begin": []int{0, 0}, "end": []int{0, 0}, "ellipsis_mask": 1, "new_axis_mask": 3}, []int{2, 1}, []float64{0, 1}},
	} {
		t.Run(c.expr, func(t *testing.T) {
			r := eval(t, "strided_slice", c.attrs, c.x)
			require.Equal(t, c.shape, r.Shape)
			require.Equal(t, c.want, r.Data)
		})
	}
}

// TestStridedSliceRefusals: the spec errors TensorFlow reports, and
// flow's refusal of empty selections and of partial symbolic axes.
func TestStridedSliceRefusals(t *testing.T) {
	g := NewModule("t", "t")
	x := g.MustApply(Input, nil, Attrs{"dtype": F32, "shape": Shape{Sym("N"), Fixed(4)}})
	y := g.MustApply(Input, nil, Attrs{"dtype": F32, "shape": Shp(5)})
	for _, c := range []struct {
		x     *Node
		attrs Attrs
		err   string
	}{
		{y, Attrs{"begin": []int{0}}, "strided_slice needs begin and end"},
		{y, Attrs{"begin": []int{0}, "end": []int{1, 2}}, "begin, end and strides have 1, 2 and 1 entries"},
		{y, Attrs{"begin": []int{0}, "end": []int{5}, "strides": []int{0}}, "the stride of axis 0 is 0; strides are non-zero"},
		{y, Attrs{"begin": []int{5}, "end": []int{6}, "shrink_axis_mask": 1}, "index 5 of axis 0 is out of range for its size 5"},
		{y, Attrs{"begin": []int{-6}, "end": []int{0}, "shrink_axis_mask": 1}, "index -6 of axis 0 is out of range"},
		{y, Attrs{"begin": []int{1}, "end": []int{0}, "strides": []int{-1}, "shrink_axis_mask": 1}, "its stride must be positive, got -1"},
		{y, Attrs{"begin": []int{3}, "end": []int{3}}, "the slice from 3 to 3 by 1 selects no element of axis 0 (size 5); flow's tensors have at least one element"},
		{y, Attrs{"begin": []int{1}, "end": []int{3}, "strides": []int{-1}}, "the slice from 1 to 3 by -1 selects no element"},
		{y, Attrs{"begin": []int{0, 0}, "end": []int{1, 1}}, "the spec has more entries than the operand has axes (1)"},
		{y, Attrs{"begin": []int{0, 0}, "end": []int{1, 1}, "ellipsis_mask": 3}, "ellipsis_mask 3 sets 2 bits; a spec has at most one ellipsis"},
		{y, Attrs{"begin": []int{0}, "end": []int{1}, "begin_mask": 2}, "begin_mask 2 is not a bit field over the 1 spec entries (0..1)"},
		{x, Attrs{"begin": []int{1, 0}, "end": []int{0, 4}, "end_mask": 1}, "axis 0 is the symbolic dimension N, which strided_slice can only take whole"},
		{x, Attrs{"begin": []int{0, 0}, "end": []int{0, 4}, "strides": []int{-1, 1}, "begin_mask": 1, "end_mask": 1}, "axis 0 is the symbolic dimension N"},
	} {
		_, err := g.Apply(StridedSlice, []*Node{c.x}, c.attrs)
		require.ErrorContains(t, err, c.err)
	}
	// A symbolic axis taken whole, by the masks or the ellipsis.
	for _, a := range []Attrs{
		{"begin": []int{0, 3}, "end": []int{0, 0}, "strides": []int{1, -1}, "begin_mask": 1, "end_mask": 3},
		{"begin": []int{0, 3}, "end": []int{0, 0}, "strides": []int{1, -1}, "ellipsis_mask": 1, "end_mask": 2},
	} {
		n, err := g.Apply(StridedSlice, []*Node{x}, a)
		require.NoError(t, err)
		require.Equal(t, Shape{Sym("N"), Fixed(4)}, n.Type.Shape)
		require.Equal(t, []int{0, 3}, StridedSliceOf(n).Begin)
	}
}
