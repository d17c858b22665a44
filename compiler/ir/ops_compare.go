package ir

import (
	"fmt"
	"math"
	"strings"
)

// Comparisons, logical ops, selection, casts, argmax/argmin, one_hot and
// the sparse softmax cross entropy: the ops that produce or consume
// booleans and integers.

func init() {
	compare := func(name, what string, f func(a, b float64) bool, anyDType bool) {
		ex := []Example{
			{Shapes: [][]int{{2, 3}, {2, 3}}},
			{Shapes: [][]int{{3, 1}, {4}}},
			{Shapes: [][]int{{}, {5}}},
			{Shapes: [][]int{{2, 4}, {4}}, DTypes: []DType{I32, I32}},
			{Shapes: [][]int{{3}, {1}}, DTypes: []DType{I64, I64}},
		}
		dts := numericDTypes
		if anyDType {
			ex = append(ex, Example{Shapes: [][]int{{2, 3}, {3}}, DTypes: []DType{Bool, Bool}})
			dts = allDTypes
		}
		Register(&OpDef{
			Name: name, Summary: "element-wise " + what + " with broadcasting, as bool", DTypes: dts,
			Inputs: []string{"a", "b"}, Elementwise: true, Examples: ex,
			Infer: func(n *Node) (Type, error) { return inferCompare(n, anyDType) },
			Cost:  elementwiseCost(1),
			Eval:  binaryEval(func(a, b float64) float64 { return boolValue(f(a, b)) }),
		})
	}
	compare("greater", "a > b", func(a, b float64) bool { return a > b }, false)
	compare("less", "a < b", func(a, b float64) bool { return a < b }, false)
	compare("greater_equal", "a >= b", func(a, b float64) bool { return a >= b }, false)
	compare("less_equal", "a <= b", func(a, b float64) bool { return a <= b }, false)
	compare("equal", "a == b", func(a, b float64) bool { return a == b }, true)
	compare("not_equal", "a != b", func(a, b float64) bool { return a != b }, true)

	boolExamples := []Example{
		{Shapes: [][]int{{2, 3}, {2, 3}}, DTypes: []DType{Bool, Bool}},
		{Shapes: [][]int{{3, 1}, {4}}, DTypes: []DType{Bool, Bool}},
		{Shapes: [][]int{{}, {5}}, DTypes: []DType{Bool, Bool}},
	}
	logical := func(name, what string, f func(a, b bool) bool) {
		Register(&OpDef{
			Name: name, Summary: "element-wise " + what + " of booleans with broadcasting", DTypes: []DType{Bool},
			Inputs: []string{"a", "b"}, Elementwise: true, Examples: boolExamples,
			Infer: func(n *Node) (Type, error) {
				a, b := n.Inputs[0].Type, n.Inputs[1].Type
				if a.DType != Bool || b.DType != Bool {
					return Type{}, fmt.Errorf("%s needs bool operands, got %s and %s", name, a, b)
				}
				s, err := Broadcast(a.Shape, b.Shape)
				if err != nil {
					return Type{}, fmt.Errorf("shapes %s and %s do not broadcast: %v", a, b, err)
				}
				return Type{DType: Bool, Shape: s}, nil
			},
			Cost: elementwiseCost(1),
			Eval: binaryEval(func(a, b float64) float64 { return boolValue(f(a != 0, b != 0)) }),
		})
	}
	logical("logical_and", "a and b", func(a, b bool) bool { return a && b })
	logical("logical_or", "a or b", func(a, b bool) bool { return a || b })
	Register(&OpDef{
		Name: "logical_not", Summary: "element-wise not x of booleans",
		DTypes: []DType{Bool},
		Inputs: []string{"x"}, Elementwise: true,
		Examples: []Example{
			{Shapes: [][]int{{2, 3}}, DTypes: []DType{Bool}},
			{Shapes: [][]int{{}}, DTypes: []DType{Bool}},
		},
		Infer: func(n *Node) (Type, error) {
			if x := n.Inputs[0].Type; x.DType != Bool {
				return Type{}, fmt.Errorf("logical_not needs a bool operand, got %s", x)
			}
			return n.Inputs[0].Type, nil
		},
		Cost: elementwiseCost(1),
		Eval: unaryEval(func(x float64) float64 { return boolValue(x == 0) }),
	})

	Register(&OpDef{
		Name: "where", Summary: "element-wise a where cond is true, else b, with broadcasting (select)",
		DTypes: allDTypes,
		Inputs: []string{"cond", "a", "b"}, Elementwise: true, BoolOperands: []int{0},
		Examples: []Example{
			{Shapes: [][]int{{2, 3}, {2, 3}, {2, 3}}, DTypes: []DType{Bool}},
			{Shapes: [][]int{{3, 1}, {1, 4}, {3, 4}}, DTypes: []DType{Bool}},
			{Shapes: [][]int{{}, {5}, {5}}, DTypes: []DType{Bool}},
			{Shapes: [][]int{{4}, {4}, {}}, DTypes: []DType{Bool}},
			{Shapes: [][]int{{2, 2}, {2, 2}, {1}}, DTypes: []DType{Bool, I32, I32}},
		},
		Infer: func(n *Node) (Type, error) {
			c, a, b := n.Inputs[0].Type, n.Inputs[1].Type, n.Inputs[2].Type
			if c.DType != Bool {
				return Type{}, fmt.Errorf("where needs a bool condition, got %s", c)
			}
			if a.DType != b.DType {
				return Type{}, fmt.Errorf("where needs a and b of one dtype, got %s and %s", a, b)
			}
			s, err := Broadcast(a.Shape, b.Shape)
			if err == nil {
				s, err = Broadcast(c.Shape, s)
			}
			if err != nil {
				return Type{}, fmt.Errorf("shapes %s, %s and %s do not broadcast: %v", c, a, b, err)
			}
			return Type{DType: a.DType, Shape: s}, nil
		},
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			cond, a, b := n.Inputs[0], n.Inputs[1], n.Inputs[2]
			zero := g.Const(dy.Type.DType, 0)
			da := g.MustApply(Where, []*Node{cond, dy, zero}, nil)
			db := g.MustApply(Where, []*Node{cond, zero, dy}, nil)
			return []*Node{nil, sumTo(g, da, a.Type.Shape), sumTo(g, db, b.Type.Shape)}
		},
		Cost: elementwiseCost(1),
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			shape, err := broadcastShape(in[1].Shape, in[2].Shape)
			if err == nil {
				shape, err = broadcastShape(in[0].Shape, shape)
			}
			if err != nil {
				return nil, err
			}
			out := NewTensor(n.Type.DType, shape)
			os := strides(shape)
			at := func(t *Tensor, i int) float64 { return t.Data[broadcastIndex(i, shape, os, t.Shape, strides(t.Shape))] }
			for i := range out.Data {
				if at(in[0], i) != 0 {
					out.Data[i] = at(in[1], i)
				} else {
					out.Data[i] = at(in[2], i)
				}
			}
			return out.Round(), nil
		},
	})

	Register(&OpDef{
		Name: "cast", Summary: "converts x to another dtype: floats to integers truncate toward zero, non-zero to bool is true, bool to numbers is 1 or 0",
		DTypes: allDTypes,
		Inputs: []string{"x"}, Elementwise: true,
		Attrs: []AttrSpec{{Name: "dtype", Kind: StringArg, Doc: `the result's dtype, e.g. "i32"`}},
		Examples: []Example{
			{Shapes: [][]int{{2, 3}}, Attrs: Attrs{"dtype": "f64"}},
			{Shapes: [][]int{{2, 3}}, Attrs: Attrs{"dtype": "i32"}},
			{Shapes: [][]int{{5}}, Attrs: Attrs{"dtype": "i64"}},
			{Shapes: [][]int{{3}}, Attrs: Attrs{"dtype": "bool"}},
			{Shapes: [][]int{{4}}, Attrs: Attrs{"dtype": "f32"}, DTypes: []DType{I32}},
			{Shapes: [][]int{{2, 2}}, Attrs: Attrs{"dtype": "f32"}, DTypes: []DType{Bool}},
			{Shapes: [][]int{{}}, Attrs: Attrs{"dtype": "i32"}, DTypes: []DType{I64}},
		},
		Infer: func(n *Node) (Type, error) {
			dt, err := dtypeAttr(n, "dtype", "")
			if err != nil {
				return Type{}, err
			}
			return Type{DType: dt, Shape: n.Inputs[0].Type.Shape}, nil
		},
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			x := n.Inputs[0]
			if !x.Type.DType.IsFloat() || !n.Type.DType.IsFloat() {
				return []*Node{nil}
			}
			if x.Type.DType == n.Type.DType {
				return []*Node{dy}
			}
			return []*Node{g.MustApply(Cast, []*Node{dy}, Attrs{"dtype": x.Type.DType.String()})}
		},
		Cost: elementwiseCost(1),
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			out := NewTensor(n.Type.DType, in[0].Shape)
			for i, v := range in[0].Data {
				if n.Type.DType.IsInt() {
					v = math.Trunc(v)
				}
				out.Data[i] = v
			}
			return out.Round(), nil
		},
	})

	arg := func(name, what string, better func(v, best float64) bool) {
		Register(&OpDef{
			Name: name, Summary: "the index (i64) of the " + what + " element along axis, which the result drops (or keeps with size 1: keep_dims); the first on ties, a NaN wins", DTypes: numericDTypes,
			BatchLocal: true, AlongAxis: true,
			Inputs: []string{"x"},
			Attrs: []AttrSpec{
				{Name: "axis", Kind: IntArg, Default: 0, Doc: "the axis to search (negative counts from the end); it is removed from the result"},
				{Name: "keep_dims", Kind: BoolArg, Default: false, Doc: "keep the searched axis with size 1"},
			},
			Examples: []Example{
				{Shapes: [][]int{{3, 4}}, Attrs: Attrs{"axis": 1}},
				{Shapes: [][]int{{5}}},
				{Shapes: [][]int{{2, 3, 4}}, Attrs: Attrs{"axis": -1}},
				{Shapes: [][]int{{2, 3, 4}}, Attrs: Attrs{"axis": 1}},
				{Shapes: [][]int{{3, 4}}, DTypes: []DType{I32}},
				{Shapes: [][]int{{3, 4}}, Attrs: Attrs{"axis": 1, "keep_dims": true}},
				{Shapes: [][]int{{2, 3, 4}}, Attrs: Attrs{"axis": -3, "keep_dims": true}},
				{Shapes: [][]int{{5}}, Attrs: Attrs{"keep_dims": true}},
			},
			Infer: func(n *Node) (Type, error) {
				x := n.Inputs[0].Type
				if x.DType == Bool {
					return Type{}, fmt.Errorf("%s needs a numeric operand, got %s", name, x)
				}
				if x.Shape.Rank() == 0 {
					return Type{}, fmt.Errorf("%s needs an operand with at least one axis, got the scalar %s", name, x)
				}
				axes, err := normAxes([]int{n.Attrs.Int("axis", 0)}, x.Shape.Rank())
				if err != nil {
					return Type{}, err
				}
				n.Attrs["axis"] = axes[0]
				return Type{DType: I64, Shape: reducedShape(x.Shape, axes, n.Attrs.Bool("keep_dims"))}, nil
			},
			Cost: func(n *Node, cx *Context) Cost {
				b := cx.Binding
				return Cost{FLOPs: elems(n.Inputs[0], b), BytesRead: bytesOf(n.Inputs[0], b), BytesWritten: bytesOf(n, b)}
			},
			Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
				b := cx.Binding
				x := in[0]
				axis := n.Attrs.Int("axis", 0)
				outer, size, inner := splitAxis(x.Shape, axis)
				out := NewTensor(I64, n.Type.Shape.Eval(b))
				for o := 0; o < outer; o++ {
					for i := 0; i < inner; i++ {
						best, at := 0.0, 0
						for k := 0; k < size; k++ {
							v := x.Data[(o*size+k)*inner+i]
							if k == 0 || (!math.IsNaN(best) && (math.IsNaN(v) || better(v, best))) {
								best, at = v, k
							}
						}
						out.Data[o*inner+i] = float64(at)
					}
				}
				return out, nil
			},
		})
	}
	arg("argmax", "largest", func(v, best float64) bool { return v > best })
	arg("argmin", "smallest", func(v, best float64) bool { return v < best })

	Register(&OpDef{
		Name:       "one_hot",
		BatchLocal: true, Summary: "a new axis of depth elements (the last by default), on_value at each integer index and off_value elsewhere (all off_value for an index outside 0..depth-1)",
		DTypes: intDTypes,
		Inputs: []string{"indices"},
		Attrs: []AttrSpec{
			{Name: "depth", Kind: IntArg, Doc: "the length of the new axis"},
			{Name: "dtype", Kind: StringArg, Default: "f32", Doc: "the result's dtype"},
			{Name: "on_value", Kind: FloatArg, Default: 1.0, Doc: "the value at each index (an integer for integer dtypes, 0 or 1 for bool)"},
			{Name: "off_value", Kind: FloatArg, Default: 0.0, Doc: "the value elsewhere"},
			{Name: "axis", Kind: IntArg, Default: -1, Doc: "where the new axis goes in the result: -1 (last) or 0..rank of indices"},
		},
		Examples: []Example{
			{Shapes: [][]int{{4}}, Attrs: Attrs{"depth": 3}, DTypes: []DType{I32}},
			{Shapes: [][]int{{2, 3}}, Attrs: Attrs{"depth": 2}, DTypes: []DType{I64}},
			{Shapes: [][]int{{}}, Attrs: Attrs{"depth": 4}, DTypes: []DType{I32}},
			{Shapes: [][]int{{3}}, Attrs: Attrs{"depth": 3, "dtype": "i32"}, DTypes: []DType{I64}},
			{Shapes: [][]int{{4}}, Attrs: Attrs{"depth": 3, "on_value": 5.0, "off_value": -1.0, "axis": 0}, DTypes: []DType{I32}},
			{Shapes: [][]int{{2, 3}}, Attrs: Attrs{"depth": 2, "axis": 1, "on_value": 0.5, "off_value": 0.25, "dtype": "f64"}, DTypes: []DType{I32}},
			{Shapes: [][]int{{2, 3}}, Attrs: Attrs{"depth": 4, "axis": 0, "on_value": 7.0, "dtype": "i64"}, DTypes: []DType{I64}},
			{Shapes: [][]int{{3, 2}}, Attrs: Attrs{"depth": 3, "axis": 2, "on_value": 0.0, "off_value": 1.0, "dtype": "bool"}, DTypes: []DType{I32}},
		},
		Infer: inferOneHot,
		Cost: func(n *Node, cx *Context) Cost {
			b := cx.Binding
			return Cost{BytesRead: bytesOf(n.Inputs[0], b), BytesWritten: bytesOf(n, b)}
		},
		Eval: func(n *Node, in []*Tensor, cx *Context) (*Tensor, error) {
			b := cx.Binding
			depth := n.Attrs.Int("depth", 0)
			on, off := n.Attrs.Float("on_value", 1), n.Attrs.Float("off_value", 0)
			out := NewTensor(n.Type.DType, n.Type.Shape.Eval(b))
			for i := range out.Data {
				out.Data[i] = off
			}
			// Index i of the indices is (o, j) with j the position in
			// the axes after the new one; its element of class v is
			// (o, v, j).
			inner := prod(in[0].Shape[OneHotAxis(n):])
			for i, v := range in[0].Data {
				if v >= 0 && v < float64(depth) {
					out.Data[(i/inner*depth+int(v))*inner+i%inner] = on
				}
			}
			return out.Round(), nil
		},
	})

	Register(&OpDef{
		Name:       "sparse_softmax_cross_entropy",
		BatchLocal: true, AlongAxis: true,
		DTypes:  f32Only,
		Summary: "per example -log_softmax(logits)[label] over the last axis, with integer labels, computed stably; the result drops the last axis (NaN for a label outside 0..classes-1)",
		Inputs:  []string{"logits", "labels"},
		Examples: []Example{
			{Shapes: [][]int{{3, 5}, {3}}, DTypes: []DType{Invalid, I32}},
			{Shapes: [][]int{{4}, {}}, DTypes: []DType{Invalid, I64}},
			{Shapes: [][]int{{2, 3, 3}, {2, 3}}, DTypes: []DType{Invalid, I32}},
		},
		Infer: func(n *Node) (Type, error) {
			l, y := n.Inputs[0].Type, n.Inputs[1].Type
			if !l.DType.IsFloat() {
				return Type{}, fmt.Errorf("sparse_softmax_cross_entropy needs floating-point logits, got %s", l)
			}
			if !y.DType.IsInt() {
				return Type{}, fmt.Errorf("sparse_softmax_cross_entropy needs integer labels, got %s", y)
			}
			if l.Shape.Rank() == 0 {
				return Type{}, fmt.Errorf("sparse_softmax_cross_entropy needs logits with at least one axis, got the scalar %s", l)
			}
			if want := l.Shape[:l.Shape.Rank()-1]; !want.Equal(y.Shape) {
				return Type{}, fmt.Errorf("sparse_softmax_cross_entropy needs labels shaped as the logits without their last axis: logits %s, labels %s (want %s)", l, y, Type{DType: y.DType, Shape: want})
			}
			return Type{DType: l.DType, Shape: y.Shape.Clone()}, nil
		},
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			logits, labels := n.Inputs[0], n.Inputs[1]
			s := logits.Type.Shape
			last := s[s.Rank()-1]
			d := g.MustApply(BroadcastTo, []*Node{dy}, Attrs{"shape": s, "axes": []int{s.Rank() - 1}})
			p := g.MustApply(Softmax, []*Node{logits}, nil)
			oh := g.MustApply(OneHot, []*Node{labels}, Attrs{"depth": last.Size, "dtype": logits.Type.DType.String()})
			return []*Node{g.MustApply(Mul, []*Node{g.MustApply(Sub, []*Node{p, oh}, nil), d}, nil), nil}
		},
		Cost: func(n *Node, cx *Context) Cost {
			b := cx.Binding
			c := elementwiseCost(0)(n, cx)
			c.FLOPs = 12 * elems(n.Inputs[0], b)
			return c
		},
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			l, y := in[0], in[1]
			cols := l.Shape[len(l.Shape)-1]
			out := NewTensor(n.Type.DType, y.Shape)
			for r := range out.Data {
				label := y.Data[r]
				if label < 0 || label >= float64(cols) {
					out.Data[r] = math.NaN()
					continue
				}
				row := l.Data[r*cols : (r+1)*cols]
				lse := logSumExp(row)
				out.Data[r] = lse - row[int(label)]
			}
			return out.Round(), nil
		},
	})
}

