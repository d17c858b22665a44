package compiler

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/stretchr/testify/require"
)

// gradCase is one finite-difference check: an op applied to operands of
// the given shapes (and attributes).
type gradCase struct {
	op     string
	shapes [][]int
	attrs  ir.Attrs
	// gen draws operand values; nil means uniform in [-2, 2] away from 0.
	gen func(r *rand.Rand) float64
}

func positive(r *rand.Rand) float64 { return 0.5 + 2*r.Float64() }

// awayFromZero keeps relu's kink out of the finite-difference stencil.
func awayFromZero(r *rand.Rand) float64 {
	v := 0.2 + 1.8*r.Float64()
	if r.IntN(2) == 0 {
		return -v
	}
	return v
}

var gradCases = []gradCase{
	{op: "add", shapes: [][]int{{3, 4}, {3, 4}}},
	{op: "add", shapes: [][]int{{3, 4}, {4}}},
	{op: "add", shapes: [][]int{{3, 1}, {1, 5}}},
	{op: "add", shapes: [][]int{{}, {2, 3}}},
	{op: "sub", shapes: [][]int{{2, 3}, {2, 3}}},
	{op: "sub", shapes: [][]int{{4}, {2, 4}}},
	{op: "sub", shapes: [][]int{{2, 1, 3}, {5, 1}}},
	{op: "mul", shapes: [][]int{{2, 3}, {2, 3}}},
	{op: "mul", shapes: [][]int{{2, 3}, {1}}},
	{op: "mul", shapes: [][]int{{3, 1}, {3, 4}}},
	{op: "div", shapes: [][]int{{2, 3}, {2, 3}}, gen: positive},
	{op: "div", shapes: [][]int{{2, 3}, {3}}, gen: positive},
	{op: "div", shapes: [][]int{{}, {4}}, gen: positive},
	{op: "neg", shapes: [][]int{{3, 2}}},
	{op: "neg", shapes: [][]int{{}}},
	{op: "exp", shapes: [][]int{{2, 5}}},
	{op: "exp", shapes: [][]int{{7}}},
	{op: "log", shapes: [][]int{{2, 5}}, gen: positive},
	{op: "log", shapes: [][]int{{1}}, gen: positive},
	{op: "sqrt", shapes: [][]int{{3, 4}}, gen: positive},
	{op: "sqrt", shapes: [][]int{{}}, gen: positive},
	{op: "square", shapes: [][]int{{2, 3}}},
	{op: "square", shapes: [][]int{{5}}},
	{op: "relu", shapes: [][]int{{4, 5}}, gen: awayFromZero},
	{op: "relu", shapes: [][]int{{3}}, gen: awayFromZero},
	{op: "sigmoid", shapes: [][]int{{3, 4}}},
	{op: "sigmoid", shapes: [][]int{{1, 1}}},
	{op: "matmul", shapes: [][]int{{3, 4}, {4, 5}}},
	{op: "matmul", shapes: [][]int{{1, 1}, {1, 1}}},
	{op: "matmul", shapes: [][]int{{4, 3}, {4, 5}}, attrs: ir.Attrs{"transpose_a": true}},
	{op: "matmul", shapes: [][]int{{3, 4}, {5, 4}}, attrs: ir.Attrs{"transpose_b": true}},
	{op: "matmul", shapes: [][]int{{4, 3}, {5, 4}}, attrs: ir.Attrs{"transpose_a": true, "transpose_b": true}},
	{op: "softmax", shapes: [][]int{{3, 5}}},
	{op: "softmax", shapes: [][]int{{2, 2, 3}}},
	{op: "softmax", shapes: [][]int{{6}}},
	{op: "log_softmax", shapes: [][]int{{3, 5}}},
	{op: "log_softmax", shapes: [][]int{{4}}},
	{op: "sum", shapes: [][]int{{3, 4}}},
	{op: "sum", shapes: [][]int{{3, 4}}, attrs: ir.Attrs{"axes": []int{1}}},
	{op: "sum", shapes: [][]int{{2, 3, 4}}, attrs: ir.Attrs{"axes": []int{0, 2}, "keep_dims": true}},
	{op: "sum", shapes: [][]int{{2, 3, 4}}, attrs: ir.Attrs{"axes": []int{-2}}},
	{op: "mean", shapes: [][]int{{3, 4}}},
	{op: "mean", shapes: [][]int{{3, 4}}, attrs: ir.Attrs{"axes": []int{0}}},
	{op: "mean", shapes: [][]int{{2, 3, 4}}, attrs: ir.Attrs{"axes": []int{1}, "keep_dims": true}},
}

