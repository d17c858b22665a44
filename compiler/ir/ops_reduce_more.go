package ir

import (
	"math"
	"slices"
)

// The max, min and prod reductions (same axes and keep_dims as sum and
// mean), and the internal ops their gradients use (equal_mask, zero_mask,
// prod_grad).

func init() {
	Register(&OpDef{
		Name: "max", Summary: "largest element over axes (all by default); NaN if any is NaN",
		Reduction: true,
		DTypes:    numericDTypes,
		Inputs:    []string{"x"}, Attrs: reduceAttrs,
		Examples: extremumExamples,
		Infer:    inferReduce,
		Grad:     extremumGrad,
		Cost:     reduceCost,
		Eval:     foldEval(math.Inf(-1), maximum),
	})
	Register(&OpDef{
		Name: "min", Summary: "smallest element over axes (all by default); NaN if any is NaN",
		Reduction: true,
		DTypes:    numericDTypes,
		Inputs:    []string{"x"}, Attrs: reduceAttrs,
		Examples: extremumExamples,
		Infer:    inferReduce,
		Grad:     extremumGrad,
		Cost:     reduceCost,
		Eval:     foldEval(math.Inf(1), minimum),
	})
	Register(&OpDef{
		Name: "prod", Summary: "product of the elements over axes (all by default)",
		Reduction: true,
		DTypes:    numericDTypes,
		Inputs:    []string{"x"}, Attrs: reduceAttrs,
		Examples: []Example{
			{Shapes: [][]int{{3, 4}}},
			{Shapes: [][]int{{3, 4}}, Attrs: Attrs{"axes": []int{1}}},
			{Shapes: [][]int{{2, 3, 5}}, Attrs: Attrs{"axes": []int{0, 2}, "keep_dims": true}},
			{Shapes: [][]int{{2, 3, 4}}, Attrs: Attrs{"axes": []int{-2}}},
			{Shapes: [][]int{{1, 7}}, Attrs: Attrs{"axes": []int{0}}},
			{Shapes: [][]int{{}}},
		},
		Infer: inferReduce,
		Grad:  prodGrad,
		Cost:  reduceCost,
		Eval:  foldEval(1, func(acc, v float64) float64 { return acc * v }),
	})
	Register(&OpDef{
		Name: "equal_mask", Summary: "1 where a == b, else 0, in a's dtype: marks the elements max and min picked",
		Inputs: []string{"a", "b"}, Elementwise: true, Internal: true,
		Infer: inferBroadcast,
		Cost:  elementwiseCost(1),
		Eval: binaryEval(func(a, b float64) float64 {
			if a == b {
				return 1
			}
			return 0
		}),
	})
	Register(&OpDef{
		Name: "zero_mask", Summary: "1 where x == 0, else 0: marks the zeros of a product",
		Inputs: []string{"x"}, Elementwise: true, Internal: true,
		Infer: inferUnaryNumeric,
		Cost:  elementwiseCost(1),
		Eval: unaryEval(func(x float64) float64 {
			if x == 0 {
				return 1
			}
			return 0
		}),
	})
	Register(&OpDef{
		Name: "prod_grad", Summary: "the gradient of prod: dy * p / x where z = 0, dy * p where z = 1 and x = 0, else 0 (p: product of the nonzero elements, z: number of zeros)",
		Inputs: []string{"x", "p", "z", "dy"}, Elementwise: true, Internal: true,
		Infer: inferBroadcastAll,
		Cost:  elementwiseCost(2),
		Eval: naryEval(func(v []float64) float64 {
			x, p, z, dy := v[0], v[1], v[2], v[3]
			switch {
			case z == 0:
				return dy * (p / x)
			case z == 1 && x == 0:
				return dy * p
			}
			return 0
		}),
	})
}

