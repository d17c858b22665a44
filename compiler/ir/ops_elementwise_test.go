package ir

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// gradOf applies op to params holding ins, builds its gradient rule with
// the upstream gradient dy (of the op's result shape) and evaluates the
// gradient of every operand with the reference evaluations.
func gradOf(t *testing.T, op string, attrs Attrs, dy []float64, ins ...*Tensor) []*Tensor {
	t.Helper()
	g := NewModule("t", "t")
	vals := map[*Node]*Tensor{}
	var xs []*Node
	for _, in := range ins {
		p := g.MustApply(Param, nil, Attrs{"dtype": F64, "shape": Shp(in.Shape...), "init": "zeros"})
		vals[p] = in
		xs = append(xs, p)
	}
	n, err := g.Apply(MustLookup(op), xs, attrs)
	require.NoError(t, err)
	d := g.MustApply(Const, nil, Attrs{"dtype": F64, "shape": n.Type.Shape, "values": dy})
	grads := n.Op.Grad(&GradContext{Module: g}, n, []*Node{d})
	require.Len(t, grads, len(ins))
	evalNodes(t, g, vals)
	out := make([]*Tensor, len(grads))
	for i, gr := range grads {
		require.NotNil(t, gr, "no gradient for operand %d of %s", i, op)
		out[i] = vals[gr]
		require.Equal(t, fmt.Sprint(ins[i].Shape), fmt.Sprint(out[i].Shape), "shape of gradient %d of %s", i, op)
	}
	return out
}

func TestElementwiseValues(t *testing.T) {
	x := ten([]int{3}, -2, 0, 3)
	require.Equal(t, []float64{2, 0, 3}, eval(t, "abs", nil, x).Data)
	require.Equal(t, []float64{0.5, 2}, eval(t, "rsqrt", nil, ten([]int{2}, 4, 0.25)).Data)
	// tanh(ln 3) = (3 - 1/3) / (3 + 1/3) = 0.8.
	require.InDelta(t, 0.8, eval(t, "tanh", nil, ten(nil, math.Log(3))).Data[0], 1e-15)
	require.Equal(t, []float64{-0.4, 0, 3}, eval(t, "leaky_relu", nil, x).Data, "alpha defaults to 0.2")
	require.Equal(t, []float64{-1, 0, 3}, eval(t, "leaky_relu", Attrs{"alpha": 0.5}, x).Data)
	require.Equal(t, []float64{-2, 0, 3}, eval(t, "leaky_relu", Attrs{"alpha": 1}, x).Data, "an integer alpha")

	// [[2] [3]] ^ [0 1 2] broadcasts to [2,3].
	p := eval(t, "pow", nil, ten([]int{2, 1}, 2, 3), ten([]int{3}, 0, 1, 2))
	require.Equal(t, []int{2, 3}, p.Shape)
	require.Equal(t, []float64{1, 2, 4, 1, 3, 9}, p.Data)
	require.Equal(t, []float64{-8, 0.25}, eval(t, "pow", nil, ten([]int{2}, -2, 2), ten([]int{2}, 3, -2)).Data)

	a, b := ten([]int{3}, 1, 5, 3), ten([]int{2, 1}, 2, 4)
	require.Equal(t, []float64{2, 5, 3, 4, 5, 4}, eval(t, "maximum", nil, a, b).Data)
	require.Equal(t, []float64{1, 2, 2, 1, 4, 3}, eval(t, "minimum", nil, a, b).Data)
	nan := ten([]int{2}, math.NaN(), 1)
	for _, op := range []string{"maximum", "minimum"} {
		for _, v := range eval(t, op, nil, nan, ten([]int{2}, 0, math.NaN())).Data {
			require.True(t, math.IsNaN(v), "%s propagates NaN", op)
		}
	}
}

