package ir

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBatchedMatmulEvaluates checks batched matmul against hand-computed
// products and against rank-2 matmuls of the matrices each batch element
// reads.
func TestBatchedMatmulEvaluates(t *testing.T) {
	// [[1 2] [3 4]] and [[0 1] [1 0]], each times [[1 1] [0 2]].
	a := ten([]int{2, 2, 2}, 1, 2, 3, 4, 0, 1, 1, 0)
	b := ten([]int{2, 2}, 1, 1, 0, 2)
	r := eval(t, "matmul", nil, a, b)
	require.Equal(t, []int{2, 2, 2}, r.Shape)
	require.Equal(t, []float64{1, 5, 3, 11, 0, 2, 1, 1}, r.Data)
	// bᵀ times each: [[1 0] [1 2]] @ a[i].
	r = eval(t, "matmul", Attrs{"transpose_a": true}, b, a)
	require.Equal(t, []float64{1, 2, 7, 10, 0, 1, 2, 1}, r.Data)

	// Rank 4 against rank 3, broadcasting both ways, with transposes.
	x := ten([]int{2, 1, 2, 3}, seq(12)...)
	y := ten([]int{3, 4, 2}, seq(24)...)
	r = eval(t, "matmul", Attrs{"transpose_a": true, "transpose_b": true}, x, y)
	require.Equal(t, []int{2, 3, 3, 4}, r.Shape)
	for i := range 2 {
		for j := range 3 {
			xm := ten([]int{2, 3}, x.Data[i*6:(i+1)*6]...)
			ym := ten([]int{4, 2}, y.Data[j*8:(j+1)*8]...)
			want := eval(t, "matmul", Attrs{"transpose_a": true, "transpose_b": true}, xm, ym)
			off := (i*3 + j) * 12
			require.Equal(t, want.Data, r.Data[off:off+12], "batch element [%d %d]", i, j)
		}
	}
}

// seq is 1, 2, ..., n.
func seq(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(i + 1)
	}
	return out
}

func TestBatchedMatmulInfersBatchAxes(t *testing.T) {
	N := Sym("N")
	cases := []struct {
		a, b   Shape
		ta, tb bool
		want   Shape
	}{
		{Shp(3, 4), Shp(4, 5), false, false, Shp(3, 5)},
		{Shape{N, Fixed(3), Fixed(4)}, Shp(4, 5), false, false, Shape{N, Fixed(3), Fixed(5)}},
		{Shp(4, 3), Shape{N, Fixed(4), Fixed(5)}, true, false, Shape{N, Fixed(3), Fixed(5)}},
		{Shape{N, Fixed(1), Fixed(3), Fixed(4)}, Shp(2, 5, 4), false, true, Shape{N, Fixed(2), Fixed(3), Fixed(5)}},
		{Shape{Fixed(1), N, Fixed(3)}, Shape{Fixed(2), N, Fixed(3)}, false, true, Shape{Fixed(2), N, N}},
	}
	for _, c := range cases {
		g := NewModule("t", "t")
		a := g.MustApply(Input, nil, Attrs{"dtype": F32, "shape": c.a})
		b := g.MustApply(Input, nil, Attrs{"dtype": F32, "shape": c.b})
		n, err := g.Apply(Matmul, []*Node{a, b}, Attrs{"transpose_a": c.ta, "transpose_b": c.tb})
		require.NoError(t, err)
		require.True(t, n.Type.Shape.Equal(c.want), "%s @ %s = %s, want %s", c.a, c.b, n.Type.Shape, c.want)
	}
}

// TestBatchedMatmulGradientSumsBroadcastBatch checks that an operand
// shared by every batch element gets the sum of the per-element
// gradients.
func TestBatchedMatmulGradientSumsBroadcastBatch(t *testing.T) {
	a := ten([]int{2, 2, 3}, seq(12)...)
	b := ten([]int{3, 2}, 1, -1, 0, 2, 3, 1)
	dy := []float64{1, 0, 2, -1, 0.5, 1, -2, 3}
	g := gradOf(t, "matmul", nil, dy, a, b)
	// db = Σ_i a[i]ᵀ dy[i].
	want := make([]float64, 6)
	for i := range 2 {
		part := gradOf(t, "matmul", nil, dy[i*4:(i+1)*4], ten([]int{2, 3}, a.Data[i*6:(i+1)*6]...), b)
		require.Equal(t, part[0].Data, g[0].Data[i*6:(i+1)*6], "da of batch element %d", i)
		for j, v := range part[1].Data {
			want[j] += v
		}
	}
	require.Equal(t, want, g[1].Data)
}

