package codegen

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/ir"
)

// Control flow: cond, while and scan (the language's if, while and for)
// become a Go if statement and for loops around the code of their
// regions, which the same emitters as the body's nodes compute.
//
// Storage. Every node of a region (nested regions included) has a buffer
// in the arena like a body node; it is live throughout its owner's
// execution, so for liveness it is defined and last read at its owner's
// position: region buffers never share memory with each other, with the
// owner's operands or with its results. A region's element-wise chains
// fuse into single loops as the body's do (fuse.go), except its results,
// which the owner copies out; epilogues and in-place updates leave
// region nodes alone. A get node's
// buffer is written by its owner, so it too is defined at the owner's
// position. Block arguments bound to a value that does not change while
// the owner runs — a cond's operands, a loop's invariants — alias that
// operand's storage (plan.alias); a while condition's carried arguments
// alias the body's. The others have buffers: the carried values, which
// the loop copies the initial values and each trip's results into, and
// a scan's steps of its sequences, copied in before each step.
//
// An owner writes every one of its get nodes that has a buffer, not only
// those its program needs: a later program may read a get of an owner
// its prefix ran (the train program reads the values the loss program's
// loops recorded). Liveness defines those buffers at the owner's
// position in every entry point, so the writes clobber nothing.

// regionKeys returns the attributes holding the regions of control-flow
// node n in the order its code runs them (none for other nodes): then
// and else, a while's cond and body, a scan's body.
func regionKeys(n *ir.Node) []string {
	switch n.Op {
	case ir.Cond:
		return []string{"then", "else"}
	case ir.While:
		return []string{"cond", "body"}
	case ir.Scan:
		return []string{"body"}
	}
	return nil
}

// controlRegions returns the regions of control-flow node n in the order
// its code runs them (regionKeys).
func controlRegions(n *ir.Node) []*ir.Region {
	keys := regionKeys(n)
	out := make([]*ir.Region, len(keys))
	for i, k := range keys {
		out[i] = n.Attrs[k].(*ir.Region)
	}
	return out
}

// regionNodes returns the nodes of n's regions, nested regions included,
// in the order their code runs: each region's block arguments, then its
// nodes, each followed by the nodes of its own regions.
func regionNodes(n *ir.Node) []*ir.Node {
	var out []*ir.Node
	for _, r := range controlRegions(n) {
		out = append(out, r.Args...)
		for _, m := range r.Nodes {
			out = append(out, m)
			out = append(out, regionNodes(m)...)
		}
	}
	return out
}

// trainOnlyGets returns the gets of control-flow nodes that the train
// step reads but neither Predict nor Loss does.
func (c *gen) trainOnlyGets() map[*ir.Node]bool {
	out := map[*ir.Node]bool{}
	g := c.g
	if g.Loss() == nil {
		return out
	}
	train := ir.Reachable(append([]*ir.Node{g.TrainingLoss()}, g.Updates()...)...)
	other := ir.Reachable(append(slices.Clone(g.Outputs()), g.Loss())...)
	for _, n := range g.Body.Nodes {
		if n.Op == ir.Get && train[n] && !other[n] && other[n.Inputs[0]] {
			out[n] = true
		}
	}
	return out
}

// guardTraining wraps code that writes train-only gets in `if
// m.training`.
func guardTraining(code []jen.Code) []jen.Code {
	if len(code) == 0 {
		return nil
	}
	return []jen.Code{jen.If(jen.Id("m").Dot("training")).Block(code...)}
}

// allNodes returns the body's nodes, each control-flow node followed by
// the nodes of its regions (regionNodes, without block arguments).
func (c *gen) allNodes() []*ir.Node {
	var out []*ir.Node
	for _, n := range c.g.Body.Nodes {
		out = append(out, n)
		for _, m := range regionNodes(n) {
			if m.Op != ir.Arg {
				out = append(out, m)
			}
		}
	}
	return out
}

// allRegions returns the regions of control-flow node n and of the
// control-flow nodes inside them, nested ones included.
func allRegions(n *ir.Node) []*ir.Region {
	var out []*ir.Region
	for _, r := range controlRegions(n) {
		out = append(out, r)
		for _, m := range r.Nodes {
			out = append(out, allRegions(m)...)
		}
	}
	return out
}

