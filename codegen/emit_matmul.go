package codegen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/ir"
)

// Emitters of the matrix ops (compiler/ir/ops_matmul.go, ops_linalg.go).
// A rank-2 matmul is one call of the runtime's SGEMM; a batched one calls
// runtime.SgemmBatched, which runs SGEMM per batch element. The square
// matrix ops call the runtime's LU kernels. Any batch axis may be the
// symbolic n.
func init() {
	registerEmitters(map[*ir.OpDef]emitter{
		ir.Matmul: emitMatmul,
		ir.MatrixInverse: func(c *gen, n *ir.Node) (jen.Code, error) {
			return emitSquare(c, n, "MatrixInverse"), nil
		},
		ir.MatrixDeterminant: func(c *gen, n *ir.Node) (jen.Code, error) {
			return emitSquare(c, n, "MatrixDeterminant"), nil
		},
	})
}

// emitMatmul calls the runtime's SGEMM with the node's shapes for f32,
// and writes a loop nest for the other dtypes.
func emitMatmul(c *gen, n *ir.Node) (jen.Code, error) {
	if n.Type.DType != ir.F32 {
		return c.matmulLoops(n), nil
	}
	return c.matmulCall(n, c.operand(n), 0, false)
}

// matmulLoops computes a matmul of f64, i32 or i64 operands, which have no
// GEMM kernel, as a loop nest over the result's batch axes, its rows m,
// its columns n and the inner dimension k, accumulating a[..., i, k] *
// b[..., k, j] into the cleared result; a batch axis of size 1 (or
// missing) in an operand is read with stride 0.
func (c *gen) matmulLoops(n *ir.Node) jen.Code {
	a, b := n.Inputs[0], n.Inputs[1]
	ta, tb := n.Attrs.Bool("transpose_a"), n.Attrs.Bool("transpose_b")
	out := n.Type.Shape
	batch := len(out) - 2
	k := dimSize(a.Type.Shape[len(a.Type.Shape)-1])
	if ta {
		k = dimSize(a.Type.Shape[len(a.Type.Shape)-2])
	}
	dims := append(shapeSizes(out), k) // batch..., m, n, k
	// strides returns x's strides over dims: along the result's rows
	// (isA) or columns, x's last axis when resultAxisLast and its second
	// to last otherwise; along k, the other one.
	strides := func(x *ir.Node, resultAxisLast, isA bool) []size {
		s := x.Type.Shape
		xs := rowMajorStrides(shapeSizes(s))
		st := make([]size, len(dims))
		off := batch - (len(s) - 2)
		for i := 0; i < batch; i++ {
			if j := i - off; j >= 0 && !(!s[j].IsSym() && s[j].Size == 1) {
				st[i] = xs[j]
			}
		}
		outer, inner := xs[len(s)-2], xs[len(s)-1]
		along, kStride := outer, inner // the result's axis, then k
		if resultAxisLast {
			along, kStride = inner, outer
		}
		if isA {
			st[batch] = along // rows
		} else {
			st[batch+1] = along // columns
		}
		st[batch+2] = kStride
		return st
	}
	dst := rowMajorStrides(shapeSizes(out))
	ops := []access{
		{buf: c.operand(n), strides: append(dst, size{})},
		{buf: c.operand(a), strides: strides(a, ta, true)},
		{buf: c.operand(b), strides: strides(b, !tb, false)},
	}
	return jen.Block(
		jen.Clear(jen.Id(c.operand(n))),
		loopNest(dims, ops, func(e []*jen.Statement) jen.Code { return e[0].Op("+=").Add(e[1]).Op("*").Add(e[2]) }),
	)
}

// matmulCall renders the SGEMM call of matmul n writing dst with the given
// beta (0: overwrite, 1: accumulate onto what dst holds), as the cost
// model plans it (kernelplan.go); relu says whether an epilogue applies
// ReLU to the result (its kernel plan does so).
func (c *gen) matmulCall(n *ir.Node, dst string, beta int, relu bool) (jen.Code, error) {
	a, b := n.Inputs[0], n.Inputs[1]
	as, bs, os := a.Type.Shape, b.Type.Shape, n.Type.Shape
	ta, tb := n.Attrs.Bool("transpose_a"), n.Attrs.Bool("transpose_b")
	m, k := dimSize(as[len(as)-2]), dimSize(as[len(as)-1])
	if ta {
		m, k = k, m
	}
	nn := dimSize(os[len(os)-1])
	if len(as) > 2 && stackedRows(n) {
		// One product over the stacked rows of a.
		m = numel(as[:len(as)-1])
		as = ir.Shape{as[0], as[len(as)-1]}
	}
	if len(as) > 2 || len(bs) > 2 {
		if beta != 0 || relu {
			return nil, fmt.Errorf("a batched matmul has no epilogue")
		}
		return jen.Qual(RuntimePath, "SgemmBatched").Call(
			c.gemmPlan(n),
			jen.Lit(ta), jen.Lit(tb), m.code(), nn.code(), k.code(),
			jen.Id(c.operand(a)), batchShape(as),
			jen.Id(c.operand(b)), batchShape(bs),
			jen.Id(dst), batchShape(os),
		), nil
	}
	return jen.Qual(RuntimePath, "SgemmPlan").Call(
		c.gemmPlan(n),
		jen.Lit(ta), jen.Lit(tb), m.code(), nn.code(), k.code(),
		jen.Lit(1),
		jen.Id(c.operand(a)), dimSize(as[1]).code(),
		jen.Id(c.operand(b)), dimSize(bs[1]).code(),
		jen.Lit(beta),
		jen.Id(dst), nn.code(),
	), nil
}

// matmulSumCall renders the one SGEMM call that writes into dst the sum
// over its batch axes of batched matmul n, Σᵢ Aᵢᵀ Bᵢ (cost.SumsBatch): the
// transpose of the stacked Aᵢ, (batch·k)×m, times the stacked Bᵢ,
// (batch·k)×nn.
func (c *gen) matmulSumCall(n *ir.Node, dst string) jen.Code {
	a, b := n.Inputs[0], n.Inputs[1]
	as, os := a.Type.Shape, n.Type.Shape
	m, nn := dimSize(as[len(as)-1]), dimSize(os[len(os)-1])
	k := dimSize(as[len(as)-2])
	for _, d := range ir.MatmulBatch(os) {
		k = k.mul(dimSize(d))
	}
	return jen.Qual(RuntimePath, "SgemmPlan").Call(
		c.gemmPlan(n),
		jen.Lit(true), jen.Lit(false), m.code(), nn.code(), k.code(),
		jen.Lit(1),
		jen.Id(c.operand(a)), m.code(),
		jen.Id(c.operand(b)), nn.code(),
		jen.Lit(0),
		jen.Id(dst), nn.code(),
	)
}

// batchShape renders the batch axes of a matrix operand (all but the last
// two) as an []int literal.
func batchShape(s ir.Shape) jen.Code {
	dims := make([]jen.Code, 0, len(s)-2)
	for _, d := range ir.MatmulBatch(s) {
		dims = append(dims, dimSize(d).code())
	}
	return jen.Index().Int().Values(dims...)
}

// emitSquare calls a runtime kernel over the square matrices in the last
// two axes of the node's operand.
func emitSquare(c *gen, n *ir.Node, kernel string) jen.Code {
	x := n.Inputs[0]
	s := x.Type.Shape
	return jen.Qual(RuntimePath, kernel).Call(jen.Id(c.operand(n)), jen.Id(c.operand(x)),
		numel(ir.MatmulBatch(s)).code(), dimSize(s[len(s)-1]).code())
}
