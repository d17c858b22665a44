package compiler

import (
	"fmt"
	"slices"

	"github.com/flow-lang/flow/compiler/ir"
)

// This file rewrites the structured control flow of a module (cond,
// while and scan, which own regions) into TensorFlow's dataflow form —
// one flat graph of switch, merge, enter, exit, next_iteration and
// loop_cond (compiler/ir/ops_dataflow.go) — and executes that form the
// way TensorFlow's executor does, with values tagged by frame and
// iteration and dead values flowing down the untaken side of every
// switch. It follows "Implementation of Control Flow in TensorFlow"
// (Yu et al., EuroSys 2018) and tf.cond / tf.while_loop of
// control_flow_ops.py.
//
// cond(pred, x...) becomes
//
//	ps = switch(pred, pred); pivot_t = ps[1], pivot_f = ps[0]
//	a switch(x, pred) per operand (and per value the branches capture);
//	  the then branch reads their output_true, the else branch output_false
//	the branches' nodes, inline
//	merge(else_result, then_result)[0] per result
//
// while(c..., v...) becomes, in a frame of its own ("while<ID>"),
//
//	enter(i = 0), enter(c...)      merge(enter, ·back edge·) per loop value
//	enter(v..., is_constant)       (and per value the regions capture)
//	the cond region's nodes on the merges, and i < limit when limit > 0
//	loop_cond(p); switch(merge, loop_cond) per loop value
//	exit(output_false) per loop value: the while's results
//	the body's nodes on the output_true values; i + 1
//	next_iteration(body result) per loop value, back to its merge
//
// The trip counter i is always a loop value (TensorFlow's while_v2 adds
// one too): it implements limit and, for a recording while (record =
// true, set by its gradient), is the trip count; a recording while
// also carries one zero-initialized buffer [limit, ...] per carried
// value, into which array_write stores the values each trip starts with.
//
// scan(s..., c..., v...) becomes such a loop over the step counter j <
// length, with the sequences entered as constants and step t (j, or
// length-1-j when reverse) cut from each with gather along its axis; the
// per-step results are stacked by array_write (TensorFlow's
// TensorArrayWrite as a value: the buffer is a loop value, zeros at
// first, whose slice t each step replaces) into buffers of the stacked
// shape, which exit as the scan's stacked results; a recording scan also
// stacks the carried values each step starts with.
//
// As in TensorFlow, a node of a branch without operands (a constant)
// gets a control edge (Deps) from the branch's pivot, so that it is dead
// when the branch is not taken, and a node of a loop whose operands are
// all loop invariants (constant enters), or none, gets one from the
// loop's pivot (the counter's merge in the condition, its output_true
// in the body), so that it runs in the loop's frame once per iteration
// and is dead when the loop stops.
//
// Back edges. A loop merge has loop = true and only its enter as an
// operand; the next_iteration feeding it names it by node ID (attribute
// merge). Inputs therefore stay acyclic and the body's order stays
// topological; only the dataflow interpreter (and DataflowBackEdges)
// follows the back edges. Nothing reaches a next_iteration through
// Inputs, so a pass that prunes by reachability from the programs'
// roots must keep them (DataflowRoots): the lowered module is meant for
// the dataflow interpreter, not for the passes.

// LowerToDataflow returns a copy of m with every cond, while and scan
// (nested ones too) rewritten into TensorFlow's dataflow ops, in one
// flat body. The copy has its own inputs, params and programs, in m's
// order; m is not changed.
func LowerToDataflow(m *ir.Module) (*ir.Module, error) {
	out, _, err := lowerToDataflow(m)
	return out, err
}

// lowerToDataflow is LowerToDataflow that also returns the copy of each
// value of m's body.
func lowerToDataflow(m *ir.Module) (out *ir.Module, copies map[*ir.Node]*ir.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, copies, err = nil, nil, fmt.Errorf("lowering to dataflow: %v", r)
		}
	}()
	g := ir.NewModule(m.Name, m.Source)
	g.Pos = m.Pos
	g.Optimizer = m.Optimizer
	l := &lowerer{g: g}
	root := &level{env: map[valueKey]*ir.Node{}}
	for _, n := range m.Body.Nodes {
		if err := l.node(root, n); err != nil {
			return nil, nil, err
		}
	}
	get := func(n *ir.Node) *ir.Node {
		if n == nil {
			return nil
		}
		return root.env[valueKey{n, -1}]
	}
	for _, in := range m.Inputs {
		g.Inputs = append(g.Inputs, get(in))
	}
	for _, p := range m.Params {
		g.Params = append(g.Params, get(p))
	}
	for _, p := range m.Programs {
		q := &ir.Program{Name: p.Name, Names: slices.Clone(p.Names)}
		for _, r := range p.Results {
			q.Results = append(q.Results, get(r))
		}
		for _, e := range p.Effects {
			q.Effects = append(q.Effects, get(e))
		}
		g.Programs = append(g.Programs, q)
	}
	for p, d := range m.Grads {
		g.Grads[get(p)] = get(d)
	}
	g.Syms = slices.Clone(m.Syms)
	copies = map[*ir.Node]*ir.Node{}
	for k, v := range root.env {
		if k.elem < 0 {
			copies[k.node] = v
		}
	}
	return g, copies, nil
}

