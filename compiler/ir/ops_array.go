package ir

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Array (shape) ops: reshape, transpose, expand_dims, squeeze, tile, pad,
// slice and concat, and the internal ops their gradients use
// (reshape_to, untile, unslice). They move elements without arithmetic
// (untile sums), so they work for every dtype.
//
// Symbolic dimensions flow through these ops only where the result is
// again a list of single dimensions: a dimension is a fixed size or one
// symbol, never a product such as 2×N. reshape's -1 therefore absorbs a
// symbolic factor only when the remaining static sizes cancel exactly;
// slice, pad and tile keep a symbolic dimension whole; concat cannot join
// along a symbolic axis. Each case the shapes cannot prove is an error.

func init() {
	Register(&OpDef{
		Name:       "reshape",
		BatchLocal: true,
		DTypes:     allDTypes,
		Summary:    "x with the same elements in row-major order under a new shape; one dimension may be -1 (inferred)",
		Inputs:     []string{"x"},
		Attrs: []AttrSpec{
			{Name: "shape", Kind: IntsArg, Doc: "the new sizes; at most one -1, inferred from the element count"},
		},
		Examples: []Example{
			{Shapes: [][]int{{2, 3}}, Attrs: Attrs{"shape": []int{3, 2}}},
			{Shapes: [][]int{{2, 3, 5}}, Attrs: Attrs{"shape": []int{-1, 5}}},
			{Shapes: [][]int{{1}}, Attrs: Attrs{"shape": []int{}}},
			{Shapes: [][]int{{7}}, Attrs: Attrs{"shape": []int{1, -1, 1}}},
		},
		Infer: inferReshape,
		Grad:  gradReshapeBack,
		Cost:  copyCost,
		Eval:  evalReshape,
	})
	Register(&OpDef{
		Name:       "reshape_to",
		BatchLocal: true,
		Summary:    "x reshaped to the (possibly symbolic) shape `shape` with the same element count: the gradient of reshape, expand_dims and squeeze",
		Inputs:     []string{"x"}, Internal: true,
		Infer: func(n *Node) (Type, error) {
			x := n.Inputs[0].Type
			s, ok := n.Attrs["shape"].(Shape)
			if !ok || !sameCount(x.Shape, s) {
				return Type{}, fmt.Errorf("reshape_to: %s cannot be reshaped to %s", x, s)
			}
			return Type{DType: x.DType, Shape: s}, nil
		},
		Grad: gradReshapeBack,
		Cost: copyCost,
		Eval: evalReshape,
	})
	Register(&OpDef{
		Name:       "transpose",
		BatchLocal: true,
		DTypes:     allDTypes,
		Summary:    "x with its axes permuted: result axis i is x's axis perm[i] (perm reverses the axes by default)",
		Inputs:     []string{"x"},
		Attrs: []AttrSpec{
			{Name: "perm", Kind: IntsArg, Doc: "a permutation of the axes (negative counts from the end); reversed axes when omitted"},
		},
		Examples: []Example{
			{Shapes: [][]int{{2, 3}}},
			{Shapes: [][]int{{2, 3, 4}}, Attrs: Attrs{"perm": []int{1, 2, 0}}},
			{Shapes: [][]int{{1, 3, 1}}, Attrs: Attrs{"perm": []int{2, 0, 1}}},
			{Shapes: [][]int{{5}}},
			{Shapes: [][]int{{3, 1, 2, 5}}, Attrs: Attrs{"perm": []int{0, -1, 2, 1}}},
		},
		Infer: inferTranspose,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			perm := n.Attrs.Ints("perm")
			inv := make([]int, len(perm))
			for i, p := range perm {
				inv[p] = i
			}
			return []*Node{g.MustApply(Transpose, []*Node{dy}, Attrs{"perm": inv})}
		},
		Cost: copyCost,
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			x := in[0]
			perm := n.Attrs.Ints("perm")
			out := make([]int, len(perm))
			for i, p := range perm {
				out[i] = x.Shape[p]
			}
			xs := strides(x.Shape)
			src := make([]int, len(perm))
			return gatherEval(n.Type.DType, x, out, 0, func(idx []int) int {
				for i, p := range perm {
					src[p] = idx[i]
				}
				return dot(src, xs)
			}), nil
		},
	})
	Register(&OpDef{
		Name:       "expand_dims",
		BatchLocal: true,
		DTypes:     allDTypes,
		Summary:    "x with a new size-1 axis inserted at position axis of the result",
		Inputs:     []string{"x"},
		Attrs: []AttrSpec{
			{Name: "axis", Kind: IntArg, Doc: "where the new axis goes, in -(rank+1)..rank (negative counts from the end of the result)"},
		},
		Examples: []Example{
			{Shapes: [][]int{{3}}, Attrs: Attrs{"axis": 0}},
			{Shapes: [][]int{{2, 3}}, Attrs: Attrs{"axis": -1}},
			{Shapes: [][]int{{1}}, Attrs: Attrs{"axis": 1}},
			{Shapes: [][]int{{5, 3}}, Attrs: Attrs{"axis": 1}},
		},
		Infer: func(n *Node) (Type, error) {
			x := n.Inputs[0].Type
			if !n.Attrs.Has("axis") {
				return Type{}, fmt.Errorf("expand_dims needs the argument axis, e.g. expand_dims(x, axis = 0)")
			}
			r := x.Shape.Rank()
			a := n.Attrs.Int("axis", 0)
			if a < -(r+1) || a > r {
				return Type{}, fmt.Errorf("axis %d is out of range for expand_dims of %s: the result has rank %d, so axis must be in %d..%d", a, x, r+1, -(r + 1), r)
			}
			if a < 0 {
				a += r + 1
			}
			n.Attrs["axis"] = a
			return Type{DType: x.DType, Shape: expandShape(x.Shape, []int{a})}, nil
		},
		Grad: gradReshapeBack,
		Cost: copyCost,
		Eval: evalReshape,
	})
	Register(&OpDef{
		Name:       "squeeze",
		BatchLocal: true,
		DTypes:     allDTypes,
		Summary:    "x without the size-1 axes listed in axes (every size-1 axis when axes is empty)",
		Inputs:     []string{"x"},
		Attrs: []AttrSpec{
			{Name: "axes", Kind: IntsArg, Default: []int{}, Doc: "axes of size 1 to remove (negative counts from the end); [] removes every size-1 axis"},
		},
		Examples: []Example{
			{Shapes: [][]int{{1, 3, 1}}},
			{Shapes: [][]int{{1, 3, 1}}, Attrs: Attrs{"axes": []int{2}}},
			{Shapes: [][]int{{2, 1, 5}}, Attrs: Attrs{"axes": []int{-2}}},
			{Shapes: [][]int{{1}}},
		},
		Infer: inferSqueeze,
		Grad:  gradReshapeBack,
		Cost:  copyCost,
		Eval:  evalReshape,
	})
	Register(&OpDef{
		Name:       "tile",
		BatchLocal: true,
		DTypes:     allDTypes,
		Summary:    "x repeated multiples[i] times along each axis i",
		Inputs:     []string{"x"},
		Attrs: []AttrSpec{
			{Name: "multiples", Kind: IntsArg, Doc: "one positive repeat count per axis"},
		},
		Examples: []Example{
			{Shapes: [][]int{{2, 3}}, Attrs: Attrs{"multiples": []int{2, 1}}},
			{Shapes: [][]int{{1}}, Attrs: Attrs{"multiples": []int{3}}},
			{Shapes: [][]int{{2, 1, 3}}, Attrs: Attrs{"multiples": []int{1, 3, 2}}},
		},
		Infer: inferTile,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			x := n.Inputs[0]
			return []*Node{g.MustApply(Untile, []*Node{dy}, Attrs{"shape": x.Type.Shape, "multiples": n.Attrs.Ints("multiples")})}
		},
		Cost: copyCost,
		Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
			b := cx.Binding
			x := in[0]
			out := n.Type.Shape.Eval(b)
			xs := strides(x.Shape)
			return gatherEval(n.Type.DType, x, out, 0, func(idx []int) int {
				f := 0
				for i, c := range idx {
					f += (c % x.Shape[i]) * xs[i]
				}
				return f
			}), nil
		},
	})
	Register(&OpDef{
		Name:    "untile",
		Summary: "sums the tiles of x back to the tiled operand's shape `shape`: the gradient of tile",
		Inputs:  []string{"x"}, Internal: true,
		Infer: func(n *Node) (Type, error) {
			x := n.Inputs[0].Type
			s, _ := n.Attrs["shape"].(Shape)
			t, err := tileShape(s, n.Attrs.Ints("multiples"))
			if err != nil || !t.Equal(x.Shape) {
				return Type{}, fmt.Errorf("untile: %s is not %s tiled by %v", x, s, n.Attrs.Ints("multiples"))
			}
			return Type{DType: x.DType, Shape: s}, nil
		},
		Cost: func(n *Node, cx *Context) Cost {
			b := cx.Binding
			return Cost{FLOPs: elems(n.Inputs[0], b), BytesRead: bytesOf(n.Inputs[0], b), BytesWritten: bytesOf(n, b)}
		},
		Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
			b := cx.Binding
			target := n.Type.Shape.Eval(b)
			ts := strides(target)
			return scatterEval(n.Type.DType, in[0], target, func(idx []int) int {
				f := 0
				for i, c := range idx {
					f += (c % target[i]) * ts[i]
				}
				return f
			}), nil
		},
	})
	Register(&OpDef{
		Name:       "pad",
		BatchLocal: true,
		DTypes:     allDTypes,
		Summary:    "x surrounded along each axis i by paddings[i][0] elements before and paddings[i][1] after, all equal to value",
		Inputs:     []string{"x"},
		Attrs: []AttrSpec{
			{Name: "paddings", Kind: IntPairsArg, Doc: "one [before, after] pair of non-negative counts per axis"},
			{Name: "value", Kind: FloatArg, Default: 0.0, Doc: "the value of the added elements"},
		},
		Examples: []Example{
			{Shapes: [][]int{{2, 3}}, Attrs: Attrs{"paddings": [][]int{{1, 0}, {2, 1}}}},
			{Shapes: [][]int{{1}}, Attrs: Attrs{"paddings": [][]int{{0, 2}}, "value": 0.5}},
			{Shapes: [][]int{{3, 1, 2}}, Attrs: Attrs{"paddings": [][]int{{0, 0}, {1, 1}, {0, 1}}}},
		},
		Infer: inferPad,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			x := n.Inputs[0]
			pads := n.Attrs["paddings"].([][]int)
			begin := make([]int, len(pads))
			size := make([]int, len(pads))
			for i, p := range pads {
				begin[i] = p[0]
				size[i] = -1
				if d := x.Type.Shape[i]; !d.IsSym() {
					size[i] = d.Size
				}
			}
			return []*Node{g.MustApply(Slice, []*Node{dy}, Attrs{"begin": begin, "size": size})}
		},
		Cost: copyCost,
		Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
			b := cx.Binding
			x := in[0]
			pads := n.Attrs["paddings"].([][]int)
			out := n.Type.Shape.Eval(b)
			xs := strides(x.Shape)
			return gatherEval(n.Type.DType, x, out, n.Attrs.Float("value", 0), func(idx []int) int {
				f := 0
				for i, c := range idx {
					c -= pads[i][0]
					if c < 0 || c >= x.Shape[i] {
						return -1
					}
					f += c * xs[i]
				}
				return f
			}), nil
		},
	})
	Register(&OpDef{
		Name:       "slice",
		BatchLocal: true,
		DTypes:     allDTypes,
		Summary:    "the part of x from begin spanning size elements (-1: to the end) along each axis, taking every strides[i]-th",
		Inputs:     []string{"x"},
		Attrs: []AttrSpec{
			{Name: "begin", Kind: IntsArg, Doc: "the first index along each axis"},
			{Name: "size", Kind: IntsArg, Doc: "how many elements of x each axis spans from begin; -1 spans to the end"},
			{Name: "strides", Kind: IntsArg, Doc: "a positive step per axis; all 1 when omitted"},
		},
		Examples: []Example{
			{Shapes: [][]int{{4, 5}}, Attrs: Attrs{"begin": []int{1, 2}, "size": []int{2, -1}}},
			{Shapes: [][]int{{5}}, Attrs: Attrs{"begin": []int{0}, "size": []int{-1}, "strides": []int{2}}},
			// A stride past the axis takes one element.
			{Shapes: [][]int{{2, 5, 3}}, Attrs: Attrs{"begin": []int{0, 1, 0}, "size": []int{-1, -1, -1}, "strides": []int{1, math.MaxInt, 1}}},
			{Shapes: [][]int{{3, 4, 5}}, Attrs: Attrs{"begin": []int{0, 1, 1}, "size": []int{3, 3, 4}, "strides": []int{2, 2, 3}}},
			{Shapes: [][]int{{1, 1}}, Attrs: Attrs{"begin": []int{0, 0}, "size": []int{1, 1}}},
		},
		Infer: inferSlice,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			return []*Node{g.MustApply(Unslice, []*Node{dy}, Attrs{
				"shape": n.Inputs[0].Type.Shape, "begin": n.Attrs.Ints("begin"), "strides": n.Attrs.Ints("strides"),
			})}
		},
		Cost: copyCost,
		Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
			b := cx.Binding
			x := in[0]
			begin, st := n.Attrs.Ints("begin"), n.Attrs.Ints("strides")
			xs := strides(x.Shape)
			return gatherEval(n.Type.DType, x, n.Type.Shape.Eval(b), 0, func(idx []int) int {
				f := 0
				for i, c := range idx {
					f += (begin[i] + c*st[i]) * xs[i]
				}
				return f
			}), nil
		},
	})
	Register(&OpDef{
		Name:    "unslice",
		Summary: "zeros of shape `shape` with x written where slice(begin, strides) read it: the gradient of slice",
		Inputs:  []string{"x"}, Internal: true,
		Infer: func(n *Node) (Type, error) {
			x := n.Inputs[0].Type
			s, _ := n.Attrs["shape"].(Shape)
			begin, st := n.Attrs.Ints("begin"), n.Attrs.Ints("strides")
			if len(begin) != s.Rank() || len(st) != s.Rank() || x.Shape.Rank() != s.Rank() {
				return Type{}, fmt.Errorf("unslice: %s does not fit in %s", x, s)
			}
			return Type{DType: x.DType, Shape: s}, nil
		},
		Cost: copyCost,
		Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
			b := cx.Binding
			target := n.Type.Shape.Eval(b)
			begin, st := n.Attrs.Ints("begin"), n.Attrs.Ints("strides")
			ts := strides(target)
			return scatterEval(n.Type.DType, in[0], target, func(idx []int) int {
				f := 0
				for i, c := range idx {
					f += (begin[i] + c*st[i]) * ts[i]
				}
				return f
			}), nil
		},
	})
	Register(&OpDef{
		Name:       "concat",
		BatchLocal: true,
		DTypes:     allDTypes,
		Summary:    "the operands (one or more, same rank and dtype) joined along axis; the other dimensions must agree",
		Inputs:     []string{"x"}, Variadic: true,
		Attrs: []AttrSpec{
			{Name: "axis", Kind: IntArg, Default: 0, Doc: "the axis to join along (negative counts from the end)"},
		},
		Examples: []Example{
			{Shapes: [][]int{{2, 3}, {1, 3}}},
			{Shapes: [][]int{{2, 3}, {2, 1}, {2, 2}}, Attrs: Attrs{"axis": -1}},
			{Shapes: [][]int{{1}, {1}}},
			{Shapes: [][]int{{3, 2, 1}, {3, 2, 2}}, Attrs: Attrs{"axis": 2}},
		},
		Infer: inferConcat,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			axis := n.Attrs.Int("axis", 0)
			if len(n.Inputs) == 1 {
				return []*Node{dy}
			}
			out := make([]*Node, len(n.Inputs))
			off := 0
			for k, in := range n.Inputs {
				s := in.Type.Shape
				begin := make([]int, len(s))
				size := make([]int, len(s))
				for i, d := range s {
					size[i] = -1
					if i == axis {
						begin[i], size[i] = off, d.Size
					}
				}
				off += s[axis].Size
				out[k] = g.MustApply(Slice, []*Node{dy}, Attrs{"begin": begin, "size": size})
			}
			return out
		},
		Cost: copyCost,
		Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
			b := cx.Binding
			axis := n.Attrs.Int("axis", 0)
			shape := n.Type.Shape.Eval(b)
			out := NewTensor(n.Type.DType, shape)
			os := strides(shape)
			off := 0
			for _, x := range in {
				if len(x.Shape) != len(shape) {
					return nil, fmt.Errorf("concat: operand %v does not match the result %v", x.Shape, shape)
				}
				idx := make([]int, len(x.Shape))
				for f, v := range x.Data {
					unravel(f, x.Shape, idx)
					idx[axis] += off
					out.Data[dot(idx, os)] = v
				}
				off += x.Shape[axis]
			}
			if off != shape[axis] {
				return nil, fmt.Errorf("concat: operands span %d along axis %d, the result %d", off, axis, shape[axis])
			}
			return out, nil
		},
	})
}

