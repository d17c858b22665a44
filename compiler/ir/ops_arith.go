package ir

// Element-wise arithmetic with NumPy broadcasting: add, sub, mul, div, neg.

func init() {
	Register(&OpDef{
		Name: "add", Summary: "element-wise a + b with broadcasting (operator +)",
		Commutative: true,
		DTypes:      numericDTypes,
		Inputs:      []string{"a", "b"}, Elementwise: true,
		Examples: []Example{
			{Shapes: [][]int{{3, 4}, {3, 4}}},
			{Shapes: [][]int{{3, 4}, {4}}},
			{Shapes: [][]int{{3, 1}, {1, 5}}},
			{Shapes: [][]int{{}, {2, 3}}},
		},
		Infer: inferBroadcast,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			return []*Node{sumTo(g, dy, n.Inputs[0].Type.Shape), sumTo(g, dy, n.Inputs[1].Type.Shape)}
		},
		Cost: elementwiseCost(1),
		Eval: binaryEval(func(a, b float64) float64 { return a + b }),
	})
	Register(&OpDef{
		Name: "sub", Summary: "element-wise a - b with broadcasting (operator -)",
		DTypes: numericDTypes,
		Inputs: []string{"a", "b"}, Elementwise: true,
		Examples: []Example{
			{Shapes: [][]int{{2, 3}, {2, 3}}},
			{Shapes: [][]int{{4}, {2, 4}}},
			{Shapes: [][]int{{2, 1, 3}, {5, 1}}},
		},
		Infer: inferBroadcast,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			neg := g.MustApply(Neg, []*Node{dy}, nil)
			return []*Node{sumTo(g, dy, n.Inputs[0].Type.Shape), sumTo(g, neg, n.Inputs[1].Type.Shape)}
		},
		Cost: elementwiseCost(1),
		Eval: binaryEval(func(a, b float64) float64 { return a - b }),
	})
	Register(&OpDef{
		Name: "mul", Summary: "element-wise a * b with broadcasting (operator *)",
		Commutative: true,
		DTypes:      numericDTypes,
		Inputs:      []string{"a", "b"}, Elementwise: true,
		Examples: []Example{
			{Shapes: [][]int{{2, 3}, {2, 3}}},
			{Shapes: [][]int{{2, 3}, {1}}},
			{Shapes: [][]int{{3, 1}, {3, 4}}},
		},
		Infer: inferBroadcast,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			a, b := n.Inputs[0], n.Inputs[1]
			da := g.MustApply(Mul, []*Node{dy, b}, nil)
			db := g.MustApply(Mul, []*Node{dy, a}, nil)
			return []*Node{sumTo(g, da, a.Type.Shape), sumTo(g, db, b.Type.Shape)}
		},
		Cost: elementwiseCost(1),
		Eval: binaryEval(func(a, b float64) float64 { return a * b }),
	})
	Register(&OpDef{
		Name: "div", Summary: "element-wise a / b with broadcasting (operator /)",
		DTypes: numericDTypes,
		Inputs: []string{"a", "b"}, Elementwise: true,
		Examples: []Example{
			{Shapes: [][]int{{2, 3}, {2, 3}}, Domain: Positive},
			{Shapes: [][]int{{2, 3}, {3}}, Domain: Positive},
			{Shapes: [][]int{{}, {4}}, Domain: Positive},
		},
		Infer: inferBroadcast,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			a, b := n.Inputs[0], n.Inputs[1]
			da := g.MustApply(Div, []*Node{dy, b}, nil)
			// d(a/b)/db = -a/b² = -(a/b)/b = -y/b.
			yb := g.MustApply(Div, []*Node{n, b}, nil)
			db := g.MustApply(Neg, []*Node{g.MustApply(Mul, []*Node{dy, yb}, nil)}, nil)
			return []*Node{sumTo(g, da, a.Type.Shape), sumTo(g, db, b.Type.Shape)}
		},
		Cost: elementwiseCost(1),
		Eval: binaryEval(func(a, b float64) float64 { return a / b }),
	})
	Register(&OpDef{
		Name: "neg", Summary: "element-wise -x (unary operator -)",
		DTypes: numericDTypes,
		Inputs: []string{"x"}, Elementwise: true,
		Examples: []Example{
			{Shapes: [][]int{{3, 2}}},
			{Shapes: [][]int{{}}},
		},
		Infer: inferUnaryNumeric,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			return []*Node{g.MustApply(Neg, []*Node{dy}, nil)}
		},
		Cost: elementwiseCost(1),
		Eval: unaryEval(func(x float64) float64 { return -x }),
	})
}