// DataflowBackEdges returns the back edges of a lowered module: each
// next_iteration node with the loop merge it feeds.
func DataflowBackEdges(g *ir.Module) (map[*ir.Node]*ir.Node, error) {
	byID := map[int]*ir.Node{}
	var nexts []*ir.Node
	for _, n := range g.Body.Nodes {
		switch n.Op {
		case ir.Merge:
			byID[n.ID] = n
		case ir.NextIteration:
			nexts = append(nexts, n)
		}
	}
	out := map[*ir.Node]*ir.Node{}
	fed := map[*ir.Node]bool{}
	for _, n := range nexts {
		m, ok := byID[n.Attrs.Int("merge", -1)]
		if !ok || !m.Attrs.Bool("loop") {
			return nil, fmt.Errorf("next_iteration %s names %d, which is not a loop merge", n.Label(), n.Attrs.Int("merge", -1))
		}
		if fed[m] {
			return nil, fmt.Errorf("loop merge %s has two next_iterations", m.Label())
		}
		if !n.Type.Equal(m.Inputs[0].Type) {
			return nil, fmt.Errorf("next_iteration %s is %s, its merge %s takes %s", n.Label(), n.Type, m.Label(), m.Inputs[0].Type)
		}
		fed[m] = true
		out[n] = m
	}
	for _, m := range byID {
		if m.Attrs.Bool("loop") && !fed[m] {
			return nil, fmt.Errorf("loop merge %s has no next_iteration", m.Label())
		}
	}
	return out, nil
}

// DataflowRoots returns roots followed by the next_iteration nodes of a
// lowered module, which nothing reaches through Inputs: what a pass
// that prunes the lowered form by reachability must keep.
func DataflowRoots(g *ir.Module, roots ...*ir.Node) []*ir.Node {
	out := slices.Clone(roots)
	for _, n := range g.Body.Nodes {
		if n.Op == ir.NextIteration {
			out = append(out, n)
		}
	}
	return out
}

// valueKey names a value of the structured graph: a node (elem -1), or
// element elem of a cond, while or scan, whose tuple the lowering
// replaces by one value per element.
type valueKey struct {
	node *ir.Node
	elem int
}

// levelKind is the kind of a lowering level.
type levelKind uint8

const (
	rootLevel levelKind = iota
	branchLevel
	loopLevel
)

// level is where lowered nodes go: the module's body, a branch of a
// cond or a region of a loop. Values of an enclosing level enter it
// through a switch (branch) or a constant enter (loop), made once.
type level struct {
	parent *level
	kind   levelKind
	env    map[valueKey]*ir.Node
	// pivot is the control edge of the level's nodes without operands
	// (and, in a loop, of those on invariants only).
	pivot *ir.Node
	// branch: the cond's predicate, which side this is, and the switches
	// of the cond, shared by both branches (by switched value).
	pred     *ir.Node
	side     int
	switches map[*ir.Node]*ir.Node
	// loop: its frame, shared by the loop's regions.
	loop *loopFrame
}

// loopFrame is the frame of one lowered loop.
type loopFrame struct {
	name   string
	enters map[*ir.Node]*ir.Node // outer value → its constant enter
	consts map[*ir.Node]bool     // the constant enters
}

type lowerer struct {
	g *ir.Module
	// origin is the structured node being lowered, whose position and
	// role the nodes made for it carry.
	origin *ir.Node
}

// emit builds a node at level lv, adding the pivot control edge that a
// node without operands in a branch, or on invariants only in a loop,
// needs.
func (l *lowerer) emit(lv *level, op *ir.OpDef, ins []*ir.Node, attrs ir.Attrs, deps ...*ir.Node) *ir.Node {
	if o := l.origin; o != nil {
		l.g.SetOrigin(o.Pos, o.Role)
	}
	switch lv.kind {
	case branchLevel:
		if len(ins) == 0 && len(deps) == 0 {
			deps = []*ir.Node{lv.pivot}
		}
	case loopLevel:
		invariant := true
		for _, x := range slices.Concat(ins, deps) {
			if !lv.loop.consts[x] {
				invariant = false
			}
		}
		if invariant {
			if lv.pivot == nil {
				panic(fmt.Sprintf("%s on loop invariants before the loop's pivot (internal error)", op.Name))
			}
			deps = append(deps, lv.pivot)
		}
	}
	n := l.g.MustApply(op, ins, attrs)
	n.Deps = deps
	return n
}

func (l *lowerer) constant(lv *level, dt ir.DType, v float64) *ir.Node {
	return l.emit(lv, ir.Const, nil, ir.Attrs{"dtype": dt, "value": v})
}

func (l *lowerer) zeros(lv *level, t ir.Type) *ir.Node {
	return l.emit(lv, ir.BroadcastTo, []*ir.Node{l.constant(lv, t.DType, 0)}, ir.Attrs{"shape": t.Shape})
}

func (l *lowerer) get(lv *level, t *ir.Node, i int) *ir.Node {
	return l.emit(lv, ir.Get, []*ir.Node{t}, ir.Attrs{"index": i})
}