func TestReduceMoreValues(t *testing.T) {
	x := ten([]int{2, 3}, 1, 5, 3, 4, 2, 6)
	require.Equal(t, []float64{4, 5, 6}, eval(t, "max", Attrs{"axes": []int{0}}, x).Data)
	require.Equal(t, []float64{5, 6}, eval(t, "max", Attrs{"axes": []int{-1}}, x).Data)
	require.Equal(t, []float64{6}, eval(t, "max", nil, x).Data)
	require.Equal(t, []float64{1}, eval(t, "min", nil, x).Data)
	m := eval(t, "min", Attrs{"axes": []int{1}, "keep_dims": true}, x)
	require.Equal(t, []int{2, 1}, m.Shape)
	require.Equal(t, []float64{1, 2}, m.Data)
	require.Equal(t, []float64{15, 48}, eval(t, "prod", Attrs{"axes": []int{1}}, x).Data)
	require.Equal(t, []float64{720}, eval(t, "prod", nil, x).Data)
	require.Equal(t, x.Data, eval(t, "prod", Attrs{"axes": []int{}}, x).Data, "an empty axes list reduces nothing")
	require.Equal(t, []float64{4, 10, 18}, eval(t, "prod", Attrs{"axes": []int{0}}, x).Data)
	// Three axes, reducing the outer two: x3[i,j,k] = 4i + 2j + k + 1.
	x3 := ten([]int{2, 2, 2}, 1, 2, 3, 4, 5, 6, 7, 8)
	require.Equal(t, []float64{7, 8}, eval(t, "max", Attrs{"axes": []int{0, 1}}, x3).Data)
	require.Equal(t, []float64{1 * 3 * 5 * 7, 2 * 4 * 6 * 8}, eval(t, "prod", Attrs{"axes": []int{0, 1}}, x3).Data)
	require.True(t, math.IsNaN(eval(t, "max", nil, ten([]int{3}, 1, math.NaN(), 3)).Data[0]), "max propagates NaN")
	require.True(t, math.IsNaN(eval(t, "min", nil, ten([]int{3}, math.NaN(), 1, 3)).Data[0]), "min propagates NaN")
}

func TestElementwiseGradients(t *testing.T) {
	x := ten([]int{3}, -2, 0, 3)
	ones := []float64{1, 1, 1}
	require.Equal(t, []float64{-1, 0, 1}, gradOf(t, "abs", nil, ones, x)[0].Data, "abs has gradient 0 at 0")
	require.Equal(t, []float64{0.2, 0.2, 1}, gradOf(t, "leaky_relu", nil, ones, x)[0].Data, "the slope at 0 is alpha")
	require.Equal(t, []float64{-1.0 / 16}, gradOf(t, "rsqrt", nil, []float64{1}, ten(nil, 4))[0].Data)
	require.InDelta(t, 2*0.36, gradOf(t, "tanh", nil, []float64{2}, ten(nil, math.Log(3)))[0].Data[0], 1e-15)

	// pow: d/da = b a^(b-1), finite at a = 0; d/db = a^b log(a), 0 where a <= 0.
	pg := gradOf(t, "pow", nil, ones, ten([]int{3}, 2, 0, -2), ten([]int{3}, 3, 2, 2))
	require.Equal(t, []float64{12, 0, -4}, pg[0].Data)
	require.InDeltaSlice(t, []float64{8 * math.Log(2), 0, 0}, pg[1].Data, 1e-12)

	// Ties split dy in half between the operands.
	a, b := ten([]int{3}, 1, 2, 3), ten([]int{3}, 3, 2, 1)
	mg := gradOf(t, "maximum", nil, []float64{4, 4, 4}, a, b)
	require.Equal(t, []float64{0, 2, 4}, mg[0].Data)
	require.Equal(t, []float64{4, 2, 0}, mg[1].Data)
	ng := gradOf(t, "minimum", nil, []float64{4, 4, 4}, a, b)
	require.Equal(t, []float64{4, 2, 0}, ng[0].Data)
	require.Equal(t, []float64{0, 2, 4}, ng[1].Data)
	// Broadcast: maximum([[1] [5]], [2 3]) = [[2 3] [5 5]].
	bg := gradOf(t, "maximum", nil, []float64{1, 1, 1, 1}, ten([]int{2, 1}, 1, 5), ten([]int{2}, 2, 3))
	require.Equal(t, []float64{0, 2}, bg[0].Data)
	require.Equal(t, []float64{1, 1}, bg[1].Data)
}

