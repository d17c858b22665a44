package compiler

import (
	"fmt"
	"slices"
	"strings"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// This file checks the control-flow expressions — if, while and for —
// into cond, while and scan nodes. Each block is checked in a nested
// name scope into a region of its own, built with the values it names
// from outside; the region is then closed: every outside value it uses
// becomes a block argument, bound by the owning node's operands.

// exprValues checks an expression that may give several values: an if,
// a while or a for. Any other expression gives one.
func (c *checker) exprValues(e lang.Expr) ([]value, bool) {
	switch e := unparen(e).(type) {
	case *lang.IfExpr:
		return c.ifExpr(e)
	case *lang.WhileExpr:
		return c.whileExpr(e)
	case *lang.ForExpr:
		return c.forExpr(e)
	}
	v, ok := c.expr(e)
	return []value{v}, ok
}

// single checks a control-flow expression where one value is expected.
func (c *checker) single(e lang.Expr) (value, bool) {
	vs, ok := c.exprValues(e)
	if !ok {
		return value{}, false
	}
	if len(vs) != 1 {
		c.errorf(e.Position(), "%s gives %d values here, where one is expected; assign them to %d names (%s = …)", constructName(e), len(vs), len(vs), placeholderNames(len(vs)))
		return value{}, false
	}
	return vs[0], true
}

// constructName names a control-flow expression for messages.
func constructName(e lang.Expr) string {
	switch unparen(e).(type) {
	case *lang.IfExpr:
		return "if"
	case *lang.WhileExpr:
		return "while"
	case *lang.ForExpr:
		return "for"
	}
	return "the expression"
}

func placeholderNames(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = string(rune('a' + i%26))
	}
	return strings.Join(names, ", ")
}

// assignValues checks `a, b = e`: e must give as many values as there
// are names.
func (c *checker) assignValues(d *lang.AssignStmt) {
	targets := d.Targets()
	poison := func() {
		for _, id := range targets {
			c.poison(id, "value")
		}
	}
	switch unparen(d.Value).(type) {
	case *lang.IfExpr, *lang.WhileExpr, *lang.ForExpr:
	default:
		c.errorf(d.Value.Position(), "%d names are assigned one value; only if, while and for give several", len(targets))
		poison()
		return
	}
	vs, ok := c.exprValues(d.Value)
	if !ok {
		poison()
		return
	}
	if len(vs) != len(targets) {
		c.errorf(targets[0].Pos, "%s gives %d values, but %d names are assigned", constructName(d.Value), len(vs), len(targets))
		poison()
		return
	}
	for i, id := range targets {
		if id.Name == "_" {
			continue // the blank name discards the value
		}
		c.bindValue(id, vs[i])
	}
}

// rebindValues checks `a, b = e` in a loop body where some targets are
// carried names: those are rebound to their new values, `_` discards, the
// others are declared. It reports whether a had no error.
func (c *checker) rebindValues(a *lang.AssignStmt, carried []string) bool {
	targets := a.Targets()
	switch unparen(a.Value).(type) {
	case *lang.IfExpr, *lang.WhileExpr, *lang.ForExpr:
	default:
		c.errorf(a.Value.Position(), "%d names are assigned one value; only if, while and for give several", len(targets))
		return false
	}
	vs, ok := c.exprValues(a.Value)
	if !ok {
		return false
	}
	if len(vs) != len(targets) {
		c.errorf(targets[0].Pos, "%s gives %d values, but %d names are assigned", constructName(a.Value), len(vs), len(targets))
		return false
	}
	for i, id := range targets {
		switch {
		case id.Name == "_":
		case slices.Contains(carried, id.Name):
			c.names[id.Name] = &binding{kind: "value", node: c.materialize(vs[i], ir.F32), pos: id.Pos, used: true}
		default:
			c.bindValue(id, vs[i])
		}
	}
	return true
}

// bindValue declares name id for the checked value v.
func (c *checker) bindValue(id *lang.Ident, v value) {
	n := c.materialize(v, ir.F32)
	if n.Name == "" && n.Op != ir.Input && n.Op != ir.Param {
		n.Name = c.qualify(id.Name)
	}
	c.declare(id, "value", n)
}

