package ir

import "fmt"

// Matrix multiplication, with batch axes as in TensorFlow and NumPy:
// operands of rank 2 or more multiply their last two axes, and the axes
// before those (the batch axes) broadcast.

func init() {
	Register(&OpDef{
		Name:   "matmul",
		Kernel: GEMMKernel, Epilogues: true,
		BatchLocal: true, Summary: "matrix product of the last two axes of a and b (rank >= 2; the leading batch axes broadcast), optionally transposing either's last two axes (operator @)",
		DTypes: numericDTypes,
		Inputs: []string{"a", "b"},
		Examples: []Example{
			{Shapes: [][]int{{3, 4}, {4, 5}}},
			{Shapes: [][]int{{1, 1}, {1, 1}}},
			{Shapes: [][]int{{4, 3}, {4, 5}}, Attrs: Attrs{"transpose_a": true}},
			{Shapes: [][]int{{3, 4}, {5, 4}}, Attrs: Attrs{"transpose_b": true}},
			{Shapes: [][]int{{4, 3}, {5, 4}}, Attrs: Attrs{"transpose_a": true, "transpose_b": true}},
			{Shapes: [][]int{{2, 3, 4}, {2, 4, 5}}},
			{Shapes: [][]int{{3, 2, 3}, {3, 5}}},
			{Shapes: [][]int{{3, 5}, {2, 3, 4}}, Attrs: Attrs{"transpose_a": true}},
			{Shapes: [][]int{{2, 1, 3, 4}, {1, 3, 4, 2}}},
			{Shapes: [][]int{{1, 2, 3, 2}, {2, 2, 3}}, Attrs: Attrs{"transpose_a": true, "transpose_b": true}},
			{Shapes: [][]int{{3, 1, 2}, {1, 1, 2}}, Attrs: Attrs{"transpose_b": true}},
		},
		Attrs: []AttrSpec{
			{Name: "transpose_a", Kind: BoolArg, Default: false, Doc: "use the transpose of a's last two axes"},
			{Name: "transpose_b", Kind: BoolArg, Default: false, Doc: "use the transpose of b's last two axes"},
		},
		Infer: inferMatmul,
		Grad:  gradMatmul,
		Cost: func(n *Node, cx *Context) Cost {
			b := cx.Binding
			m, k, nn := matmulDims(n, b)
			batch := MatmulBatch(n.Type.Shape).Size(b)
			return Cost{
				FLOPs:        2 * batch * float64(m) * float64(k) * float64(nn),
				BytesRead:    bytesOf(n.Inputs[0], b) + bytesOf(n.Inputs[1], b),
				BytesWritten: bytesOf(n, b),
			}
		},
		Eval: evalMatmul,
	})
}

// MatmulBatch returns the batch axes of a matrix operand or result: every
// axis but the last two.
func MatmulBatch(s Shape) Shape { return s[:len(s)-2] }

// matmulOperandDims returns the (rows, cols) of op(x), from x's last two
// axes.
func matmulOperandDims(s Shape, trans bool) (Dim, Dim) {
	r, c := s[len(s)-2], s[len(s)-1]
	if trans {
		return c, r
	}
	return r, c
}

