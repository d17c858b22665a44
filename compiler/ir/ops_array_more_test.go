package ir

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func tenOf(dt DType, shape []int, data ...float64) *Tensor {
	return &Tensor{DType: dt, Shape: shape, Data: data}
}

// TestGatherEvaluate checks gather and its gradient on hand-computed
// cases, including out-of-range indices (zeros) and a middle axis.
func TestGatherEvaluate(t *testing.T) {
	// p = [[0 1 2] [10 11 12] [20 21 22]]
	p := ten([]int{3, 3}, 0, 1, 2, 10, 11, 12, 20, 21, 22)
	idx := tenOf(I32, []int{4}, 2, 0, 3, -1)
	g := eval(t, "gather", nil, p, idx)
	require.Equal(t, []int{4, 3}, g.Shape)
	require.Equal(t, []float64{20, 21, 22, 0, 1, 2, 0, 0, 0, 0, 0, 0}, g.Data)

	// Along axis 1 with a [2,2] index matrix: result [3,2,2].
	g = eval(t, "gather", Attrs{"axis": -1}, p, tenOf(I64, []int{2, 2}, 1, 1, 2, 0))
	require.Equal(t, []int{3, 2, 2}, g.Shape)
	require.Equal(t, []float64{1, 1, 2, 0, 11, 11, 12, 10, 21, 21, 22, 20}, g.Data)

	// A scalar index drops the axis.
	g = eval(t, "gather", nil, p, tenOf(I32, []int{}, 1))
	require.Equal(t, []int{3}, g.Shape)
	require.Equal(t, []float64{10, 11, 12}, g.Data)

	// gather_grad adds the rows back at their indices; repeated indices
	// accumulate and out-of-range ones are dropped.
	dy := ten([]int{4, 3}, 1, 2, 3, 4, 5, 6, 7, 8, 9, 100, 100, 100)
	gg := eval(t, "gather_grad", Attrs{"shape": Shp(3, 3), "axis": 0}, dy, tenOf(I32, []int{4}, 2, 0, 2, 5))
	require.Equal(t, []float64{4, 5, 6, 0, 0, 0, 8, 10, 12}, gg.Data)
}

