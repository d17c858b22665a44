package ir

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// More array ops: gather (and its gradient gather_grad), the shape
// queries rank, shape and size, the generators fill and range, split and
// the seeded shuffle (and its gradient unshuffle).
//
// Design notes, as users see them:
//
//   - gather reads params along axis at integer indices (TensorFlow's
//     semantics). An index outside 0..size-1 of that axis reads zeros, as
//     TensorFlow does on GPUs; its gradient goes nowhere.
//   - rank, shape and size are i32; a symbolic dimension gives its size
//     when the graph runs. shape of a scalar would be empty and is an
//     error.
//   - fill and range take compile-time arguments only, and have static
//     shapes.
//   - split returns one piece: split(x, num = 3, axis = 1, index = k) or
//     split(x, sizes = [2, -1], index = k). The language has one value
//     per assignment, so each piece is its own call; every call is a
//     strided copy like slice.
//   - shuffle(x, seed) permutes x along axis 0 with the permutation
//     ShufflePermutation(seed, size of axis 0), fixed at compile time: it
//     is the same on every run and in the interpreter and generated code.
//     Axis 0 must have a fixed size.

// ShuffleStream is the second PCG word of shuffle's generator; the first
// is the seed.
const ShuffleStream = 0x9E3779B97F4A7C15

// ShufflePermutation returns the permutation shuffle applies to n rows
// with seed: math/rand/v2's Shuffle driven by PCG(seed, ShuffleStream)
// over the identity. Row k of the result is row perm[k] of the operand.
func ShufflePermutation(seed, n int) []int {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	r := rand.New(rand.NewPCG(uint64(seed), ShuffleStream))
	r.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	return perm
}

