package codegen

import (
	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/cost"
	"github.com/flow-lang/flow/compiler/ir"
)

// Element-wise fusion. A chain of element-wise ops becomes one loop: a
// node is fused into its consumer when it is emitted by emitElementwise
// (its element is a Go expression), the consumer is element-wise too, of
// the node's shape, or a sum (sum, mean, sum_to) of the node, the consumer is its only reader (so nothing is
// computed twice), it is no result of any entry point (output, loss,
// update value) and no update itself, and every program that emits one
// emits the other. A fused node gets no buffer: its consumer's loop
// computes its element where it would have read it.

// exprProbe is set while fuse asks an emitter for its element expression
// instead of its loop: emitElementwise then stores the expression in
// result and emits nothing.
type exprProbe struct {
	args   []*jen.Statement
	result jen.Code
}

// reduces are the ops emitted by emitReduce, which compute a fused
// input's elements in their loop.
var reduces = map[*ir.OpDef]bool{ir.Sum: true, ir.Mean: true, ir.SumTo: true}

// emitterOf returns the emitter of an op. It is a variable set in init
// because the emitters table refers to emitElementwise, which (through
// elementTree and expression) refers back to the table.
var emitterOf func(op *ir.OpDef) emitter

func init() { emitterOf = func(op *ir.OpDef) emitter { return emitters[op] } }

// fuse decides which nodes are fused, before memory planning; a fused
// node keeps no buffer.
func (c *gen) fuse() map[*ir.Node]bool {
	fused := map[*ir.Node]bool{}
	p := c.plan
	f := &p.facts
	capable := map[string]bool{}
	isCapable := func(n *ir.Node) bool {
		ok, seen := capable[n.Op.Name]
		if !seen {
			ok = c.expression(n, dummies(len(n.Inputs))) != nil
			capable[n.Op.Name] = ok
		}
		return ok
	}
	// loopShape is the shape a consumer loops over when it can compute
	// a fused operand's element in its loop: an element-wise op's result,
	// or a sum's input.
	loopShape := func(q *ir.Node) (ir.Shape, bool) {
		if reduces[q.Op] {
			return q.Inputs[0].Type.Shape, true
		}
		return q.Type.Shape, isCapable(q)
	}
	// The body's nodes, then those of control flow's regions (a region's
	// nodes fuse with each other; their results, which the owner copies
	// out, do not fuse).
	nodes := c.allNodes()
	regionResult := c.regionResults()
	// An f32 exp, sigmoid or tanh runs faster as a vector kernel over a
	// buffer (sliceCall) than as a scalar call inside a fused loop, even
	// with a buffer more: it neither fuses into its reader nor takes a
	// fused operand.
	for _, n := range nodes {
		q := f.reader(n)
		if q != nil && (vectorNode(n) || vectorNode(q)) {
			continue
		}
		// An epilogue's end is a kernel call, with no loop to fuse into
		// (an addend is copied in whole).
		if regionResult[n] || !p.computed[n] || p.epilogueOf[n] || p.epilogue[n] != nil || q != nil && p.epilogue[q] != nil || f.readers(n) != 1 || f.results[n] || n.Op.Stateful || q == nil || f.emitted[n] != f.emitted[q] || !isCapable(n) {
			continue
		}
		if shape, ok := loopShape(q); ok && n.Type.Shape.Equal(shape) {
			fused[n] = true
		}
	}
	return fused
}

// Fusion returns the nodes generated code for g computes inside their
// consumer's loop, each mapped to that consumer, and the element-wise
// loops it splits across goroutines with their goroutine counts, for the
// cost model (cost.PredictFused). Both are empty if g cannot be
// generated. p is the profile the split decisions use (nil: built-in).
func Fusion(g *ir.Module, p *cost.Profile) (cost.Fusion, map[*ir.Node]int) {
	c := newGen(g, Options{Package: "m", Profile: p})
	if c.validate() != nil || c.decide("parallel") != nil {
		return cost.Fusion{}, map[*ir.Node]int{}
	}
	return c.plan.fusion(), c.plan.splits()
}

