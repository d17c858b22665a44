package ir

import (
	"errors"
	"fmt"
)

// Graph leaves and state: input (placeholder), param (variable), const,
// and assign (the in-place update a training step ends with).

func init() {
	Register(&OpDef{
		Name: "input", Summary: "a placeholder fed on every call (declared with `input`)",
		Internal: true,
		Infer:    inferDeclared,
		Cost:     func(*Node, Binding) Cost { return Cost{} },
		Eval: func(n *Node, _ []*Tensor, _ Binding) (*Tensor, error) {
			return nil, fmt.Errorf("input %s was not fed", n.Name)
		},
	})
	Register(&OpDef{
		Name: "param", Summary: "a variable that keeps its value across steps (declared with `param`)",
		Internal: true, Stateful: true,
		Infer: inferDeclared,
		Cost:  func(*Node, Binding) Cost { return Cost{} },
		Eval: func(n *Node, _ []*Tensor, _ Binding) (*Tensor, error) {
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
		Cost: func(*Node, Binding) Cost { return Cost{} },
		Eval: func(n *Node, _ []*Tensor, _ Binding) (*Tensor, error) {
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
		Name: "assign", Summary: "sets param p to value at the end of the step (p must be a param)",
		Inputs: []string{"p", "value"}, Internal: true, Stateful: true,
		Infer: func(n *Node) (Type, error) {
			p, v := n.Inputs[0], n.Inputs[1]
			if p.Op.Name != "param" {
				return Type{}, fmt.Errorf("assign needs a param as its target, got %s", p.Op.Name)
			}
			if p.Type.DType != v.Type.DType || !p.Type.Shape.Equal(v.Type.Shape) {
				return Type{}, fmt.Errorf("cannot assign %s to param %s of type %s", v.Type, p.Name, p.Type)
			}
			return p.Type, nil
		},
		Cost: func(n *Node, b Binding) Cost {
			return Cost{BytesRead: bytesOf(n, b), BytesWritten: bytesOf(n, b)}
		},
		Eval: func(n *Node, in []*Tensor, _ Binding) (*Tensor, error) { return in[1].Clone(), nil },
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
