package ir

import (
	"fmt"
	"math"
	"math/bits"
)

// strided_slice: TensorFlow's tf.strided_slice, the op behind Python's
// x[b:e:s, ..., tf.newaxis, i]. The slice spec has one entry per begin,
// end and strides element; the masks are bit fields over those entries:
//
//   - begin_mask / end_mask: bit i ignores begin[i] / end[i] and takes
//     the axis from its start / to its end (for a negative stride, from
//     its end / to its start);
//   - ellipsis_mask: at most one bit; the entry stands for as many whole
//     axes as the spec leaves over (an ellipsis is implied at the end);
//   - new_axis_mask: the entry inserts a size-1 axis into the result;
//   - shrink_axis_mask: the entry takes the one element begin[i] and
//     drops the axis (x[i]).
//
// Indices are TensorFlow's: a negative one counts from the end, and
// begin and end are then clamped to the axis (to 0..size for a positive
// stride, -1..size-1 for a negative one); a stride is non-zero and may
// be negative. A shrunk index must be inside the axis. flow's tensors
// have at least one element, so a selection that is empty along an axis
// is an error, and a symbolic dimension can only be taken whole (masked
// or covered by the ellipsis, stride 1).

// Strided-slice spec entries that are no axis of the operand, in
// stridedSliceSpec's list of result axes.
const (
	newAxisEntry = -1
	shrinkEntry  = -2
)

// StridedSelection is what a strided_slice node selects, per axis i of its
// operand: the Sizes[i] elements Begin[i] + k*Strides[i]. The result is
// that selection with the shrunk axes dropped and the new axes inserted,
// which moves no element (both have size 1).
type StridedSelection struct {
	Begin, Strides []int
	Sizes          Shape
}

// StridedSliceOf returns the selection of a checked strided_slice node.
func StridedSliceOf(n *Node) StridedSelection {
	s, _, err := stridedSliceSpec(n.Inputs[0].Type, n.Attrs)
	if err != nil {
		panic("ir: strided_slice node that does not check: " + err.Error())
	}
	return s
}