// copyCost is the cost of an op that moves every element once: it reads
// its inputs and writes its result, with no arithmetic.
func copyCost(n *Node, cx *Context) Cost {
	b := cx.Binding
	c := Cost{BytesWritten: bytesOf(n, b)}
	for _, in := range n.Inputs {
		c.BytesRead += bytesOf(in, b)
	}
	return c
}

// gradReshapeBack is the gradient of every op that only relabels the
// shape (reshape, reshape_to, expand_dims, squeeze): dy reshaped to x.
func gradReshapeBack(cx *GradContext, n *Node, dys []*Node) []*Node {
	g, dy := cx.Module, dys[0]
	return []*Node{g.MustApply(ReshapeTo, []*Node{dy}, Attrs{"shape": n.Inputs[0].Type.Shape})}
}

// evalReshape copies the elements of x under the node's shape.
func evalReshape(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
	b := cx.Binding
	x := in[0]
	out := x.Clone()
	out.DType = n.Type.DType
	out.Shape = n.Type.Shape.Eval(b)
	if c := prod(out.Shape); c != len(x.Data) {
		return nil, fmt.Errorf("%s: cannot reshape %v (%d elements) to %v (%d elements)", n.Op.Name, x.Shape, len(x.Data), out.Shape, c)
	}
	return out, nil
}