func TestMatrixInverseAndDeterminantHandComputed(t *testing.T) {
	// [[4 7] [2 6]]⁻¹ = [[6 -7] [-2 4]] / 10, det 10.
	a := ten([]int{2, 2}, 4, 7, 2, 6)
	requireClose(t, []float64{0.6, -0.7, -0.2, 0.4}, eval(t, "matrix_inverse", nil, a).Data)
	d := eval(t, "matrix_determinant", nil, a)
	require.Equal(t, []int{}, d.Shape)
	requireClose(t, []float64{10}, d.Data)

	// A 3×3 matrix whose elimination must pivot (the first column's
	// largest entry is in the last row), with determinant 1.
	b := ten([]int{3, 3}, 1, 2, 3, 0, 1, 4, 5, 6, 0)
	requireClose(t, []float64{-24, 18, 5, 20, -15, -4, -5, 4, 1}, eval(t, "matrix_inverse", nil, b).Data)
	requireClose(t, []float64{1}, eval(t, "matrix_determinant", nil, b).Data)

	// A permutation: a zero leading pivot, one row swap, determinant -1.
	p := ten([]int{2, 2}, 0, 1, 1, 0)
	require.Equal(t, p.Data, eval(t, "matrix_inverse", nil, p).Data)
	require.Equal(t, []float64{-1}, eval(t, "matrix_determinant", nil, p).Data)

	// A batch [2, 1] of 2×2 matrices: 2·I and [[1 2] [3 4]].
	batch := ten([]int{2, 1, 2, 2}, 2, 0, 0, 2, 1, 2, 3, 4)
	inv := eval(t, "matrix_inverse", nil, batch)
	require.Equal(t, []int{2, 1, 2, 2}, inv.Shape)
	requireClose(t, []float64{0.5, 0, 0, 0.5, -2, 1, 1.5, -0.5}, inv.Data)
	det := eval(t, "matrix_determinant", nil, batch)
	require.Equal(t, []int{2, 1}, det.Shape)
	requireClose(t, []float64{4, -2}, det.Data)
}

// TestSingularMatrices pins the defined results where TensorFlow raises:
// an all-NaN inverse and a zero determinant.
func TestSingularMatrices(t *testing.T) {
	for _, s := range []*Tensor{
		ten([]int{2, 2}, 1, 2, 2, 4),
		ten([]int{2, 2}, 0, 0, 0, 0),
		ten([]int{3, 3}, 1, 2, 0, 2, 4, 0, 5, 6, 7),
	} {
		for _, v := range eval(t, "matrix_inverse", nil, s).Data {
			require.True(t, math.IsNaN(v), "inverse of singular %v: %v", s.Data, v)
		}
		d := eval(t, "matrix_determinant", nil, s).Data[0]
		require.InDelta(t, 0, d, 1e-12, "determinant of singular %v", s.Data)
	}
	// A matrix singular in exact arithmetic but not after rounding gives
	// huge entries, as in NumPy, and a determinant near 0.
	near := ten([]int{3, 3}, 1, 2, 3, 4, 5, 6, 7, 8, 9)
	for _, v := range eval(t, "matrix_inverse", nil, near).Data {
		require.Greater(t, math.Abs(v), 1e12)
	}
	require.InDelta(t, 0, eval(t, "matrix_determinant", nil, near).Data[0], 1e-12)
	// Only the singular matrix of a batch is NaN.
	inv := eval(t, "matrix_inverse", nil, ten([]int{2, 2, 2}, 1, 1, 1, 1, 2, 0, 0, 2))
	require.True(t, math.IsNaN(inv.Data[0]))
	require.Equal(t, []float64{0.5, 0, 0, 0.5}, inv.Data[4:])
}

