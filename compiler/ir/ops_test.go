package ir

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBroadcast(t *testing.T) {
	N, M := Sym("N"), Sym("M")
	cases := []struct {
		a, b, want Shape
		err        bool
	}{
		{Shp(3, 4), Shp(4), Shp(3, 4), false},
		{Shape{N, Fixed(1)}, Shp(1, 10), Shape{N, Fixed(10)}, false},
		{Shape{N, Fixed(10)}, Shape{N, Fixed(10)}, Shape{N, Fixed(10)}, false},
		{Shape{}, Shape{N}, Shape{N}, false},
		{Shape{Fixed(1)}, Shape{N}, Shape{N}, false},
		{Shape{N}, Shape{M}, nil, true},
		{Shape{N}, Shp(784), nil, true},
		{Shp(3, 4), Shp(3), nil, true},
	}
	for _, c := range cases {
		got, err := Broadcast(c.a, c.b)
		if c.err {
			require.Error(t, err, "%s %s", c.a, c.b)
			continue
		}
		require.NoError(t, err)
		require.True(t, got.Equal(c.want), "%s + %s = %s, want %s", c.a, c.b, got, c.want)
	}
}

// eval builds op over constant operands (of the tensors' own dtypes) and
// evaluates it, checking the result against the node's type.
func eval(t *testing.T, op string, attrs Attrs, ins ...*Tensor) *Tensor {
	t.Helper()
	g := NewModule("t", "t")
	var nodes []*Node
	for _, in := range ins {
		vals := append([]float64(nil), in.Data...)
		nodes = append(nodes, g.MustApply(Const, nil, Attrs{"dtype": in.DType, "shape": Shp(in.Shape...), "values": vals}))
	}
	n, err := g.Apply(MustLookup(op), nodes, attrs)
	require.NoError(t, err)
	out := evalNodes(t, g, map[*Node]*Tensor{})[n]
	require.Equal(t, n.Type.DType, out.DType)
	require.Equal(t, n.Type.Shape.Eval(nil), out.Shape)
	return out
}

// evalNodes evaluates every node of g in order with the reference
// evaluations, starting from the values already in vals (params, say),
// and returns vals filled in.
func evalNodes(t *testing.T, g *Module, vals map[*Node]*Tensor) map[*Node]*Tensor {
	t.Helper()
	for _, x := range g.Body.Nodes {
		if vals[x] != nil {
			continue
		}
		in := make([]*Tensor, len(x.Inputs))
		for i, y := range x.Inputs {
			in[i] = vals[y]
		}
		var err error
		vals[x], err = x.Op.Eval(x, in, Bind(Binding{}))
		require.NoError(t, err, "evaluating %s", x.Op.Name)
	}
	return vals
}

func ten(shape []int, data ...float64) *Tensor {
	return &Tensor{DType: F64, Shape: shape, Data: data}
}