// inRegion reports whether n belongs to a control-flow node's region
// rather than to the module's body.
func (c *gen) inRegion(n *ir.Node) bool { return n.Region != c.g.Body }

// nameRegions lists the storage of owner n's region nodes: the nodes
// with buffers (appended to allBufs), the tensor constants, and the
// block arguments that alias another node's storage.
func (nm *names) nameRegions(n *ir.Node) {
	bind := func(arg, to *ir.Node) {
		if scalarConst(to) != nil {
			// An inline constant has no storage to alias: the
			// argument gets a buffer, filled on entry (fillArgs).
			nm.addBuf(arg)
			return
		}
		nm.alias[arg] = to
	}
	switch n.Op {
	case ir.Cond:
		for _, r := range controlRegions(n) {
			for i, a := range r.Args {
				bind(a, n.Inputs[1+i])
			}
		}
	case ir.While:
		k := n.Attrs.Int("carried", 0)
		cond, body := n.Attrs["cond"].(*ir.Region), n.Attrs["body"].(*ir.Region)
		for i, a := range body.Args {
			if i < k {
				nm.addBuf(a)
				nm.alias[cond.Args[i]] = a
			} else {
				bind(a, n.Inputs[i])
				bind(cond.Args[i], n.Inputs[i])
			}
		}
	case ir.Scan:
		own := n.Attrs.Int("seqs", 0) + n.Attrs.Int("carried", 0)
		for i, a := range n.Attrs["body"].(*ir.Region).Args {
			if i < own {
				nm.addBuf(a)
			} else {
				bind(a, n.Inputs[i])
			}
		}
	}
	for _, r := range controlRegions(n) {
		for _, m := range r.Nodes {
			switch {
			case m.Type.IsTuple():
				nm.nameRegions(m)
			case m.Op == ir.Const && m.Type.Shape.Rank() == 0:
			case m.Op == ir.Const:
				nm.constVar[m] = "c" + strconv.Itoa(m.ID)
			default:
				nm.addBuf(m)
			}
		}
	}
}

// addBuf lists n among the nodes computed into a buffer of their own.
func (nm *names) addBuf(n *ir.Node) {
	nm.allBufs = append(nm.allBufs, n)
	nm.computed[n] = true
}

// gets returns the get nodes of control-flow node n that have buffers,
// by element index (then ID).
func (c *gen) gets(n *ir.Node) []*ir.Node {
	var out []*ir.Node
	for _, u := range c.plan.facts.users[n] {
		if u.Op == ir.Get && c.plan.hasBuf[u] {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b *ir.Node) int {
		if d := a.Attrs.Int("index", 0) - b.Attrs.Int("index", 0); d != 0 {
			return d
		}
		return a.ID - b.ID
	})
	return out
}

// ownerStorage returns the buffers owner n defines when it runs: those
// of its region nodes and of its get nodes.
func (c *gen) ownerStorage(n *ir.Node) []*ir.Node {
	if regionKeys(n) == nil {
		return nil
	}
	var out []*ir.Node
	for _, m := range regionNodes(n) {
		if c.plan.hasBuf[m] {
			out = append(out, m)
		}
	}
	return append(out, c.gets(n)...)
}

// emissionOrder returns the nodes program p's function emits code for,
// in order: codeOrder with every control-flow node followed by its
// regions' nodes.
func (c *gen) emissionOrder(p *program) []*ir.Node {
	var out []*ir.Node
	for _, n := range c.codeOrder(p) {
		out = append(out, n)
		for _, m := range regionNodes(n) {
			if m.Op != ir.Arg {
				out = append(out, m)
			}
		}
	}
	return out
}

func init() {
	registerEmitters(map[*ir.OpDef]emitter{
		ir.Cond:  notElementwise(emitCond),
		ir.While: notElementwise(emitWhile),
		ir.Scan:  notElementwise(emitScan),
		ir.Get:   emitNothing, // the owner writes it
		ir.Arg:   emitNothing, // the owner binds it
	})
}

// notElementwise wraps a control-flow emitter so that a planning step
// probing for element expressions (fuse.go) gets none: the probe must not
// reach the element-wise nodes of its regions.
func notElementwise(e emitter) emitter {
	return func(c *gen, n *ir.Node) (jen.Code, error) {
		if c.probe != nil {
			return nil, fmt.Errorf("%s is not element-wise", n.Op.Name)
		}
		return e(c, n)
	}
}