// blockScope is the name environment of a block being checked: the names
// of the enclosing code, the block's own arguments and, for loop bodies,
// the carried names that assignments rebind.
type blockScope struct {
	args    map[string]*ir.Node // names bound on entry
	carried []string            // names assignments may rebind (loop bodies)
	what    string              // "the then branch of if", "the body of while", ...
	loop    bool                // a loop body: an outer name is carried, not redefined
}

// block checks b's statements in a nested scope with scope's arguments
// bound, and returns the final value of each carried name and the
// values of the block's result line or yield. The names the block
// declares go out of scope at its end.
func (c *checker) block(b *lang.Block, scope blockScope, results []lang.Expr) (map[string]*ir.Node, []value, bool) {
	savedNames, savedOrder := c.names, c.order
	c.names = make(map[string]*binding, len(savedNames)+len(scope.args))
	for k, v := range savedNames {
		c.names[k] = v
	}
	defer func() { c.names, c.order = savedNames, savedOrder }()
	for name, n := range scope.args {
		c.names[name] = &binding{kind: "value", node: n, pos: n.Pos, used: true}
	}
	good := true
	// An update (assign, assign_add, assign_sub) anywhere in the block,
	// however deep in its expressions, adds to the graph's updates.
	noUpdates := func(errsBefore, updatesBefore int) bool {
		us := c.g.Updates()
		if len(us) == updatesBefore || len(c.errs) > errsBefore {
			return true
		}
		c.errorf(us[updatesBefore].Pos, "%s cannot update a param: updates happen once per step, outside if, while and for", scope.what)
		return false
	}
	for _, d := range b.Stmts {
		a, ok := d.(*lang.AssignStmt)
		if !ok {
			c.errorf(d.Position(), "%s may hold only assignments", scope.what)
			good = false
			continue
		}
		targets := a.Targets()
		errsBefore, updatesBefore := len(c.errs), len(c.g.Updates())
		if len(targets) == 1 && slices.Contains(scope.carried, targets[0].Name) {
			v, ok := c.single(a.Value)
			if !ok {
				good = false
				continue
			}
			if !noUpdates(errsBefore, updatesBefore) {
				good = false
				continue
			}
			n := c.materialize(v, ir.F32)
			c.names[targets[0].Name] = &binding{kind: "value", node: n, pos: targets[0].Pos, used: true}
			continue
		}
		if len(targets) > 1 && slices.ContainsFunc(targets, func(id *lang.Ident) bool { return slices.Contains(scope.carried, id.Name) }) {
			// `h, c = if … { … }`: carried names are rebound, the others
			// declared.
			if !c.rebindValues(a, scope.carried) || !noUpdates(errsBefore, updatesBefore) {
				good = false
			}
			continue
		}
		for _, id := range targets {
			if prev, outer := savedNames[id.Name]; outer && c.names[id.Name] == prev && prev.kind != "const" {
				if scope.loop {
					c.errorf(id.Pos, "%s is defined outside the loop (at %s) and not carried, so %s cannot assign it; carry it with (%s = …) or choose a new name", id.Name, shortPos(prev.pos), scope.what, id.Name)
				} else {
					c.errorf(id.Pos, "%s is already defined outside %s (at %s); a block defines new names", id.Name, scope.what, shortPos(prev.pos))
				}
				good = false
			}
		}
		if !good {
			continue
		}
		c.decl(a)
		if len(c.errs) > errsBefore || !noUpdates(errsBefore, updatesBefore) {
			good = false
		}
	}
	if !good {
		return nil, nil, false
	}
	final := map[string]*ir.Node{}
	for _, name := range scope.carried {
		final[name] = c.names[name].node
	}
	var vals []value
	for _, e := range results {
		errsBefore, updatesBefore := len(c.errs), len(c.g.Updates())
		v, ok := c.single(e)
		if !ok || !noUpdates(errsBefore, updatesBefore) {
			return nil, nil, false
		}
		vals = append(vals, v)
	}
	// A name the block defines and nothing uses is a mistake, as at the
	// top level of a model.
	for _, name := range c.order[len(savedOrder):] {
		if bd := c.names[name]; bd != nil && !bd.used && bd.kind == "value" {
			c.errorf(bd.pos, "%s is computed but never used in %s", name, scope.what)
			good = false
		}
	}
	return final, vals, good
}