// sameCount reports whether two shapes provably have the same element
// count: equal static products and the same symbols, counted.
func sameCount(a, b Shape) bool {
	sa, ya := splitCount(a)
	sb, yb := splitCount(b)
	slices.Sort(ya)
	slices.Sort(yb)
	return sa == sb && slices.Equal(ya, yb)
}

// splitCount splits a shape's element count into its static product and
// its symbolic factors (with repetition).
func splitCount(s Shape) (int, []string) {
	static := 1
	var syms []string
	for _, d := range s {
		if d.IsSym() {
			syms = append(syms, d.Sym)
		} else {
			static *= d.Size
		}
	}
	return static, syms
}

func inferReshape(n *Node) (Type, error) {
	x := n.Inputs[0].Type
	if !n.Attrs.Has("shape") {
		return Type{}, fmt.Errorf("reshape needs the argument shape, e.g. reshape(x, shape = [-1, 10])")
	}
	target := n.Attrs.Ints("shape")
	s, err := reshapeShape(x.Shape, target)
	if err != nil {
		return Type{}, fmt.Errorf("cannot reshape %s to %s: %v", x, formatAttr(target), err)
	}
	return Type{DType: x.DType, Shape: s}, nil
}

// reshapeShape resolves a reshape target against the operand's shape.
// Without a -1 the static sizes must account for every element, so the
// operand must be static. A -1 takes the quotient of the operand's count
// by the product of the other sizes; when the operand has a symbolic
// dimension, that quotient must be exactly the symbol (the static sizes
// cancel), because a dimension cannot be a multiple of a symbol.
func reshapeShape(in Shape, target []int) (Shape, error) {
	inferAt := -1
	known := 1
	out := make(Shape, len(target))
	for i, t := range target {
		switch {
		case t == -1:
			if inferAt >= 0 {
				return nil, fmt.Errorf("at most one dimension can be -1")
			}
			inferAt = i
		case t < 1:
			return nil, fmt.Errorf("size %d is not allowed: sizes are positive, or -1 for the one inferred dimension", t)
		default:
			var ok bool
			if known, ok = MulInt(known, t); !ok || known > MaxElements {
				return nil, fmt.Errorf("the new shape has more elements than a tensor may hold (2^40)")
			}
			out[i] = Fixed(t)
		}
	}
	static, syms := splitCount(in)
	if inferAt < 0 {
		if len(syms) > 0 {
			return nil, fmt.Errorf("the symbolic dimension %s has no fixed size; write -1 for the dimension that holds it", syms[0])
		}
		if known != static {
			return nil, fmt.Errorf("%s has %d elements, the new shape %d", in, static, known)
		}
		return out, nil
	}
	if static%known != 0 {
		per := ""
		if len(syms) > 0 {
			per = " per " + strings.Join(syms, "×")
		}
		return nil, fmt.Errorf("%d elements%s are not a multiple of %d, the product of the other sizes", static, per, known)
	}
	q := static / known
	switch len(syms) {
	case 0:
		out[inferAt] = Fixed(q)
	case 1:
		if q != 1 {
			return nil, fmt.Errorf("the -1 dimension would be %d×%s, which is not a single dimension; the other sizes must multiply to %d so that -1 is %s", q, syms[0], static, syms[0])
		}
		out[inferAt] = Sym(syms[0])
	default:
		return nil, fmt.Errorf("the -1 dimension would be the product %s, which is not a single dimension", strings.Join(syms, "×"))
	}
	return out, nil
}

