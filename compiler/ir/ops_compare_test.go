package ir

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// typed returns a tensor of dtype dt.
func typed(dt DType, shape []int, data ...float64) *Tensor {
	return &Tensor{DType: dt, Shape: shape, Data: data}
}

func TestCompareValues(t *testing.T) {
	// [[1] [2]] against [0 2 3] broadcasts to [2,3].
	a, b := ten([]int{2, 1}, 1, 2), ten([]int{3}, 0, 2, 3)
	require.Equal(t, []float64{1, 0, 0, 1, 0, 0}, eval(t, "greater", nil, a, b).Data)
	require.Equal(t, []float64{0, 1, 1, 0, 0, 1}, eval(t, "less", nil, a, b).Data)
	require.Equal(t, []float64{0, 0, 0, 0, 1, 0}, eval(t, "equal", nil, a, b).Data)
	require.Equal(t, []float64{1, 1, 1, 1, 0, 1}, eval(t, "not_equal", nil, a, b).Data)
	require.Equal(t, []float64{1, 0, 0, 1, 1, 0}, eval(t, "greater_equal", nil, a, b).Data)
	require.Equal(t, []float64{0, 1, 1, 0, 1, 1}, eval(t, "less_equal", nil, a, b).Data)
	require.Equal(t, Bool, eval(t, "less", nil, a, b).DType)
	// NaN compares unequal to everything, itself included.
	nan := ten([]int{1}, math.NaN())
	require.Equal(t, []float64{0}, eval(t, "equal", nil, nan, nan).Data)
	require.Equal(t, []float64{1}, eval(t, "not_equal", nil, nan, nan).Data)
	// Booleans compare for equality.
	p, q := typed(Bool, []int{4}, 0, 0, 1, 1), typed(Bool, []int{4}, 0, 1, 0, 1)
	require.Equal(t, []float64{1, 0, 0, 1}, eval(t, "equal", nil, p, q).Data)
	require.Equal(t, []float64{0, 0, 0, 1}, eval(t, "logical_and", nil, p, q).Data)
	require.Equal(t, []float64{0, 1, 1, 1}, eval(t, "logical_or", nil, p, q).Data)
	require.Equal(t, []float64{1, 1, 0, 0}, eval(t, "logical_not", nil, p).Data)
}

func TestWhereValuesAndGradient(t *testing.T) {
	cond := typed(Bool, []int{2, 1}, 1, 0)
	a, b := ten([]int{3}, 1, 2, 3), ten(nil, -1)
	require.Equal(t, []float64{1, 2, 3, -1, -1, -1}, eval(t, "where", nil, cond, a, b).Data)
	// The gradient of a sums dy over the rows where cond holds; b's over
	// the others, down to b's scalar shape.
	g := NewModule("t", "t")
	c := g.MustApply(Const, nil, Attrs{"dtype": Bool, "shape": Shp(2, 1), "values": []float64{1, 0}})
	pa := g.MustApply(Param, nil, Attrs{"dtype": F64, "shape": Shp(3), "init": "zeros"})
	pb := g.MustApply(Param, nil, Attrs{"dtype": F64, "shape": Shp(), "init": "zeros"})
	n := g.MustApply(Where, []*Node{c, pa, pb}, nil)
	dy := g.MustApply(Const, nil, Attrs{"dtype": F64, "shape": Shp(2, 3), "values": []float64{1, 2, 3, 4, 5, 6}})
	grads := n.Op.Grad(&GradContext{Module: g}, n, []*Node{dy})
	require.Nil(t, grads[0], "the condition gets no gradient")
	vals := evalNodes(t, g, map[*Node]*Tensor{pa: ten([]int{3}, 0, 0, 0), pb: ten(nil, 0)})
	require.Equal(t, []float64{1, 2, 3}, vals[grads[1]].Data)
	require.Equal(t, []float64{15}, vals[grads[2]].Data)
}

func TestCastValues(t *testing.T) {
	x := ten([]int{5}, -1.7, -0.2, 0, 0.9, 2.5)
	require.Equal(t, []float64{-1, 0, 0, 0, 2}, eval(t, "cast", Attrs{"dtype": "i32"}, x).Data, "toward zero")
	require.Equal(t, []float64{1, 1, 0, 1, 1}, eval(t, "cast", Attrs{"dtype": "bool"}, x).Data)
	require.Equal(t, []float64{float64(float32(-1.7))}, eval(t, "cast", Attrs{"dtype": "f32"}, ten([]int{1}, -1.7)).Data)
	require.Equal(t, []float64{1, 0}, eval(t, "cast", Attrs{"dtype": "f32"}, typed(Bool, []int{2}, 1, 0)).Data)
	require.Equal(t, I64, eval(t, "cast", Attrs{"dtype": "i64"}, typed(I32, []int{1}, 3)).DType)
}

func TestArgmaxArgminValues(t *testing.T) {
	// [[3 1 3] [0 5 -2]]: ties go to the first index.
	x := ten([]int{2, 3}, 3, 1, 3, 0, 5, -2)
	require.Equal(t, []float64{0, 1}, eval(t, "argmax", Attrs{"axis": 1}, x).Data)
	require.Equal(t, []float64{1, 2}, eval(t, "argmin", Attrs{"axis": -1}, x).Data)
	require.Equal(t, []float64{0, 1, 0}, eval(t, "argmax", nil, x).Data, "axis defaults to 0")
	require.Equal(t, []float64{1, 0, 1}, eval(t, "argmin", Attrs{"axis": 0}, x).Data)
	// A middle axis of [2,2,2].
	y := ten([]int{2, 2, 2}, 1, 9, 4, 2, 0, 0, -1, 7)
	require.Equal(t, []float64{1, 0, 0, 1}, eval(t, "argmax", Attrs{"axis": 1}, y).Data)
	// A NaN wins.
	require.Equal(t, []float64{1}, eval(t, "argmax", nil, ten([]int{3}, 1, math.NaN(), 5)).Data)
	require.Equal(t, []float64{2}, eval(t, "argmin", nil, typed(I32, []int{3}, 4, 2, 1)).Data)
}

