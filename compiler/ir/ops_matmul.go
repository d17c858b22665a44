package ir

import "fmt"

// Matrix multiplication.

func init() {
	Register(&OpDef{
		Name: "matmul", Summary: "matrix product of rank-2 a and b, optionally transposing either (operator @)",
		Inputs: []string{"a", "b"},
		Examples: []Example{
			{Shapes: [][]int{{3, 4}, {4, 5}}},
			{Shapes: [][]int{{1, 1}, {1, 1}}},
			{Shapes: [][]int{{4, 3}, {4, 5}}, Attrs: Attrs{"transpose_a": true}},
			{Shapes: [][]int{{3, 4}, {5, 4}}, Attrs: Attrs{"transpose_b": true}},
			{Shapes: [][]int{{4, 3}, {5, 4}}, Attrs: Attrs{"transpose_a": true, "transpose_b": true}},
		},
		Attrs: []AttrSpec{
			{Name: "transpose_a", Kind: BoolArg, Default: false, Doc: "use the transpose of a"},
			{Name: "transpose_b", Kind: BoolArg, Default: false, Doc: "use the transpose of b"},
		},
		Infer: inferMatmul,
		Grad:  gradMatmul,
		Cost: func(n *Node, b Binding) Cost {
			m, k, nn := matmulDims(n, b)
			return Cost{
				FLOPs:        2 * float64(m) * float64(k) * float64(nn),
				BytesRead:    bytesOf(n.Inputs[0], b) + bytesOf(n.Inputs[1], b),
				BytesWritten: bytesOf(n, b),
			}
		},
		Eval: evalMatmul,
	})
}

// matmulOperandDims returns the (rows, cols) of op(x).
func matmulOperandDims(s Shape, trans bool) (Dim, Dim) {
	if trans {
		return s[1], s[0]
	}
	return s[0], s[1]
}

func inferMatmul(n *Node) (Type, error) {
	a, b := n.Inputs[0].Type, n.Inputs[1].Type
	if a.DType != b.DType {
		return Type{}, fmt.Errorf("operands have different dtypes: %s and %s", a, b)
	}
	if a.DType == Bool {
		return Type{}, fmt.Errorf("matmul needs numeric operands, got %s", a)
	}
	if a.Shape.Rank() != 2 || b.Shape.Rank() != 2 {
		return Type{}, fmt.Errorf("matmul needs rank-2 operands, got %s and %s", a, b)
	}
	m, k1 := matmulOperandDims(a.Shape, n.Attrs.Bool("transpose_a"))
	k2, nn := matmulOperandDims(b.Shape, n.Attrs.Bool("transpose_b"))
	if k1 != k2 {
		ta, tb := "", ""
		if n.Attrs.Bool("transpose_a") {
			ta = " transposed"
		}
		if n.Attrs.Bool("transpose_b") {
			tb = " transposed"
		}
		return Type{}, fmt.Errorf("inner dimensions differ: %s%s has %s columns, %s%s has %s rows", a, ta, k1, b, tb, k2)
	}
	return Type{DType: a.DType, Shape: Shape{m, nn}}, nil
}

// matmulDims returns m, k, n of a matmul node under a binding.
func matmulDims(n *Node, b Binding) (int, int, int) {
	m, k := matmulOperandDims(n.Inputs[0].Type.Shape, n.Attrs.Bool("transpose_a"))
	_, nn := matmulOperandDims(n.Inputs[1].Type.Shape, n.Attrs.Bool("transpose_b"))
	return m.Eval(b), k.Eval(b), nn.Eval(b)
}

func gradMatmul(g *Graph, n *Node, dy *Node) []*Node {
	a, b := n.Inputs[0], n.Inputs[1]
	ta, tb := n.Attrs.Bool("transpose_a"), n.Attrs.Bool("transpose_b")
	mm := func(x, y *Node, tx, ty bool) *Node {
		return g.MustApply("matmul", []*Node{x, y}, Attrs{"transpose_a": tx, "transpose_b": ty})
	}
	switch {
	case !ta && !tb: // C = A B
		return []*Node{mm(dy, b, false, true), mm(a, dy, true, false)}
	case ta && !tb: // C = Aᵀ B
		return []*Node{mm(b, dy, false, true), mm(a, dy, false, false)}
	case !ta && tb: // C = A Bᵀ
		return []*Node{mm(dy, b, false, false), mm(dy, a, true, false)}
	default: // C = Aᵀ Bᵀ
		return []*Node{mm(b, dy, true, true), mm(dy, a, true, true)}
	}
}

func evalMatmul(n *Node, in []*Tensor, _ Binding) (*Tensor, error) {
	a, b := in[0], in[1]
	ta, tb := n.Attrs.Bool("transpose_a"), n.Attrs.Bool("transpose_b")
	at := func(i, j int) float64 {
		if ta {
			return a.Data[j*a.Shape[1]+i]
		}
		return a.Data[i*a.Shape[1]+j]
	}
	bt := func(i, j int) float64 {
		if tb {
			return b.Data[j*b.Shape[1]+i]
		}
		return b.Data[i*b.Shape[1]+j]
	}
	m, k := a.Shape[0], a.Shape[1]
	if ta {
		m, k = k, m
	}
	k2, nn := b.Shape[0], b.Shape[1]
	if tb {
		k2, nn = nn, k2
	}
	if k != k2 {
		return nil, fmt.Errorf("matmul: inner dimensions differ at run time: %v and %v", a.Shape, b.Shape)
	}
	out := NewTensor(n.Type.DType, []int{m, nn})
	for i := 0; i < m; i++ {
		for j := 0; j < nn; j++ {
			s := 0.0
			for p := 0; p < k; p++ {
				s += at(i, p) * bt(p, j)
			}
			out.Data[i*nn+j] = s
		}
	}
	return out.Round(), nil
}