func inferTranspose(n *Node) (Type, error) {
	x := n.Inputs[0].Type
	r := x.Shape.Rank()
	var perm []int
	if n.Attrs.Has("perm") {
		given := n.Attrs.Ints("perm")
		if len(given) != r {
			return Type{}, fmt.Errorf("perm %s has %d entries, but %s has rank %d", formatAttr(given), len(given), x, r)
		}
		seen := make([]bool, r)
		for _, p := range given {
			if p < -r || p >= r {
				return Type{}, fmt.Errorf("perm %s: axis %d is out of range for %s", formatAttr(given), p, x)
			}
			if p < 0 {
				p += r
			}
			if seen[p] {
				return Type{}, fmt.Errorf("perm %s is not a permutation: axis %d is repeated", formatAttr(given), p)
			}
			seen[p] = true
			perm = append(perm, p)
		}
	} else {
		for i := r - 1; i >= 0; i-- {
			perm = append(perm, i)
		}
	}
	if perm == nil {
		perm = []int{}
	}
	n.Attrs["perm"] = perm
	out := make(Shape, r)
	for i, p := range perm {
		out[i] = x.Shape[p]
	}
	return Type{DType: x.DType, Shape: out}, nil
}

func inferSqueeze(n *Node) (Type, error) {
	x := n.Inputs[0].Type
	isOne := func(d Dim) bool { return !d.IsSym() && d.Size == 1 }
	axes, err := normAxes(n.Attrs.Ints("axes"), x.Shape.Rank())
	if err != nil {
		return Type{}, fmt.Errorf("squeeze of %s: %v", x, err)
	}
	if len(axes) == 0 {
		for i, d := range x.Shape {
			if isOne(d) {
				axes = append(axes, i)
			}
		}
	}
	out := Shape{}
	for i, d := range x.Shape {
		if !slices.Contains(axes, i) {
			out = append(out, d)
			continue
		}
		if !isOne(d) {
			return Type{}, fmt.Errorf("squeeze of %s: axis %d has size %s, not 1", x, i, d)
		}
	}
	n.Attrs["axes"] = axes
	return Type{DType: x.DType, Shape: out}, nil
}