func TestMatrixGradientsHandComputed(t *testing.T) {
	a := ten([]int{2, 2}, 4, 7, 2, 6)
	// d det / dA for [[a b] [c d]] is [[d -c] [-b a]].
	g := gradOf(t, "matrix_determinant", nil, []float64{1}, a)
	requireClose(t, []float64{6, -2, -7, 4}, g[0].Data)
	// d (A⁻¹)₀₀ / dA_ij = -(A⁻¹)_0i (A⁻¹)_j0, with A⁻¹ = [[.6 -.7] [-.2 .4]].
	g = gradOf(t, "matrix_inverse", nil, []float64{1, 0, 0, 0}, a)
	requireClose(t, []float64{-0.36, 0.12, 0.42, -0.14}, g[0].Data)
	// A batch scales each matrix's determinant gradient by its dy.
	g = gradOf(t, "matrix_determinant", nil, []float64{2, -1}, ten([]int{2, 2, 2}, 4, 7, 2, 6, 1, 2, 3, 4))
	requireClose(t, []float64{12, -4, -14, 8, -4, 3, 2, -1}, g[0].Data)
}

func requireClose(t *testing.T, want, got []float64) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		require.InDelta(t, want[i], got[i], 1e-12, "element %d: got %v, want %v", i, got, want)
	}
}

func TestWellConditionedValueIsDiagonallyDominant(t *testing.T) {
	shape := []int{2, 5, 5}
	vals := make([]float64, 50)
	for i := range vals {
		v := 0.2 + 1.8*float64(i%7)/6 // the NonZero range, both signs
		if i%3 == 0 {
			v = -v
		}
		vals[i] = WellConditionedValue(shape, i, v)
	}
	for m := range 2 {
		for r := range 5 {
			off := 0.0
			for c := range 5 {
				if c != r {
					off += math.Abs(vals[m*25+r*5+c])
				}
			}
			require.Greater(t, math.Abs(vals[m*25+r*5+r]), off+0.2, "matrix %d row %d", m, r)
		}
	}
	require.Equal(t, 1.5, WellConditionedValue([]int{2, 3}, 0, 1.5), "non-square shapes keep their values")
	require.Equal(t, -0.7, WellConditionedValue([]int{4}, 0, -0.7))
}

func TestLinalgInferErrors(t *testing.T) {
	N := Sym("N")
	cases := []struct {
		op   string
		dt   DType
		in   []Shape
		want string
	}{
		{"matmul", F32, []Shape{Shp(3), Shp(3, 4)}, "matmul needs operands of rank 2 or more (matrices, or batches of them), got f32[3] and f32[3,4]"},
		{"matmul", F32, []Shape{Shp(2, 3, 4), Shp(3, 4, 5)}, "batch axes of f32[2,3,4] and f32[3,4,5] do not broadcast: dimension 2 does not match 3 (axis 1 from the end)"},
		{"matmul", F32, []Shape{{N, Fixed(3), Fixed(4)}, Shp(2, 4, 5)}, "batch axes of f32[N,3,4] and f32[2,4,5] do not broadcast: dimension N does not match 2 (axis 1 from the end)"},
		{"matmul", F32, []Shape{Shp(2, 3, 4), Shp(2, 3, 5)}, "inner dimensions differ: f32[2,3,4] has 4 columns, f32[2,3,5] has 3 rows"},
		{"matrix_inverse", F32, []Shape{Shp(2, 3)}, "matrix_inverse needs square matrices, got f32[2,3]: its last two axes differ (2 and 3)"},
		{"matrix_inverse", F32, []Shape{{Fixed(3), N, Fixed(3)}}, "matrix_inverse needs square matrices, got f32[3,N,3]: its last two axes differ (N and 3)"},
		{"matrix_inverse", F32, []Shape{Shp(4)}, "matrix_inverse needs a matrix or a batch of matrices (rank 2 or more), got f32[4]"},
		{"matrix_inverse", I32, []Shape{Shp(2, 2)}, "matrix_inverse needs a floating-point operand, got i32[2,2]"},
		{"matrix_determinant", F32, []Shape{{}}, "matrix_determinant needs a matrix or a batch of matrices (rank 2 or more), got f32[]"},
		{"matrix_determinant", F32, []Shape{Shp(2, 3, 2)}, "matrix_determinant needs square matrices, got f32[2,3,2]: its last two axes differ (3 and 2)"},
		{"matrix_determinant", I32, []Shape{Shp(3, 3)}, "matrix_determinant needs a floating-point operand, got i32[3,3]"},
	}
	for _, c := range cases {
		g := NewModule("t", "t")
		var ins []*Node
		for _, s := range c.in {
			ins = append(ins, g.MustApply(Input, nil, Attrs{"dtype": c.dt, "shape": s}))
		}
		_, err := g.Apply(MustLookup(c.op), ins, nil)
		require.EqualError(t, err, c.want, "%s %v", c.op, c.in)
	}
}