// switchOf returns the switch of x (a value of the cond's level) on the
// branch's predicate, made once per cond.
func (l *lowerer) switchOf(lv *level, x *ir.Node) *ir.Node {
	if s, ok := lv.switches[x]; ok {
		return s
	}
	s := l.emit(lv.parent, ir.Switch, []*ir.Node{x, lv.pred}, nil)
	lv.switches[x] = s
	return s
}

// enterConst returns the constant enter of x (a value of the loop's
// enclosing level) into the loop's frame, made once per loop.
func (l *lowerer) enterConst(lv *level, x *ir.Node) *ir.Node {
	f := lv.loop
	if e, ok := f.enters[x]; ok {
		return e
	}
	e := l.emit(lv.parent, ir.Enter, []*ir.Node{x}, ir.Attrs{"frame_name": f.name, "is_constant": true})
	f.enters[x] = e
	f.consts[e] = true
	return e
}

// value returns the lowered value of k at level lv, bringing it in from
// the enclosing levels it is defined in.
func (l *lowerer) value(lv *level, k valueKey) *ir.Node {
	if v, ok := lv.env[k]; ok {
		return v
	}
	if lv.parent == nil {
		panic(fmt.Sprintf("%s: value %s used before its definition (internal error)", k.node.Pos, k.node.Label()))
	}
	x := l.value(lv.parent, k)
	var v *ir.Node
	switch lv.kind {
	case branchLevel:
		v = l.get(lv, l.switchOf(lv, x), lv.side)
	case loopLevel:
		v = l.enterConst(lv, x)
	}
	lv.env[k] = v
	return v
}

// use returns the lowered value of structured node x at level lv.
func (l *lowerer) use(lv *level, x *ir.Node) *ir.Node {
	return l.value(lv, valueKey{x, -1})
}

func isStructured(n *ir.Node) bool {
	return n.Op == ir.Cond || n.Op == ir.While || n.Op == ir.Scan
}

// node lowers structured node n at level lv.
func (l *lowerer) node(lv *level, n *ir.Node) error {
	saved := l.origin
	l.origin = n
	defer func() { l.origin = saved }()
	var results []*ir.Node
	var err error
	switch n.Op {
	case ir.Cond:
		results, err = l.cond(lv, n)
	case ir.While:
		results, err = l.while(lv, n)
	case ir.Scan:
		results, err = l.scan(lv, n)
	case ir.Get:
		if t := n.Inputs[0]; isStructured(t) {
			lv.env[valueKey{n, -1}] = l.value(lv, valueKey{t, n.Attrs.Int("index", 0)})
			return nil
		}
	}
	if err != nil {
		return err
	}
	if isStructured(n) {
		if len(results) != len(n.Type.Elems) {
			return fmt.Errorf("%s: lowering %s gave %d results for %d (internal error)", n.Pos, n.Op.Name, len(results), len(n.Type.Elems))
		}
		for i, r := range results {
			if !r.Type.Equal(n.Type.Elems[i]) {
				return fmt.Errorf("%s: lowering %s: result %d is %s, want %s (internal error)", n.Pos, n.Op.Name, i, r.Type, n.Type.Elems[i])
			}
			lv.env[valueKey{n, i}] = r
		}
		return nil
	}
	ins := make([]*ir.Node, len(n.Inputs))
	for i, x := range n.Inputs {
		ins[i] = l.use(lv, x)
	}
	var deps []*ir.Node
	for _, d := range n.Deps {
		deps = append(deps, l.use(lv, d))
	}
	c := l.emit(lv, n.Op, ins, n.Attrs.Clone(), deps...)
	c.Name, c.Device, c.GradOf = n.Name, n.Device, n.GradOf
	lv.env[valueKey{n, -1}] = c
	return nil
}

// region lowers region r at level lv with its block arguments bound to
// args, and returns its results there.
func (l *lowerer) region(lv *level, r *ir.Region, args []*ir.Node) ([]*ir.Node, error) {
	if len(args) != len(r.Args) {
		return nil, fmt.Errorf("a region of %d block arguments given %d values (internal error)", len(r.Args), len(args))
	}
	for i, a := range r.Args {
		lv.env[valueKey{a, -1}] = args[i]
	}
	for _, n := range r.Nodes {
		if err := l.node(lv, n); err != nil {
			return nil, err
		}
	}
	out := make([]*ir.Node, len(r.Results))
	for i, res := range r.Results {
		out[i] = l.use(lv, res)
	}
	return out, nil
}

// cond lowers a cond as tf.cond does.
func (l *lowerer) cond(lv *level, n *ir.Node) ([]*ir.Node, error) {
	pred := l.use(lv, n.Inputs[0])
	ps := l.emit(lv, ir.Switch, []*ir.Node{pred, pred}, nil)
	switches := map[*ir.Node]*ir.Node{}
	var res [2][]*ir.Node
	for _, side := range []int{1, 0} {
		r := n.Attrs["then"].(*ir.Region)
		if side == 0 {
			r = n.Attrs["else"].(*ir.Region)
		}
		b := &level{parent: lv, kind: branchLevel, env: map[valueKey]*ir.Node{}, pred: pred, side: side, switches: switches}
		b.pivot = l.get(b, ps, side)
		args := make([]*ir.Node, len(n.Inputs)-1)
		for i, x := range n.Inputs[1:] {
			args[i] = l.get(b, l.switchOf(b, l.use(lv, x)), side)
		}
		out, err := l.region(b, r, args)
		if err != nil {
			return nil, err
		}
		res[side] = out
	}
	out := make([]*ir.Node, len(res[0]))
	for i := range out {
		m := l.emit(lv, ir.Merge, []*ir.Node{res[0][i], res[1][i]}, nil)
		out[i] = l.get(lv, m, 0)
	}
	return out, nil
}