func init() {
	Register(&OpDef{
		Name:       "gather",
		BatchLocal: true,
		DTypes:     allDTypes,
		Summary:    "the slices of params at the integer indices along axis: the result's shape is params' before axis, then indices', then params' after axis (an index outside 0..size-1 reads zeros)",
		Inputs:     []string{"params", "indices"},
		Attrs: []AttrSpec{
			{Name: "axis", Kind: IntArg, Default: 0, Doc: "the axis of params to index (negative counts from the end)"},
		},
		Examples: []Example{
			{Shapes: [][]int{{5, 3}, {4}}, DTypes: []DType{Invalid, I32}},
			{Shapes: [][]int{{3, 4}, {2, 3}}, Attrs: Attrs{"axis": 1}, DTypes: []DType{Invalid, I64}},
			{Shapes: [][]int{{1}, {3}}, DTypes: []DType{Invalid, I32}},
			{Shapes: [][]int{{2, 3, 2}, {}}, Attrs: Attrs{"axis": -2}, DTypes: []DType{Invalid, I32}},
			{Shapes: [][]int{{3}, {2, 2}}, DTypes: []DType{I32, I64}},
			{Shapes: [][]int{{4}, {}}, DTypes: []DType{Invalid, I32}},
		},
		Infer: inferGather,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			p, idx := n.Inputs[0], n.Inputs[1]
			return []*Node{g.MustApply(GatherGrad, []*Node{dy, idx}, Attrs{"shape": p.Type.Shape, "axis": n.Attrs.Int("axis", 0)}), nil}
		},
		Cost: func(n *Node, cx *Context) Cost {
			b := cx.Binding
			return Cost{BytesRead: bytesOf(n, b) + bytesOf(n.Inputs[1], b), BytesWritten: bytesOf(n, b)}
		},
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			p, idx := in[0], in[1]
			axis := n.Attrs.Int("axis", 0)
			outer, size, inner := splitAxis(p.Shape, axis)
			out := NewTensor(n.Type.DType, gatherSizes(p.Shape, idx.Shape, axis))
			m := len(idx.Data)
			for o := 0; o < outer; o++ {
				for j, v := range idx.Data {
					k := int(v)
					if v < 0 || k >= size {
						continue
					}
					copy(out.Data[(o*m+j)*inner:(o*m+j+1)*inner], p.Data[(o*size+k)*inner:(o*size+k+1)*inner])
				}
			}
			return out, nil
		},
	})
	Register(&OpDef{
		Name:    "gather_grad",
		Summary: "zeros of shape `shape` with each slice of updates added at its index along axis (out-of-range indices dropped): the gradient of gather",
		Inputs:  []string{"updates", "indices"}, Internal: true,
		Infer: func(n *Node) (Type, error) {
			u, idx := n.Inputs[0].Type, n.Inputs[1].Type
			s, _ := n.Attrs["shape"].(Shape)
			axis := n.Attrs.Int("axis", 0)
			if !idx.DType.IsInt() || axis < 0 || axis >= s.Rank() {
				return Type{}, fmt.Errorf("gather_grad: bad indices %s or axis %d for %s", idx, axis, s)
			}
			want := append(append(append(Shape{}, s[:axis]...), idx.Shape...), s[axis+1:]...)
			if !want.Equal(u.Shape) {
				return Type{}, fmt.Errorf("gather_grad: updates %s do not match %s gathered at %s", u, s, idx)
			}
			return Type{DType: u.DType, Shape: s}, nil
		},
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			return []*Node{g.MustApply(Gather, []*Node{dy, n.Inputs[1]}, Attrs{"axis": n.Attrs.Int("axis", 0)}), nil}
		},
		Cost: func(n *Node, cx *Context) Cost {
			b := cx.Binding
			return Cost{FLOPs: elems(n.Inputs[0], b), BytesRead: bytesOf(n.Inputs[0], b) + bytesOf(n.Inputs[1], b), BytesWritten: bytesOf(n, b)}
		},
		Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
			b := cx.Binding
			u, idx := in[0], in[1]
			axis := n.Attrs.Int("axis", 0)
			shape := n.Type.Shape.Eval(b)
			outer, size, inner := splitAxis(shape, axis)
			out := NewTensor(n.Type.DType, shape)
			m := len(idx.Data)
			for o := 0; o < outer; o++ {
				for j, v := range idx.Data {
					k := int(v)
					if v < 0 || k >= size {
						continue
					}
					for i := 0; i < inner; i++ {
						out.Data[(o*size+k)*inner+i] += u.Data[(o*m+j)*inner+i]
					}
				}
			}
			return out.Round(), nil
		},
	})

	query := func(name, summary string, infer func(x Type) (Type, error), eval func(shape []int) []float64) {
		Register(&OpDef{
			Name: name, Summary: summary, DTypes: allDTypes,
			Inputs: []string{"x"},
			Examples: []Example{
				{Shapes: [][]int{{2, 3}}},
				{Shapes: [][]int{{1}}},
				{Shapes: [][]int{{3, 1, 5}}, DTypes: []DType{I64}},
				{Shapes: [][]int{{4}}, DTypes: []DType{Bool}},
			},
			Infer: func(n *Node) (Type, error) { return infer(n.Inputs[0].Type) },
			Cost: func(n *Node, cx *Context) Cost {
				b := cx.Binding
				return Cost{BytesWritten: bytesOf(n, b)}
			},
			Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
				b := cx.Binding
				out := NewTensor(I32, n.Type.Shape.Eval(b))
				copy(out.Data, eval(in[0].Shape))
				return out, nil
			},
		})
	}
	query("rank", "the number of axes of x, as an i32 scalar",
		func(x Type) (Type, error) { return Scalar(I32), nil },
		func(shape []int) []float64 { return []float64{float64(len(shape))} })
	query("shape", "the sizes of x's axes, as i32[rank] (a symbolic dimension gives its size when the graph runs)",
		func(x Type) (Type, error) {
			if x.Shape.Rank() == 0 {
				return Type{}, fmt.Errorf("shape of the scalar %s would be empty; shape needs an operand with at least one axis", x)
			}
			return Type{DType: I32, Shape: Shp(x.Shape.Rank())}, nil
		},
		func(shape []int) []float64 {
			out := make([]float64, len(shape))
			for i, d := range shape {
				out[i] = float64(d)
			}
			return out
		})
	query("size", "the number of elements of x, as an i32 scalar (symbolic dimensions count with their size when the graph runs)",
		func(x Type) (Type, error) { return Scalar(I32), nil },
		func(shape []int) []float64 { return []float64{float64(prod(shape))} })

	Register(&OpDef{
		Name:    "fill",
		DTypes:  allDTypes,
		Summary: "a tensor of shape dims with every element equal to value",
		Attrs: []AttrSpec{
			{Name: "dims", Kind: DimsArg, Doc: "the result's sizes, each positive or a dimension name such as N ([] for a scalar)"},
			{Name: "value", Kind: FloatArg, Doc: "the value of every element (an integer for integer dtypes, 0 or 1 for bool)"},
			{Name: "dtype", Kind: StringArg, Default: "f32", Doc: "the result's dtype"},
		},
		Examples: []Example{
			{Attrs: Attrs{"dims": []int{2, 3}, "value": 1.5}},
			{Attrs: Attrs{"dims": []int{1}, "value": -2.0, "dtype": "i32"}},
			{Attrs: Attrs{"dims": []int{3}, "value": 7.0, "dtype": "i64"}},
			{Attrs: Attrs{"dims": []int{2, 1}, "value": 1.0, "dtype": "bool"}},
			{Attrs: Attrs{"dims": []int{}, "value": 0.25, "dtype": "f64"}},
		},
		Infer: func(n *Node) (Type, error) {
			if !n.Attrs.Has("dims") {
				return Type{}, fmt.Errorf("fill needs dims = the result's sizes, e.g. fill(dims = [2, 3], value = 1)")
			}
			if !n.Attrs.Has("value") {
				return Type{}, fmt.Errorf("fill needs value = the value of every element, e.g. fill(dims = [2, 3], value = 1)")
			}
			dims := n.Attrs.Dims("dims")
			for i, d := range dims {
				if !d.IsSym() && d.Size < 1 {
					return Type{}, fmt.Errorf("fill: size %d of axis %d is not positive", d.Size, i)
				}
			}
			dt, err := dtypeAttr(n, "dtype", "f32")
			if err != nil {
				return Type{}, err
			}
			if err := checkConstValue("fill", "value", n.Attrs.Float("value", 0), dt); err != nil {
				return Type{}, err
			}
			return Type{DType: dt, Shape: dims}, nil
		},
		Cost: func(n *Node, cx *Context) Cost { b := cx.Binding; return Cost{BytesWritten: bytesOf(n, b)} },
		Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
			b := cx.Binding
			out := NewTensor(n.Type.DType, n.Type.Shape.Eval(b))
			v := n.Attrs.Float("value", 0)
			for i := range out.Data {
				out.Data[i] = v
			}
			return out.Round(), nil
		},
	})

	Register(&OpDef{
		Name:    "range",
		DTypes:  numericDTypes,
		Summary: "the sequence start, start+delta, … up to but excluding limit (range(k) counts 0..k-1), as a 1-D tensor",
		Attrs: []AttrSpec{
			{Name: "start", Kind: FloatArg, Doc: "the first value; with limit omitted, the limit (and the sequence starts at 0)"},
			{Name: "limit", Kind: FloatArg, Doc: "the bound the sequence stops before"},
			{Name: "delta", Kind: FloatArg, Default: 1.0, Doc: "the step, not 0 (negative counts down)"},
			{Name: "dtype", Kind: StringArg, Default: "i32", Doc: "the result's dtype: i32, i64, f32 or f64"},
		},
		Examples: []Example{
			{Attrs: Attrs{"start": 0.0, "limit": 5.0}},
			{Attrs: Attrs{"start": 2.0, "limit": 11.0, "delta": 3.0, "dtype": "i64"}},
			{Attrs: Attrs{"start": 1.5, "limit": -1.0, "delta": -0.5, "dtype": "f32"}},
			{Attrs: Attrs{"start": 4.0}},
			{Attrs: Attrs{"start": 0.0, "limit": 0.1, "delta": 0.3, "dtype": "f64"}},
		},
		Infer: inferRange,
		Cost: func(n *Node, cx *Context) Cost {
			b := cx.Binding
			return Cost{FLOPs: elems(n, b), BytesWritten: bytesOf(n, b)}
		},
		Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
			b := cx.Binding
			out := NewTensor(n.Type.DType, n.Type.Shape.Eval(b))
			start, delta := n.Attrs.Float("start", 0), n.Attrs.Float("delta", 1)
			for i := range out.Data {
				// The explicit conversion rounds the product, as generated
				// code does, so no platform fuses it into the addition.
				out.Data[i] = start + float64(float64(i)*delta)
			}
			return out.Round(), nil
		},
	})

	Register(&OpDef{
		Name:       "split",
		BatchLocal: true,
		DTypes:     allDTypes,
		Summary:    "piece index of x cut along axis into num equal pieces, or into pieces of the given sizes (one may be -1: the rest)",
		Inputs:     []string{"x"},
		Attrs: []AttrSpec{
			{Name: "num", Kind: IntArg, Doc: "the number of equal pieces; give num or sizes"},
			{Name: "sizes", Kind: IntsArg, Doc: "the size of each piece along axis, summing to its size; one may be -1"},
			{Name: "axis", Kind: IntArg, Default: 0, Doc: "the axis to cut (negative counts from the end)"},
			{Name: "index", Kind: IntArg, Doc: "which piece to return, from 0 (negative counts from the end)"},
		},
		Examples: []Example{
			{Shapes: [][]int{{4, 3}}, Attrs: Attrs{"num": 2, "index": 1}},
			{Shapes: [][]int{{2, 5}}, Attrs: Attrs{"sizes": []int{1, -1, 2}, "axis": 1, "index": 1}},
			{Shapes: [][]int{{3, 1, 2}}, Attrs: Attrs{"num": 3, "index": 2}},
			{Shapes: [][]int{{1}}, Attrs: Attrs{"num": 1, "index": 0}},
			{Shapes: [][]int{{2, 6}}, Attrs: Attrs{"sizes": []int{2, 4}, "axis": -1, "index": -1}},
			{Shapes: [][]int{{2, 4}}, Attrs: Attrs{"num": 4, "axis": 1, "index": 3}, DTypes: []DType{I32}},
		},
		Infer: inferSplit,
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			x := n.Inputs[0]
			begin, st := splitBegin(n), make([]int, x.Type.Shape.Rank())
			for i := range st {
				st[i] = 1
			}
			return []*Node{g.MustApply(Unslice, []*Node{dy}, Attrs{"shape": x.Type.Shape, "begin": begin, "strides": st})}
		},
		Cost: copyCost,
		Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
			b := cx.Binding
			x := in[0]
			begin := splitBegin(n)
			xs := strides(x.Shape)
			return gatherEval(n.Type.DType, x, n.Type.Shape.Eval(b), 0, func(idx []int) int {
				return dot(idx, xs) + dot(begin, xs)
			}), nil
		},
	})

	Register(&OpDef{
		Name:       "shuffle",
		BatchLocal: true,
		DTypes:     allDTypes,
		Summary:    "x with its slices along axis 0 permuted by a permutation fixed by seed (the same on every run); axis 0 must have a fixed size",
		Inputs:     []string{"x"},
		Attrs: []AttrSpec{
			{Name: "seed", Kind: IntArg, Doc: "selects the permutation: math/rand/v2's Shuffle with PCG(seed, 0x9E3779B97F4A7C15)"},
		},
		Examples: []Example{
			{Shapes: [][]int{{5, 2}}, Attrs: Attrs{"seed": 4}},
			{Shapes: [][]int{{1}}, Attrs: Attrs{"seed": 3}},
			{Shapes: [][]int{{4}}, Attrs: Attrs{"seed": 42}},
			{Shapes: [][]int{{3, 2, 3}}, Attrs: Attrs{"seed": 7}},
			{Shapes: [][]int{{6}}, Attrs: Attrs{"seed": 0}, DTypes: []DType{I32}},
		},
		Infer: func(n *Node) (Type, error) { return inferShuffle(n, "shuffle") },
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			return []*Node{g.MustApply(Unshuffle, []*Node{dy}, Attrs{"seed": n.Attrs.Int("seed", 0)})}
		},
		Cost: copyCost,
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) { return evalShuffle(n, in[0], false), nil },
	})
	Register(&OpDef{
		Name:    "unshuffle",
		Summary: "x with shuffle's permutation for seed undone along axis 0: the gradient of shuffle",
		Inputs:  []string{"x"}, Internal: true,
		Infer: func(n *Node) (Type, error) { return inferShuffle(n, "unshuffle") },
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			return []*Node{g.MustApply(Shuffle, []*Node{dy}, Attrs{"seed": n.Attrs.Int("seed", 0)})}
		},
		Cost: copyCost,
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) { return evalShuffle(n, in[0], true), nil },
	})
}