// closeRegion makes r closed: it appends a block argument for each value
// of caps (values outside r that r's nodes use) and redirects those uses
// to it.
func (c *checker) closeRegion(r *ir.Region, caps []*ir.Node) {
	args := map[*ir.Node]*ir.Node{}
	for _, x := range caps {
		a := c.g.AddArg(r, x.Type)
		a.Name = x.Name
		args[x] = a
	}
	for _, n := range r.Nodes {
		for i, in := range n.Inputs {
			if a, ok := args[in]; ok {
				n.Inputs[i] = a
			}
		}
	}
	for i, res := range r.Results {
		if a, ok := args[res]; ok {
			r.Results[i] = a
		}
	}
}

// union returns the values of the lists in order of first appearance.
func union(lists ...[]*ir.Node) []*ir.Node {
	var out []*ir.Node
	for _, l := range lists {
		for _, n := range l {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// branch is one checked branch of an if.
type branch struct {
	region *ir.Region
	vals   []value
	block  *lang.Block
	pos    lang.Pos // where its value line starts
}

// ifExpr checks an if expression into a cond node.
func (c *checker) ifExpr(e *lang.IfExpr) ([]value, bool) {
	pv, ok := c.expr(e.Cond)
	if !ok {
		return nil, false
	}
	if pv.lit && !pv.isBool {
		c.errorNode(e.Cond.Position(), e.Cond, "the condition of if must be a scalar bool, got the number %g", pv.num)
		return nil, false
	}
	pred := c.materialize(pv, ir.Bool)
	if t := pred.Type; t.DType != ir.Bool || t.Shape.Rank() != 0 {
		c.errorNode(e.Cond.Position(), e.Cond, "the condition of if must be a scalar bool, got %s %s", exprLabel(e.Cond), t)
		return nil, false
	}
	then, ok := c.branch(e.Then, "the then branch of if")
	if !ok {
		return nil, false
	}
	var els branch
	switch {
	case e.ElseIf != nil:
		r := c.g.NewRegion()
		var vs []value
		c.g.Within(r, func() { vs, ok = c.ifExpr(e.ElseIf) })
		if !ok {
			return nil, false
		}
		els = branch{region: r, vals: vs, pos: e.ElseIf.Pos}
	case e.Else != nil:
		if els, ok = c.branch(e.Else, "the else branch of if"); !ok {
			return nil, false
		}
	default:
		c.errorf(e.Then.EndPos, "if needs an else branch: an if expression gives a value either way")
		return nil, false
	}
	if len(then.vals) != len(els.vals) {
		c.errorf(els.pos, "the branches of if give %d and %d values (then at line %d)", len(then.vals), len(els.vals), then.pos.Line)
		return nil, false
	}
	// Literals take the dtype of the other branch's tensor.
	for i := range then.vals {
		a, b := &then.vals[i], &els.vals[i]
		dt := ir.F32
		switch {
		case !a.lit:
			dt = a.node.Type.DType
		case !b.lit:
			dt = b.node.Type.DType
		case a.isBool && b.isBool:
			dt = ir.Bool
		}
		c.g.Within(then.region, func() { then.region.Results = append(then.region.Results, c.materialize(*a, dt)) })
		c.g.Within(els.region, func() { els.region.Results = append(els.region.Results, c.materialize(*b, dt)) })
		ta, tb := then.region.Results[i].Type, els.region.Results[i].Type
		if !ta.Equal(tb) {
			what := "the branches of if give different types"
			if len(then.vals) > 1 {
				what = fmt.Sprintf("the branches of if give different types for value %d", i+1)
			}
			c.errorf(els.pos, "%s: %s here, %s from the then branch (line %d)", what, tb, ta, then.pos.Line)
			return nil, false
		}
	}
	caps := union(then.region.Captures(), els.region.Captures())
	c.closeRegion(then.region, caps)
	c.closeRegion(els.region, caps)
	c.g.SealResults(then.region)
	c.g.SealResults(els.region)
	c.g.SetOrigin(e.Pos, ir.Forward)
	n, err := c.g.Apply(ir.Cond, append([]*ir.Node{pred}, caps...), ir.Attrs{"then": then.region, "else": els.region})
	if err != nil {
		c.errorf(e.Pos, "%v", err)
		return nil, false
	}
	return c.results(n, len(then.vals), e.Pos), true
}

// branch checks one block of an if into a region.
func (c *checker) branch(b *lang.Block, what string) (branch, bool) {
	r := c.g.NewRegion()
	var vals []value
	ok := true
	if len(b.Result) == 0 {
		c.errorf(b.EndPos, "%s ends without a value: its last line must give the branch's value", what)
		return branch{}, false
	}
	c.g.Within(r, func() {
		_, vals, ok = c.block(b, blockScope{what: what}, b.Result)
	})
	return branch{region: r, vals: vals, block: b, pos: b.Result[0].Position()}, ok
}

// results returns the k elements of tuple node n as values.
func (c *checker) results(n *ir.Node, k int, pos lang.Pos) []value {
	out := make([]value, k)
	for i := range out {
		c.g.SetOrigin(pos, ir.Forward)
		out[i] = value{node: c.g.MustApply(ir.Get, []*ir.Node{n}, ir.Attrs{"index": i}), pos: pos}
	}
	return out
}

// carriedInits checks the initial values of a loop's carried values.
func (c *checker) carriedInits(cs []*lang.Carried) ([]*ir.Node, bool) {
	var inits []*ir.Node
	seen := map[string]lang.Pos{}
	good := true
	for _, cv := range cs {
		if p, dup := seen[cv.Name.Name]; dup {
			c.errorf(cv.Name.Pos, "%s is carried twice (first at %s)", cv.Name.Name, shortPos(p))
			good = false
			continue
		}
		seen[cv.Name.Name] = cv.Name.Pos
		v, ok := c.single(cv.Init)
		if !ok {
			good = false
			continue
		}
		dt := ir.F32
		if v.lit && v.isInt && v.tens == nil {
			dt = ir.I32 // a counter: `k = 0` carries an i32
		}
		n := c.materialize(v, dt)
		if n.Type.IsTuple() {
			c.errorf(cv.Init.Position(), "a carried value must be one tensor")
			good = false
			continue
		}
		inits = append(inits, n)
	}
	return inits, good
}

// checkCarried reports a carried value whose type the body changes,
// naming it and where the body assigns it.
func (c *checker) checkCarried(what string, cs []*lang.Carried, inits []*ir.Node, final map[string]*ir.Node, body *lang.Block) bool {
	good := true
	for i, cv := range cs {
		got := final[cv.Name.Name]
		if got.Type.Equal(inits[i].Type) {
			continue
		}
		at := cv.Name.Pos
		for _, d := range body.Stmts {
			if a, ok := d.(*lang.AssignStmt); ok && len(a.Targets()) == 1 && a.Targets()[0].Name == cv.Name.Name {
				at = a.Targets()[0].Pos
			}
		}
		c.errorf(at, "carried value %s enters %s as %s and leaves the body as %s; its type must stay the same on every trip", cv.Name.Name, what, inits[i].Type, got.Type)
		good = false
	}
	return good
}

// loopRegion builds a region whose first block arguments have the types
// of first and are named names, checked by build.
func (c *checker) loopRegion(names []string, first []ir.Type, build func(args map[string]*ir.Node) bool) (*ir.Region, bool) {
	r := c.g.NewRegion()
	args := map[string]*ir.Node{}
	for i, name := range names {
		a := c.g.AddArg(r, first[i])
		a.Name = name
		args[name] = a
	}
	ok := false
	c.g.Within(r, func() { ok = build(args) })
	return r, ok
}

func carriedNames(cs []*lang.Carried) []string {
	names := make([]string, len(cs))
	for i, cv := range cs {
		names[i] = cv.Name.Name
	}
	return names
}

// whileExpr checks a while expression into a while node.
func (c *checker) whileExpr(e *lang.WhileExpr) ([]value, bool) {
	inits, ok := c.carriedInits(e.Carried)
	if !ok {
		return nil, false
	}
	if len(inits) == 0 {
		c.errorf(e.Pos, "while needs at least one carried value: while (x = init) condition { … }")
		return nil, false
	}
	limit := 0
	if e.Limit != nil {
		v, err := c.constEval(e.Limit)
		if err != nil || v.kind != constNum || !v.isInt || v.num < 1 || v.num > 1<<30 {
			c.errorNode(e.Limit.Position(), e.Limit, "the limit of while must be a constant int from 1 to %d, got %s", 1<<30, exprLabel(e.Limit))
			return nil, false
		}
		limit = int(v.num)
	}
	names := carriedNames(e.Carried)
	ts := ir.TypesOf(inits)
	var pred *ir.Node
	cond, ok := c.loopRegion(names, ts, func(args map[string]*ir.Node) bool {
		_, vs, ok := c.block(&lang.Block{Pos: e.Cond.Position()}, blockScope{args: args, what: "the condition of while"}, []lang.Expr{e.Cond})
		if !ok {
			return false
		}
		if vs[0].lit && !vs[0].isBool {
			c.errorNode(e.Cond.Position(), e.Cond, "the condition of while must be a scalar bool, got the number %g", vs[0].num)
			return false
		}
		pred = c.materialize(vs[0], ir.Bool)
		if pred.Type.DType != ir.Bool || pred.Type.Shape.Rank() != 0 {
			c.errorNode(e.Cond.Position(), e.Cond, "the condition of while must be a scalar bool, got %s %s", exprLabel(e.Cond), pred.Type)
			return false
		}
		return true
	})
	if !ok {
		return nil, false
	}
	cond.Results = []*ir.Node{pred}
	var final map[string]*ir.Node
	body, ok := c.loopRegion(names, ts, func(args map[string]*ir.Node) bool {
		var ok bool
		final, _, ok = c.block(e.Body, blockScope{args: args, carried: names, what: "the body of while", loop: true}, nil)
		return ok
	})
	if !ok || !c.checkCarried("the loop", e.Carried, inits, final, e.Body) {
		return nil, false
	}
	for _, name := range names {
		body.Results = append(body.Results, final[name])
	}
	caps := union(cond.Captures(), body.Captures())
	c.closeRegion(cond, caps)
	c.closeRegion(body, caps)
	c.g.SealResults(cond)
	c.g.SealResults(body)
	c.g.SetOrigin(e.Pos, ir.Forward)
	n, err := c.g.Apply(ir.While, append(inits, caps...), ir.Attrs{"carried": len(inits), "limit": limit, "cond": cond, "body": body})
	if err != nil {
		c.errorf(e.Pos, "%v", err)
		return nil, false
	}
	return c.results(n, len(inits), e.Pos), true
}

// forExpr checks a for expression into a scan node.
func (c *checker) forExpr(e *lang.ForExpr) ([]value, bool) {
	axis := 0
	if e.Axis != nil {
		v, err := c.constEval(e.Axis)
		if err != nil || v.kind != constNum || !v.isInt {
			c.errorNode(e.Axis.Position(), e.Axis, "the axis of for must be a constant int, got %s", exprLabel(e.Axis))
			return nil, false
		}
		axis = int(v.num)
	}
	var seqs []*ir.Node
	var axes []int
	var length ir.Dim
	seen := map[string]lang.Pos{}
	for i, s := range e.Seqs {
		if p, dup := seen[s.Name.Name]; dup {
			c.errorf(s.Name.Pos, "%s is bound twice by for (first at %s)", s.Name.Name, shortPos(p))
			return nil, false
		}
		seen[s.Name.Name] = s.Name.Pos
		v, ok := c.single(s.Seq)
		if !ok {
			return nil, false
		}
		if v.lit && v.tens == nil {
			c.errorNode(s.Seq.Position(), s.Seq, "for steps along a tensor, got the number %s", exprLabel(s.Seq))
			return nil, false
		}
		n := c.materialize(v, ir.F32)
		r := n.Type.Shape.Rank()
		a := axis
		if a < 0 {
			a += r
		}
		switch {
		case r == 0:
			c.errorNode(s.Seq.Position(), s.Seq, "for steps along an axis of a tensor, but %s is the scalar %s", exprLabel(s.Seq), n.Type)
			return nil, false
		case a < 0 || a >= r:
			c.errorNode(s.Seq.Position(), s.Seq, "for steps along axis %d, but %s is %s, of rank %d: the axis must be from %d to %d", axis, exprLabel(s.Seq), n.Type, r, -r, r-1)
			return nil, false
		}
		if i == 0 {
			length = n.Type.Shape[a]
		} else if n.Type.Shape[a] != length {
			c.errorNode(s.Seq.Position(), s.Seq, "the sequences of for differ in length along axis %d: %s has %s steps, %s has %s", axis, exprLabel(e.Seqs[0].Seq), length, exprLabel(s.Seq), n.Type.Shape[a])
			return nil, false
		}
		seqs = append(seqs, n)
		axes = append(axes, a)
	}
	if len(seqs) == 0 {
		c.errorf(e.Pos, "for needs a sequence: for x in xs { … }")
		return nil, false
	}
	inits, ok := c.carriedInits(e.Carried)
	if !ok {
		return nil, false
	}
	for _, cv := range e.Carried {
		if p, dup := seen[cv.Name.Name]; dup {
			c.errorf(cv.Name.Pos, "%s is both a step of a sequence (at %s) and a carried value", cv.Name.Name, shortPos(p))
			return nil, false
		}
	}
	var names []string
	var ts []ir.Type
	for i, s := range e.Seqs {
		names = append(names, s.Name.Name)
		t := seqs[i].Type
		ts = append(ts, ir.Type{DType: t.DType, Shape: slices.Delete(slices.Clone(t.Shape), axes[i], axes[i]+1)})
	}
	carried := carriedNames(e.Carried)
	names = append(names, carried...)
	ts = append(ts, ir.TypesOf(inits)...)
	var final map[string]*ir.Node
	var ys []value
	var yields []lang.Expr
	if e.Body.Yield != nil {
		yields = e.Body.Yield.Values
	}
	if len(yields) == 0 && len(carried) == 0 {
		c.errorf(e.Body.EndPos, "the body of for gives nothing: yield per-step values or carry values (for x in xs (h = h0) { … })")
		return nil, false
	}
	body, ok := c.loopRegion(names, ts, func(args map[string]*ir.Node) bool {
		var ok bool
		final, ys, ok = c.block(e.Body, blockScope{args: args, carried: carried, what: "the body of for", loop: true}, yields)
		return ok
	})
	if !ok || !c.checkCarried("the loop", e.Carried, inits, final, e.Body) {
		return nil, false
	}
	var yaxes []int
	c.g.Within(body, func() {
		for _, y := range ys {
			n := c.materialize(y, ir.F32)
			body.Results = append(body.Results, n)
			yaxes = append(yaxes, min(axes[0], n.Type.Shape.Rank()))
		}
	})
	for _, name := range carried {
		body.Results = append(body.Results, final[name])
	}
	caps := body.Captures()
	c.closeRegion(body, caps)
	c.g.SealResults(body)
	c.g.SetOrigin(e.Pos, ir.Forward)
	n, err := c.g.Apply(ir.Scan, slices.Concat(seqs, inits, caps), ir.Attrs{
		"seqs": len(seqs), "carried": len(inits), "axes": axes, "yaxes": yaxes, "reverse": e.Reverse, "body": body,
	})
	if err != nil {
		c.errorf(e.Pos, "%v", err)
		return nil, false
	}
	return c.results(n, len(ys)+len(inits), e.Pos), true
}
