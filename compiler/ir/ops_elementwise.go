package ir

import (
	"fmt"
	"math"
)

// More element-wise math: abs, rsqrt, tanh, leaky_relu, pow, maximum and
// minimum, and the internal ops their gradients use (abs_grad,
// leaky_relu_grad, pow_grad_b, pick_grad).

var alphaAttr = AttrSpec{Name: "alpha", Kind: FloatArg, Default: 0.2, Doc: "the slope for x <= 0"}

func init() {
	Register(&OpDef{
		Name: "abs", Summary: "element-wise |x|",
		DTypes: numericDTypes,
		Inputs: []string{"x"}, Elementwise: true,
		Examples: []Example{
			{Shapes: [][]int{{3, 4}}, Domain: NonZero},
			{Shapes: [][]int{{7}}, Domain: NonZero},
			{Shapes: [][]int{{}}, Domain: NonZero},
			{Shapes: [][]int{{2, 1, 5}}, Domain: NonZero},
		},
		Infer: inferUnaryNumeric,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			return []*Node{g.MustApply(AbsGrad, []*Node{dy, n.Inputs[0]}, nil)}
		},
		Cost: elementwiseCost(1),
		Eval: unaryEval(math.Abs),
	})
	Register(&OpDef{
		Name: "abs_grad", Summary: "dy where x > 0, -dy where x < 0, else 0: the gradient of abs",
		Inputs: []string{"dy", "x"}, Elementwise: true, Internal: true,
		Infer: inferBroadcast,
		Cost:  elementwiseCost(1),
		Eval: binaryEval(func(dy, x float64) float64 {
			switch {
			case x > 0:
				return dy
			case x < 0:
				return -dy
			}
			return 0
		}),
	})
	Register(&OpDef{
		Name: "rsqrt", Summary: "element-wise 1 / sqrt(x)",
		DTypes: floatDTypes,
		Inputs: []string{"x"}, Elementwise: true,
		Examples: []Example{
			{Shapes: [][]int{{3, 4}}, Domain: Positive},
			{Shapes: [][]int{{5}}, Domain: Positive},
			{Shapes: [][]int{{}}, Domain: Positive},
		},
		Infer: inferUnaryFloat,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			// d x^(-1/2) = -1/2 x^(-3/2) = -y³/2, without dividing by x.
			half := g.Const(n.Type.DType, -0.5)
			y3 := g.MustApply(Mul, []*Node{n, g.MustApply(Mul, []*Node{n, n}, nil)}, nil)
			return []*Node{g.MustApply(Mul, []*Node{dy, g.MustApply(Mul, []*Node{half, y3}, nil)}, nil)}
		},
		Cost: elementwiseCost(5),
		Eval: unaryEval(func(x float64) float64 { return 1 / math.Sqrt(x) }),
	})
	Register(&OpDef{
		Name: "tanh", Summary: "element-wise hyperbolic tangent",
		DTypes: floatDTypes,
		Inputs: []string{"x"}, Elementwise: true,
		Examples: []Example{
			{Shapes: [][]int{{2, 3}}},
			{Shapes: [][]int{{9}}},
			{Shapes: [][]int{{1, 1}}},
		},
		Infer: inferUnaryFloat,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			// dy * (1 - y²)
			one := g.Const(n.Type.DType, 1)
			d := g.MustApply(Sub, []*Node{one, g.MustApply(Mul, []*Node{n, n}, nil)}, nil)
			return []*Node{g.MustApply(Mul, []*Node{dy, d}, nil)}
		},
		Cost: elementwiseCost(10),
		Eval: unaryEval(math.Tanh),
	})
	Register(&OpDef{
		Name: "leaky_relu", Summary: "element-wise x where x > 0, else alpha * x",
		DTypes: floatDTypes,
		Inputs: []string{"x"}, Attrs: []AttrSpec{alphaAttr}, Elementwise: true,
		Examples: []Example{
			{Shapes: [][]int{{3, 4}}, Domain: NonZero},
			{Shapes: [][]int{{5}}, Attrs: Attrs{"alpha": 0.01}, Domain: NonZero},
			{Shapes: [][]int{{2, 3, 1}}, Attrs: Attrs{"alpha": 0.5}, Domain: NonZero},
			{Shapes: [][]int{{}}, Domain: NonZero},
		},
		Infer: inferLeakyRelu,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			return []*Node{g.MustApply(LeakyReluGrad, []*Node{dy, n.Inputs[0]}, Attrs{"alpha": n.Attrs.Float("alpha", 0)})}
		},
		Cost: elementwiseCost(2),
		Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
			alpha := n.Attrs.Float("alpha", 0)
			return unaryEval(func(x float64) float64 {
				if x > 0 {
					return x
				}
				return alpha * x
			})(n, in, cx)
		},
	})
	Register(&OpDef{
		Name: "leaky_relu_grad", Summary: "dy where x > 0, else alpha * dy: the gradient of leaky_relu",
		Inputs: []string{"dy", "x"}, Attrs: []AttrSpec{alphaAttr}, Elementwise: true, Internal: true,
		Infer: func(n *Node) (Type, error) {
			if err := normAlpha(n); err != nil {
				return Type{}, err
			}
			return inferBroadcast(n)
		},
		Cost: elementwiseCost(2),
		Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
			alpha := n.Attrs.Float("alpha", 0)
			return binaryEval(func(dy, x float64) float64 {
				if x > 0 {
					return dy
				}
				return alpha * dy
			})(n, in, cx)
		},
	})
	Register(&OpDef{
		Name: "pow", Summary: "element-wise a^b with broadcasting",
		DTypes: floatDTypes,
		Inputs: []string{"a", "b"}, Elementwise: true,
		Examples: []Example{
			{Shapes: [][]int{{2, 3}, {2, 3}}, Domain: Positive},
			{Shapes: [][]int{{3, 5}, {}}, Domain: Positive},
			{Shapes: [][]int{{}, {4}}, Domain: Positive},
			{Shapes: [][]int{{2, 1, 3}, {4, 1}}, Domain: Positive},
			{Shapes: [][]int{{1}, {7}}, Domain: Positive},
		},
		Infer: func(n *Node) (Type, error) {
			t, err := inferBroadcast(n)
			if err == nil && !t.DType.IsFloat() {
				return Type{}, fmt.Errorf("pow needs floating-point operands, got %s", n.Inputs[0].Type)
			}
			return t, err
		},
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			a, b := n.Inputs[0], n.Inputs[1]
			grads := make([]*Node, 2)
			// Constant operands (pow(x, 2), pow(2, x)) need no gradient.
			if a.Op != Const {
				// dy * b * a^(b-1): finite at a = 0 for b >= 1.
				bm1 := g.MustApply(Sub, []*Node{b, g.Const(n.Type.DType, 1)}, nil)
				pa := g.MustApply(Pow, []*Node{a, bm1}, nil)
				da := g.MustApply(Mul, []*Node{dy, g.MustApply(Mul, []*Node{b, pa}, nil)}, nil)
				grads[0] = sumTo(g, da, a.Type.Shape)
			}
			if b.Op != Const {
				// dy * y * log(a), taken as 0 where a <= 0.
				dyy := g.MustApply(Mul, []*Node{dy, n}, nil)
				grads[1] = sumTo(g, g.MustApply(PowGradB, []*Node{dyy, a}, nil), b.Type.Shape)
			}
			return grads
		},
		Cost: elementwiseCost(20),
		Eval: binaryEval(math.Pow),
	})
	Register(&OpDef{
		Name: "pow_grad_b", Summary: "g * log(a) where a > 0, else 0: the gradient of pow(a, b) with respect to b, given g = dy * a^b",
		Inputs: []string{"g", "a"}, Elementwise: true, Internal: true,
		Infer: inferBroadcast,
		Cost:  elementwiseCost(9),
		Eval: binaryEval(func(g, a float64) float64 {
			if a > 0 {
				return g * math.Log(a)
			}
			return 0
		}),
	})
	Register(&OpDef{
		Name: "maximum", Summary: "element-wise larger of a and b with broadcasting (NaN if either is NaN); where they tie, the gradient is split (ties = \"split\") or goes to a (\"first\", TensorFlow's rule)",
		Commutative: true,
		DTypes:      numericDTypes,
		Inputs:      []string{"a", "b"}, Elementwise: true,
		Attrs:    []AttrSpec{tiesAttr},
		Examples: minMaxExamples,
		Infer:    inferMinMax,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			return pickGrads(g, n, dy, false)
		},
		Cost: elementwiseCost(1),
		Eval: binaryEval(maximum),
	})
	Register(&OpDef{
		Name: "minimum", Summary: "element-wise smaller of a and b with broadcasting (NaN if either is NaN); where they tie, the gradient is split (ties = \"split\") or goes to a (\"first\", TensorFlow's rule)",
		Commutative: true,
		DTypes:      numericDTypes,
		Inputs:      []string{"a", "b"}, Elementwise: true,
		Attrs:    []AttrSpec{tiesAttr},
		Examples: minMaxExamples,
		Infer:    inferMinMax,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			return pickGrads(g, n, dy, true)
		},
		Cost: elementwiseCost(1),
		Eval: binaryEval(minimum),
	})
	Register(&OpDef{
		Name: "pick_grad", Summary: "dy where a > b, tie * dy where a == b, else 0: the gradient of maximum and minimum",
		Inputs: []string{"dy", "a", "b"}, Elementwise: true, Internal: true,
		Attrs: []AttrSpec{{Name: "tie", Kind: FloatArg, Default: 0.5, Doc: "the share of dy where a == b: 0.5 (split), 1 or 0 (TensorFlow's rule, for the first operand and the second)"}},
		Infer: func(n *Node) (Type, error) {
			if t := n.Attrs.Float("tie", 0.5); t != 0 && t != 0.5 && t != 1 {
				return Type{}, fmt.Errorf("pick_grad: tie %g is not 0, 0.5 or 1", t)
			}
			return inferBroadcastAll(n)
		},
		Cost: elementwiseCost(1),
		Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
			tie := n.Attrs.Float("tie", 0.5)
			return naryEval(func(v []float64) float64 {
				dy, a, b := v[0], v[1], v[2]
				switch {
				case a > b:
					return dy
				case a == b:
					return tie * dy
				}
				return 0
			})(n, in, cx)
		},
	})
}