// gatherSizes is the result shape of gather: params' sizes before axis,
// the indices' sizes, then params' sizes after axis.
func gatherSizes(params, indices []int, axis int) []int {
	out := append(append(append([]int{}, params[:axis]...), indices...), params[axis+1:]...)
	return out
}

func inferGather(n *Node) (Type, error) {
	p, idx := n.Inputs[0].Type, n.Inputs[1].Type
	if !idx.DType.IsInt() {
		return Type{}, fmt.Errorf("gather needs integer indices, got %s", idx)
	}
	r := p.Shape.Rank()
	if r == 0 {
		return Type{}, fmt.Errorf("gather needs params with at least one axis, got the scalar %s", p)
	}
	a := n.Attrs.Int("axis", 0)
	if a < -r || a >= r {
		return Type{}, fmt.Errorf("axis %d is out of range for gather from %s: it must be in %d..%d", a, p, -r, r-1)
	}
	if a < 0 {
		a += r
	}
	n.Attrs["axis"] = a
	out := append(append(append(Shape{}, p.Shape[:a]...), idx.Shape...), p.Shape[a+1:]...)
	return Type{DType: p.DType, Shape: out}, nil
}

// checkConstValue checks that a compile-time number fits dtype dt.
func checkConstValue(op, name string, v float64, dt DType) error {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Errorf("%s: %s %g is not a finite number", op, name, v)
	case dt.IsInt() && v != math.Trunc(v):
		return fmt.Errorf("%s: %s %g is not an integer, but the dtype is %s", op, name, v, dt)
	case dt == Bool && v != 0 && v != 1:
		return fmt.Errorf("%s: %s %g is not 0 or 1, which a bool result needs", op, name, v)
	case dt == I32 && (v < math.MinInt32 || v > math.MaxInt32):
		return fmt.Errorf("%s: %s %g does not fit in i32", op, name, v)
	}
	return nil
}

