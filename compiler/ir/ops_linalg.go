package ir

import (
	"fmt"
	"math"
)

// Linear algebra on square matrices in the last two axes of a tensor:
// matrix_inverse and matrix_determinant, as TensorFlow's MatrixInverse and
// MatrixDeterminant. Both factor each matrix as P·A = L·U with partial
// pivoting in float64. TensorFlow raises an error at run time on a
// singular matrix; flow's generated Predict cannot return one, so both
// the generated code and the interpreter define the result instead: a
// matrix with no non-zero pivot in some column (exactly singular) has an
// all-NaN inverse and determinant 0. Nearly singular matrices give huge
// or infinite entries, as in NumPy.

func init() {
	wc := func(shapes ...[]int) Example { return Example{Shapes: shapes, Domain: WellConditioned} }
	Register(&OpDef{
		Name:       "matrix_inverse",
		BatchLocal: true,
		DTypes:     f32Only,
		Summary:    "the inverse of each square matrix in the last two axes of x (rank >= 2); an exactly singular matrix gives all NaN",
		Inputs:     []string{"x"},
		Examples: []Example{
			wc([]int{2, 2}), wc([]int{1, 1}), wc([]int{3, 3}), wc([]int{5, 5}),
			wc([]int{2, 3, 3}), wc([]int{3, 1, 4, 4}),
		},
		Infer: func(n *Node) (Type, error) {
			if err := checkSquareMatrices(n); err != nil {
				return Type{}, err
			}
			return n.Inputs[0].Type, nil
		},
		// Y = A⁻¹: dA = -Yᵀ dY Yᵀ.
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			mm := func(x, y *Node, tx, ty bool) *Node {
				return g.MustApply(Matmul, []*Node{x, y}, Attrs{"transpose_a": tx, "transpose_b": ty})
			}
			return []*Node{g.MustApply(Neg, []*Node{mm(mm(n, dy, true, false), n, false, true)}, nil)}
		},
		Cost: func(n *Node, cx *Context) Cost {
			b := cx.Binding
			batch, m := squareDims(n.Inputs[0], b)
			return Cost{FLOPs: 2 * batch * m * m * m, BytesRead: bytesOf(n.Inputs[0], b), BytesWritten: bytesOf(n, b)}
		},
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			x := in[0]
			m := x.Shape[len(x.Shape)-1]
			out := NewTensor(n.Type.DType, x.Shape)
			for i := 0; i*m*m < len(x.Data); i++ {
				invertMatrix(out.Data[i*m*m:(i+1)*m*m], x.Data[i*m*m:(i+1)*m*m], m)
			}
			return out.Round(), nil
		},
	})
	Register(&OpDef{
		Name:       "matrix_determinant",
		BatchLocal: true,
		DTypes:     f32Only,
		Summary:    "the determinant of each square matrix in the last two axes of x (rank >= 2), shape x's leading axes; 0 for an exactly singular matrix",
		Inputs:     []string{"x"},
		Examples: []Example{
			wc([]int{2, 2}), wc([]int{1, 1}), wc([]int{3, 3}), wc([]int{5, 5}),
			wc([]int{2, 3, 3}), wc([]int{3, 1, 4, 4}),
		},
		Infer: func(n *Node) (Type, error) {
			if err := checkSquareMatrices(n); err != nil {
				return Type{}, err
			}
			x := n.Inputs[0].Type
			return Type{DType: x.DType, Shape: append(Shape{}, MatmulBatch(x.Shape)...)}, nil
		},
		// y = det A: dA = dy · det A · A⁻ᵀ.
		Grad: func(cx *GradContext, n *Node, dys []*Node) []*Node {
			g, dy := cx.Module, dys[0]
			x := n.Inputs[0]
			r := x.Type.Shape.Rank()
			s := g.MustApply(Mul, []*Node{dy, n}, nil)
			for range 2 {
				s = g.MustApply(ExpandDims, []*Node{s}, Attrs{"axis": -1})
			}
			perm := make([]int, r)
			for i := range perm {
				perm[i] = i
			}
			perm[r-2], perm[r-1] = r-1, r-2
			invT := g.MustApply(Transpose, []*Node{g.MustApply(MatrixInverse, []*Node{x}, nil)}, Attrs{"perm": perm})
			return []*Node{g.MustApply(Mul, []*Node{s, invT}, nil)}
		},
		Cost: func(n *Node, cx *Context) Cost {
			b := cx.Binding
			batch, m := squareDims(n.Inputs[0], b)
			return Cost{FLOPs: 2.0 / 3 * batch * m * m * m, BytesRead: bytesOf(n.Inputs[0], b), BytesWritten: bytesOf(n, b)}
		},
		Eval: func(n *Node, in []*Tensor, _ *Context) (*Tensor, error) {
			x := in[0]
			m := x.Shape[len(x.Shape)-1]
			out := NewTensor(n.Type.DType, x.Shape[:len(x.Shape)-2])
			for i := range out.Data {
				out.Data[i] = determinant(x.Data[i*m*m:(i+1)*m*m], m)
			}
			return out.Round(), nil
		},
	})
}

