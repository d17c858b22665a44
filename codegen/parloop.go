package codegen

import (
	"fmt"
	"strconv"
	"strings"

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
	// The loops: every node with a buffer, the updates computed in their
	// param's storage and the carried values computed in their block
	// argument's.
	loops := append([]*ir.Node(nil), pl.bufs...)
	for _, n := range c.allNodes() {
		if pl.inPlace[n] != nil || pl.carried[n] != nil {
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

// loopType is the name of the task type first declared for parallel
// loop n, loopField n's Model field.
func loopType(n *ir.Node) string  { return "loop" + strconv.Itoa(n.ID) }
func loopField(n *ir.Node) string { return "l" + strconv.Itoa(n.ID) }

// loopTask is the task type of parallel loops whose struct and Run
// method are the same but for the names of their fields (the buffers
// each loop binds): one type, named after the first loop in emission
// order (loopType), that every call site fills with its own buffers.
type loopTask struct {
	name string
	// loops are the loops using it, in emission order.
	loops []*ir.Node
}

// shared reports whether several loops use the type; its fields then
// have neutral names (taskFieldNames), else those of the loop's buffers.
func (t *loopTask) shared() bool { return len(t.loops) > 1 }

// loopProbe is set while the planning step "loop-types" asks a parallel
// loop's emitter for its task type's declaration (emitParallel), which
// decl receives with neutral field names.
type loopProbe struct {
	decl string
}

// planLoopTypes gives every parallel loop its task type: loops whose
// types would be declared the same with neutral field names share the
// first one's, in emission order (the programs in turn).
func (c *gen) planLoopTypes() map[*ir.Node]*loopTask {
	out := map[*ir.Node]*loopTask{}
	byDecl := map[string]*loopTask{}
	add := func(n *ir.Node) {
		if _, ok := c.plan.parallel[n]; !ok || out[n] != nil {
			return
		}
		decl := c.loopDecl(n)
		t := byDecl[decl]
		if t == nil || decl == "" {
			t = &loopTask{name: loopType(n)}
			byDecl[decl] = t
		}
		t.loops = append(t.loops, n)
		out[n] = t
	}
	for i := range c.plan.facts.progs {
		for _, n := range c.emissionOrder(&c.plan.facts.progs[i]) {
			add(n)
		}
	}
	for _, n := range c.allNodes() {
		add(n) // none expected: every loop is emitted
	}
	return out
}

// loopDecl returns the declaration of parallel loop n's task type with
// neutral field names as text, or "" when n's emitter does not emit it
// as a task.
func (c *gen) loopDecl(n *ir.Node) string {
	probe := &loopProbe{}
	saved, used := c.loopProbe, c.used
	c.loopProbe, c.used = probe, map[string]local{}
	defer func() { c.loopProbe, c.used = saved, used }()
	if _, err := emitterOf(n.Op)(c, n); err != nil {
		return ""
	}
	return probe.decl
}

// taskFieldNames are the neutral names of a shared task type's fields,
// by position: out for the loop's output, in1, in2 ... for the other
// buffers it reads, in the order it reads them.
func taskFieldNames(k int) []string {
	names := make([]string, k)
	for i := range names {
		names[i] = "in" + strconv.Itoa(i)
	}
	names[0] = "out"
	return names
}

// emitParallel emits n's loop as a task run by runtime.ParallelFor. ops
// are the loop's accesses (ops[0] the output), elem builds the output
// element from the operand elements. Its task type (planLoopTypes) is
// declared where first used.
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
	if c.loopProbe != nil {
		decl, run := taskType("loop", taskFieldNames(len(fields)), fields, ops, elem)
		c.loopProbe.decl = fmt.Sprintf("%#v\n%#v", decl, run)
		return nil
	}
	t := c.plan.loopTypes[n]
	names := fields
	if t.shared() {
		names = taskFieldNames(len(fields))
	}
	if !c.loopDeclared[t.name] {
		c.loopDeclared[t.name] = true
		if t.shared() {
			var labels []string
			for _, m := range t.loops {
				labels = append(labels, m.Label())
			}
			c.f.Comment(fmt.Sprintf("%s runs the loops of %s on a range of their elements.", t.name, andList(labels)))
		} else {
			c.f.Comment(fmt.Sprintf("%s runs the loop of %s on a range of its elements.", t.name, n.Label()))
		}
		decl, run := taskType(t.name, names, fields, ops, elem)
		c.f.Add(decl)
		c.f.Comment("Run implements runtime.Task.")
		c.f.Add(run)
	}
	vals := make([]field, len(fields))
	for i, f := range fields {
		vals[i] = field{names[i], jen.Id(f)}
	}
	return jen.Block(
		jen.Comment(c.plan.parallel[n].why),
		jen.Id("m").Dot(loopField(n)).Op("=").Id(t.name).Add(keyed(vals...)),
		jen.Qual(RuntimePath, "ParallelFor").Call(numel(n.Type.Shape).code(), jen.Lit(parallelChunk), jen.Op("&").Id("m").Dot(loopField(n))),
	)
}

// taskType returns the declaration of the task type typ of a loop with
// accesses ops and element elem, and its Run method: a field named
// names[i] for buffer fields[i]; Run slices the full-size ones to
// [lo, hi) into locals of the same names and reads the single-element
// ones at 0.
func taskType(typ string, names, fields []string, ops []access, elem func(e []*jen.Statement) jen.Code) (decl, run jen.Code) {
	name := make(map[string]string, len(fields))
	var fs []jen.Code
	for i, f := range fields {
		name[f] = names[i]
		fs = append(fs, jen.Id(names[i]).Index().Float32())
	}
	var body []jen.Code
	elems := make([]*jen.Statement, len(ops))
	sliced := map[string]bool{}
	for k, op := range ops {
		v := name[op.buf]
		switch {
		case op.inline != nil:
			elems[k] = op.inline.Clone()
		case len(op.strides) > 0 && allZero(op.strides):
			elems[k] = jen.Id("l").Dot(v).Index(jen.Lit(0))
		default:
			if !sliced[v] {
				sliced[v] = true
				body = append(body, jen.Id(v).Op(":=").Id("l").Dot(v).Index(jen.Id("lo"), jen.Id("hi"), jen.Id("hi")))
			}
			elems[k] = jen.Id(v).Index(jen.Id("i"))
		}
	}
	body = append(body, jen.For(jen.Id("i").Op(":=").Range().Id(name[ops[0].buf])).Block(elem(elems)))
	return jen.Type().Id(typ).Struct(fs...),
		jen.Func().Params(jen.Id("l").Op("*").Id(typ)).Id("Run").Params(jen.List(jen.Id("lo"), jen.Id("hi")).Int()).Block(body...)
}

// andList joins items as "a", "a and b", "a, b and c".
func andList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
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