// maxRange is the longest sequence range makes.
const maxRange = 1 << 26

func inferRange(n *Node) (Type, error) {
	if !n.Attrs.Has("start") {
		return Type{}, fmt.Errorf("range needs its bounds, e.g. range(0, 10) or range(10)")
	}
	if !n.Attrs.Has("limit") {
		n.Attrs["limit"] = n.Attrs.Float("start", 0)
		n.Attrs["start"] = 0.0
	}
	start, limit, delta := n.Attrs.Float("start", 0), n.Attrs.Float("limit", 0), n.Attrs.Float("delta", 1)
	dt, err := dtypeAttr(n, "dtype", "i32")
	if err != nil {
		return Type{}, err
	}
	if dt == Bool || !(dt == I32 || dt == I64 || dt.IsFloat()) {
		return Type{}, fmt.Errorf("range makes numbers; dtype %s is not allowed (use i32, i64, f32 or f64)", dt)
	}
	for _, a := range []struct {
		name string
		v    float64
	}{{"start", start}, {"limit", limit}, {"delta", delta}} {
		if err := checkConstValue("range", a.name, a.v, dt); err != nil {
			return Type{}, err
		}
	}
	if delta == 0 {
		return Type{}, fmt.Errorf("range: delta must not be 0")
	}
	count := math.Ceil((limit - start) / delta)
	if count < 1 {
		return Type{}, fmt.Errorf("range from %g to %g by %g is empty; tensors have at least one element", start, limit, delta)
	}
	if count > maxRange {
		return Type{}, fmt.Errorf("range from %g to %g by %g has %g elements, more than the %d allowed", start, limit, delta, count, maxRange)
	}
	if last := start + float64(count-1)*delta; dt == I32 && (last < math.MinInt32 || last > math.MaxInt32) {
		return Type{}, fmt.Errorf("range: the last value %g does not fit in i32", last)
	}
	return Type{DType: dt, Shape: Shp(int(count))}, nil
}