func init() {
	mask := func(name, doc string) AttrSpec {
		return AttrSpec{Name: name, Kind: IntArg, Default: 0, Doc: doc}
	}
	Register(&OpDef{
		Name:       "strided_slice",
		BatchLocal: true,
		Summary:    "TensorFlow's strided slice x[begin:end:strides] per spec entry, with begin/end masks, an ellipsis, new axes and shrunk axes (negative indices count from the end and are clamped as TensorFlow does; strides may be negative)",
		DTypes:     allDTypes,
		Inputs:     []string{"x"},
		Attrs: []AttrSpec{
			{Name: "begin", Kind: IntsArg, Doc: "the first index per spec entry (negative counts from the end)"},
			{Name: "end", Kind: IntsArg, Doc: "the index per spec entry the slice stops before (negative counts from the end)"},
			{Name: "strides", Kind: IntsArg, Doc: "the non-zero step per spec entry; all 1 when omitted"},
			mask("begin_mask", "bit i: entry i starts at its axis's start (its end for a negative stride), ignoring begin[i]"),
			mask("end_mask", "bit i: entry i runs to its axis's end (its start for a negative stride), ignoring end[i]"),
			mask("ellipsis_mask", "at most one bit i: entry i stands for the axes the spec leaves over, whole"),
			mask("new_axis_mask", "bit i: entry i inserts a new size-1 axis"),
			mask("shrink_axis_mask", "bit i: entry i takes element begin[i] and drops the axis"),
		},
		Examples: []Example{
			// x[:, 1::MaxInt, ::-MaxInt]: a stride past the axis takes one element.
			{Shapes: [][]int{{2, 5, 3}}, Attrs: Attrs{"begin": []int{0, 1, -1}, "end": []int{0, 5, 0}, "strides": []int{1, math.MaxInt, -math.MaxInt}, "begin_mask": 1, "end_mask": 5}},
			// x[4:0:-1]
			{Shapes: [][]int{{5}}, Attrs: Attrs{"begin": []int{4}, "end": []int{0}, "strides": []int{-1}}},
			// x[-1:0:-2, 1:-1:2]
			{Shapes: [][]int{{4, 5}}, Attrs: Attrs{"begin": []int{-1, 1}, "end": []int{0, -1}, "strides": []int{-2, 2}}},
			// x[..., 1:3]
			{Shapes: [][]int{{3, 4, 5}}, Attrs: Attrs{"begin": []int{0, 1}, "end": []int{0, 3}, "ellipsis_mask": 1}},
			// x[tf.newaxis, :, 2]
			{Shapes: [][]int{{3, 4}}, Attrs: Attrs{"begin": []int{0, 0, 2}, "end": []int{0, 0, 3}, "begin_mask": 2, "end_mask": 2, "new_axis_mask": 1, "shrink_axis_mask": 4}},
			// x[-1, ::-1]
			{Shapes: [][]int{{2, 3, 4}}, Attrs: Attrs{"begin": []int{-1, 0}, "end": []int{0, 0}, "strides": []int{1, -1}, "begin_mask": 2, "end_mask": 2, "shrink_axis_mask": 1}},
			// x[-10:10:2], clamped
			{Shapes: [][]int{{6}}, Attrs: Attrs{"begin": []int{-10}, "end": []int{10}, "strides": []int{2}}},
			// x[10:-10:-3], clamped
			{Shapes: [][]int{{6}}, Attrs: Attrs{"begin": []int{10}, "end": []int{-10}, "strides": []int{-3}}},
			// x[0, ..., tf.newaxis, 1:]
			{Shapes: [][]int{{2, 3, 4}}, Attrs: Attrs{"begin": []int{0, 0, 0, 1}, "end": []int{0, 0, 0, 0}, "shrink_axis_mask": 1, "ellipsis_mask": 2, "new_axis_mask": 4, "end_mask": 8}},
			// x[1, 2]
			{Shapes: [][]int{{3, 4}}, Attrs: Attrs{"begin": []int{1, 2}, "end": []int{2, 3}, "shrink_axis_mask": 3}},
			// x[::-1, 1::3] of integers
			{Shapes: [][]int{{2, 7}}, Attrs: Attrs{"begin": []int{0, 1}, "end": []int{0, 0}, "strides": []int{-1, 3}, "begin_mask": 1, "end_mask": 3}, DTypes: []DType{I32}},
		},
		Infer: func(n *Node) (Type, error) {
			x := n.Inputs[0].Type
			_, out, err := stridedSliceSpec(x, n.Attrs)
			if err != nil {
				return Type{}, fmt.Errorf("strided_slice of %s: %v", x, err)
			}
			return Type{DType: x.DType, Shape: out}, nil
		},
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			s := StridedSliceOf(n)
			if !dy.Type.Shape.Equal(s.Sizes) {
				dy = g.MustApply(ReshapeTo, []*Node{dy}, Attrs{"shape": s.Sizes})
			}
			return []*Node{g.MustApply(Unslice, []*Node{dy}, Attrs{
				"shape": n.Inputs[0].Type.Shape, "begin": s.Begin, "strides": s.Strides,
			})}
		},
		Cost: copyCost,
		Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
			b := cx.Binding
			x := in[0]
			s := StridedSliceOf(n)
			xs := strides(x.Shape)
			t := gatherEval(n.Type.DType, x, s.Sizes.Eval(b), 0, func(idx []int) int {
				f := 0
				for i, c := range idx {
					f += (s.Begin[i] + c*s.Strides[i]) * xs[i]
				}
				return f
			})
			t.Shape = n.Type.Shape.Eval(b)
			return t, nil
		},
	})
}

