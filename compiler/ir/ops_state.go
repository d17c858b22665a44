package ir

import (
	"errors"
	"fmt"
)

// Graph leaves and state: input (placeholder), param (variable), const,
// and the updates a training step ends with: assign, assign_add and
// assign_sub. An update's first operand is the param it writes and its
// result is the param's new value; Module.Updates lists the update nodes,
// and a training step computes every update's result before it writes
// any param, so each update reads the values of the step.

func init() {
	Register(&OpDef{
		Name: "input", Summary: "a placeholder fed on every call (declared with `input`)",
		Pinned:   true,
		Internal: true,
		Infer:    inferDeclared,
		Cost:     func(*Node, *Context) Cost { return Cost{} },
		Eval: func(n *Node, _ []*Tensor, _ *Context) (*Tensor, error) {
			return nil, fmt.Errorf("input %s was not fed", n.Name)
		},
	})
	Register(&OpDef{
		Name: "param", Summary: "a variable that keeps its value across steps (declared with `param`)",
		Pinned:   true,
		Internal: true, Stateful: true,
		Infer: inferDeclared,
		Cost:  func(*Node, *Context) Cost { return Cost{} },
		Eval: func(n *Node, _ []*Tensor, _ *Context) (*Tensor, error) {
			return nil, fmt.Errorf("param %s has no value", n.Name)
		},
	})
	Register(&OpDef{
		Name: "const", Summary: "a constant: a scalar `value`, or `values` with a static `shape`",
		Internal: true,
		Infer: func(n *Node) (Type, error) {
			dt := n.Attrs.DType("dtype", F32)
			if s, ok := n.Attrs["shape"].(Shape); ok {
				if !s.IsStatic() {
					return Type{}, errors.New("a constant needs a static shape")
				}
				if len(n.Attrs.Floats("values")) != s.NumElements(nil) {
					return Type{}, fmt.Errorf("a constant of shape %s needs %d values, got %d", s, s.NumElements(nil), len(n.Attrs.Floats("values")))
				}
				return Type{DType: dt, Shape: s}, nil
			}
			return Scalar(dt), nil
		},
		Cost: func(*Node, *Context) Cost { return Cost{} },
		Eval: func(n *Node, _ []*Tensor, _ *Context) (*Tensor, error) {
			if s, ok := n.Attrs["shape"].(Shape); ok {
				t := NewTensor(n.Type.DType, s.Eval(nil))
				copy(t.Data, n.Attrs.Floats("values"))
				return t.Round(), nil
			}
			t := NewTensor(n.Type.DType, nil)
			t.Data[0] = n.Attrs.Float("value", 0)
			return t.Round(), nil
		},
	})
	Register(&OpDef{
		Name: "assign", Summary: "sets param p to value when the training step ends, after every read of p; the result is value (the value is broadcast to p's shape in source)",
		Update: true,
		DTypes: allDTypes,
		Inputs: []string{"p", "value"}, Stateful: true,
		Examples: []Example{
			{Shapes: [][]int{{2, 3}, {2, 3}}},
			{Shapes: [][]int{{}, {}}},
		},
		Infer: func(n *Node) (Type, error) {
			p, v := n.Inputs[0], n.Inputs[1]
			if err := updateTarget(n); err != nil {
				return Type{}, err
			}
			if p.Type.DType != v.Type.DType || !p.Type.Shape.Equal(v.Type.Shape) {
				return Type{}, fmt.Errorf("cannot assign %s to param %s of type %s", v.Type, p.Name, p.Type)
			}
			return p.Type, nil
		},
		Grad: func(_ *GradContext, n *Node, dys []*Node) []*Node { dy := dys[0]; return []*Node{nil, dy} },
		Cost: func(n *Node, cx *Context) Cost {
			b := cx.Binding
			return Cost{BytesRead: bytesOf(n, b), BytesWritten: bytesOf(n, b)}
		},
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) { return in[1].Clone(), nil },
	})
	Register(&OpDef{
		Name: "assign_add", Summary: "adds delta (broadcast) to param p when the training step ends; the result is the new value p + delta",
		Update: true,
		DTypes: numericDTypes,
		Inputs: []string{"p", "delta"}, Elementwise: true, Stateful: true,
		Examples: []Example{
			{Shapes: [][]int{{2, 3}, {2, 3}}},
			{Shapes: [][]int{{2, 3}, {3}}},
			{Shapes: [][]int{{3}, {}}},
		},
		Infer: inferUpdate,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			return []*Node{dy, sumTo(g, dy, n.Inputs[1].Type.Shape)}
		},
		Cost: elementwiseCost(1),
		Eval: binaryEval(func(a, b float64) float64 { return a + b }),
	})
	Register(&OpDef{
		Name: "assign_sub", Summary: "subtracts delta (broadcast) from param p when the training step ends; the result is the new value p - delta",
		Update: true,
		DTypes: numericDTypes,
		Inputs: []string{"p", "delta"}, Elementwise: true, Stateful: true,
		Examples: []Example{
			{Shapes: [][]int{{2, 3}, {2, 3}}},
			{Shapes: [][]int{{4, 1}, {1}}},
		},
		Infer: inferUpdate,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			neg := g.MustApply(Neg, []*Node{dy}, nil)
			return []*Node{dy, sumTo(g, neg, n.Inputs[1].Type.Shape)}
		},
		Cost: elementwiseCost(1),
		Eval: binaryEval(func(a, b float64) float64 { return a - b }),
	})
}

// inferDeclared is the type rule of inputs and params: the type is given
// by the declaration, in attrs dtype and shape.
func inferDeclared(n *Node) (Type, error) {
	s, ok := n.Attrs["shape"].(Shape)
	if !ok {
		return Type{}, fmt.Errorf("%s declared without a shape", n.Op.Name)
	}
	return Type{DType: n.Attrs.DType("dtype", F32), Shape: s}, nil
}

// updateTarget checks that the first operand of update n is a param.
func updateTarget(n *Node) error {
	if p := n.Inputs[0]; p.Op != Param {
		return fmt.Errorf("%s needs a param as its target p, got %s", n.Op.Name, p.Op.Name)
	}
	return nil
}

// inferUpdate is the type rule of assign_add and assign_sub: p must be a
// param and delta of its dtype, broadcastable to p's shape.
func inferUpdate(n *Node) (Type, error) {
	if err := updateTarget(n); err != nil {
		return Type{}, err
	}
	t, err := inferBroadcast(n)
	if err != nil {
		return Type{}, err
	}
	if p := n.Inputs[0]; !t.Shape.Equal(p.Type.Shape) {
		return Type{}, fmt.Errorf("delta %s does not broadcast to param %s of type %s", n.Inputs[1].Type, p.Name, p.Type)
	}
	return t, nil
}