// loopParts is what a loop's condition and body see: the loop values
// (the merges' values in the condition, the switches' output_true in
// the body) and the constant enters of the invariants.
type loopParts struct {
	vars, consts []*ir.Node
}

// loop builds a tf.while_loop in a new frame at level lv: loop values
// starting from inits (values of lv, the first the i32 trip counter
// that loop increments itself), invariants entered as constants, the
// condition cond builds (on the counter's merge as pivot) and the next
// values body builds (without the counter's). It returns the exits of
// the loop values.
func (l *lowerer) loop(lv *level, frame string, inits, invariants []*ir.Node,
	cond func(c *level, p loopParts) (*ir.Node, error),
	body func(b *level, p loopParts) ([]*ir.Node, error),
) ([]*ir.Node, error) {
	f := &loopFrame{name: frame, enters: map[*ir.Node]*ir.Node{}, consts: map[*ir.Node]bool{}}
	cl := &level{parent: lv, kind: loopLevel, env: map[valueKey]*ir.Node{}, loop: f}
	merges := make([]*ir.Node, len(inits))
	var cp loopParts
	for i, x := range inits {
		e := l.emit(lv, ir.Enter, []*ir.Node{x}, ir.Attrs{"frame_name": frame, "is_constant": false})
		merges[i] = l.emit(cl, ir.Merge, []*ir.Node{e}, ir.Attrs{"loop": true})
		cp.vars = append(cp.vars, l.get(cl, merges[i], 0))
	}
	cl.pivot = cp.vars[0]
	for _, x := range invariants {
		cp.consts = append(cp.consts, l.enterConst(cl, x))
	}
	p, err := cond(cl, cp)
	if err != nil {
		return nil, err
	}
	lc := l.emit(cl, ir.LoopCond, []*ir.Node{p}, nil)
	bl := &level{parent: lv, kind: loopLevel, env: map[valueKey]*ir.Node{}, loop: f}
	bp := loopParts{consts: cp.consts}
	exits := make([]*ir.Node, len(inits))
	for i, v := range cp.vars {
		s := l.emit(cl, ir.Switch, []*ir.Node{v, lc}, nil)
		exits[i] = l.emit(lv, ir.Exit, []*ir.Node{l.get(cl, s, 0)}, nil)
		bp.vars = append(bp.vars, l.get(bl, s, 1))
	}
	bl.pivot = bp.vars[0]
	next, err := body(bl, bp)
	if err != nil {
		return nil, err
	}
	next = append([]*ir.Node{l.emit(bl, ir.Add, []*ir.Node{bp.vars[0], l.constant(bl, ir.I32, 1)}, nil)}, next...)
	if len(next) != len(merges) {
		return nil, fmt.Errorf("a loop body gives %d values for %d loop values (internal error)", len(next), len(merges))
	}
	for i, x := range next {
		l.emit(bl, ir.NextIteration, []*ir.Node{x}, ir.Attrs{"merge": merges[i].ID})
	}
	return exits, nil
}

// while lowers a while as tf.while_loop does (see the file comment).
func (l *lowerer) while(lv *level, n *ir.Node) ([]*ir.Node, error) {
	k := n.Attrs.Int("carried", 0)
	limit := n.Attrs.Int("limit", 0)
	rec := n.Attrs.Bool("record")
	condR, bodyR := n.Attrs["cond"].(*ir.Region), n.Attrs["body"].(*ir.Region)
	inits := []*ir.Node{l.constant(lv, ir.I32, 0)}
	for _, x := range n.Inputs[:k] {
		inits = append(inits, l.use(lv, x))
	}
	if rec {
		for _, x := range n.Inputs[:k] {
			inits = append(inits, l.zeros(lv, stacked(x.Type, 0, ir.Fixed(limit))))
		}
	}
	var invs []*ir.Node
	for _, x := range n.Inputs[k:] {
		invs = append(invs, l.use(lv, x))
	}
	exits, err := l.loop(lv, fmt.Sprintf("while%d", n.ID), inits, invs,
		func(c *level, p loopParts) (*ir.Node, error) {
			r, err := l.region(c, condR, slices.Concat(p.vars[1:1+k], p.consts))
			if err != nil {
				return nil, err
			}
			pred := r[0]
			if limit > 0 {
				more := l.emit(c, ir.Less, []*ir.Node{p.vars[0], l.constant(c, ir.I32, float64(limit))}, nil)
				pred = l.emit(c, ir.LogicalAnd, []*ir.Node{pred, more}, nil)
			}
			return pred, nil
		},
		func(b *level, p loopParts) ([]*ir.Node, error) {
			carried := p.vars[1 : 1+k]
			next, err := l.region(b, bodyR, slices.Concat(carried, p.consts))
			if err != nil {
				return nil, err
			}
			if rec {
				for i, buf := range p.vars[1+k:] {
					next = append(next, l.emit(b, ir.ArrayWrite, []*ir.Node{buf, p.vars[0], carried[i]}, ir.Attrs{"axis": 0}))
				}
			}
			return next, nil
		})
	if err != nil {
		return nil, err
	}
	out := slices.Clone(exits[1 : 1+k])
	if rec {
		out = append(append(out, exits[0]), exits[1+k:]...)
	}
	return out, nil
}

