package ir

import (
	"fmt"
	"slices"
)

// reverse: TensorFlow's tf.reverse, the elements of x in reverse order
// along some axes — what a backward recurrent layer reads its sequence
// with.

func init() {
	Register(&OpDef{
		Name: "reverse", BatchLocal: true, DTypes: allDTypes,
		Summary: "x with the order of its elements reversed along each of axes",
		Inputs:  []string{"x"},
		Attrs:   []AttrSpec{{Name: "axes", Kind: IntsArg, Doc: "the axes to reverse (negative counts from the end), each at most once"}},
		Examples: []Example{
			{Shapes: [][]int{{2, 5, 3}}, Attrs: Attrs{"axes": []int{1}}},
			{Shapes: [][]int{{4}}, Attrs: Attrs{"axes": []int{0}}},
			{Shapes: [][]int{{2, 3}}, Attrs: Attrs{"axes": []int{0, -1}}},
			{Shapes: [][]int{{3, 2}}, Attrs: Attrs{"axes": []int{}}},
		},
		Infer: func(n *Node) (Type, error) {
			x := n.Inputs[0].Type
			r := x.Shape.Rank()
			if !n.Attrs.Has("axes") {
				return Type{}, fmt.Errorf("reverse needs axes = the axes to reverse, e.g. reverse(x, axes = [1])")
			}
			axes := slices.Clone(n.Attrs.Ints("axes"))
			for i, a := range axes {
				if a < -r || a >= r {
					return Type{}, fmt.Errorf("reverse: axis %d is out of range for %s: it must be in %d..%d", a, x, -r, r-1)
				}
				if a < 0 {
					axes[i] = a + r
				}
				if slices.Contains(axes[:i], axes[i]) {
					return Type{}, fmt.Errorf("reverse: axis %d is listed twice", axes[i])
				}
			}
			n.Attrs["axes"] = axes
			return x, nil
		},
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			return []*Node{cx.Module.MustApply(Reverse, []*Node{dys[0]}, Attrs{"axes": slices.Clone(n.Attrs.Ints("axes"))})}
		},
		Cost: copyCost,
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			x := in[0]
			xs := strides(x.Shape)
			axes := n.Attrs.Ints("axes")
			src := make([]int, len(x.Shape))
			return gatherEval(n.Type.DType, x, x.Shape, 0, func(idx []int) int {
				copy(src, idx)
				for _, a := range axes {
					src[a] = x.Shape[a] - 1 - idx[a]
				}
				return dot(src, xs)
			}), nil
		},
	})
}