// TestShapeQueries checks rank, shape and size, with a symbolic
// dimension bound when the graph runs.
func TestShapeQueries(t *testing.T) {
	a := ten([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	require.Equal(t, []float64{2}, eval(t, "rank", nil, a).Data)
	require.Equal(t, []float64{2, 3}, eval(t, "shape", nil, a).Data)
	require.Equal(t, []float64{6}, eval(t, "size", nil, a).Data)
	require.Equal(t, []float64{0}, eval(t, "rank", nil, ten([]int{}, 5)).Data)

	g := NewModule("t", "t")
	x := g.MustApply(Input, nil, Attrs{"dtype": F32, "shape": Shape{Sym("N"), Fixed(4)}})
	for op, want := range map[string][]float64{"shape": {7, 4}, "size": {28}, "rank": {2}} {
		n := g.MustApply(MustLookup(op), []*Node{x}, nil)
		require.Equal(t, I32, n.Type.DType)
		out, err := n.Op.Eval(n, []*Tensor{NewTensor(F32, []int{7, 4})}, Bind(Binding{"N": 7}))
		require.NoError(t, err)
		require.Equal(t, want, out.Data, op)
	}
	_, err := g.Apply(ShapeOp, []*Node{g.Const(F32, 1)}, nil)
	require.ErrorContains(t, err, "would be empty")
}

// TestFillAndRange checks the generators' values and dtypes.
func TestFillAndRange(t *testing.T) {
	f := eval(t, "fill", Attrs{"dims": []int{2, 2}, "value": 3.0, "dtype": "i64"})
	require.Equal(t, I64, f.DType)
	require.Equal(t, []float64{3, 3, 3, 3}, f.Data)
	f = eval(t, "fill", Attrs{"dims": []int{3}, "value": 0.1})
	require.Equal(t, F32, f.DType)
	require.Equal(t, float64(float32(0.1)), f.Data[2], "f32 fill rounds to f32")

	r := eval(t, "range", Attrs{"start": 5.0})
	require.Equal(t, I32, r.DType)
	require.Equal(t, []float64{0, 1, 2, 3, 4}, r.Data)
	r = eval(t, "range", Attrs{"start": 10.0, "limit": 1.0, "delta": -4.0, "dtype": "i64"})
	require.Equal(t, []float64{10, 6, 2}, r.Data)
	r = eval(t, "range", Attrs{"start": 0.0, "limit": 1.0, "delta": 0.25, "dtype": "f64"})
	require.Equal(t, []float64{0, 0.25, 0.5, 0.75}, r.Data)
	r = eval(t, "range", Attrs{"start": 1.0, "limit": 2.5, "delta": 1.0, "dtype": "f64"})
	require.Equal(t, []float64{1, 2}, r.Data, "the limit is excluded and need not be on the grid")

	g := NewModule("t", "t")
	for _, tc := range []struct {
		attrs Attrs
		msg   string
	}{
		{Attrs{"start": 3.0, "limit": 3.0}, "is empty"},
		{Attrs{"start": 0.0, "limit": 3.0, "delta": 0.0}, "delta must not be 0"},
		{Attrs{"start": 0.5, "limit": 3.0}, "not an integer"},
		{Attrs{"start": 0.0, "limit": 3.0, "dtype": "bool"}, "not allowed"},
	} {
		_, err := g.Apply(Range, nil, tc.attrs)
		require.ErrorContains(t, err, tc.msg, "%v", tc.attrs)
	}
	_, err := g.Apply(Fill, nil, Attrs{"dims": []int{2}, "value": 0.5, "dtype": "i32"})
	require.ErrorContains(t, err, "not an integer")
	_, err = g.Apply(Fill, nil, Attrs{"dims": []int{2, 0}, "value": 1.0})
	require.ErrorContains(t, err, "not positive")
}

// TestSplitEvaluate checks the pieces of split by count and by sizes.
func TestSplitEvaluate(t *testing.T) {
	// m = [[0 1 2 3 4] [5 6 7 8 9]]
	m := ten([]int{2, 5}, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
	s := eval(t, "split", Attrs{"sizes": []int{1, -1, 2}, "axis": 1, "index": 1}, m)
	require.Equal(t, []int{2, 2}, s.Shape)
	require.Equal(t, []float64{1, 2, 6, 7}, s.Data)
	s = eval(t, "split", Attrs{"sizes": []int{1, -1, 2}, "axis": -1, "index": -1}, m)
	require.Equal(t, []float64{3, 4, 8, 9}, s.Data)
	s = eval(t, "split", Attrs{"num": 2, "index": 1}, m)
	require.Equal(t, []int{1, 5}, s.Shape)
	require.Equal(t, []float64{5, 6, 7, 8, 9}, s.Data)

	g := NewModule("t", "t")
	x := g.MustApply(Input, nil, Attrs{"dtype": F32, "shape": Shp(2, 5)})
	for _, tc := range []struct {
		attrs Attrs
		msg   string
	}{
		{Attrs{"num": 2, "axis": 1, "index": 0}, "5 is not a multiple of 2"},
		{Attrs{"num": 5, "sizes": []int{5}, "axis": 1, "index": 0}, "not both or neither"},
		{Attrs{"sizes": []int{2, 2}, "axis": 1, "index": 0}, "sum to 4, but the axis has 5"},
		{Attrs{"sizes": []int{-1, -1}, "axis": 1, "index": 0}, "more than one -1"},
		{Attrs{"num": 5, "axis": 1, "index": 5}, "index 5 is out of range for 5 pieces"},
		{Attrs{"num": 5, "axis": 1}, "needs index"},
	} {
		_, err := g.Apply(Split, []*Node{x}, tc.attrs)
		require.ErrorContains(t, err, tc.msg, "%v", tc.attrs)
	}
}

// TestShuffleEvaluate checks that shuffle permutes rows by
// ShufflePermutation, that unshuffle inverts it, and that the
// permutation is the documented math/rand/v2 one.
func TestShuffleEvaluate(t *testing.T) {
	perm := ShufflePermutation(4, 5)
	require.ElementsMatch(t, []int{0, 1, 2, 3, 4}, perm)
	require.Equal(t, perm, ShufflePermutation(4, 5), "deterministic")
	require.NotEqual(t, []int{0, 1, 2, 3, 4}, perm, "seed 4 moves some row of 5")

	x := ten([]int{5, 2}, 0, 1, 10, 11, 20, 21, 30, 31, 40, 41)
	s := eval(t, "shuffle", Attrs{"seed": 4}, x)
	for k, p := range perm {
		require.Equal(t, []float64{float64(10 * p), float64(10*p + 1)}, s.Data[2*k:2*k+2])
	}
	u := eval(t, "unshuffle", Attrs{"seed": 4}, s)
	require.Equal(t, x.Data, u.Data)

	g := NewModule("t", "t")
	b := g.MustApply(Input, nil, Attrs{"dtype": F32, "shape": Shape{Sym("N"), Fixed(3)}})
	_, err := g.Apply(Shuffle, []*Node{b}, Attrs{"seed": 1})
	require.ErrorContains(t, err, "symbolic dimension N")
}