func inferOneHot(n *Node) (Type, error) {
	x := n.Inputs[0].Type
	if !x.DType.IsInt() {
		return Type{}, fmt.Errorf("one_hot needs integer indices, got %s", x)
	}
	depth, ok := n.Attrs["depth"].(int)
	if !ok {
		return Type{}, fmt.Errorf("one_hot needs depth = the number of classes")
	}
	if depth < 1 {
		return Type{}, fmt.Errorf("one_hot needs a positive depth, got %d", depth)
	}
	dt, err := dtypeAttr(n, "dtype", "f32")
	if err != nil {
		return Type{}, err
	}
	for _, k := range []string{"on_value", "off_value"} {
		if err := checkConstValue("one_hot", k, n.Attrs.Float(k, 0), dt); err != nil {
			return Type{}, err
		}
	}
	r := x.Shape.Rank()
	axis := n.Attrs.Int("axis", -1)
	if axis < -1 || axis > r {
		return Type{}, fmt.Errorf("one_hot of %s: axis %d is out of range; the new axis goes at -1 (last) or 0..%d", x, axis, r)
	}
	if axis == r {
		axis = -1
	}
	n.Attrs["axis"] = axis
	if axis < 0 {
		axis = r
	}
	out := append(append(x.Shape[:axis].Clone(), Fixed(depth)), x.Shape[axis:]...)
	return Type{DType: dt, Shape: out}, nil
}