func inferTile(n *Node) (Type, error) {
	x := n.Inputs[0].Type
	if !n.Attrs.Has("multiples") {
		return Type{}, fmt.Errorf("tile needs the argument multiples, one count per axis of %s", x)
	}
	s, err := tileShape(x.Shape, n.Attrs.Ints("multiples"))
	if err != nil {
		return Type{}, fmt.Errorf("cannot tile %s by %s: %v", x, formatAttr(n.Attrs.Ints("multiples")), err)
	}
	return Type{DType: x.DType, Shape: s}, nil
}

// tileShape is the shape of s tiled by multiples.
func tileShape(s Shape, multiples []int) (Shape, error) {
	if len(multiples) != s.Rank() {
		return nil, fmt.Errorf("multiples has %d entries, one per axis needed (rank %d)", len(multiples), s.Rank())
	}
	out := make(Shape, len(s))
	for i, m := range multiples {
		switch {
		case m < 1:
			return nil, fmt.Errorf("multiple %d of axis %d is not positive", m, i)
		case s[i].IsSym() && m != 1:
			return nil, fmt.Errorf("axis %d is the symbolic dimension %s, which can only be tiled once (multiple 1)", i, s[i])
		case s[i].IsSym():
			out[i] = s[i]
		default:
			d, ok := MulInt(s[i].Size, m)
			if !ok || d > MaxElements {
				return nil, fmt.Errorf("axis %d of size %d tiled %d times is too large", i, s[i].Size, m)
			}
			out[i] = Fixed(d)
		}
	}
	return out, nil
}