// scan lowers a scan to a loop over its steps (see the file comment).
func (l *lowerer) scan(lv *level, n *ir.Node) ([]*ir.Node, error) {
	q, k := n.Attrs.Int("seqs", 0), n.Attrs.Int("carried", 0)
	axes, yaxes := n.Attrs.Ints("axes"), n.Attrs.Ints("yaxes")
	reverse, rec := n.Attrs.Bool("reverse"), n.Attrs.Bool("record")
	bodyR := n.Attrs["body"].(*ir.Region)
	ny := len(bodyR.Results) - k
	seq0 := l.use(lv, n.Inputs[0])
	d := seq0.Type.Shape[axes[0]]
	var length *ir.Node
	if d.IsSym() {
		cnt := l.emit(lv, ir.Count, []*ir.Node{seq0}, ir.Attrs{"axes": []int{axes[0]}})
		length = l.emit(lv, ir.Cast, []*ir.Node{cnt}, ir.Attrs{"dtype": "i32"})
	} else {
		length = l.constant(lv, ir.I32, float64(d.Size))
	}
	inits := []*ir.Node{l.constant(lv, ir.I32, 0)}
	for _, x := range n.Inputs[q : q+k] {
		inits = append(inits, l.use(lv, x))
	}
	for i, y := range bodyR.Results[:ny] {
		inits = append(inits, l.zeros(lv, stacked(y.Type, yaxes[i], d)))
	}
	if rec {
		for _, x := range n.Inputs[q : q+k] {
			inits = append(inits, l.zeros(lv, stacked(x.Type, 0, d)))
		}
	}
	invs := []*ir.Node{length}
	for _, x := range slices.Concat(n.Inputs[:q], n.Inputs[q+k:]) {
		invs = append(invs, l.use(lv, x))
	}
	exits, err := l.loop(lv, fmt.Sprintf("scan%d", n.ID), inits, invs,
		func(c *level, p loopParts) (*ir.Node, error) {
			return l.emit(c, ir.Less, []*ir.Node{p.vars[0], p.consts[0]}, nil), nil
		},
		func(b *level, p loopParts) ([]*ir.Node, error) {
			j, carried := p.vars[0], p.vars[1:1+k]
			ybufs, recbufs := p.vars[1+k:1+k+ny], p.vars[1+k+ny:]
			seqs, vs := p.consts[1:1+q], p.consts[1+q:]
			t := j
			if reverse {
				last := l.emit(b, ir.Sub, []*ir.Node{p.consts[0], l.constant(b, ir.I32, 1)}, nil)
				t = l.emit(b, ir.Sub, []*ir.Node{last, j}, nil)
			}
			var steps []*ir.Node
			for i, s := range seqs {
				steps = append(steps, l.emit(b, ir.Gather, []*ir.Node{s, t}, ir.Attrs{"axis": axes[i]}))
			}
			res, err := l.region(b, bodyR, slices.Concat(steps, carried, vs))
			if err != nil {
				return nil, err
			}
			next := slices.Clone(res[ny:])
			for i, buf := range ybufs {
				next = append(next, l.emit(b, ir.ArrayWrite, []*ir.Node{buf, t, res[i]}, ir.Attrs{"axis": yaxes[i]}))
			}
			for i, buf := range recbufs {
				next = append(next, l.emit(b, ir.ArrayWrite, []*ir.Node{buf, t, carried[i]}, ir.Attrs{"axis": 0}))
			}
			return next, nil
		})
	if err != nil {
		return nil, err
	}
	// The scan's value: (y..., c_final..., recorded...).
	out := slices.Clone(exits[1+k : 1+k+ny])
	out = append(out, exits[1:1+k]...)
	return append(out, exits[1+k+ny:]...), nil
}

// stacked is t with d inserted at axis.
func stacked(t ir.Type, axis int, d ir.Dim) ir.Type {
	return ir.Type{DType: t.DType, Shape: slices.Insert(slices.Clone(t.Shape), axis, d)}
}

// DefaultMaxIterations caps the iterations of one frame of a loop that
// the dataflow interpreter runs when MaxIterations is 0.
const DefaultMaxIterations = 1 << 20

// DataflowInterpreter executes a module in TensorFlow's dataflow form
// (LowerToDataflow) as TensorFlow's executor does, one op at a time in a
// deterministic order (first ready, first run): every value is a token
// tagged with its frame (one instance per entry into a loop: a loop's
// frame name, the parent frame instance and the parent's iteration) and
// its iteration; a switch sends a dead token down its untaken side; an
// op with a dead operand (or control edge) gives a dead token without
// running, except merge, which fires on its first live input and is
// dead only when all its inputs are; enter moves a token into a child
// frame (into every iteration when constant), exit out to the parent,
// next_iteration to the next iteration (and drops dead tokens, which
// ends the loop); an exit's dead token leaves the frame only when the
// frame ends dead (a loop inside an untaken branch). It evaluates the
// other ops with their reference Eval, as Interpreter does.
type DataflowInterpreter struct {
	G *ir.Module
	// State holds the current value of every param.
	State map[*ir.Node]*ir.Tensor
	// MaxIterations caps the iterations of any frame instance (0:
	// DefaultMaxIterations); a loop that runs longer is an error.
	MaxIterations int
	// Live and Dead count, per op, the firings that gave a live and a
	// dead value (a next_iteration's dropped dead token counts as dead).
	Live, Dead map[*ir.OpDef]int

	back      map[*ir.Node]*ir.Node   // next_iteration → its merge
	backOf    map[*ir.Node]*ir.Node   // loop merge → its next_iteration
	consumers map[*ir.Node][]*ir.Node // by Inputs, Deps and back edges
}