// extremumExamples are the test shapes of max and min; random operands
// make ties (where the gradient splits) improbable.
var extremumExamples = []Example{
	{Shapes: [][]int{{3, 4}}},
	{Shapes: [][]int{{3, 4}}, Attrs: Attrs{"axes": []int{1}}},
	{Shapes: [][]int{{2, 3, 4}}, Attrs: Attrs{"axes": []int{0, 2}, "keep_dims": true}},
	{Shapes: [][]int{{2, 3, 5}}, Attrs: Attrs{"axes": []int{-1}}},
	{Shapes: [][]int{{7, 1}}, Attrs: Attrs{"axes": []int{1}, "keep_dims": true}},
	{Shapes: [][]int{{1, 1}}, Attrs: Attrs{"axes": []int{0}}},
	{Shapes: [][]int{{5}}},
}

// withKeptDims returns v, a value of n's reduced shape, with the reduced
// axes present as size 1 (keep_dims = true), so that it broadcasts
// against n's operand.
func withKeptDims(g *Module, n *Node, v *Node) *Node {
	axes := n.Attrs.Ints("axes")
	if n.Attrs.Bool("keep_dims") || len(axes) == 0 {
		return v
	}
	kept := reducedShape(n.Inputs[0].Type.Shape, axes, true)
	return g.MustApply(BroadcastTo, []*Node{v}, Attrs{"shape": kept, "axes": axes})
}

// extremumGrad is the gradient of max and min: dy flows to the elements
// equal to the result, shared equally where several tie.
func extremumGrad(cx *GradContext, n *Node, dys []*Node) []*Node {
	g, dy := cx.Module, dys[0]
	x := n.Inputs[0]
	mask := g.MustApply(EqualMask, []*Node{x, withKeptDims(g, n, n)}, nil)
	ties := g.MustApply(Sum, []*Node{mask}, Attrs{"axes": n.Attrs.Ints("axes"), "keep_dims": true})
	share := g.MustApply(Div, []*Node{withKeptDims(g, n, dy), ties}, nil)
	return []*Node{g.MustApply(Mul, []*Node{mask, share}, nil)}
}

// prodGrad is the gradient of prod: the product of the other elements,
// computed from the product of the nonzero elements and the number of
// zeros so that no zero is divided by.
func prodGrad(cx *GradContext, n *Node, dys []*Node) []*Node {
	g, dy := cx.Module, dys[0]
	x := n.Inputs[0]
	axes := n.Attrs.Ints("axes")
	zeros := g.MustApply(ZeroMask, []*Node{x}, nil)
	// x with its zeros replaced by ones.
	nonzero := g.MustApply(Add, []*Node{x, zeros}, nil)
	p := g.MustApply(Prod, []*Node{nonzero}, Attrs{"axes": axes, "keep_dims": true})
	z := g.MustApply(Sum, []*Node{zeros}, Attrs{"axes": axes, "keep_dims": true})
	return []*Node{g.MustApply(ProdGrad, []*Node{x, p, z, withKeptDims(g, n, dy)}, nil)}
}

// foldEval builds the reference evaluation of a reduction that folds the
// elements of every reduced group, in row-major order, into init with f.
func foldEval(init float64, f func(acc, v float64) float64) func(*Node, []*Tensor, *Context) (*Tensor, error) {
	return func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
		x := in[0]
		axes := n.Attrs.Ints("axes")
		// Fold into the kept-dims layout, which has the same element order
		// as the squeezed one.
		kept := make([]int, len(x.Shape))
		var outShape []int
		for i, d := range x.Shape {
			kept[i] = d
			if slices.Contains(axes, i) {
				kept[i] = 1
				if !n.Attrs.Bool("keep_dims") {
					continue
				}
			}
			outShape = append(outShape, kept[i])
		}
		out := NewTensor(n.Type.DType, outShape)
		for i := range out.Data {
			out.Data[i] = init
		}
		xs, ks := strides(x.Shape), strides(kept)
		for i, v := range x.Data {
			j := broadcastIndex(i, x.Shape, xs, kept, ks)
			out.Data[j] = f(out.Data[j], v)
		}
		return out.Round(), nil
	}
}