// TestReferenceEvaluation checks the oracle itself on hand-computed cases.
func TestReferenceEvaluation(t *testing.T) {
	// [[1 2 3] [4 5 6]] @ [[1 0] [0 1] [1 1]] = [[4 5] [10 11]]
	a := ten([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	b := ten([]int{3, 2}, 1, 0, 0, 1, 1, 1)
	require.Equal(t, []float64{4, 5, 10, 11}, eval(t, "matmul", nil, a, b).Data)
	// aᵀ @ a = [[17 22 27] [22 29 36] [27 36 45]]
	require.Equal(t, []float64{17, 22, 27, 22, 29, 36, 27, 36, 45}, eval(t, "matmul", Attrs{"transpose_a": true}, a, a).Data)
	// Broadcasting add of a row.
	require.Equal(t, []float64{11, 22, 33, 14, 25, 36}, eval(t, "add", nil, a, ten([]int{3}, 10, 20, 30)).Data)
	// Sums over axes.
	require.Equal(t, []float64{5, 7, 9}, eval(t, "sum", Attrs{"axes": []int{0}}, a).Data)
	require.Equal(t, []float64{6, 15}, eval(t, "sum", Attrs{"axes": []int{-1}}, a).Data)
	require.Equal(t, []float64{21}, eval(t, "sum", nil, a).Data)
	require.Equal(t, []int{2, 1}, eval(t, "sum", Attrs{"axes": []int{1}, "keep_dims": true}, a).Shape)
	require.Equal(t, []float64{2, 5}, eval(t, "mean", Attrs{"axes": []int{1}}, a).Data)
	require.Equal(t, a.Data, eval(t, "sum", Attrs{"axes": []int{}}, a).Data, "an empty axes list reduces nothing")
	// softmax([1 2 3]) = e^x / (e + e² + e³)
	s := eval(t, "softmax", nil, ten([]int{3}, 1, 2, 3)).Data
	z := math.E + math.E*math.E + math.E*math.E*math.E
	require.InDeltaSlice(t, []float64{math.E / z, math.E * math.E / z, math.E * math.E * math.E / z}, s, 1e-15)
	ls := eval(t, "log_softmax", nil, ten([]int{2}, 1000, 0)).Data
	require.InDeltaSlice(t, []float64{0, -1000}, ls, 1e-9, "log_softmax must not overflow")
	require.Equal(t, []float64{0, 0, 2}, eval(t, "relu", nil, ten([]int{3}, -1, 0, 2)).Data)
	require.InDelta(t, 1/(1+math.Exp(-2)), eval(t, "sigmoid", nil, ten([]int{1}, 2)).Data[0], 1e-15)
	require.InDelta(t, 0.0, eval(t, "sigmoid", nil, ten([]int{1}, -1000)).Data[0], 1e-300)
	require.Equal(t, []float64{3, 4}, eval(t, "relu_grad", nil, ten([]int{2}, 3, 4), ten([]int{2}, 1, 5)).Data)
	require.Equal(t, []float64{6, 15}, eval(t, "sum_to", Attrs{"shape": Shp(2, 1)}, a).Data)
	require.Equal(t, []float64{1, 2, 1, 2}, eval(t, "broadcast_to", Attrs{"shape": Shp(2, 2)}, ten([]int{2}, 1, 2)).Data)
	require.Equal(t, []float64{1, 1, 2, 2}, eval(t, "broadcast_to", Attrs{"shape": Shp(2, 2), "axes": []int{1}}, ten([]int{2}, 1, 2)).Data)
}

// TestF32Rounding checks f32 values are rounded after every op, as
// generated float32 code computes them.
func TestF32Rounding(t *testing.T) {
	g := NewModule("t", "t")
	a := g.MustApply(Const, nil, Attrs{"dtype": F32, "value": 1.0})
	b := g.MustApply(Const, nil, Attrs{"dtype": F32, "value": 1e-8})
	n := g.MustApply(Add, []*Node{a, b}, nil)
	av, _ := a.Op.Eval(a, nil, Bind(nil))
	bv, _ := b.Op.Eval(b, nil, Bind(nil))
	out, err := n.Op.Eval(n, []*Tensor{av, bv}, Bind(nil))
	require.NoError(t, err)
	require.Equal(t, 1.0, out.Data[0])
}

func TestMatmulCostCountsMultiplyAdds(t *testing.T) {
	g := NewModule("t", "t")
	x := g.MustApply(Input, nil, Attrs{"dtype": F32, "shape": Shape{Sym("N"), Fixed(784)}})
	w := g.MustApply(Param, nil, Attrs{"dtype": F32, "shape": Shp(784, 10)})
	y := g.MustApply(Matmul, []*Node{x, w}, nil)
	c := y.Op.Cost(y, Bind(Binding{"N": 100}))
	require.Equal(t, 2.0*100*784*10, c.FLOPs)
	require.Equal(t, 4.0*(100*784+7840), c.BytesRead)
	require.Equal(t, 4.0*100*10, c.BytesWritten)
}

// TestEveryHandleRegistered checks that every op handle of handles.go
// has its registry entry (Register panics at init for the converse).
func TestEveryHandleRegistered(t *testing.T) {
	require.Equal(t, len(handles), len(registry))
	for name, h := range handles {
		def, ok := Lookup(name)
		require.True(t, ok, "handle %s has no registered op", name)
		require.Same(t, h, def, name)
		require.NotNil(t, h.Infer, name)
	}
}