// NewDataflowInterpreter checks the lowered module g — its back edges,
// and that every node's operands live in one frame — and returns an
// interpreter with every param set to its initial value.
func NewDataflowInterpreter(g *ir.Module) (*DataflowInterpreter, error) {
	back, err := DataflowBackEdges(g)
	if err != nil {
		return nil, err
	}
	it := &DataflowInterpreter{G: g, State: map[*ir.Node]*ir.Tensor{}, back: back, backOf: map[*ir.Node]*ir.Node{},
		consumers: map[*ir.Node][]*ir.Node{}, Live: map[*ir.OpDef]int{}, Dead: map[*ir.OpDef]int{}}
	for n, m := range back {
		it.backOf[m] = n
	}
	if err := it.checkFrames(); err != nil {
		return nil, err
	}
	for _, n := range g.Body.Nodes {
		if len(n.Regions()) > 0 {
			return nil, fmt.Errorf("%s: %s owns regions: lower the module to dataflow first", n.Pos, n.Op.Name)
		}
		for _, x := range slices.Concat(n.Inputs, n.Deps) {
			if !slices.Contains(it.consumers[x], n) {
				it.consumers[x] = append(it.consumers[x], n)
			}
		}
	}
	for n, m := range back {
		it.consumers[n] = append(it.consumers[n], m)
	}
	base, err := NewInterpreter(g) // the params' initial values
	if err != nil {
		return nil, err
	}
	it.State = base.State
	return it, nil
}

// checkFrames checks statically that the operands of every node live in
// one frame: the frame an enter names is the child of its operand's,
// an exit's value lives in the parent of its operand's frame, a back
// edge stays in its merge's frame.
func (it *DataflowInterpreter) checkFrames() error {
	out := map[*ir.Node]string{}
	parent := map[string]string{}
	for _, n := range it.G.Body.Nodes {
		in, first := "", true
		for _, x := range slices.Concat(n.Inputs, n.Deps) {
			if first {
				in, first = out[x], false
			} else if out[x] != in {
				return fmt.Errorf("%s: %s %s reads values of frames %q and %q", n.Pos, n.Op.Name, n.Label(), in, out[x])
			}
		}
		switch n.Op {
		case ir.Enter:
			name := n.Attrs.String("frame_name", "")
			if p, ok := parent[name]; ok && p != in {
				return fmt.Errorf("%s: frame %q entered from frames %q and %q", n.Pos, name, p, in)
			}
			parent[name] = in
			out[n] = name
		case ir.Exit:
			if in == "" {
				return fmt.Errorf("%s: exit %s from the root frame", n.Pos, n.Label())
			}
			out[n] = parent[in]
		default:
			out[n] = in
		}
	}
	for n, m := range it.back {
		if out[n] != out[m] || out[m] == "" {
			return fmt.Errorf("%s: the back edge of %s from frame %q to merge %s of frame %q", n.Pos, n.Label(), out[n], m.Label(), out[m])
		}
	}
	return nil
}

// dfFrame is one instance of a frame: one entry into a loop.
type dfFrame struct {
	name       string
	parent     *dfFrame
	parentIter int
	// iters is the number of iterations started.
	iters int
	// consts are the constant enters whose tokens reached the frame.
	consts   []*ir.Node
	children map[dfChild]*dfFrame
	// deadExits are the exits that received a dead token, by iteration.
	deadExits map[int][]*ir.Node
}

type dfChild struct {
	iter int
	name string
}

// dfKey is where a token is: a node's value in an iteration of a frame
// instance (iteration -1 for a constant enter: all of them).
type dfKey struct {
	n    *ir.Node
	f    *dfFrame
	iter int
}

// dfToken is a value or a dead value; a tuple's elements may be dead
// one by one (a switch's untaken side).
type dfToken struct {
	v         *ir.Tensor
	dead      bool
	deadElems []bool
}

// dfRun is one execution of the graph.
type dfRun struct {
	it      *DataflowInterpreter
	feeds   map[string]*ir.Tensor
	binding ir.Binding
	need    map[*ir.Node]bool
	tokens  map[dfKey]*dfToken
	fired   map[dfKey]bool
	queue   []dfKey
	frames  []*dfFrame
	max     int
	err     error
}

