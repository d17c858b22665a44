package ir

import (
	"fmt"
	"slices"
)

// Reductions (sum, mean) and the shape plumbing their gradients need
// (sum_to, broadcast_to, count).

var reduceAttrs = []AttrSpec{
	{Name: "axes", Kind: IntsArg, Doc: "axes to reduce (negative counts from the end); all axes when omitted"},
	{Name: "keep_dims", Kind: BoolArg, Default: false, Doc: "keep reduced axes with size 1"},
}

func init() {
	Register(&OpDef{
		Name: "sum", Summary: "sum of the elements over axes (all by default)",
		Reduction: true,
		DTypes:    numericDTypes,
		Inputs:    []string{"x"}, Attrs: reduceAttrs,
		Examples: []Example{
			{Shapes: [][]int{{3, 4}}},
			{Shapes: [][]int{{3, 4}}, Attrs: Attrs{"axes": []int{1}}},
			{Shapes: [][]int{{2, 3, 4}}, Attrs: Attrs{"axes": []int{0, 2}, "keep_dims": true}},
			{Shapes: [][]int{{2, 3, 4}}, Attrs: Attrs{"axes": []int{-2}}},
		},
		Infer: inferReduce,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			return []*Node{unreduce(g, n, dy)}
		},
		Cost: reduceCost,
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) { return evalReduce(n, in[0], false), nil },
	})
	Register(&OpDef{
		Name: "mean", Summary: "mean of the elements over axes (all by default)",
		Reduction: true,
		DTypes:    numericDTypes,
		Inputs:    []string{"x"}, Attrs: reduceAttrs,
		Examples: []Example{
			{Shapes: [][]int{{3, 4}}},
			{Shapes: [][]int{{3, 4}}, Attrs: Attrs{"axes": []int{0}}},
			{Shapes: [][]int{{2, 3, 4}}, Attrs: Attrs{"axes": []int{1}, "keep_dims": true}},
		},
		Infer: inferReduce,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			cnt := g.MustApply(Count, []*Node{n.Inputs[0]}, Attrs{"axes": n.Attrs.Ints("axes")})
			return []*Node{g.MustApply(Div, []*Node{unreduce(g, n, dy), cnt}, nil)}
		},
		Cost: reduceCost,
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) { return evalReduce(n, in[0], true), nil },
	})
	Register(&OpDef{
		Name: "sum_to", Summary: "sums x down to a shape it was broadcast from: the gradient of broadcasting",
		Inputs: []string{"x"}, Internal: true,
		Infer: func(n *Node) (Type, error) {
			s, _ := n.Attrs["shape"].(Shape)
			b, err := Broadcast(s, n.Inputs[0].Type.Shape)
			if err != nil || !b.Equal(n.Inputs[0].Type.Shape) {
				return Type{}, fmt.Errorf("sum_to: %s does not broadcast to %s", s, n.Inputs[0].Type)
			}
			return Type{DType: n.Inputs[0].Type.DType, Shape: s}, nil
		},
		Cost: func(n *Node, cx *Context) Cost {
			b := cx.Binding
			return Cost{FLOPs: elems(n.Inputs[0], b), BytesRead: bytesOf(n.Inputs[0], b), BytesWritten: bytesOf(n, b)}
		},
		Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
			b := cx.Binding
			x := in[0]
			target := n.Type.Shape.Eval(b)
			out := NewTensor(n.Type.DType, target)
			xs, ts := strides(x.Shape), strides(target)
			for i, v := range x.Data {
				out.Data[broadcastIndex(i, x.Shape, xs, target, ts)] += v
			}
			return out.Round(), nil
		},
	})
	Register(&OpDef{
		Name: "broadcast_to", Summary: "broadcasts x to a shape, first inserting size-1 axes at `axes`",
		Inputs: []string{"x"}, Internal: true,
		Examples: []Example{
			{Shapes: [][]int{{3}}, Attrs: Attrs{"shape": Shp(2, 3)}},
			{Shapes: [][]int{{2, 1}}, Attrs: Attrs{"shape": Shp(2, 4)}},
			{Shapes: [][]int{{2}}, Attrs: Attrs{"shape": Shp(2, 3), "axes": []int{1}}},
			{Shapes: [][]int{{2, 3}}, Attrs: Attrs{"shape": Shp(2, 3)}},
		},
		Infer: func(n *Node) (Type, error) {
			s, _ := n.Attrs["shape"].(Shape)
			x := expandShape(n.Inputs[0].Type.Shape, n.Attrs.Ints("axes"))
			b, err := Broadcast(x, s)
			if err != nil || !b.Equal(s) {
				return Type{}, fmt.Errorf("broadcast_to: %s does not broadcast to %s", n.Inputs[0].Type, s)
			}
			return Type{DType: n.Inputs[0].Type.DType, Shape: s}, nil
		},
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			x := n.Inputs[0]
			axes := n.Attrs.Ints("axes")
			dx := sumTo(g, dy, expandShape(x.Type.Shape, axes))
			if len(axes) > 0 {
				dx = g.MustApply(ReshapeTo, []*Node{dx}, Attrs{"shape": x.Type.Shape})
			}
			return []*Node{dx}
		},
		Cost: func(n *Node, cx *Context) Cost {
			b := cx.Binding
			return Cost{BytesRead: bytesOf(n.Inputs[0], b), BytesWritten: bytesOf(n, b)}
		},
		Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
			b := cx.Binding
			x := in[0]
			xshape := expandInts(x.Shape, n.Attrs.Ints("axes"))
			target := n.Type.Shape.Eval(b)
			out := NewTensor(n.Type.DType, target)
			os, xs := strides(target), strides(xshape)
			for i := range out.Data {
				out.Data[i] = x.Data[broadcastIndex(i, target, os, xshape, xs)]
			}
			return out, nil
		},
	})
	Register(&OpDef{
		Name: "count", Summary: "the number of elements of x over axes, as a scalar of x's dtype",
		Inputs: []string{"x"}, Internal: true, Attrs: []AttrSpec{{Name: "axes", Kind: IntsArg}},
		Infer: func(n *Node) (Type, error) { return Scalar(n.Inputs[0].Type.DType), nil },
		Cost:  func(n *Node, cx *Context) Cost { b := cx.Binding; return Cost{BytesWritten: bytesOf(n, b)} },
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			c := 1
			for _, a := range n.Attrs.Ints("axes") {
				c *= in[0].Shape[a]
			}
			out := NewTensor(n.Type.DType, nil)
			out.Data[0] = float64(c)
			return out.Round(), nil
		},
	})
}