func TestOneHotValues(t *testing.T) {
	got := eval(t, "one_hot", Attrs{"depth": 3}, typed(I32, []int{4}, 2, 0, 3, -1))
	require.Equal(t, F32, got.DType)
	require.Equal(t, []int{4, 3}, got.Shape)
	require.Equal(t, []float64{0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}, got.Data, "indices outside 0..2 give zero rows")
	got = eval(t, "one_hot", Attrs{"depth": 2, "dtype": "i64"}, typed(I64, nil, 1))
	require.Equal(t, I64, got.DType)
	require.Equal(t, []float64{0, 1}, got.Data)
}

func TestSparseSoftmaxCrossEntropyValues(t *testing.T) {
	// Row 0: logits (0, 0, 0): log 3. Row 1: (1, 2, 3) with label 0:
	// log(e + e^2 + e^3) - 1.
	logits := ten([]int{3, 3}, 0, 0, 0, 1, 2, 3, 1000, 0, 0)
	labels := typed(I32, []int{3}, 2, 0, 0)
	got := eval(t, "sparse_softmax_cross_entropy", nil, logits, labels)
	require.InDelta(t, math.Log(3), got.Data[0], 1e-12)
	require.InDelta(t, math.Log(math.E+math.Exp(2)+math.Exp(3))-1, got.Data[1], 1e-12)
	require.InDelta(t, 0, got.Data[2], 1e-12, "large logits stay finite")
	// An out-of-range label gives NaN.
	bad := eval(t, "sparse_softmax_cross_entropy", nil, ten([]int{1, 2}, 0, 0), typed(I64, []int{1}, 2))
	require.True(t, math.IsNaN(bad.Data[0]))
	// It equals the dense cross entropy with one-hot labels.
	dense := eval(t, "softmax_cross_entropy", nil, logits, ten([]int{3, 3}, 0, 0, 1, 1, 0, 0, 1, 0, 0))
	require.InDeltaSlice(t, dense.Data, got.Data, 1e-12)
}

func TestCompareTypeErrors(t *testing.T) {
	g := NewModule("t", "t")
	f := g.MustApply(Input, nil, Attrs{"dtype": F32, "shape": Shp(2, 3)})
	i := g.MustApply(Input, nil, Attrs{"dtype": I32, "shape": Shp(2)})
	bo := g.MustApply(Input, nil, Attrs{"dtype": Bool, "shape": Shp(2, 3)})
	for _, c := range []struct {
		op    string
		in    []*Node
		attrs Attrs
		want  string
	}{
		{"greater", []*Node{f, i}, nil, "different dtypes"},
		{"less", []*Node{bo, bo}, nil, "numeric operands"},
		{"logical_and", []*Node{f, bo}, nil, "bool operands"},
		{"logical_not", []*Node{f}, nil, "bool operand"},
		{"where", []*Node{f, f, f}, nil, "bool condition"},
		{"where", []*Node{bo, f, i}, nil, "one dtype"},
		{"cast", []*Node{f}, nil, "needs dtype"},
		{"cast", []*Node{f}, Attrs{"dtype": "f33"}, "unknown dtype"},
		{"argmax", []*Node{bo}, nil, "numeric"},
		{"argmin", []*Node{f}, Attrs{"axis": 2}, "out of range"},
		{"one_hot", []*Node{f}, Attrs{"depth": 3}, "integer indices"},
		{"one_hot", []*Node{i}, nil, "needs depth"},
		{"one_hot", []*Node{i}, Attrs{"depth": 0}, "positive depth"},
		{"sparse_softmax_cross_entropy", []*Node{f, f}, nil, "integer labels"},
		{"sparse_softmax_cross_entropy", []*Node{f, g.MustApply(Input, nil, Attrs{"dtype": I32, "shape": Shp(3)})}, nil, "without their last axis"},
	} {
		_, err := g.Apply(MustLookup(c.op), c.in, c.attrs)
		require.ErrorContains(t, err, c.want, c.op)
	}
}

func TestCastGradient(t *testing.T) {
	g := NewModule("t", "t")
	x := g.MustApply(Param, nil, Attrs{"dtype": F32, "shape": Shp(2), "init": "zeros"})
	y := g.MustApply(Cast, []*Node{x}, Attrs{"dtype": "f64"})
	dy := g.MustApply(Const, nil, Attrs{"dtype": F64, "shape": Shp(2), "values": []float64{0.1, -3}})
	d := y.Op.Grad(&GradContext{Module: g}, y, []*Node{dy})[0]
	require.Equal(t, "cast", d.Op.Name, "the gradient of a float cast casts back")
	require.Equal(t, Type{DType: F32, Shape: Shp(2)}, d.Type)
	dyv, err := dy.Op.Eval(dy, nil, Bind(nil))
	require.NoError(t, err)
	got, err := d.Op.Eval(d, []*Tensor{dyv}, Bind(Binding{}))
	require.NoError(t, err)
	require.Equal(t, []float64{float64(float32(0.1)), -3}, got.Data)

	// Casts from or to integers and bools pass no gradient.
	k := g.MustApply(Cast, []*Node{x}, Attrs{"dtype": "i32"})
	require.Nil(t, k.Op.Grad(&GradContext{Module: g}, k, []*Node{g.Const(I32, 1)})[0])
}
