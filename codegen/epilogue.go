package codegen

import (
	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/cost"
	"github.com/flow-lang/flow/compiler/ir"
)

// Epilogues. A matmul that is one SGEMM (2-D, or batched over the
// stacked rows of its first operand) or a conv2d whose result only feeds
// a bias add and/or a ReLU is computed straight into the buffer of the
// last of them, with the bias and the ReLU applied by the kernel as it writes
// its output (runtime.GemmPlan.Relu, runtime.Conv2DPlan's bias): x @ W +
// b, relu(x @ W + b), relu(x @ W), bias_add(conv2d(x, K), c) and
// relu(bias_add(conv2d(x, K), c)) are each one kernel call. For a
// matmul the bias is written into the output's rows first and SGEMM
// accumulates onto it (beta = 1); a matmul plus a value of its type
// (an addend) copies the value in and accumulates onto it the same way,
// inside loop bodies too. The absorbed nodes get no buffer and no code,
// and the separate passes over the output disappear.
//
// A batched matmul Aᵢᵀ Bᵢ whose only reader sums it over its batch axes
// (sum_to of the gradient of x @ W for a rank-3 x and a shared W) is one
// SGEMM over the stacked operands: the batch goes into the inner
// dimension (cost.SumsBatch), and neither the batch of products nor the
// separate sum is written.
//
// A node is absorbed only when its consumer is its only reader, it is no
// result of an entry point, and the same programs emit both; the ReLU's
// gradient reads the ReLU's output (relu_grad of y), not its input, so
// training keeps the fusion.

// epilogue is one kernel call computing a chain ending at out.
type epilogue struct {
	kernel *ir.Node // the matmul or conv2d
	bias   *ir.Node // the bias added to every row (last axis), or nil
	// addend is a value of the product's type added to it, or nil: it is
	// copied into the output, onto which the kernel accumulates.
	addend *ir.Node
	relu   bool // out is relu(...)
	// sumBatch says out is the sum of the kernel's batched products over
	// their batch axes, computed by one SGEMM (cost.SumsBatch).
	sumBatch bool
}

// decideEpilogues finds the chains computed by one kernel call: the
// epilogue of each chain end, and the nodes the calls absorb (which keep
// no buffer). Fusion, which runs next, leaves both alone.
func (c *gen) decideEpilogues() epilogues {
	ep := epilogues{epilogue: map[*ir.Node]*epilogue{}, epilogueOf: map[*ir.Node]bool{}}
	f := &c.plan.facts
	computed := c.plan.computed
	// absorber returns v's only reader if v can be absorbed into it.
	absorber := func(v *ir.Node) *ir.Node {
		q := f.reader(v)
		if q == nil || !computed[v] || f.readers(v) != 1 || f.results[v] || !computed[q] || f.emitted[v] != f.emitted[q] || q.Type.DType != ir.F32 {
			return nil
		}
		return q
	}
	// next is absorber for a reader of v's shape (an element-wise step).
	next := func(v *ir.Node) *ir.Node {
		if q := absorber(v); q != nil && q.Type.Shape.Equal(v.Type.Shape) {
			return q
		}
		return nil
	}
	regionResult := c.regionResults()
	addends := map[*ir.Node]bool{} // the addends of the epilogues so far
	for _, k := range c.plan.allBufs {
		if !c.inRegion(k) && cost.SumsBatch(k) {
			if q := absorber(k); q != nil && q.Op == ir.SumTo && q.Type.Shape.Equal(k.Type.Shape[k.Type.Shape.Rank()-2:]) {
				ep.epilogue[q] = &epilogue{kernel: k, sumBatch: true}
				ep.epilogueOf[k] = true
			}
			continue
		}
		if addends[k] || k.Type.DType != ir.F32 || !(k.Op == ir.Matmul && stackedRows(k) || k.Op == ir.Conv2d && !c.inRegion(k)) {
			continue
		}
		e := &epilogue{kernel: k}
		out := k
		if q := next(out); q != nil && (q.Op == ir.Add || q.Op == ir.BiasAdd) && !regionResult[out] {
			for i, in := range q.Inputs {
				if in != out {
					continue
				}
				switch x := q.Inputs[1-i]; {
				case rowBias(x, out.Type.Shape):
					e.bias, out = x, q
				case k.Op == ir.Matmul && q.Op == ir.Add && x != out && !ep.epilogueOf[x] && x.Type.DType == ir.F32 && x.Type.Shape.Equal(out.Type.Shape) && scalarConst(x) == nil:
					e.addend, out = x, q
					addends[x] = true
				}
				break
			}
		}
		if q := next(out); q != nil && q.Op == ir.Relu && !regionResult[out] {
			e.relu, out = true, q
		}
		if out == k || regionResult[k] {
			continue
		}
		ep.epilogue[out] = e
		for v := k; v != out; v = f.reader(v) {
			ep.epilogueOf[v] = true
		}
	}
	return ep
}