func TestReduceMoreGradients(t *testing.T) {
	// max over a row: dy goes to the maximum, split among ties.
	x := ten([]int{2, 3}, 1, 5, 5, 4, 2, 6)
	require.Equal(t, []float64{0, 0.5, 0.5, 0, 0, 2}, gradOf(t, "max", Attrs{"axes": []int{1}}, []float64{1, 2}, x)[0].Data)
	require.Equal(t, []float64{0, 0.5, 0.5, 0, 0, 2}, gradOf(t, "max", Attrs{"axes": []int{1}, "keep_dims": true}, []float64{1, 2}, x)[0].Data)
	require.Equal(t, []float64{0, 0, 0, 0, 0, 3}, gradOf(t, "max", nil, []float64{3}, x)[0].Data)
	require.Equal(t, []float64{1, 0, 0, 0, 2, 0}, gradOf(t, "min", Attrs{"axes": []int{-1}}, []float64{1, 2}, x)[0].Data)
	require.Equal(t, []float64{1, 0, 0, 0, 0, 0}, gradOf(t, "min", nil, []float64{1}, x)[0].Data)
	third := 1.0 / 3
	require.InDeltaSlice(t, []float64{third, third, 0, third}, gradOf(t, "min", nil, []float64{1}, ten([]int{4}, 2, 2, 7, 2))[0].Data, 1e-15)
	// Over axis 0 of [2,3]: each column's larger element.
	require.Equal(t, []float64{0, 1, 0, 1, 0, 1}, gradOf(t, "max", Attrs{"axes": []int{0}}, []float64{1, 1, 1}, x)[0].Data)

	// prod: the product of the other elements, also when some are zero.
	require.Equal(t, []float64{12, 8, 6}, gradOf(t, "prod", nil, []float64{1}, ten([]int{3}, 2, 3, 4))[0].Data)
	require.Equal(t, []float64{0, 8, 0}, gradOf(t, "prod", nil, []float64{1}, ten([]int{3}, 2, 0, 4))[0].Data)
	require.Equal(t, []float64{0, 0, 0}, gradOf(t, "prod", nil, []float64{1}, ten([]int{3}, 0, 3, 0))[0].Data)
	pg := gradOf(t, "prod", Attrs{"axes": []int{1}}, []float64{1, 2}, ten([]int{2, 3}, 2, 0, 4, 1, 3, 5))
	require.Equal(t, []float64{0, 8, 0, 30, 10, 6}, pg[0].Data)
	pg = gradOf(t, "prod", Attrs{"axes": []int{0}, "keep_dims": true}, []float64{1, 1, 1}, ten([]int{2, 3}, 2, 0, 0, 1, 3, 0))
	require.Equal(t, []float64{1, 3, 0, 2, 0, 0}, pg[0].Data)
}

func TestElementwiseTypeErrors(t *testing.T) {
	g := NewModule("t", "t")
	i := g.MustApply(Input, nil, Attrs{"dtype": I32, "shape": Shp(2)})
	f := g.MustApply(Input, nil, Attrs{"dtype": F32, "shape": Shp(3)})
	for _, op := range []string{"rsqrt", "tanh", "leaky_relu"} {
		_, err := g.Apply(MustLookup(op), []*Node{i}, nil)
		require.ErrorContains(t, err, op+" needs a floating-point operand, got i32[2]")
	}
	_, err := g.Apply(Pow, []*Node{i, i}, nil)
	require.ErrorContains(t, err, "pow needs floating-point operands, got i32[2]")
	_, err = g.Apply(Maximum, []*Node{f, g.MustApply(Input, nil, Attrs{"dtype": F32, "shape": Shp(2)})}, nil)
	require.ErrorContains(t, err, "do not broadcast")
	_, err = g.Apply(LeakyRelu, []*Node{f}, Attrs{"alpha": math.Inf(1)})
	require.ErrorContains(t, err, "finite alpha")
	_, err = g.Apply(LeakyRelu, []*Node{f}, Attrs{"alpha": "x"})
	require.ErrorContains(t, err, "needs a number for alpha")
	// abs, maximum and the reductions accept integers.
	_, err = g.Apply(Abs, []*Node{i}, nil)
	require.NoError(t, err)
	_, err = g.Apply(Prod, []*Node{i}, Attrs{"axes": []int{0}})
	require.NoError(t, err)
	_, err = g.Apply(Max, []*Node{f}, Attrs{"axes": []int{1}})
	require.ErrorContains(t, err, "axis 1 is out of range for rank 1")
}