// tiesAttr is the attribute of maximum and minimum that chooses where
// the gradient goes where the operands tie.
var tiesAttr = AttrSpec{Name: "ties", Kind: StringArg, Default: "split", Doc: `where a == b, the gradient goes half to each operand ("split") or all to a ("first", as TensorFlow)`}

// minMaxExamples are the test shapes of maximum and minimum; random
// operands make ties (where the gradient splits) improbable, so both
// rules are checked against finite differences away from ties.
var minMaxExamples = []Example{
	{Shapes: [][]int{{3, 4}, {3, 4}}},
	{Shapes: [][]int{{2, 3}, {3}}},
	{Shapes: [][]int{{3, 1}, {1, 5}}},
	{Shapes: [][]int{{}, {5}}},
	{Shapes: [][]int{{1}, {1}}},
	{Shapes: [][]int{{3, 4}, {3, 4}}, Attrs: Attrs{"ties": "first"}},
	{Shapes: [][]int{{2, 3}, {2, 1}}, Attrs: Attrs{"ties": "first"}},
}

// inferMinMax is the type rule of maximum and minimum: broadcasting
// arithmetic, and a ties rule of "split" or "first".
func inferMinMax(n *Node) (Type, error) {
	if t := n.Attrs.String("ties", "split"); t != "split" && t != "first" {
		return Type{}, fmt.Errorf("%s: ties must be \"split\" or \"first\", got %q", n.Op.Name, t)
	}
	return inferBroadcast(n)
}