func inferSplit(n *Node) (Type, error) {
	x := n.Inputs[0].Type
	r := x.Shape.Rank()
	if r == 0 {
		return Type{}, fmt.Errorf("split needs an operand with at least one axis, got the scalar %s", x)
	}
	a := n.Attrs.Int("axis", 0)
	if a < -r || a >= r {
		return Type{}, fmt.Errorf("axis %d is out of range for split of %s: it must be in %d..%d", a, x, -r, r-1)
	}
	if a < 0 {
		a += r
	}
	d := x.Shape[a]
	hasNum, hasSizes := n.Attrs.Has("num"), n.Attrs.Has("sizes")
	var sizes []int       // the pieces' sizes, when listed
	pieces, equal := 0, 0 // or num pieces of equal size each
	switch {
	case hasNum == hasSizes:
		return Type{}, fmt.Errorf("split needs either num = the number of equal pieces or sizes = the size of each piece, not both or neither")
	case hasNum:
		num := n.Attrs.Int("num", 0)
		switch {
		case num < 1:
			return Type{}, fmt.Errorf("split: num %d is not positive", num)
		case d.IsSym() && num != 1:
			return Type{}, fmt.Errorf("cannot split %s along axis %d: it is the symbolic dimension %s, which has no fixed size to cut", x, a, d)
		case d.IsSym():
			sizes = []int{-1}
		case d.Size%num != 0:
			return Type{}, fmt.Errorf("cannot split %s along axis %d into %d equal pieces: %d is not a multiple of %d", x, a, num, d.Size, num)
		default:
			// num equal pieces, not listed: num may be as large as the axis.
			pieces, equal = num, d.Size/num
		}
	default:
		given := n.Attrs.Ints("sizes")
		if len(given) == 0 {
			return Type{}, fmt.Errorf("split: sizes is empty; it needs one size per piece")
		}
		if d.IsSym() && !(len(given) == 1 && (given[0] == -1)) {
			return Type{}, fmt.Errorf("cannot split %s along axis %d: it is the symbolic dimension %s, which has no fixed size to cut", x, a, d)
		}
		sizes = append([]int{}, given...)
		rest, total := -1, 0
		for i, s := range sizes {
			switch {
			case s == -1 && rest >= 0:
				return Type{}, fmt.Errorf("split: sizes %s has more than one -1", formatAttr(given))
			case s == -1:
				rest = i
			case s < 1:
				return Type{}, fmt.Errorf("split: size %d in sizes %s is not positive (or -1 for the rest)", s, formatAttr(given))
			default:
				var ok bool
				if total, ok = AddInt(total, s); !ok {
					return Type{}, fmt.Errorf("split: sizes %s sum to more than an int holds", formatAttr(given))
				}
			}
		}
		if !d.IsSym() {
			switch {
			case rest >= 0 && total >= d.Size:
				return Type{}, fmt.Errorf("split of %s along axis %d: sizes %s leave nothing for the -1 piece (the axis has %d)", x, a, formatAttr(given), d.Size)
			case rest >= 0:
				sizes[rest] = d.Size - total
			case total != d.Size:
				return Type{}, fmt.Errorf("split of %s along axis %d: sizes %s sum to %d, but the axis has %d", x, a, formatAttr(given), total, d.Size)
			}
		}
	}
	if equal == 0 {
		pieces = len(sizes)
	}
	if !n.Attrs.Has("index") {
		return Type{}, fmt.Errorf("split needs index = which piece to return, from 0 to %d", pieces-1)
	}
	k := n.Attrs.Int("index", 0)
	if k < -pieces || k >= pieces {
		return Type{}, fmt.Errorf("split: index %d is out of range for %d pieces: it must be in %d..%d", k, pieces, -pieces, pieces-1)
	}
	if k < 0 {
		k += pieces
	}
	off, size := k*equal, equal
	if equal == 0 {
		off = 0
		for _, s := range sizes[:k] {
			off += s
		}
		size = sizes[k]
	}
	n.Attrs["axis"], n.Attrs["index"], n.Attrs["offset"] = a, k, off
	out := x.Shape.Clone()
	if !d.IsSym() {
		out[a] = Fixed(size)
	}
	return Type{DType: x.DType, Shape: out}, nil
}

