package ir

import (
	"fmt"
	"math"
)

// This file holds the shared building blocks of op definitions: type
// rules, costs and reference kernels used by several ops.

// sameFloat checks that all inputs share one floating-point dtype.
func sameDType(n *Node, wantFloat bool) (DType, error) {
	dt := n.Inputs[0].Type.DType
	for _, in := range n.Inputs[1:] {
		if in.Type.DType != dt {
			return Invalid, fmt.Errorf("operands have different dtypes: %s and %s", n.Inputs[0].Type, in.Type)
		}
	}
	if wantFloat && !dt.IsFloat() {
		return Invalid, fmt.Errorf("%s needs a floating-point operand, got %s", n.Op.Name, n.Inputs[0].Type)
	}
	return dt, nil
}

// inferUnaryFloat is the type rule of element-wise float functions.
func inferUnaryFloat(n *Node) (Type, error) {
	if _, err := sameDType(n, true); err != nil {
		return Type{}, err
	}
	return n.Inputs[0].Type, nil
}

// inferUnaryNumeric is the type rule of element-wise numeric functions.
func inferUnaryNumeric(n *Node) (Type, error) {
	if n.Inputs[0].Type.DType == Bool {
		return Type{}, fmt.Errorf("%s needs a numeric operand, got %s", n.Op.Name, n.Inputs[0].Type)
	}
	return n.Inputs[0].Type, nil
}

// inferBroadcast is the type rule of binary element-wise arithmetic.
func inferBroadcast(n *Node) (Type, error) {
	a, b := n.Inputs[0].Type, n.Inputs[1].Type
	if a.DType != b.DType {
		return Type{}, fmt.Errorf("operands have different dtypes: %s and %s", a, b)
	}
	if a.DType == Bool {
		return Type{}, fmt.Errorf("%s needs numeric operands, got %s", n.Op.Name, a)
	}
	s, err := Broadcast(a.Shape, b.Shape)
	if err != nil {
		return Type{}, fmt.Errorf("shapes %s and %s do not broadcast: %v", a, b, err)
	}
	return Type{DType: a.DType, Shape: s}, nil
}

// elems is the element count of n's value.
func elems(n *Node, b Binding) float64 { return n.Type.Shape.Size(b) }

// bytesOf is the size in bytes of n's value.
func bytesOf(n *Node, b Binding) float64 { return elems(n, b) * float64(n.Type.DType.Size()) }

// elementwiseCost costs flopsPerElem operations per output element and
// one read of every input.
func elementwiseCost(flopsPerElem float64) func(*Node, *Context) Cost {
	return func(n *Node, cx *Context) Cost {
		b := cx.Binding
		c := Cost{FLOPs: flopsPerElem * elems(n, b), BytesWritten: bytesOf(n, b)}
		for _, in := range n.Inputs {
			c.BytesRead += bytesOf(in, b)
		}
		return c
	}
}

// unaryEval builds a reference evaluation from a scalar function.
func unaryEval(f func(float64) float64) func(*Node, []*Tensor, *Context) (*Tensor, error) {
	return func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
		x := in[0]
		out := NewTensor(n.Type.DType, x.Shape)
		for i, v := range x.Data {
			out.Data[i] = f(v)
		}
		return out.Round(), nil
	}
}

// broadcastShape is the NumPy broadcast of concrete shapes.
func broadcastShape(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 1; i <= n; i++ {
		da, db := 1, 1
		if i <= len(a) {
			da = a[len(a)-i]
		}
		if i <= len(b) {
			db = b[len(b)-i]
		}
		switch {
		case da == db, db == 1:
			out[n-i] = da
		case da == 1:
			out[n-i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// binaryEval builds a reference evaluation of a broadcasting binary op
// from a scalar function.
func binaryEval(f func(a, b float64) float64) func(*Node, []*Tensor, *Context) (*Tensor, error) {
	return func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
		a, b := in[0], in[1]
		shape, err := broadcastShape(a.Shape, b.Shape)
		if err != nil {
			return nil, err
		}
		out := NewTensor(n.Type.DType, shape)
		os, as, bs := strides(shape), strides(a.Shape), strides(b.Shape)
		for i := range out.Data {
			out.Data[i] = f(a.Data[broadcastIndex(i, shape, os, a.Shape, as)],
				b.Data[broadcastIndex(i, shape, os, b.Shape, bs)])
		}
		return out.Round(), nil
	}
}

// sumTo reduces a gradient of a broadcast result back to shape s.
func sumTo(g *Module, dy *Node, s Shape) *Node {
	if dy.Type.Shape.Equal(s) {
		return dy
	}
	return g.MustApply(SumTo, []*Node{dy}, Attrs{"shape": s})
}

// normAxes validates and normalizes axes (negative counts from the end)
// for a rank; it returns them sorted without duplicates.
func normAxes(axes []int, rank int) ([]int, error) {
	seen := make([]bool, rank)
	for _, a := range axes {
		if a < -rank || a >= rank {
			return nil, fmt.Errorf("axis %d is out of range for rank %d", a, rank)
		}
		if a < 0 {
			a += rank
		}
		if seen[a] {
			return nil, fmt.Errorf("axis %d is repeated", a)
		}
		seen[a] = true
	}
	out := []int{}
	for a, s := range seen {
		if s {
			out = append(out, a)
		}
	}
	return out, nil
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// logSumExp is log(sum(exp(row))), computed stably by factoring out the
// row's maximum; the softmax family's reference evaluations share it.
func logSumExp(row []float64) float64 {
	m := math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, v)
	}
	if math.IsInf(m, 0) {
		return m
	}
	s := 0.0
	for _, v := range row {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}