// regionCode returns the code of region r's nodes, in order.
func (c *gen) regionCode(r *ir.Region) ([]jen.Code, error) {
	var code []jen.Code
	for _, m := range r.Nodes {
		if c.plan.absorbed(m) {
			continue // computed in its consumer's loop
		}
		stmt, err := c.emitNode(m)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", m.Pos, m.Op.Name, err)
		}
		if stmt != nil {
			code = append(code, jen.Comment(nodeComment(m)), stmt)
		}
	}
	return code, nil
}

// scalarRead returns the Go expression of scalar x's value.
func (c *gen) scalarRead(x *ir.Node) *jen.Statement {
	if lit := scalarConst(x); lit != nil {
		return lit
	}
	return jen.Id(c.operand(x)).Index(jen.Lit(0))
}

// copyValue copies the value of src into dst's storage; nothing when src
// is computed there (a carried value computed in place).
func (c *gen) copyValue(dst, src *ir.Node) jen.Code {
	if lit := scalarConst(src); lit != nil {
		return jen.Id(c.operand(dst)).Index(jen.Lit(0)).Op("=").Add(lit)
	}
	to, from := c.operand(dst), c.operand(src)
	if to == from {
		return jen.Null()
	}
	return jen.Copy(jen.Id(to), jen.Id(from))
}

// fillArgs sets the block arguments of n's regions bound to inline
// constants, which have buffers of their own (nameRegions); loops fill
// their carried arguments themselves.
func (c *gen) fillArgs(n *ir.Node, from int) []jen.Code {
	var code []jen.Code
	for _, r := range controlRegions(n) {
		for i, a := range r.Args {
			if i >= from && c.plan.hasBuf[a] {
				code = append(code, c.copyValue(a, n.Inputs[i+len(n.Inputs)-len(r.Args)]))
			}
		}
	}
	return code
}

// writeGets copies value(i), element i of n's value, into every get of
// n at an index for which value is not nil; the train-only ones only
// while training.
func (c *gen) writeGets(n *ir.Node, value func(i int) *ir.Node) []jen.Code {
	var code, training []jen.Code
	for _, g := range c.gets(n) {
		if v := value(g.Attrs.Int("index", 0)); v != nil {
			if c.plan.trainOnly[g] {
				training = append(training, c.copyValue(g, v))
			} else {
				code = append(code, c.copyValue(g, v))
			}
		}
	}
	return append(code, guardTraining(training)...)
}

// guard returns code, wrapped in `if m.training` when every get of gets
// is train-only.
func (c *gen) guard(gets []*ir.Node, code []jen.Code) []jen.Code {
	for _, g := range gets {
		if !c.plan.trainOnly[g] {
			return code
		}
	}
	return guardTraining(code)
}

// row slices buf to row v (a loop counter) of rows of size elements,
// or from that row to the end with toEnd.
func row(buf, v string, size size, toEnd bool) *jen.Statement {
	at := func(i *jen.Statement) *jen.Statement {
		if size.isOne() {
			return i
		}
		return i.Op("*").Add(size.code())
	}
	if toEnd {
		return jen.Id(buf).Index(at(jen.Id(v)), jen.Empty())
	}
	next := jen.Id(v).Op("+").Lit(1)
	if !size.isOne() {
		next = jen.Parens(next)
	}
	return jen.Id(buf).Index(at(jen.Id(v)), at(next))
}

// loopVar names the trip or step counter of control-flow node n: i and
// its ID, a name inputs never take (isGenerated). The emitters' loops
// inside its regions may shadow it in their own blocks, where the
// counter is not read.
func loopVar(n *ir.Node) string { return "i" + strconv.Itoa(n.ID) }

// emitCond runs the then or the else region as the predicate says, and
// copies the branch's results into the gets.
func emitCond(c *gen, n *ir.Node) (jen.Code, error) {
	var branches [2][]jen.Code
	for b, r := range controlRegions(n) {
		code, err := c.regionCode(r)
		if err != nil {
			return nil, err
		}
		branches[b] = append(code, c.writeGets(n, func(i int) *ir.Node { return r.Results[i] })...)
	}
	stmt := jen.If(c.scalarRead(n.Inputs[0])).Block(branches[0]...)
	if len(branches[1]) > 0 {
		stmt = stmt.Else().Block(branches[1]...)
	}
	return jen.Block(append(c.fillArgs(n, 0), stmt)...), nil
}

