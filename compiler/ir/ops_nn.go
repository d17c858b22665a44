package ir

import (
	"fmt"
	"math"
)

// Neural-network building blocks: softmax and log_softmax over one axis
// (the last by default), as TensorFlow's tf.nn.softmax(logits, axis).

var softmaxAttrs = []AttrSpec{{Name: "axis", Kind: IntArg, Default: -1, Doc: "the axis to normalize (negative counts from the end)"}}

func init() {
	Register(&OpDef{
		Name:       "softmax",
		Kernel:     RowKernel,
		BatchLocal: true, AlongAxis: true, Summary: "e^x / sum(e^x) over axis (the last by default), computed stably",
		DTypes: floatDTypes,
		Inputs: []string{"x"}, Attrs: softmaxAttrs,
		Examples: []Example{
			{Shapes: [][]int{{3, 5}}},
			{Shapes: [][]int{{2, 2, 3}}},
			{Shapes: [][]int{{6}}},
			{Shapes: [][]int{{4, 3}}, Attrs: Attrs{"axis": 0}},
			{Shapes: [][]int{{2, 3, 4}}, Attrs: Attrs{"axis": 1}},
			{Shapes: [][]int{{2, 3, 4}}, Attrs: Attrs{"axis": -3}},
			{Shapes: [][]int{{3, 1}}, Attrs: Attrs{"axis": -2}},
		},
		Infer: inferSoftmax,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			// y * (dy - sum(dy * y, axis, keep_dims))
			dyy := g.MustApply(Mul, []*Node{dy, n}, nil)
			s := g.MustApply(Sum, []*Node{dyy}, Attrs{"axes": []int{SoftmaxAxis(n)}, "keep_dims": true})
			return []*Node{g.MustApply(Mul, []*Node{n, g.MustApply(Sub, []*Node{dy, s}, nil)}, nil)}
		},
		Cost: elementwiseCost(12),
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			return evalSoftmax(n, in[0], false), nil
		},
	})
	Register(&OpDef{
		Name:       "log_softmax",
		Kernel:     RowKernel,
		BatchLocal: true, AlongAxis: true, Summary: "log(softmax(x)) over axis (the last by default), computed stably as x - max - log(sum(e^(x-max)))",
		DTypes: floatDTypes,
		Inputs: []string{"x"}, Attrs: softmaxAttrs,
		Examples: []Example{
			{Shapes: [][]int{{3, 5}}},
			{Shapes: [][]int{{4}}},
			{Shapes: [][]int{{3, 4}}, Attrs: Attrs{"axis": 0}},
			{Shapes: [][]int{{2, 3, 2}}, Attrs: Attrs{"axis": -2}},
		},
		Infer: inferSoftmax,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			// dy - exp(y) * sum(dy, axis, keep_dims)
			s := g.MustApply(Sum, []*Node{dy}, Attrs{"axes": []int{SoftmaxAxis(n)}, "keep_dims": true})
			p := g.MustApply(Exp, []*Node{n}, nil)
			return []*Node{g.MustApply(Sub, []*Node{dy, g.MustApply(Mul, []*Node{p, s}, nil)}, nil)}
		},
		Cost: elementwiseCost(12),
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			return evalSoftmax(n, in[0], true), nil
		},
	})
}

// inferSoftmax is the type rule of softmax and log_softmax. It keeps the
// axis as -1 when it is the last (the runtime's row kernels' case, and
// the form IR dumps have always shown), else as its index.
func inferSoftmax(n *Node) (Type, error) {
	x := n.Inputs[0].Type
	if !x.DType.IsFloat() {
		return Type{}, fmt.Errorf("%s needs a floating-point operand, got %s", n.Op.Name, x)
	}
	r := x.Shape.Rank()
	if r == 0 {
		return Type{}, fmt.Errorf("%s needs at least one axis, got the scalar %s", n.Op.Name, x)
	}
	axis := n.Attrs.Int("axis", -1)
	if axis < -r || axis >= r {
		return Type{}, fmt.Errorf("%s over axis %d of %s: the axis is out of range %d..%d", n.Op.Name, axis, x, -r, r-1)
	}
	if axis < 0 {
		axis += r
	}
	if axis == r-1 {
		axis = -1
	}
	n.Attrs["axis"] = axis
	return x, nil
}

// SoftmaxAxis returns the axis a softmax or log_softmax node normalizes,
// in 0..rank-1 (its attribute keeps -1 for the last axis).
func SoftmaxAxis(n *Node) int {
	axis := n.Attrs.Int("axis", -1)
	if axis < 0 {
		axis += n.Type.Shape.Rank()
	}
	return axis
}

// evalSoftmax normalizes x over the node's axis: each group of elements
// along it (outer × inner groups, stride inner) independently.
func evalSoftmax(n *Node, x *Tensor, logOut bool) *Tensor {
	out := NewTensor(n.Type.DType, x.Shape)
	outer, size, inner := splitAxis(x.Shape, SoftmaxAxis(n))
	group := make([]float64, size)
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			at := o*size*inner + i
			for k := range group {
				group[k] = x.Data[at+k*inner]
			}
			lse := logSumExp(group)
			for k, v := range group {
				if logOut {
					out.Data[at+k*inner] = v - lse
				} else {
					out.Data[at+k*inner] = math.Exp(v - lse)
				}
			}
		}
	}
	return out.Round()
}