// stridedSliceSpec resolves a strided slice spec (attrs) against the
// operand's type as TensorFlow's ValidateStridedSliceOp does: it expands
// the ellipsis into whole axes, canonicalizes begin and end per operand
// axis (masks, negative indices, clamping) and returns the selection and
// the result shape. Its errors are phrased for users.
func stridedSliceSpec(x Type, a Attrs) (StridedSelection, Shape, error) {
	if !a.Has("begin") || !a.Has("end") {
		return StridedSelection{}, nil, fmt.Errorf("strided_slice needs begin and end, one entry per spec entry, e.g. strided_slice(x, begin = [0], end = [2])")
	}
	begin, end := a.Ints("begin"), a.Ints("end")
	n := len(begin)
	st := a.Ints("strides")
	if !a.Has("strides") {
		st = make([]int, n)
		for i := range st {
			st[i] = 1
		}
	}
	if len(end) != n || len(st) != n {
		return StridedSelection{}, nil, fmt.Errorf("begin, end and strides have %d, %d and %d entries; they need one each per spec entry", n, len(end), len(st))
	}
	masks := map[string]uint{}
	for _, name := range []string{"begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask"} {
		m := a.Int(name, 0)
		if m < 0 || m >= 1<<n {
			return StridedSelection{}, nil, fmt.Errorf("%s %d is not a bit field over the %d spec entries (0..%d)", name, m, n, 1<<n-1)
		}
		masks[name] = uint(m)
	}
	ellipsis, newAxis, shrink := masks["ellipsis_mask"], masks["new_axis_mask"], masks["shrink_axis_mask"]
	if bits.OnesCount(ellipsis) > 1 {
		return StridedSelection{}, nil, fmt.Errorf("ellipsis_mask %d sets %d bits; a spec has at most one ellipsis", ellipsis, bits.OnesCount(ellipsis))
	}
	// The new axes after the ellipsis, which it leaves room for; without
	// an ellipsis, one is implied after the last entry.
	entries, afterEllipsis, seen := n, 0, false
	for i := range n {
		if seen && newAxis&(1<<i) != 0 {
			afterEllipsis++
		}
		if ellipsis&(1<<i) != 0 {
			seen = true
		}
	}
	if !seen {
		ellipsis |= 1 << n
		entries++
	}
	// The dense spec, one entry per axis of x.
	rank := x.Shape.Rank()
	dBegin, dEnd, dStrides := make([]int, rank), make([]int, rank), make([]int, rank)
	dBeginMask, dEndMask, dShrink := make([]bool, rank), make([]bool, rank), make([]bool, rank)
	var axes []int // the result's axes: an axis of x, newAxisEntry or shrinkEntry
	full := 0
	for i := range entries {
		bit := uint(1) << i
		switch {
		case ellipsis&bit != 0:
			next := min(rank-(entries-i)+1+afterEllipsis, rank)
			for ; full < next; full++ {
				dStrides[full], dBeginMask[full], dEndMask[full] = 1, true, true
				axes = append(axes, full)
			}
		case newAxis&bit != 0:
			axes = append(axes, newAxisEntry)
		default:
			if full == rank {
				return StridedSelection{}, nil, fmt.Errorf("the spec has more entries than the operand has axes (%d)", rank)
			}
			dBegin[full], dEnd[full], dStrides[full] = begin[i], end[i], st[i]
			dBeginMask[full], dEndMask[full] = masks["begin_mask"]&bit != 0, masks["end_mask"]&bit != 0
			if shrink&bit != 0 {
				dShrink[full] = true
				axes = append(axes, shrinkEntry)
			} else {
				axes = append(axes, full)
			}
			full++
		}
	}
	// Canonical begin, stride and size per axis of x.
	sel := StridedSelection{Begin: make([]int, rank), Strides: make([]int, rank), Sizes: make(Shape, rank)}
	for i, d := range x.Shape {
		s := dStrides[i]
		switch {
		case s == 0:
			return StridedSelection{}, nil, fmt.Errorf("the stride of axis %d is 0; strides are non-zero", i)
		case dShrink[i] && s < 0:
			return StridedSelection{}, nil, fmt.Errorf("axis %d takes one element (shrink_axis_mask), so its stride must be positive, got %d", i, s)
		case d.IsSym():
			if dShrink[i] || s != 1 || !(dBeginMask[i] || dBegin[i] == 0) || !dEndMask[i] {
				return StridedSelection{}, nil, fmt.Errorf("axis %d is the symbolic dimension %s, which strided_slice can only take whole (begin and end masked, or covered by the ellipsis, stride 1)", i, d)
			}
			sel.Strides[i], sel.Sizes[i] = 1, d
			continue
		}
		size := d.Size
		if dShrink[i] {
			b := dBegin[i]
			if b < 0 {
				b += size
			}
			if b < 0 || b >= size {
				return StridedSelection{}, nil, fmt.Errorf("index %d of axis %d is out of range for its size %d", dBegin[i], i, size)
			}
			sel.Begin[i], sel.Strides[i], sel.Sizes[i] = b, 1, Fixed(1)
			continue
		}
		// The valid range of begin and end: 0..size for a positive
		// stride, -1..size-1 (-1: before the first) for a negative one.
		lo, hi := 0, size
		if s < 0 {
			lo, hi = -1, size-1
		}
		// A masked begin (end) is the start (end) of the traversal.
		canonical := func(v int, masked, isEnd bool) int {
			if masked {
				if (s > 0) == isEnd {
					return hi
				}
				return lo
			}
			if v < 0 {
				v += size
			}
			return max(lo, min(v, hi))
		}
		b, e := canonical(dBegin[i], dBeginMask[i], false), canonical(dEnd[i], dEndMask[i], true)
		count := 0
		if span := e - b; span != 0 && (span < 0) == (s < 0) {
			count = span / s
			if span%s != 0 {
				count++
			}
		}
		if count == 0 {
			return StridedSelection{}, nil, fmt.Errorf("the slice from %d to %d by %d selects no element of axis %d (size %d); flow's tensors have at least one element", b, e, s, i, size)
		}
		if count == 1 {
			s = 1 // one element: any stride takes it, and 1 keeps generated code's strides small
		}
		sel.Begin[i], sel.Strides[i], sel.Sizes[i] = b, s, Fixed(count)
	}
	out := Shape{}
	for _, ax := range axes {
		switch {
		case ax >= 0:
			out = append(out, sel.Sizes[ax])
		case ax == newAxisEntry:
			out = append(out, Fixed(1))
		}
	}
	return sel, out, nil
}