func inferReduce(n *Node) (Type, error) {
	x := n.Inputs[0].Type
	if x.DType == Bool {
		return Type{}, fmt.Errorf("%s needs a numeric operand, got %s", n.Op.Name, x)
	}
	var axes []int
	if n.Attrs.Has("axes") {
		var err error
		if axes, err = normAxes(n.Attrs.Ints("axes"), x.Shape.Rank()); err != nil {
			return Type{}, fmt.Errorf("%s of %s: %v", n.Op.Name, x, err)
		}
	} else {
		for i := range x.Shape {
			axes = append(axes, i)
		}
	}
	n.Attrs["axes"] = axes
	keep := n.Attrs.Bool("keep_dims")
	n.Attrs["keep_dims"] = keep
	return Type{DType: x.DType, Shape: reducedShape(x.Shape, axes, keep)}, nil
}

func reducedShape(s Shape, axes []int, keep bool) Shape {
	out := Shape{}
	for i, d := range s {
		if slices.Contains(axes, i) {
			if keep {
				out = append(out, Fixed(1))
			}
			continue
		}
		out = append(out, d)
	}
	return out
}

func reduceCost(n *Node, cx *Context) Cost {
	b := cx.Binding
	return Cost{FLOPs: elems(n.Inputs[0], b), BytesRead: bytesOf(n.Inputs[0], b), BytesWritten: bytesOf(n, b)}
}

// unreduce broadcasts the gradient of a reduction back to its input shape.
func unreduce(g *Module, n *Node, dy *Node) *Node {
	x := n.Inputs[0]
	attrs := Attrs{"shape": x.Type.Shape}
	if !n.Attrs.Bool("keep_dims") {
		attrs["axes"] = n.Attrs.Ints("axes")
	}
	return g.MustApply(BroadcastTo, []*Node{dy}, attrs)
}

// expandShape inserts size-1 dims so that they sit at output positions axes.
func expandShape(s Shape, axes []int) Shape {
	if len(axes) == 0 {
		return s
	}
	out := make(Shape, 0, len(s)+len(axes))
	j := 0
	for i := 0; i < len(s)+len(axes); i++ {
		if slices.Contains(axes, i) {
			out = append(out, Fixed(1))
		} else if j < len(s) {
			out = append(out, s[j])
			j++
		}
	}
	return out
}

func expandInts(s []int, axes []int) []int {
	if len(axes) == 0 {
		return s
	}
	out := make([]int, 0, len(s)+len(axes))
	j := 0
	for i := 0; i < len(s)+len(axes); i++ {
		if slices.Contains(axes, i) {
			out = append(out, 1)
		} else if j < len(s) {
			out = append(out, s[j])
			j++
		}
	}
	return out
}

// evalReduce sums (or averages) x over the node's axes.
func evalReduce(n *Node, x *Tensor, mean bool) *Tensor {
	axes := n.Attrs.Ints("axes")
	var outShape []int
	for i, d := range x.Shape {
		if slices.Contains(axes, i) {
			if n.Attrs.Bool("keep_dims") {
				outShape = append(outShape, 1)
			}
			continue
		}
		outShape = append(outShape, d)
	}
	// Accumulate into the kept-dims layout, which has the same element
	// order as the squeezed one.
	keep := make([]int, len(x.Shape))
	count := 1
	for i, d := range x.Shape {
		if slices.Contains(axes, i) {
			keep[i] = 1
			count *= d
		} else {
			keep[i] = d
		}
	}
	out := NewTensor(n.Type.DType, outShape)
	xs, ks := strides(x.Shape), strides(keep)
	for i, v := range x.Data {
		out.Data[broadcastIndex(i, x.Shape, xs, keep, ks)] += v
	}
	if mean {
		for i := range out.Data {
			out.Data[i] /= float64(count)
		}
	}
	return out.Round()
}