// pickGrads returns the gradients of maximum (smaller false) or minimum
// (smaller true) node n for its operands a and b: each operand gets dy
// where it was picked; where they tie, each gets half of dy (ties =
// "split"), or a gets all of it (ties = "first", TensorFlow's rule: its
// gradient of maximum is dy where a >= b). Either way the two gradients
// sum to dy. Constant operands (maximum(x, 0)) get none.
func pickGrads(g *Module, n *Node, dy *Node, smaller bool) []*Node {
	a, b := n.Inputs[0], n.Inputs[1]
	tieA, tieB := 0.5, 0.5
	if n.Attrs.String("ties", "split") == "first" {
		tieA, tieB = 1, 0
	}
	pick := func(self, other *Node, tie float64) *Node {
		if smaller {
			self, other = other, self
		}
		return g.MustApply(PickGrad, []*Node{dy, self, other}, Attrs{"tie": tie})
	}
	grads := make([]*Node, 2)
	if a.Op != Const {
		grads[0] = sumTo(g, pick(a, b, tieA), a.Type.Shape)
	}
	if b.Op != Const {
		grads[1] = sumTo(g, pick(b, a, tieB), b.Type.Shape)
	}
	return grads
}

// maximum is the larger of a and b, NaN when either is NaN.
func maximum(a, b float64) float64 {
	if a > b || a != a {
		return a
	}
	return b
}