// checkSquareMatrices is the operand rule of the square-matrix ops: a
// floating-point tensor whose last two axes are equal.
func checkSquareMatrices(n *Node) error {
	if _, err := sameDType(n, true); err != nil {
		return err
	}
	x := n.Inputs[0].Type
	r := x.Shape.Rank()
	if r < 2 {
		return fmt.Errorf("%s needs a matrix or a batch of matrices (rank 2 or more), got %s", n.Op.Name, x)
	}
	if x.Shape[r-2] != x.Shape[r-1] {
		return fmt.Errorf("%s needs square matrices, got %s: its last two axes differ (%s and %s)", n.Op.Name, x, x.Shape[r-2], x.Shape[r-1])
	}
	return nil
}

// squareDims returns the number of matrices and their size of a square
// matrix operand under a binding.
func squareDims(x *Node, b Binding) (float64, float64) {
	s := x.Type.Shape
	return MatmulBatch(s).Size(b), float64(s[len(s)-1].Eval(b))
}

// WellConditionedValue maps v, drawn for flat index i of a tensor of the
// given shape from the NonZero domain (±(0.2, 2)), to the WellConditioned
// domain: where the last two axes are square (M×M), diagonal entries
// become ±(1 + |v|) and off-diagonal ones v/(2M), so every matrix is
// strictly diagonally dominant (the off-diagonal magnitudes of a row sum
// to less than 1) and so invertible with a small condition number. Other
// shapes keep v.
func WellConditionedValue(shape []int, i int, v float64) float64 {
	r := len(shape)
	if r < 2 || shape[r-1] != shape[r-2] {
		return v
	}
	m := shape[r-1]
	if (i/m)%m != i%m {
		return v / float64(2*m)
	}
	return math.Copysign(1+math.Abs(v), v)
}

// luDecompose factors the m×m row-major matrix a (in place) as P·A = L·U
// by Gaussian elimination, pivoting on the largest magnitude in each
// column (the first of equals). L is below the diagonal (unit diagonal
// implied), U on and above; perm[i] is the row of A that row i of P·A
// came from. It returns the permutation's sign, and false when a column
// has no non-zero pivot: A is singular.
func luDecompose(a []float64, m int) ([]int, float64, bool) {
	perm := make([]int, m)
	for i := range perm {
		perm[i] = i
	}
	sign := 1.0
	at := func(i, j int) *float64 { return &a[i*m+j] }
	for j := 0; j < m; j++ {
		p := j
		for i := j + 1; i < m; i++ {
			if math.Abs(*at(i, j)) > math.Abs(*at(p, j)) {
				p = i
			}
		}
		if *at(p, j) == 0 {
			return perm, sign, false
		}
		if p != j {
			for c := 0; c < m; c++ {
				*at(j, c), *at(p, c) = *at(p, c), *at(j, c)
			}
			perm[j], perm[p] = perm[p], perm[j]
			sign = -sign
		}
		for i := j + 1; i < m; i++ {
			f := *at(i, j) / *at(j, j)
			*at(i, j) = f
			for c := j + 1; c < m; c++ {
				*at(i, c) -= f * *at(j, c)
			}
		}
	}
	return perm, sign, true
}

// determinant is the determinant of the m×m row-major matrix x, 0 when x
// is exactly singular.
func determinant(x []float64, m int) float64 {
	lu := append([]float64(nil), x...)
	_, det, ok := luDecompose(lu, m)
	if !ok {
		return 0
	}
	for i := 0; i < m; i++ {
		det *= lu[i*m+i]
	}
	return det
}

// invertMatrix writes the inverse of the m×m row-major matrix x to out,
// solving L U x = P e_c for each column c; an exactly singular x gives
// all NaN.
func invertMatrix(out, x []float64, m int) {
	lu := append([]float64(nil), x...)
	perm, _, ok := luDecompose(lu, m)
	if !ok {
		for i := range out {
			out[i] = math.NaN()
		}
		return
	}
	col := make([]float64, m)
	for c := 0; c < m; c++ {
		for i := 0; i < m; i++ {
			v := 0.0
			if perm[i] == c {
				v = 1
			}
			for p := 0; p < i; p++ {
				v -= lu[i*m+p] * col[p]
			}
			col[i] = v
		}
		for i := m - 1; i >= 0; i-- {
			v := col[i]
			for p := i + 1; p < m; p++ {
				v -= lu[i*m+p] * col[p]
			}
			col[i] = v / lu[i*m+i]
		}
		for i := 0; i < m; i++ {
			out[i*m+c] = col[i]
		}
	}
}
