package ir

import (
	"fmt"
)

// More neural-network building blocks: bias_add and the fused, stable
// softmax_cross_entropy loss.

func init() {
	Register(&OpDef{
		Name: "bias_add", Summary: "x + b with b added along x's last axis (b's length must equal x's last dimension)",
		DTypes: numericDTypes,
		Inputs: []string{"x", "b"}, Elementwise: true,
		Examples: []Example{
			{Shapes: [][]int{{3, 4}, {4}}},
			{Shapes: [][]int{{2, 3, 3, 5}, {5}}},
			{Shapes: [][]int{{1}, {1}}},
		},
		Infer: func(n *Node) (Type, error) {
			x, b := n.Inputs[0].Type, n.Inputs[1].Type
			if x.DType != b.DType {
				return Type{}, fmt.Errorf("operands have different dtypes: %s and %s", x, b)
			}
			if x.DType == Bool {
				return Type{}, fmt.Errorf("bias_add needs numeric operands, got %s", x)
			}
			if x.Shape.Rank() == 0 {
				return Type{}, fmt.Errorf("bias_add needs x with at least one axis, got the scalar %s", x)
			}
			if b.Shape.Rank() != 1 {
				return Type{}, fmt.Errorf("bias_add needs a rank-1 bias, got %s", b)
			}
			if last := x.Shape[x.Shape.Rank()-1]; b.Shape[0] != last {
				return Type{}, fmt.Errorf("the bias %s has %s elements, but the last axis of %s has %s", b, b.Shape[0], x, last)
			}
			return x, nil
		},
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			r := n.Type.Shape.Rank()
			axes := make([]int, r-1)
			for i := range axes {
				axes[i] = i
			}
			return []*Node{dy, g.MustApply(Sum, []*Node{dy}, Attrs{"axes": axes})}
		},
		Cost: elementwiseCost(1),
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			x, b := in[0], in[1]
			out := NewTensor(n.Type.DType, x.Shape)
			c := len(b.Data)
			for i, v := range x.Data {
				out.Data[i] = v + b.Data[i%c]
			}
			return out.Round(), nil
		},
	})
	Register(&OpDef{
		Name:       "softmax_cross_entropy",
		BatchLocal: true, AlongAxis: true,
		DTypes:  f32Only,
		Summary: "per example -sum(labels * log_softmax(logits)) over the last axis, computed stably; the result drops the last axis",
		Inputs:  []string{"logits", "labels"},
		Attrs:   []AttrSpec{{Name: "axis", Kind: IntArg, Default: -1, Doc: "the class axis; only the last axis is supported"}},
		Examples: []Example{
			{Shapes: [][]int{{3, 5}, {3, 5}}},
			{Shapes: [][]int{{4}, {4}}},
			{Shapes: [][]int{{2, 3, 7}, {2, 3, 7}}},
			{Shapes: [][]int{{1, 1}, {1, 1}}},
		},
		Infer: func(n *Node) (Type, error) {
			l, y := n.Inputs[0].Type, n.Inputs[1].Type
			if !l.DType.IsFloat() {
				return Type{}, fmt.Errorf("softmax_cross_entropy needs floating-point logits, got %s", l)
			}
			if l.DType != y.DType {
				return Type{}, fmt.Errorf("operands have different dtypes: %s and %s", l, y)
			}
			if l.Shape.Rank() == 0 {
				return Type{}, fmt.Errorf("softmax_cross_entropy needs logits with at least one axis, got the scalar %s", l)
			}
			if !l.Shape.Equal(y.Shape) {
				return Type{}, fmt.Errorf("softmax_cross_entropy needs labels of the logits' shape: logits %s, labels %s", l, y)
			}
			axis := n.Attrs.Int("axis", -1)
			if axis != -1 && axis != l.Shape.Rank()-1 {
				return Type{}, fmt.Errorf("softmax_cross_entropy over axis %d of %s: only the last axis is supported", axis, l)
			}
			n.Attrs["axis"] = -1
			return Type{DType: l.DType, Shape: l.Shape[:l.Shape.Rank()-1].Clone()}, nil
		},
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			logits, labels := n.Inputs[0], n.Inputs[1]
			s := logits.Type.Shape
			// dy broadcast along the class axis.
			d := g.MustApply(BroadcastTo, []*Node{dy}, Attrs{"shape": s, "axes": []int{s.Rank() - 1}})
			// d/dlogits = softmax * sum(labels) - labels, which is the
			// familiar softmax - labels when each row of labels sums to 1;
			// the exact form keeps unnormalized labels correct.
			p := g.MustApply(Softmax, []*Node{logits}, nil)
			tot := g.MustApply(Sum, []*Node{labels}, Attrs{"axes": []int{-1}, "keep_dims": true})
			dl := g.MustApply(Mul, []*Node{g.MustApply(Sub, []*Node{g.MustApply(Mul, []*Node{p, tot}, nil), labels}, nil), d}, nil)
			ls := g.MustApply(LogSoftmax, []*Node{logits}, nil)
			dt := g.MustApply(Neg, []*Node{g.MustApply(Mul, []*Node{ls, d}, nil)}, nil)
			return []*Node{dl, dt}
		},
		Cost: func(n *Node, cx *Context) Cost {
			b := cx.Binding
			c := elementwiseCost(0)(n, cx)
			c.FLOPs = 14 * elems(n.Inputs[0], b)
			return c
		},
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			l, y := in[0], in[1]
			cols := l.Shape[len(l.Shape)-1]
			out := NewTensor(n.Type.DType, l.Shape[:len(l.Shape)-1])
			if cols == 0 {
				return out, nil
			}
			for r := range out.Data {
				row, lab := l.Data[r*cols:(r+1)*cols], y.Data[r*cols:(r+1)*cols]
				lse := logSumExp(row)
				loss := 0.0
				for j, v := range row {
					if lab[j] != 0 { // 0 * -Inf counts as 0
						loss -= lab[j] * (v - lse)
					}
				}
				out.Data[r] = loss
			}
			return out.Round(), nil
		},
	})
}