// minimum is the smaller of a and b, NaN when either is NaN.
func minimum(a, b float64) float64 {
	if a < b || a != a {
		return a
	}
	return b
}

// normAlpha checks the alpha attribute of leaky_relu and its gradient,
// converting an integer to a number.
func normAlpha(n *Node) error {
	switch v := n.Attrs["alpha"].(type) {
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s needs a finite alpha, got %g", n.Op.Name, v)
		}
	case int:
		n.Attrs["alpha"] = float64(v)
	default:
		return fmt.Errorf("%s needs a number for alpha", n.Op.Name)
	}
	return nil
}

func inferLeakyRelu(n *Node) (Type, error) {
	if err := normAlpha(n); err != nil {
		return Type{}, err
	}
	return inferUnaryFloat(n)
}

// inferBroadcastAll is the type rule of element-wise ops with any number
// of operands: one non-bool dtype, shapes broadcast together.
func inferBroadcastAll(n *Node) (Type, error) {
	dt, err := sameDType(n, false)
	if err != nil {
		return Type{}, err
	}
	if dt == Bool {
		return Type{}, fmt.Errorf("%s needs numeric operands, got %s", n.Op.Name, n.Inputs[0].Type)
	}
	s := n.Inputs[0].Type.Shape
	for _, in := range n.Inputs[1:] {
		if s, err = Broadcast(s, in.Type.Shape); err != nil {
			return Type{}, fmt.Errorf("%s: operand shapes do not broadcast: %v", n.Op.Name, err)
		}
	}
	return Type{DType: dt, Shape: s}, nil
}

// naryEval builds a reference evaluation of a broadcasting element-wise
// op with any number of operands from a scalar function of their
// elements.
func naryEval(f func(v []float64) float64) func(*Node, []*Tensor, *Context) (*Tensor, error) {
	return func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
		shape := in[0].Shape
		for _, t := range in[1:] {
			var err error
			if shape, err = broadcastShape(shape, t.Shape); err != nil {
				return nil, err
			}
		}
		out := NewTensor(n.Type.DType, shape)
		os := strides(shape)
		ins := make([][]int, len(in))
		for k, t := range in {
			ins[k] = strides(t.Shape)
		}
		v := make([]float64, len(in))
		for i := range out.Data {
			for k, t := range in {
				v[k] = t.Data[broadcastIndex(i, shape, os, t.Shape, ins[k])]
			}
			out.Data[i] = f(v)
		}
		return out.Round(), nil
	}
}
