package codegen

import (
	"fmt"
	"strconv"

	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/cost"
	"github.com/flow-lang/flow/compiler/ir"
)

// Parallel element-wise loops. The cost model decides, per element-wise
// loop (a node and the nodes fused into it), whether splitting it across
// cores pays: its roofline time at the estimate batch (64 for a symbolic
// batch dimension) against the profile's fork/join overhead. A loop that
// gets more than one goroutine is emitted as a Run method of a small task
// type, whose value lives in the Model (so a call allocates nothing), and
// handed to runtime.ParallelFor, which also runs it on the caller when the
// batch at run time is too small to split.

// parallelChunk is the fewest elements a goroutine of a parallel loop
// takes (runtime.ParallelFor's minChunk): 64 KiB of f32 output.
const parallelChunk = 1 << 14

// parallelBatch is the batch size the loop decisions are made at.
const parallelBatch = 64

// decideParallel returns the element-wise nodes whose loops run on
// several goroutines, with the cost model's reason.
func (c *gen) decideParallel() map[*ir.Node]loopSplit {
	out := map[*ir.Node]loopSplit{}
	pl := c.plan
	p := pl.profile
	b := cost.Bind(c.g, parallelBatch)
	// The loops: every node with a buffer, and the updates computed in
	// their param's storage.
	loops := append([]*ir.Node(nil), pl.bufs...)
	for _, n := range c.g.Body.Nodes {
		if pl.inPlace[n] != nil {
			loops = append(loops, n)
		}
	}
	for _, n := range loops {
		if !c.parallelizable(n) {
			continue
		}
		var flops, bytes float64
		for _, m := range pl.group(n) {
			e := cost.EstimateNode(p, m, b)
			flops += e.FLOPs
		}
		for _, leaf := range pl.reads(n) {
			bytes += leaf.Type.Shape.Size(b) * float64(leaf.Type.DType.Size())
		}
		bytes += n.Type.Shape.Size(b) * float64(n.Type.DType.Size())
		serial := max(flops/(p.ElementwiseGFLOPS*1e3), bytes/(p.BandwidthGBs*1e3))
		t := cost.Threads(serial, p.Cores, p.ForkJoinUs)
		if t > 1 && n.Type.Shape.Size(b) >= 2*parallelChunk {
			out[n] = loopSplit{threads: t, why: fmt.Sprintf("%d goroutines: about %.0f µs serial at batch %d, %.0f µs split (fork/join %.1f µs)",
				t, serial, parallelBatch, serial/float64(t)+p.ForkJoinUs, p.ForkJoinUs)}
		}
	}
	return out
}

// group returns n and the nodes fused into it.
func (p *plan) group(n *ir.Node) []*ir.Node {
	return p.appendGroup(nil, n)
}

// appendGroup appends n and the nodes fused into its loop to out.
func (p *plan) appendGroup(out []*ir.Node, n *ir.Node) []*ir.Node {
	out = append(out, n)
	for _, in := range n.Inputs {
		if p.fused[in] {
			out = p.appendGroup(out, in)
		}
	}
	return out
}

// parallelizable reports whether n's loop can be split into contiguous
// ranges: n is emitted by emitElementwise, it and every buffer its loop
// reads are f32, and each read is either of n's shape (read at the same
// index) or a single element.
func (c *gen) parallelizable(n *ir.Node) bool {
	if n.Type.DType != ir.F32 || c.plan.epilogue[n] != nil || c.expression(n, dummies(len(n.Inputs))) == nil {
		return false
	}
	for _, leaf := range c.plan.reads(n) {
		switch {
		case scalarConst(leaf) != nil:
		case leaf.Type.DType != ir.F32:
			return false
		case leaf.Type.Shape.Equal(n.Type.Shape), leaf.Type.Shape.NumElements(nil) == 1 && leaf.Type.Shape.IsStatic():
		default:
			return false
		}
	}
	return true
}

// dummies returns k placeholder operand elements for probing emitters.
func dummies(k int) []*jen.Statement {
	out := make([]*jen.Statement, k)
	for i := range out {
		out[i] = jen.Id("x")
	}
	return out
}

// loopType is the name of n's parallel loop task type, loopField its
// Model field.
func loopType(n *ir.Node) string  { return "loop" + strconv.Itoa(n.ID) }
func loopField(n *ir.Node) string { return "l" + strconv.Itoa(n.ID) }

// emitParallel emits n's loop as a task run by runtime.ParallelFor. ops
// are the loop's accesses (ops[0] the output), elem builds the output
// element from the operand elements.
func (c *gen) emitParallel(n *ir.Node, ops []access, elem func(e []*jen.Statement) jen.Code) jen.Code {
	// The task's fields: every buffer the loop touches, once.
	var fields []string
	seen := map[string]bool{}
	for _, op := range ops {
		if op.inline == nil && !seen[op.buf] {
			seen[op.buf] = true
			fields = append(fields, op.buf)
		}
	}
	if !c.loopDeclared[n] {
		c.loopDeclared[n] = true
		var decl []jen.Code
		for _, f := range fields {
			decl = append(decl, jen.Id(f).Index().Float32())
		}
		c.f.Comment(fmt.Sprintf("%s runs the loop of %s on a range of its elements.", loopType(n), n.Label()))
		c.f.Type().Id(loopType(n)).Struct(decl...)
		// Run: slice the full-size operands to [lo, hi), read the
		// single-element ones at 0.
		var body []jen.Code
		elems := make([]*jen.Statement, len(ops))
		sliced := map[string]bool{}
		for k, op := range ops {
			switch {
			case op.inline != nil:
				elems[k] = op.inline.Clone()
			case len(op.strides) > 0 && allZero(op.strides):
				elems[k] = jen.Id("l").Dot(op.buf).Index(jen.Lit(0))
			default:
				if !sliced[op.buf] {
					sliced[op.buf] = true
					body = append(body, jen.Id(op.buf).Op(":=").Id("l").Dot(op.buf).Index(jen.Id("lo"), jen.Id("hi"), jen.Id("hi")))
				}
				elems[k] = jen.Id(op.buf).Index(jen.Id("i"))
			}
		}
		body = append(body, jen.For(jen.Id("i").Op(":=").Range().Id(ops[0].buf)).Block(elem(elems)))
		c.f.Comment("Run implements runtime.Task.")
		c.f.Func().Params(jen.Id("l").Op("*").Id(loopType(n))).Id("Run").Params(jen.List(jen.Id("lo"), jen.Id("hi")).Int()).Block(body...)
	}
	var vals []field
	for _, f := range fields {
		vals = append(vals, field{f, jen.Id(f)})
	}
	return jen.Block(
		jen.Comment(c.plan.parallel[n].why),
		jen.Id("m").Dot(loopField(n)).Op("=").Id(loopType(n)).Add(keyed(vals...)),
		jen.Qual(RuntimePath, "ParallelFor").Call(numel(n.Type.Shape).code(), jen.Lit(parallelChunk), jen.Op("&").Id("m").Dot(loopField(n))),
	)
}

// allZero reports whether every stride is zero (a single element).
func allZero(strides []size) bool {
	for _, s := range strides {
		if !s.isZero() {
			return false
		}
	}
	return true
}
