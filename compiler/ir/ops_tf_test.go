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
	g := NewGraph("t", "t")
	in := g.MustApply("input", nil, Attrs{"dtype": F64, "shape": Shp(2, 3)})
	for _, a := range []int{-1, 1} {
		n := g.MustApply("softmax", []*Node{in}, Attrs{"axis": a})
		require.Equal(t, -1, n.Attrs.Int("axis", 0))
	}
	require.Equal(t, 0, g.MustApply("softmax", []*Node{in}, Attrs{"axis": -2}).Attrs.Int("axis", -1))
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

	g := NewGraph("t", "t")
	in := g.MustApply("input", nil, Attrs{"dtype": I32, "shape": Shp(4)})
	for _, c := range []struct {
		attrs Attrs
		err   string
	}{
		{Attrs{"depth": 3, "axis": -2}, "axis -2 is out of range; the new axis goes at -1 (last) or 0..1"},
		{Attrs{"depth": 3, "axis": 2}, "axis 2 is out of range"},
		{Attrs{"depth": 3, "on_value": 0.5, "dtype": "i32"}, "one_hot: on_value 0.5 is not an integer, but the dtype is i32"},
		{Attrs{"depth": 3, "off_value": 2.0, "dtype": "bool"}, "one_hot: off_value 2 is not 0 or 1"},
	} {
		_, err := g.Apply("one_hot", []*Node{in}, c.attrs)
		require.ErrorContains(t, err, c.err)
	}
}