func inferPad(n *Node) (Type, error) {
	x := n.Inputs[0].Type
	pads, ok := n.Attrs["paddings"].([][]int)
	if !ok {
		return Type{}, fmt.Errorf("pad needs the argument paddings, one [before, after] pair per axis of %s", x)
	}
	if len(pads) != x.Shape.Rank() {
		return Type{}, fmt.Errorf("paddings %s has %d pairs, but %s has rank %d", formatAttr(pads), len(pads), x, x.Shape.Rank())
	}
	if v := n.Attrs.Float("value", 0); !x.DType.IsFloat() && v != float64(int64(v)) {
		return Type{}, fmt.Errorf("pad value %g is not an integer, but %s is %s", v, "x", x)
	}
	out := make(Shape, len(pads))
	for i, p := range pads {
		if len(p) != 2 || p[0] < 0 || p[1] < 0 {
			return Type{}, fmt.Errorf("paddings %s: pair %d must be [before, after] with counts >= 0", formatAttr(pads), i)
		}
		d := x.Shape[i]
		switch {
		case d.IsSym() && (p[0] > 0 || p[1] > 0):
			return Type{}, fmt.Errorf("cannot pad axis %d of %s: it is the symbolic dimension %s, which cannot be padded", i, x, d)
		case d.IsSym():
			out[i] = d
		default:
			sum, ok := AddInt(d.Size, p[0])
			if ok {
				sum, ok = AddInt(sum, p[1])
			}
			if !ok || sum > MaxElements {
				return Type{}, fmt.Errorf("paddings %s: axis %d of size %d padded by %d and %d is too large", formatAttr(pads), i, d.Size, p[0], p[1])
			}
			out[i] = Fixed(sum)
		}
	}
	return Type{DType: x.DType, Shape: out}, nil
}