// Run evaluates the fetched nodes given the feeds (by input name) and
// the current param state. It does not apply updates.
func (it *DataflowInterpreter) Run(feeds map[string]*ir.Tensor, fetches ...*ir.Node) ([]*ir.Tensor, error) {
	r := &dfRun{it: it, feeds: feeds, tokens: map[dfKey]*dfToken{}, fired: map[dfKey]bool{}, max: it.MaxIterations}
	if r.max <= 0 {
		r.max = DefaultMaxIterations
	}
	r.need = it.needed(fetches)
	var inputs []*ir.Node
	for _, in := range it.G.Inputs {
		if r.need[in] {
			inputs = append(inputs, in)
		}
	}
	b, err := (&Interpreter{G: it.G}).Bind(feeds, inputs)
	if err != nil {
		return nil, err
	}
	r.binding = b
	root := r.newFrame("", nil, 0)
	root.iters = 1
	for _, n := range it.G.Body.Nodes {
		if r.need[n] && len(n.Inputs) == 0 && len(n.Deps) == 0 {
			r.try(n, root, 0)
		}
	}
	for r.err == nil {
		for len(r.queue) > 0 && r.err == nil {
			k := r.queue[0]
			r.queue = r.queue[1:]
			r.fire(k)
		}
		if r.err != nil || !r.propagateDeadExits() {
			break
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	out := make([]*ir.Tensor, len(fetches))
	for i, f := range fetches {
		tok := r.tokens[dfKey{f, root, 0}]
		switch {
		case tok == nil:
			return nil, fmt.Errorf("%s: %s %s was never computed (the dataflow graph is stuck)", f.Pos, f.Op.Name, f.Label())
		case tok.dead:
			return nil, fmt.Errorf("%s: %s %s is dead", f.Pos, f.Op.Name, f.Label())
		}
		out[i] = tok.v
	}
	return out, nil
}

// needed returns the nodes the fetches depend on through operands,
// control edges and back edges.
func (it *DataflowInterpreter) needed(fetches []*ir.Node) map[*ir.Node]bool {
	seen := map[*ir.Node]bool{}
	stack := slices.Clone(fetches)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[n] {
			continue
		}
		seen[n] = true
		stack = append(stack, n.Inputs...)
		stack = append(stack, n.Deps...)
		if b := it.backOf[n]; b != nil {
			stack = append(stack, b)
		}
	}
	return seen
}

func (r *dfRun) newFrame(name string, parent *dfFrame, parentIter int) *dfFrame {
	f := &dfFrame{name: name, parent: parent, parentIter: parentIter, children: map[dfChild]*dfFrame{}, deadExits: map[int][]*ir.Node{}}
	r.frames = append(r.frames, f)
	return f
}

func isConstEnter(n *ir.Node) bool { return n.Op == ir.Enter && n.Attrs.Bool("is_constant") }

// token returns x's token as the iteration iter of frame f sees it.
func (r *dfRun) token(x *ir.Node, f *dfFrame, iter int) *dfToken {
	if isConstEnter(x) {
		iter = -1
	}
	return r.tokens[dfKey{x, f, iter}]
}

// produce stores n's token at (f, iter) and offers it to n's consumers.
func (r *dfRun) produce(n *ir.Node, f *dfFrame, iter int, tok *dfToken) {
	k := dfKey{n, f, iter}
	if r.tokens[k] != nil {
		r.err = fmt.Errorf("%s: %s %s gave two values in one iteration of frame %q (internal error)", n.Pos, n.Op.Name, n.Label(), f.name)
		return
	}
	r.tokens[k] = tok
	if iter < 0 {
		f.consts = append(f.consts, n)
		for i := range f.iters {
			r.notify(n, f, i)
		}
		return
	}
	for f.iters <= iter {
		// A new iteration: the loop invariants reach it.
		f.iters++
		for _, c := range f.consts {
			r.notify(c, f, f.iters-1)
		}
	}
	r.notify(n, f, iter)
}

// notify offers n's token at (f, iter) to n's consumers there.
func (r *dfRun) notify(n *ir.Node, f *dfFrame, iter int) {
	for _, c := range r.it.consumers[n] {
		if r.need[c] {
			r.try(c, f, iter)
		}
	}
}

// try queues c to fire at (f, iter) when its operands are there.
func (r *dfRun) try(c *ir.Node, f *dfFrame, iter int) {
	k := dfKey{c, f, iter}
	if c.Op == ir.Merge {
		r.tryMerge(c, f, iter)
		return
	}
	if r.fired[k] {
		return
	}
	for _, x := range slices.Concat(c.Inputs, c.Deps) {
		if r.token(x, f, iter) == nil {
			return
		}
	}
	r.fired[k] = true
	r.queue = append(r.queue, k)
}

// tryMerge queues merge c to fire at (f, iter) on its first live input,
// or when all its inputs are dead; a loop merge reads its enter in
// iteration 0 and its back edge after.
func (r *dfRun) tryMerge(c *ir.Node, f *dfFrame, iter int) {
	k := dfKey{c, f, iter}
	live, present := 0, 0
	ins := c.Inputs
	if c.Attrs.Bool("loop") && iter > 0 {
		ins = []*ir.Node{r.it.backOf[c]}
	}
	for _, x := range ins {
		if t := r.token(x, f, iter); t != nil {
			present++
			if !t.dead {
				live++
			}
		}
	}
	if r.fired[k] {
		if live > 1 {
			r.err = fmt.Errorf("%s: merge %s received two live values in one iteration of frame %q (internal error)", c.Pos, c.Label(), f.name)
		}
		return
	}
	if live > 0 || present == len(ins) {
		r.fired[k] = true
		r.queue = append(r.queue, k)
	}
}

// fire runs node k.n at (k.f, k.iter).
func (r *dfRun) fire(k dfKey) {
	n, f, iter := k.n, k.f, k.iter
	if n.Op == ir.Merge {
		r.fireMerge(n, f, iter)
		return
	}
	var ins []*dfToken
	dead := false
	for _, x := range slices.Concat(n.Inputs, n.Deps) {
		t := r.token(x, f, iter)
		ins = append(ins, t)
		dead = dead || t.dead
	}
	count := func(tok *dfToken) {
		if tok.dead {
			r.it.Dead[n.Op]++
		} else {
			r.it.Live[n.Op]++
		}
	}
	switch n.Op {
	case ir.Enter:
		ck := dfChild{iter, n.Attrs.String("frame_name", "")}
		child := f.children[ck]
		if child == nil {
			child = r.newFrame(ck.name, f, iter)
			f.children[ck] = child
		}
		at := 0
		if isConstEnter(n) {
			at = -1
		}
		count(ins[0])
		r.produce(n, child, at, &dfToken{v: ins[0].v, dead: dead})
		return
	case ir.Exit:
		count(ins[0])
		if dead {
			f.deadExits[iter] = append(f.deadExits[iter], n)
			return
		}
		r.produce(n, f.parent, f.parentIter, &dfToken{v: ins[0].v})
		return
	case ir.NextIteration:
		count(ins[0])
		if dead {
			return // the loop ends here: dead tokens do not start an iteration
		}
		if iter+1 >= r.max {
			r.err = fmt.Errorf("%s: a loop (frame %q) did not stop within %d iterations", n.Pos, f.name, r.max)
			return
		}
		r.produce(n, f, iter+1, &dfToken{v: ins[0].v})
		return
	}
	tok := &dfToken{dead: dead}
	if !dead {
		var err error
		tok, err = r.eval(n, ins)
		if err != nil {
			r.err = fmt.Errorf("%s: %s: %v", n.Pos, n.Op.Name, err)
			return
		}
	}
	count(tok)
	r.produce(n, f, iter, tok)
}

// eval computes a live node's token from live operand tokens.
func (r *dfRun) eval(n *ir.Node, ins []*dfToken) (*dfToken, error) {
	switch n.Op {
	case ir.Input:
		return &dfToken{v: r.feeds[n.Name].Clone().Round()}, nil
	case ir.Param:
		return &dfToken{v: r.it.State[n]}, nil
	case ir.Switch:
		pred := ins[1].v.Data[0] != 0
		return &dfToken{v: ir.NewTuple(ins[0].v, ins[0].v), deadElems: []bool{pred, !pred}}, nil
	case ir.Get:
		i := n.Attrs.Int("index", 0)
		if t := ins[0]; t.deadElems != nil && t.deadElems[i] {
			return &dfToken{dead: true}, nil
		}
		return &dfToken{v: ins[0].v.Elems[i]}, nil
	case ir.LoopCond:
		return &dfToken{v: ins[0].v}, nil
	}
	in := make([]*ir.Tensor, len(n.Inputs))
	for i := range n.Inputs {
		in[i] = ins[i].v
	}
	v, err := n.Op.Eval(n, in, &ir.Context{Binding: r.binding})
	if err != nil {
		return nil, err
	}
	if !n.Type.IsTuple() {
		if want := n.Type.Shape.Eval(r.binding); !equalInts(v.Shape, want) {
			return nil, fmt.Errorf("produced shape %v, its type says %v (internal error)", v.Shape, want)
		}
	}
	return &dfToken{v: v}, nil
}

// fireMerge runs merge n at (f, iter): the first live input, with its
// index, or dead.
func (r *dfRun) fireMerge(n *ir.Node, f *dfFrame, iter int) {
	ins, base := n.Inputs, 0
	if n.Attrs.Bool("loop") && iter > 0 {
		ins, base = []*ir.Node{r.it.backOf[n]}, len(n.Inputs)
	}
	for i, x := range ins {
		if t := r.token(x, f, iter); t != nil && !t.dead {
			idx := ir.NewTensor(ir.I32, nil)
			idx.Data[0] = float64(base + i)
			r.it.Live[n.Op]++
			r.produce(n, f, iter, &dfToken{v: ir.NewTuple(t.v, idx)})
			return
		}
	}
	r.it.Dead[n.Op]++
	r.produce(n, f, iter, &dfToken{dead: true})
}

// propagateDeadExits lets the dead exits of the innermost frame instance
// that ended dead (its last iteration's exits dead) leave it as dead
// tokens, once nothing else can run; it reports whether it did.
func (r *dfRun) propagateDeadExits() bool {
	for i := len(r.frames) - 1; i >= 0; i-- {
		f := r.frames[i]
		last := f.deadExits[f.iters-1]
		if len(last) == 0 {
			continue
		}
		delete(f.deadExits, f.iters-1)
		for _, x := range last {
			if r.tokens[dfKey{x, f.parent, f.parentIter}] == nil {
				r.produce(x, f.parent, f.parentIter, &dfToken{dead: true})
			}
		}
		return true
	}
	return false
}
