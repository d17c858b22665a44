package ir

import (
	"fmt"
	"math"
)

// Neural-network building blocks: softmax and log_softmax over the last
// axis.

var softmaxAttrs = []AttrSpec{{Name: "axis", Kind: IntArg, Default: -1, Doc: "the axis to normalize; only the last axis is supported"}}

func init() {
	Register(&OpDef{
		Name: "softmax", Summary: "e^x / sum(e^x) over the last axis, computed stably",
		DTypes: floatDTypes,
		Inputs: []string{"x"}, Attrs: softmaxAttrs,
		Examples: []Example{
			{Shapes: [][]int{{3, 5}}},
			{Shapes: [][]int{{2, 2, 3}}},
			{Shapes: [][]int{{6}}},
		},
		Infer: inferSoftmax,
		Grad: func(g *Graph, n *Node, dy *Node) []*Node {
			// y * (dy - sum(dy * y, last axis, keep_dims))
			dyy := g.MustApply("mul", []*Node{dy, n}, nil)
			s := g.MustApply("sum", []*Node{dyy}, Attrs{"axes": []int{-1}, "keep_dims": true})
			return []*Node{g.MustApply("mul", []*Node{n, g.MustApply("sub", []*Node{dy, s}, nil)}, nil)}
		},
		Cost: elementwiseCost(12),
		Eval: func(n *Node, in []*Tensor, _ Binding) (*Tensor, error) {
			return evalSoftmax(n, in[0], false), nil
		},
	})
	Register(&OpDef{
		Name: "log_softmax", Summary: "log(softmax(x)) over the last axis, computed stably as x - max - log(sum(e^(x-max)))",
		DTypes: floatDTypes,
		Inputs: []string{"x"}, Attrs: softmaxAttrs,
		Examples: []Example{
			{Shapes: [][]int{{3, 5}}},
			{Shapes: [][]int{{4}}},
		},
		Infer: inferSoftmax,
		Grad: func(g *Graph, n *Node, dy *Node) []*Node {
			// dy - exp(y) * sum(dy, last axis, keep_dims)
			s := g.MustApply("sum", []*Node{dy}, Attrs{"axes": []int{-1}, "keep_dims": true})
			p := g.MustApply("exp", []*Node{n}, nil)
			return []*Node{g.MustApply("sub", []*Node{dy, g.MustApply("mul", []*Node{p, s}, nil)}, nil)}
		},
		Cost: elementwiseCost(12),
		Eval: func(n *Node, in []*Tensor, _ Binding) (*Tensor, error) {
			return evalSoftmax(n, in[0], true), nil
		},
	})
}

func inferSoftmax(n *Node) (Type, error) {
	x := n.Inputs[0].Type
	if !x.DType.IsFloat() {
		return Type{}, fmt.Errorf("%s needs a floating-point operand, got %s", n.Op.Name, x)
	}
	if x.Shape.Rank() == 0 {
		return Type{}, fmt.Errorf("%s needs at least one axis, got the scalar %s", n.Op.Name, x)
	}
	axis := n.Attrs.Int("axis", -1)
	if axis != -1 && axis != x.Shape.Rank()-1 {
		return Type{}, fmt.Errorf("%s over axis %d of %s: only the last axis is supported", n.Op.Name, axis, x)
	}
	n.Attrs["axis"] = -1
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

func evalSoftmax(n *Node, x *Tensor, logOut bool) *Tensor {
	out := NewTensor(n.Type.DType, x.Shape)
	cols := x.Shape[len(x.Shape)-1]
	if cols == 0 {
		return out
	}
	for r := 0; r < len(x.Data)/cols; r++ {
		row := x.Data[r*cols : (r+1)*cols]
		lse := logSumExp(row)
		for j, v := range row {
			if logOut {
				out.Data[r*cols+j] = v - lse
			} else {
				out.Data[r*cols+j] = math.Exp(v - lse)
			}
		}
	}
	return out.Round()
}