func inferSlice(n *Node) (Type, error) {
	x := n.Inputs[0].Type
	r := x.Shape.Rank()
	if !n.Attrs.Has("begin") || !n.Attrs.Has("size") {
		return Type{}, fmt.Errorf("slice needs the arguments begin and size, one entry per axis of %s", x)
	}
	begin, size := n.Attrs.Ints("begin"), n.Attrs.Ints("size")
	st := n.Attrs.Ints("strides")
	if !n.Attrs.Has("strides") {
		st = make([]int, r)
		for i := range st {
			st[i] = 1
		}
	}
	for _, l := range []struct {
		name string
		v    []int
	}{{"begin", begin}, {"size", size}, {"strides", st}} {
		if len(l.v) != r {
			return Type{}, fmt.Errorf("%s %s has %d entries, but %s has rank %d", l.name, formatAttr(l.v), len(l.v), x, r)
		}
	}
	out := make(Shape, r)
	for i, d := range x.Shape {
		b, s, k := begin[i], size[i], st[i]
		if k < 1 {
			return Type{}, fmt.Errorf("slice of %s: stride %d of axis %d is not positive", x, k, i)
		}
		if s < -1 || s == 0 {
			return Type{}, fmt.Errorf("slice of %s: size %d of axis %d must be positive, or -1 for the rest of the axis", x, s, i)
		}
		if d.IsSym() {
			if b != 0 || s != -1 || k != 1 {
				return Type{}, fmt.Errorf("slice of %s: axis %d is the symbolic dimension %s, which can only be taken whole (begin 0, size -1, stride 1)", x, i, d)
			}
			out[i] = d
			continue
		}
		if b < 0 || b >= d.Size {
			return Type{}, fmt.Errorf("slice of %s: begin %d of axis %d is out of range 0..%d", x, b, i, d.Size-1)
		}
		if s == -1 {
			s = d.Size - b
		}
		if s > d.Size-b {
			return Type{}, fmt.Errorf("slice of %s: begin %d + size %d of axis %d runs past its size %d", x, b, s, i, d.Size)
		}
		out[i] = Fixed((s-1)/k + 1)
		if (s-1)/k == 0 {
			// One element: any stride takes it, and 1 keeps the
			// strides generated code multiplies small.
			st = slices.Clone(st)
			st[i] = 1
		}
	}
	n.Attrs["strides"] = st
	return Type{DType: x.DType, Shape: out}, nil
}