// emitWhile copies the initial values into the carried buffers and runs
// the condition and the body until the condition fails or the limit is
// reached; with record it keeps the carried values each trip starts with
// and the trip count.
func emitWhile(c *gen, n *ir.Node) (jen.Code, error) {
	k, limit := n.Attrs.Int("carried", 0), n.Attrs.Int("limit", 0)
	cond, body := n.Attrs["cond"].(*ir.Region), n.Attrs["body"].(*ir.Region)
	trip := loopVar(n)
	code := c.fillArgs(n, k)
	for i := range k {
		code = append(code, c.copyValue(body.Args[i], n.Inputs[i]))
	}
	condCode, err := c.regionCode(cond)
	if err != nil {
		return nil, err
	}
	bodyCode, err := c.regionCode(body)
	if err != nil {
		return nil, err
	}
	loop := append(condCode, jen.If(jen.Op("!").Add(c.scalarRead(cond.Results[0]))).Block(jen.Break()))
	// The record: the carried values of trip t are row t of stack k+1+i.
	stacks := map[*ir.Node]int{}
	var record []*ir.Node
	var recordCode []jen.Code
	for _, g := range c.gets(n) {
		if i := g.Attrs.Int("index", 0) - k - 1; i >= 0 {
			stacks[g] = i
			record = append(record, g)
			recordCode = append(recordCode, jen.Copy(row(c.operand(g), trip, numel(body.Args[i].Type.Shape), false), jen.Id(c.operand(body.Args[i]))))
		}
	}
	if len(recordCode) > 0 {
		loop = append(loop, jen.Comment("Record the carried values the trip starts with."))
		loop = append(loop, c.guard(record, recordCode)...)
	}
	loop = append(loop, jen.Comment("The body."))
	loop = append(loop, bodyCode...)
	loop = append(loop, jen.Comment("Carry its results to the next trip."))
	for i := range k {
		loop = append(loop, c.copyValue(body.Args[i], body.Results[i]))
	}
	var test jen.Code = jen.Empty()
	if limit > 0 {
		test = jen.Id(trip).Op("<").Lit(limit)
	}
	code = append(code,
		jen.Id(trip).Op(":=").Lit(0),
		jen.For(jen.Empty(), test, jen.Id(trip).Op("++")).Block(loop...),
	)
	var training []jen.Code
	for _, g := range c.gets(n) {
		i := g.Attrs.Int("index", 0)
		var stmt jen.Code
		switch {
		case i < k:
			stmt = c.copyValue(g, body.Args[i])
		case i == k:
			stmt = jen.Id(c.operand(g)).Index(jen.Lit(0)).Op("=").Int32().Call(jen.Id(trip))
		default:
			// Trips that did not run record zeros, as the interpreter's.
			stmt = jen.Clear(row(c.operand(g), trip, numel(body.Args[stacks[g]].Type.Shape), true))
		}
		if c.plan.trainOnly[g] {
			training = append(training, stmt)
		} else {
			code = append(code, stmt)
		}
	}
	return jen.Block(append(code, guardTraining(training)...)...), nil
}