// TestGradientsMatchFiniteDifferences checks every differentiable op's
// gradient rule against central differences of the reference
// interpreter, in f64. The loss is sum(op(x...) * w) with a fixed random
// w, so every output element contributes with a distinct weight.
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	for i, tc := range gradCases {
		t.Run(fmt.Sprintf("%s/%d", tc.op, i), func(t *testing.T) {
			checkGradient(t, tc, uint64(i))
		})
	}
}

// TestEveryDifferentiableOpHasGradientCase keeps the table above complete.
func TestEveryDifferentiableOpHasGradientCase(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range gradCases {
		covered[tc.op] = true
	}
	for _, def := range ir.Ops() {
		if def.Grad != nil && !def.Internal {
			require.True(t, covered[def.Name], "op %s has a gradient rule but no finite-difference case", def.Name)
		}
	}
}

func checkGradient(t *testing.T, tc gradCase, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 7))
	gen := tc.gen
	if gen == nil {
		gen = awayFromZero
	}
	g := ir.NewGraph("grad", "test")
	var xs []*ir.Node
	for i, s := range tc.shapes {
		p := g.MustApply("param", nil, ir.Attrs{"dtype": ir.F64, "shape": ir.Shp(s...), "init": "zeros"})
		p.Name = fmt.Sprintf("x%d", i)
		g.Params = append(g.Params, p)
		xs = append(xs, p)
	}
	attrs := ir.Attrs{}
	for k, v := range tc.attrs {
		attrs[k] = v
	}
	y, err := g.Apply(tc.op, xs, attrs)
	require.NoError(t, err)
	wshape := y.Type.Shape
	wvals := make([]float64, wshape.NumElements(nil))
	for i := range wvals {
		wvals[i] = r.Float64()*2 - 1
	}
	w := g.MustApply("const", nil, ir.Attrs{"dtype": ir.F64, "shape": wshape, "values": wvals})
	loss := g.MustApply("sum", []*ir.Node{g.MustApply("mul", []*ir.Node{y, w}, nil)}, nil)
	grads, err := Gradients(g, loss, xs)
	require.NoError(t, err)

	it, err := NewInterpreter(g)
	require.NoError(t, err)
	for _, x := range xs {
		for i := range it.State[x].Data {
			it.State[x].Data[i] = gen(r)
		}
	}
	got, err := it.Run(nil, grads...)
	require.NoError(t, err)

	lossAt := func() float64 {
		out, err := it.Run(nil, loss)
		require.NoError(t, err)
		return out[0].Data[0]
	}
	const h = 1e-6
	for k, x := range xs {
		data := it.State[x].Data
		require.Equal(t, x.Type.Shape.Eval(nil), got[k].Shape, "gradient of x%d has the wrong shape", k)
		for i := range data {
			orig := data[i]
			data[i] = orig + h
			lp := lossAt()
			data[i] = orig - h
			lm := lossAt()
			data[i] = orig
			fd := (lp - lm) / (2 * h)
			an := got[k].Data[i]
			tol := 1e-6 * math.Max(1, math.Abs(fd))
			require.InDelta(t, fd, an, tol, "d loss / d x%d[%d]: finite difference %g, autodiff %g", k, i, fd, an)
		}
	}
}