func inferConcat(n *Node) (Type, error) {
	if len(n.Inputs) == 0 {
		return Type{}, fmt.Errorf("concat needs at least one operand")
	}
	first := n.Inputs[0].Type
	r := first.Shape.Rank()
	if r == 0 {
		return Type{}, fmt.Errorf("concat needs operands of rank at least 1, got %s", first)
	}
	a := n.Attrs.Int("axis", 0)
	if a < -r || a >= r {
		return Type{}, fmt.Errorf("axis %d is out of range for %s", a, first)
	}
	if a < 0 {
		a += r
	}
	out := first.Shape.Clone()
	total := 0
	for k, in := range n.Inputs {
		t := in.Type
		if t.DType != first.DType {
			return Type{}, fmt.Errorf("operands have different dtypes: %s and %s", first, t)
		}
		if t.Shape.Rank() != r {
			return Type{}, fmt.Errorf("operands have different ranks: %s and %s", first, t)
		}
		for i, d := range t.Shape {
			if i == a {
				continue
			}
			if d != first.Shape[i] {
				return Type{}, fmt.Errorf("operand %d is %s, but operand 1 is %s: dimension %d differs (only axis %d may)", k+1, t, first, i, a)
			}
		}
		if d := t.Shape[a]; d.IsSym() {
			if len(n.Inputs) > 1 {
				return Type{}, fmt.Errorf("cannot join %s along axis %d: it is the symbolic dimension %s, and a sum of dimensions is not a single dimension", t, a, d)
			}
		} else {
			var ok bool
			if total, ok = AddInt(total, d.Size); !ok || total > MaxElements {
				return Type{}, fmt.Errorf("concat along axis %d: the joined axis is too large", a)
			}
		}
	}
	if !out[a].IsSym() {
		out[a] = Fixed(total)
	}
	n.Attrs["axis"] = a
	return Type{DType: first.DType, Shape: out}, nil
}

// prod is the product of sizes.
func prod(s []int) int {
	p := 1
	for _, d := range s {
		p *= d
	}
	return p
}

// dot is the flat index of idx under strides st.
func dot(idx, st []int) int {
	f := 0
	for i, c := range idx {
		f += c * st[i]
	}
	return f
}

// unravel writes the multi-index of flat index f in shape into idx.
func unravel(f int, shape, idx []int) {
	for i := len(shape) - 1; i >= 0; i-- {
		idx[i] = f % shape[i]
		f /= shape[i]
	}
}

// gatherEval builds a tensor of shape out whose element at index idx is
// x's element at flat index src(idx), or fill where src returns -1.
func gatherEval(dt DType, x *Tensor, out []int, fill float64, src func(idx []int) int) *Tensor {
	t := NewTensor(dt, out)
	idx := make([]int, len(out))
	for f := range t.Data {
		unravel(f, out, idx)
		if s := src(idx); s >= 0 {
			t.Data[f] = x.Data[s]
		} else {
			t.Data[f] = fill
		}
	}
	return t.Round()
}

// scatterEval builds a zero tensor of shape out and adds every element of
// x, at index idx, to the element at flat index dst(idx).
func scatterEval(dt DType, x *Tensor, out []int, dst func(idx []int) int) *Tensor {
	t := NewTensor(dt, out)
	idx := make([]int, len(x.Shape))
	for f, v := range x.Data {
		unravel(f, x.Shape, idx)
		t.Data[dst(idx)] += v
	}
	return t.Round()
}