// OneHotAxis returns where a one_hot node's new axis is in its result,
// 0..rank of its indices (its attribute keeps -1 for the last).
func OneHotAxis(n *Node) int {
	if a := n.Attrs.Int("axis", -1); a >= 0 {
		return a
	}
	return n.Inputs[0].Type.Shape.Rank()
}

// boolValue is a boolean as the interpreter stores it.
func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// inferCompare is the type rule of comparisons: operands of one dtype
// (numeric unless anyDType) broadcast to a bool result.
func inferCompare(n *Node, anyDType bool) (Type, error) {
	a, b := n.Inputs[0].Type, n.Inputs[1].Type
	if a.DType != b.DType {
		return Type{}, fmt.Errorf("operands have different dtypes: %s and %s", a, b)
	}
	if a.DType == Bool && !anyDType {
		return Type{}, fmt.Errorf("%s needs numeric operands, got %s", n.Op.Name, a)
	}
	s, err := Broadcast(a.Shape, b.Shape)
	if err != nil {
		return Type{}, fmt.Errorf("shapes %s and %s do not broadcast: %v", a, b, err)
	}
	return Type{DType: Bool, Shape: s}, nil
}

// dtypeAttr parses the string attribute k naming a dtype (def when it is
// absent; "" makes it required).
func dtypeAttr(n *Node, k, def string) (DType, error) {
	s := n.Attrs.String(k, def)
	if s == "" {
		return Invalid, fmt.Errorf("%s needs %s = the result's dtype, one of %s", n.Op.Name, k, strings.Join(DTypeNames(), ", "))
	}
	dt, ok := ParseDType(s)
	if !ok {
		return Invalid, fmt.Errorf("%s: unknown dtype %q (want one of %s)", n.Op.Name, s, strings.Join(DTypeNames(), ", "))
	}
	return dt, nil
}

// splitAxis returns the element counts before, along and after axis.
func splitAxis(shape []int, axis int) (outer, size, inner int) {
	outer, inner = 1, 1
	for i, d := range shape {
		switch {
		case i < axis:
			outer *= d
		case i > axis:
			inner *= d
		}
	}
	return outer, shape[axis], inner
}
