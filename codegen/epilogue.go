package codegen

import (
	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/ir"
)

// Matmul epilogues. x @ W + b, a 2-D matmul whose only reader adds a bias
// broadcast along its rows, is emitted as one GEMM into the sum's buffer:
// each row of the buffer is set to the bias, then SGEMM accumulates the
// product onto it (beta = 1). The product gets no buffer of its own and
// its separate add pass over the output disappears.

// decideEpilogues sets c.epilogue (sum → its matmul) and removes the
// matmuls from the buffers. It runs after fusion: the sum must keep its
// own buffer.
func (c *gen) decideEpilogues() {
	c.epilogue = map[*ir.Node]*ir.Node{}
	c.epilogueOf = map[*ir.Node]bool{}
	f := &c.facts
	for _, a := range c.bufs {
		if a.Op.Name != "add" && a.Op.Name != "bias_add" || a.Type.DType != ir.F32 {
			continue
		}
		for i, m := range a.Inputs {
			bias := a.Inputs[1-i]
			if m.Op.Name != "matmul" || m.Type.Shape.Rank() != 2 || !c.hasBuf[m] || f.readers[m] != 1 || f.results[m] ||
				!m.Type.Shape.Equal(a.Type.Shape) || f.emitted[m] != f.emitted[a] || !rowBias(bias, m.Type.Shape) {
				continue
			}
			c.epilogue[a] = m
			c.epilogueOf[m] = true
			break
		}
	}
	c.dropBufs(func(n *ir.Node) bool { return c.epilogueOf[n] })
}

// rowBias reports whether bias is an f32 vector added to every row of a
// matrix of shape s: shape [n] or [1, n] with n = s's last dimension, and
// a buffer of its own (not an inline constant).
func rowBias(bias *ir.Node, s ir.Shape) bool {
	if bias.Type.DType != ir.F32 || scalarConst(bias) != nil {
		return false
	}
	bs := bias.Type.Shape
	switch bs.Rank() {
	case 1:
		return bs[0] == s[1]
	case 2:
		return !bs[0].IsSym() && bs[0].Size == 1 && bs[1] == s[1]
	}
	return false
}

// emitEpilogue emits a = m + bias as the bias broadcast into a's rows and
// a GEMM accumulating m's product onto them.
func (c *gen) emitEpilogue(a *ir.Node) (jen.Code, error) {
	m := c.epilogue[a]
	bias := a.Inputs[0]
	if bias == m {
		bias = a.Inputs[1]
	}
	s := m.Type.Shape
	rows, cols := dimSize(s[0]), dimSize(s[1])
	out, b := c.operand(a), c.operand(bias)
	fill := jen.For(jen.Id("r").Op(":=").Lit(0), jen.Id("r").Op("<").Add(rows.code()), jen.Id("r").Op("++")).Block(
		jen.Copy(jen.Id(out).Index(jen.Id("r").Op("*").Add(cols.code()), jen.Empty()), jen.Id(b)),
	)
	gemm, err := c.matmulCall(m, out, 1)
	if err != nil {
		return nil, err
	}
	return jen.Block(jen.Comment("bias, then the product of "+m.Label()+" accumulated onto it"), fill, gemm), nil
}
