package ir

import "math"

// Element-wise functions: exp, log, sqrt, square, relu, sigmoid (and
// relu's gradient).

func init() {
	Register(&OpDef{
		Name: "exp", Summary: "element-wise e^x",
		DTypes: floatDTypes,
		Inputs: []string{"x"}, Elementwise: true,
		Examples: []Example{
			{Shapes: [][]int{{2, 5}}},
			{Shapes: [][]int{{7}}},
		},
		Infer: inferUnaryFloat,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			return []*Node{g.MustApply(Mul, []*Node{dy, n}, nil)}
		},
		Cost: elementwiseCost(8),
		Eval: unaryEval(math.Exp),
	})
	Register(&OpDef{
		Name: "log", Summary: "element-wise natural logarithm",
		DTypes: floatDTypes,
		Inputs: []string{"x"}, Elementwise: true,
		Examples: []Example{
			{Shapes: [][]int{{2, 5}}, Domain: Positive},
			{Shapes: [][]int{{1}}, Domain: Positive},
		},
		Infer: inferUnaryFloat,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			return []*Node{g.MustApply(Div, []*Node{dy, n.Inputs[0]}, nil)}
		},
		Cost: elementwiseCost(8),
		Eval: unaryEval(math.Log),
	})
	Register(&OpDef{
		Name: "relu", Summary: "element-wise max(x, 0)",
		DTypes: numericDTypes,
		Inputs: []string{"x"}, Elementwise: true,
		Examples: []Example{
			{Shapes: [][]int{{4, 5}}, Domain: NonZero},
			{Shapes: [][]int{{3}}, Domain: NonZero},
		},
		Infer: inferUnaryNumeric,
		// The gradient reads relu's output, positive exactly where its
		// input is: the input need not be kept for the backward pass,
		// and codegen can compute relu(x @ W + b) in one GEMM.
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			return []*Node{g.MustApply(ReluGrad, []*Node{dy, n}, nil)}
		},
		Cost: elementwiseCost(1),
		Eval: unaryEval(func(x float64) float64 {
			if x > 0 {
				return x
			}
			return 0
		}),
	})
	Register(&OpDef{
		Name: "relu_grad", Summary: "dy where x > 0, else 0: the gradient of relu (x is relu's input or, equivalently, its output)",
		Inputs: []string{"dy", "x"}, Elementwise: true, Internal: true,
		Infer: inferBroadcast,
		Cost:  elementwiseCost(1),
		Eval: binaryEval(func(dy, x float64) float64 {
			if x > 0 {
				return dy
			}
			return 0
		}),
	})
	Register(&OpDef{
		Name: "sqrt", Summary: "element-wise square root",
		DTypes: floatDTypes,
		Inputs: []string{"x"}, Elementwise: true,
		Examples: []Example{
			{Shapes: [][]int{{3, 4}}, Domain: Positive},
			{Shapes: [][]int{{}}, Domain: Positive},
		},
		Infer: inferUnaryFloat,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			// dy / (2 * sqrt(x))
			two := g.Const(n.Type.DType, 2)
			return []*Node{g.MustApply(Div, []*Node{dy, g.MustApply(Mul, []*Node{two, n}, nil)}, nil)}
		},
		Cost: elementwiseCost(4),
		Eval: unaryEval(math.Sqrt),
	})
	Register(&OpDef{
		Name: "square", Summary: "element-wise x * x",
		DTypes: numericDTypes,
		Inputs: []string{"x"}, Elementwise: true,
		Examples: []Example{
			{Shapes: [][]int{{2, 3}}},
			{Shapes: [][]int{{5}}},
		},
		Infer: inferUnaryNumeric,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			// 2 * x * dy
			two := g.Const(n.Type.DType, 2)
			return []*Node{g.MustApply(Mul, []*Node{dy, g.MustApply(Mul, []*Node{two, n.Inputs[0]}, nil)}, nil)}
		},
		Cost: elementwiseCost(1),
		Eval: unaryEval(func(x float64) float64 { return x * x }),
	})
	Register(&OpDef{
		Name: "sigmoid", Summary: "element-wise 1 / (1 + e^-x)",
		DTypes: floatDTypes,
		Inputs: []string{"x"}, Elementwise: true,
		Examples: []Example{
			{Shapes: [][]int{{3, 4}}},
			{Shapes: [][]int{{1, 1}}},
		},
		Infer: inferUnaryFloat,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			// dy * y * (1 - y)
			one := g.Const(n.Type.DType, 1)
			omy := g.MustApply(Sub, []*Node{one, n}, nil)
			return []*Node{g.MustApply(Mul, []*Node{dy, g.MustApply(Mul, []*Node{n, omy}, nil)}, nil)}
		},
		Cost: elementwiseCost(10),
		Eval: unaryEval(sigmoid),
	})
}