func inferMatmul(n *Node) (Type, error) {
	a, b := n.Inputs[0].Type, n.Inputs[1].Type
	if a.DType != b.DType {
		return Type{}, fmt.Errorf("operands have different dtypes: %s and %s", a, b)
	}
	if a.DType == Bool {
		return Type{}, fmt.Errorf("matmul needs numeric operands, got %s", a)
	}
	if a.Shape.Rank() < 2 || b.Shape.Rank() < 2 {
		return Type{}, fmt.Errorf("matmul needs operands of rank 2 or more (matrices, or batches of them), got %s and %s", a, b)
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
	batch, err := Broadcast(MatmulBatch(a.Shape), MatmulBatch(b.Shape))
	if err != nil {
		return Type{}, fmt.Errorf("batch axes of %s and %s do not broadcast: %v", a, b, err)
	}
	out := append(append(Shape{}, batch...), m, nn)
	return Type{DType: a.DType, Shape: out}, nil
}

// matmulDims returns m, k, n of a matmul node under a binding.
func matmulDims(n *Node, b Binding) (int, int, int) {
	m, k := matmulOperandDims(n.Inputs[0].Type.Shape, n.Attrs.Bool("transpose_a"))
	_, nn := matmulOperandDims(n.Inputs[1].Type.Shape, n.Attrs.Bool("transpose_b"))
	return m.Eval(b), k.Eval(b), nn.Eval(b)
}

// gradMatmul is the gradient of a (batched) matmul. Each operand's
// gradient is a matmul of dy with the other operand; where an operand's
// batch axes were broadcast, sumTo adds the contributions of the batch
// elements that shared it.
func gradMatmul(cx *GradContext, n *Node, dys []*Node) []*Node {
	g, dy := cx.Module, dys[0]
	a, b := n.Inputs[0], n.Inputs[1]
	ta, tb := n.Attrs.Bool("transpose_a"), n.Attrs.Bool("transpose_b")
	mm := func(x, y *Node, tx, ty bool) *Node {
		return g.MustApply(Matmul, []*Node{x, y}, Attrs{"transpose_a": tx, "transpose_b": ty})
	}
	var da, db *Node
	switch {
	case !ta && !tb: // C = A B
		da, db = mm(dy, b, false, true), mm(a, dy, true, false)
	case ta && !tb: // C = Aᵀ B
		da, db = mm(b, dy, false, true), mm(a, dy, false, false)
	case !ta && tb: // C = A Bᵀ
		da, db = mm(dy, b, false, false), mm(dy, a, true, false)
	default: // C = Aᵀ Bᵀ
		da, db = mm(b, dy, true, true), mm(dy, a, true, true)
	}
	return []*Node{sumTo(g, da, a.Type.Shape), sumTo(g, db, b.Type.Shape)}
}

// batchOffsets calls f for every batch index of out (its leading axes
// before the last two) with the matrix numbers of a and b it reads, the
// batch axes of a and b broadcasting to out's.
func batchOffsets(out, a, b []int, f func(oi, ai, bi int)) {
	ob, ab, bb := out[:len(out)-2], a[:len(a)-2], b[:len(b)-2]
	os, as, bs := strides(ob), strides(ab), strides(bb)
	total := 1
	for _, d := range ob {
		total *= d
	}
	for i := 0; i < total; i++ {
		f(i, broadcastIndex(i, ob, os, ab, as), broadcastIndex(i, ob, os, bb, bs))
	}
}

func evalMatmul(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
	a, b := in[0], in[1]
	ta, tb := n.Attrs.Bool("transpose_a"), n.Attrs.Bool("transpose_b")
	ar, ac := a.Shape[len(a.Shape)-2], a.Shape[len(a.Shape)-1]
	br, bc := b.Shape[len(b.Shape)-2], b.Shape[len(b.Shape)-1]
	m, k := ar, ac
	if ta {
		m, k = k, m
	}
	k2, nn := br, bc
	if tb {
		k2, nn = nn, k2
	}
	if k != k2 {
		return nil, fmt.Errorf("matmul: inner dimensions differ at run time: %v and %v", a.Shape, b.Shape)
	}
	batch, err := broadcastShape(a.Shape[:len(a.Shape)-2], b.Shape[:len(b.Shape)-2])
	if err != nil {
		return nil, fmt.Errorf("matmul: batch axes differ at run time: %v", err)
	}
	out := NewTensor(n.Type.DType, append(batch, m, nn))
	batchOffsets(out.Shape, a.Shape, b.Shape, func(oi, ai, bi int) {
		am, bm := a.Data[ai*ar*ac:], b.Data[bi*br*bc:]
		om := out.Data[oi*m*nn:]
		at := func(i, j int) float64 {
			if ta {
				return am[j*ac+i]
			}
			return am[i*ac+j]
		}
		bt := func(i, j int) float64 {
			if tb {
				return bm[j*bc+i]
			}
			return bm[i*bc+j]
		}
		for i := 0; i < m; i++ {
			for j := 0; j < nn; j++ {
				s := 0.0
				for p := 0; p < k; p++ {
					s += at(i, p) * bt(p, j)
				}
				om[i*nn+j] = s
			}
		}
	})
	return out.Round(), nil
}