// stackedRows reports whether matmul n's SGEMM is one 2-D product over
// the stacked rows of its first operand: a rank-2 matmul, or a batched
// op(a) @ b with a not transposed and b a matrix shared by every batch
// element (cost.MatmulDims).
func stackedRows(n *ir.Node) bool {
	if n.Type.Shape.Rank() == 2 {
		return true
	}
	return !n.Attrs.Bool("transpose_a") && n.Inputs[1].Type.Shape.Rank() == 2
}

// regionResults returns the results of control flow's regions: the
// owner copies them out, so they keep their buffers.
func (c *gen) regionResults() map[*ir.Node]bool {
	out := map[*ir.Node]bool{}
	for _, n := range c.g.Body.Nodes {
		for _, r := range allRegions(n) {
			for _, res := range r.Results {
				out[res] = true
			}
		}
	}
	return out
}

// rowBias reports whether bias is an f32 vector added along the last
// axis of a result of shape s: shape [c] or [1, c] with c = s's last
// dimension (fixed), and a buffer of its own (not an inline constant).
func rowBias(bias *ir.Node, s ir.Shape) bool {
	if bias.Type.DType != ir.F32 || scalarConst(bias) != nil || s.Rank() < 2 {
		return false
	}
	last := s[len(s)-1]
	bs := bias.Type.Shape
	switch {
	case last.IsSym():
		return false
	case bs.Rank() == 1:
		return bs[0] == last
	case bs.Rank() == 2 && s.Rank() == 2:
		return !bs[0].IsSym() && bs[0].Size == 1 && bs[1] == last
	}
	return false
}

// emitEpilogue emits the kernel call of the epilogue ending at out.
func (c *gen) emitEpilogue(out *ir.Node) (jen.Code, error) {
	e := c.plan.epilogue[out]
	k := e.kernel
	dst := c.operand(out)
	what := "the product of " + k.Label()
	if e.sumBatch {
		return jen.Block(jen.Comment(what+" summed over its batch axes: one kernel call"), c.matmulSumCall(k, dst)), nil
	}
	if k.Op == ir.Conv2d {
		what = "the convolution " + k.Label()
	}
	if e.bias != nil {
		what += ", bias " + e.bias.Label()
	}
	if e.addend != nil {
		what += ", plus " + e.addend.Label()
	}
	if e.relu {
		what += ", ReLU"
	}
	comment := jen.Comment(what + ": one kernel call")
	if k.Op == ir.Conv2d {
		bias := jen.Nil()
		if e.bias != nil {
			bias = jen.Id(c.operand(e.bias))
		}
		return jen.Block(comment, c.convCall(k, dst, bias)), nil
	}
	var fill jen.Code
	switch {
	case e.addend != nil:
		if from := c.operand(e.addend); from != dst {
			fill = jen.Copy(jen.Id(dst), jen.Id(from))
		}
	case e.bias != nil:
		s := k.Type.Shape
		rows, cols := numel(s[:len(s)-1]), dimSize(s[len(s)-1])
		fill = jen.For(jen.Id("r").Op(":=").Lit(0), jen.Id("r").Op("<").Add(rows.code()), jen.Id("r").Op("++")).Block(
			jen.Copy(jen.Id(dst).Index(jen.Id("r").Op("*").Add(cols.code()), jen.Empty()), jen.Id(c.operand(e.bias))),
		)
	}
	if fill == nil && e.addend == nil {
		gemm, err := c.matmulCall(k, dst, 0, e.relu)
		if err != nil {
			return nil, err
		}
		return jen.Block(comment, gemm), nil
	}
	gemm, err := c.matmulCall(k, dst, 1, e.relu)
	if err != nil {
		return nil, err
	}
	if fill == nil {
		return jen.Block(comment, gemm), nil
	}
	return jen.Block(comment, fill, gemm), nil
}