// emitScan copies the initial values into the carried buffers and runs
// the body once per step (last to first when reverse): it copies the
// step of each sequence in, runs the body, copies each per-step result
// into its step of the stacked get and the new carried values into the
// carried buffers. With record it keeps the carried values each step
// starts with.
func emitScan(c *gen, n *ir.Node) (jen.Code, error) {
	q, k := n.Attrs.Int("seqs", 0), n.Attrs.Int("carried", 0)
	axes, yaxes := n.Attrs.Ints("axes"), n.Attrs.Ints("yaxes")
	body := n.Attrs["body"].(*ir.Region)
	ny := len(body.Results) - k
	steps := dimSize(n.Inputs[0].Type.Shape[axes[0]])
	t := loopVar(n)
	code := c.fillArgs(n, q+k)
	for i := range k {
		code = append(code, c.copyValue(body.Args[q+i], n.Inputs[q+i]))
	}
	bodyCode, err := c.regionCode(body)
	if err != nil {
		return nil, err
	}
	// stepCopy copies step t of a tensor of shape s along axis between
	// buf and the step's storage step, by the runtime's fn.
	stepCopy := func(fn, dst, src string, s ir.Shape, axis int) jen.Code {
		outer, inner := numel(s[:axis]), numel(s[axis+1:])
		switch {
		case outer.isOne() && inner.isOne() && fn == "CopyStepIn":
			return jen.Id(dst).Index(jen.Lit(0)).Op("=").Id(src).Index(jen.Id(t))
		case outer.isOne() && inner.isOne():
			return jen.Id(dst).Index(jen.Id(t)).Op("=").Id(src).Index(jen.Lit(0))
		}
		if outer.isOne() {
			if fn == "CopyStepIn" {
				return jen.Copy(jen.Id(dst), row(src, t, inner, false))
			}
			return jen.Copy(row(dst, t, inner, false), jen.Id(src))
		}
		return jen.Qual(RuntimePath, fn).Call(jen.Id(dst), jen.Id(src), outer.code(), steps.code(), inner.code(), jen.Id(t))
	}
	var loop []jen.Code
	for i, s := range n.Inputs[:q] {
		arg := body.Args[i]
		if inner := numel(s.Type.Shape[axes[i]+1:]); axes[i] == 0 && !inner.isOne() && scalarConst(s) == nil {
			// Step t of a sequence along its first axis is a contiguous
			// row: the step's argument is that row, not a copy of it.
			if len(c.plan.facts.users[arg]) > 0 {
				loop = append(loop, jen.Id(c.operand(arg)).Op("=").Add(row(c.operand(s), t, inner, false)))
			}
			continue
		}
		loop = append(loop, stepCopy("CopyStepIn", c.operand(arg), c.operand(s), s.Type.Shape, axes[i]))
	}
	gets := c.gets(n)
	var record []jen.Code
	var recordGets []*ir.Node
	for _, g := range gets {
		if i := g.Attrs.Int("index", 0) - ny - k; i >= 0 {
			recordGets = append(recordGets, g)
			record = append(record, stepCopy("CopyStepOut", c.operand(g), c.operand(body.Args[q+i]), g.Type.Shape, 0))
		}
	}
	if len(record) > 0 {
		loop = append(loop, jen.Comment("Record the carried values the step starts with."))
		loop = append(loop, c.guard(recordGets, record)...)
	}
	loop = append(loop, jen.Comment("The body."))
	loop = append(loop, bodyCode...)
	loop = append(loop, jen.Comment("Stack its per-step results, carry the others to the next step."))
	var always, training []jen.Code
	for _, g := range gets {
		i := g.Attrs.Int("index", 0)
		var stmt jen.Code
		switch {
		case i >= ny:
			continue
		case scalarConst(body.Results[i]) != nil:
			// A constant scalar per step: element t of a vector.
			stmt = jen.Id(c.operand(g)).Index(jen.Id(t)).Op("=").Add(scalarConst(body.Results[i]))
		default:
			stmt = stepCopy("CopyStepOut", c.operand(g), c.operand(body.Results[i]), g.Type.Shape, yaxes[i])
		}
		if c.plan.trainOnly[g] {
			training = append(training, stmt)
		} else {
			always = append(always, stmt)
		}
	}
	loop = append(append(loop, always...), guardTraining(training)...)
	for i := range k {
		loop = append(loop, c.copyValue(body.Args[q+i], body.Results[ny+i]))
	}
	if n.Attrs.Bool("reverse") {
		last := steps.code().Op("-").Lit(1)
		if steps.isConst() {
			last = jen.Lit(steps.c - 1)
		}
		code = append(code, jen.For(jen.Id(t).Op(":=").Add(last), jen.Id(t).Op(">=").Lit(0), jen.Id(t).Op("--")).Block(loop...))
	} else {
		code = append(code, forLoop(t, steps, loop...))
	}
	code = append(code, c.writeGets(n, func(i int) *ir.Node {
		if i >= ny && i < ny+k {
			return body.Args[q+i-ny]
		}
		return nil
	})...)
	return jen.Block(code...), nil
}
