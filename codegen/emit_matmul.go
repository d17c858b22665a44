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
	registerEmitters(map[string]emitter{
		"matmul": emitMatmul,
		"matrix_inverse": func(c *gen, n *ir.Node) (jen.Code, error) {
			return emitSquare(c, n, "MatrixInverse"), nil
		},
		"matrix_determinant": func(c *gen, n *ir.Node) (jen.Code, error) {
			return emitSquare(c, n, "MatrixDeterminant"), nil
		},
	})
}

// emitMatmul calls the runtime's SGEMM with the node's shapes.
func emitMatmul(c *gen, n *ir.Node) (jen.Code, error) {
	return c.matmulCall(n, c.operand(n), 0, false)
}

// matmulCall renders the SGEMM call of matmul n writing dst with the given
// beta (0: overwrite, 1: accumulate onto what dst holds), as the cost
// model plans it (kernelplan.go), applying ReLU to the result when relu.
func (c *gen) matmulCall(n *ir.Node, dst string, beta int, relu bool) (jen.Code, error) {
	a, b := n.Inputs[0], n.Inputs[1]
	as, bs, os := a.Type.Shape, b.Type.Shape, n.Type.Shape
	ta, tb := n.Attrs.Bool("transpose_a"), n.Attrs.Bool("transpose_b")
	m, k := dimSize(as[len(as)-2]), dimSize(as[len(as)-1])
	if ta {
		m, k = k, m
	}
	nn := dimSize(os[len(os)-1])
	if len(as) > 2 || len(bs) > 2 {
		if beta != 0 || relu {
			return nil, fmt.Errorf("a batched matmul has no epilogue")
		}
		return jen.Qual(RuntimePath, "SgemmBatched").Call(
			c.gemmPlan(n, false),
			jen.Lit(ta), jen.Lit(tb), m.code(), nn.code(), k.code(),
			jen.Id(c.operand(a)), batchShape(as),
			jen.Id(c.operand(b)), batchShape(bs),
			jen.Id(dst), batchShape(os),
		), nil
	}
	return jen.Qual(RuntimePath, "SgemmPlan").Call(
		c.gemmPlan(n, relu),
		jen.Lit(ta), jen.Lit(tb), m.code(), nn.code(), k.code(),
		jen.Lit(1),
		jen.Id(c.operand(a)), dimSize(as[1]).code(),
		jen.Id(c.operand(b)), dimSize(bs[1]).code(),
		jen.Lit(beta),
		jen.Id(dst), nn.code(),
	), nil
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
