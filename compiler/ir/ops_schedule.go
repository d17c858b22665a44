package ir

import "math"

// Element-wise functions that learning-rate schedules are written with:
// floor (step decay), cos (cosine decay) and sin (the gradient of cos).
// They are ordinary public ops, callable from source.

func init() {
	Register(&OpDef{
		Name: "floor", Summary: "element-wise largest integer not above x (no gradient: it is piecewise constant)",
		DTypes: floatDTypes,
		Inputs: []string{"x"}, Elementwise: true,
		Examples: []Example{
			{Shapes: [][]int{{3, 4}}},
			{Shapes: [][]int{{}}},
		},
		Infer: inferUnaryFloat,
		Cost:  elementwiseCost(1),
		Eval:  unaryEval(math.Floor),
	})
	Register(&OpDef{
		Name: "cos", Summary: "element-wise cosine (x in radians)",
		DTypes: floatDTypes,
		Inputs: []string{"x"}, Elementwise: true,
		Examples: []Example{
			{Shapes: [][]int{{2, 5}}},
			{Shapes: [][]int{{}}},
		},
		Infer: inferUnaryFloat,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			// -dy * sin(x)
			s := g.MustApply(Sin, []*Node{n.Inputs[0]}, nil)
			return []*Node{g.MustApply(Neg, []*Node{g.MustApply(Mul, []*Node{dy, s}, nil)}, nil)}
		},
		Cost: elementwiseCost(8),
		Eval: unaryEval(math.Cos),
	})
	Register(&OpDef{
		Name: "sin", Summary: "element-wise sine (x in radians)",
		DTypes: floatDTypes,
		Inputs: []string{"x"}, Elementwise: true,
		Examples: []Example{
			{Shapes: [][]int{{3, 2}}},
			{Shapes: [][]int{{1}}},
		},
		Infer: inferUnaryFloat,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			// dy * cos(x)
			c := g.MustApply(Cos, []*Node{n.Inputs[0]}, nil)
			return []*Node{g.MustApply(Mul, []*Node{dy, c}, nil)}
		},
		Cost: elementwiseCost(8),
		Eval: unaryEval(math.Sin),
	})
}