// splits returns the goroutine count of each parallel loop.
func (p *plan) splits() map[*ir.Node]int {
	out := map[*ir.Node]int{}
	for n, s := range p.parallel {
		out[n] = s.threads
	}
	return out
}

// fusion maps each fused node to its consumer, and each element-wise
// node of an epilogue (the bias add, the ReLU) to its matmul or conv2d.
func (p *plan) fusion() cost.Fusion {
	out := cost.Fusion{}
	for end, e := range p.epilogue {
		// The chain is the kernel's sole reader, its sole reader, … up
		// to end (decideEpilogues).
		for v := p.facts.reader(e.kernel); ; v = p.facts.reader(v) {
			out[v] = e.kernel
			if v == end {
				break
			}
		}
	}
	for n := range p.fused {
		out[n] = p.facts.reader(n) // its only reader
	}
	return out
}

// emittedBy returns, per node, the set of programs that emit its code,
// as a bit mask over progs.
func (c *gen) emittedBy(progs []program) map[*ir.Node]uint64 {
	out := map[*ir.Node]uint64{}
	for i := range progs {
		for _, n := range c.ownNodes(&progs[i]) {
			out[n] |= 1 << i
		}
	}
	return out
}

// ownNodes returns the nodes program p computes itself, in schedule
// order: its schedule without what its prefix computes.
func (c *gen) ownNodes(p *program) []*ir.Node {
	done := map[*ir.Node]bool{}
	if p.prefix != nil {
		for _, n := range c.g.Schedule(p.prefix.roots...) {
			done[n] = true
		}
	}
	var own []*ir.Node
	for _, n := range c.g.Schedule(p.roots...) {
		if !done[n] {
			own = append(own, n)
		}
	}
	return own
}

// codeOrder returns the nodes whose code program p's function emits, in
// order: the nodes it computes itself, without those absorbed into a
// consumer's code.
func (c *gen) codeOrder(p *program) []*ir.Node {
	var out []*ir.Node
	for _, n := range c.ownNodes(p) {
		if !c.plan.absorbed(n) {
			out = append(out, n)
		}
	}
	return out
}

// expression returns the Go expression of one element of n from its
// operands' elements, or nil if n's emitter is not element-wise.
func (c *gen) expression(n *ir.Node, args []*jen.Statement) jen.Code {
	probe := &exprProbe{args: args}
	saved, used := c.probe, c.used
	c.probe, c.used = probe, map[string]local{}
	defer func() { c.probe, c.used = saved, used }()
	if _, err := emitterOf(n.Op)(c, n); err != nil {
		return nil
	}
	return probe.result
}

// elementTree adds to ops the reads the element of x needs at the index
// of an output of shape out, following fused nodes, and returns the
// builder of x's element from the loop's operand elements.
func (c *gen) elementTree(x *ir.Node, out ir.Shape, ops *[]access) func(e []*jen.Statement) *jen.Statement {
	if !c.plan.fused[x] {
		k := len(*ops)
		*ops = append(*ops, c.readAccess(x, out, nil))
		return func(e []*jen.Statement) *jen.Statement { return e[k].Clone() }
	}
	var kids []func(e []*jen.Statement) *jen.Statement
	for _, in := range x.Inputs {
		kids = append(kids, c.elementTree(in, out, ops))
	}
	return func(e []*jen.Statement) *jen.Statement {
		args := make([]*jen.Statement, len(kids))
		for i, k := range kids {
			args[i] = k(e)
		}
		return jen.Parens(c.expression(x, args))
	}
}

// reads returns the nodes whose buffers n's code reads: its inputs, with
// each fused input (and an epilogue's matmul) replaced by what that one
// reads.
func (p *plan) reads(n *ir.Node) []*ir.Node {
	return p.appendReads(nil, n)
}

// appendReads appends what n's code reads to out: one slice for the
// whole walk, so that a fused chain thousands of nodes long costs its
// length, not its length squared.
func (p *plan) appendReads(out []*ir.Node, n *ir.Node) []*ir.Node {
	for _, in := range n.Inputs {
		if p.absorbed(in) {
			out = p.appendReads(out, in)
		} else {
			out = append(out, in)
		}
	}
	return out
}