// splitBegin is where a split node's piece begins in its operand: the
// piece's offset along the split axis, 0 along the others.
func splitBegin(n *Node) []int {
	begin := make([]int, n.Inputs[0].Type.Shape.Rank())
	begin[n.Attrs.Int("axis", 0)] = n.Attrs.Int("offset", 0)
	return begin
}

func inferShuffle(n *Node, name string) (Type, error) {
	x := n.Inputs[0].Type
	if !n.Attrs.Has("seed") {
		return Type{}, fmt.Errorf("%s needs seed = an integer that selects the permutation", name)
	}
	if x.Shape.Rank() == 0 {
		return Type{}, fmt.Errorf("%s needs an operand with at least one axis, got the scalar %s", name, x)
	}
	if d := x.Shape[0]; d.IsSym() {
		return Type{}, fmt.Errorf("cannot %s %s: axis 0 is the symbolic dimension %s, and shuffle's permutation is fixed at compile time, so axis 0 needs a fixed size", name, x, d)
	}
	return x, nil
}

// evalShuffle permutes the rows (slices along axis 0) of x; inverse
// undoes the permutation.
func evalShuffle(n *Node, x *Tensor, inverse bool) *Tensor {
	rows := x.Shape[0]
	row := len(x.Data) / rows
	perm := ShufflePermutation(n.Attrs.Int("seed", 0), rows)
	out := NewTensor(x.DType, x.Shape)
	for k, p := range perm {
		dst, src := k, p
		if inverse {
			dst, src = p, k
		}
		copy(out.Data[dst*row:(dst+1)*row], x.Data[src*row:(src+1)*row])
	}
	return out
}
