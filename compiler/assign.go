package compiler

import (
	"fmt"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// User-level state updates: assign(p, value), assign_add(p, delta) and
// assign_sub(p, delta), the registry ops of compiler/ir/ops_state.go.
// The checker gives them what a registry type rule cannot:
//
//   - the target must be a declared param (a message saying what it is
//     otherwise), updated at most once per step;
//   - assign's value is converted to p's dtype and broadcast to p's shape
//     into a buffer of its own, so that assign(a, b) with assign(b, a)
//     swaps; the expression's value is that new value;
//   - assign_add and assign_sub are nodes of their own whose result is
//     the new value p + delta or p - delta;
//   - the update node is appended to Module.Updates, ahead of the
//     optimizer's, and p is marked trainable = false: a param a model
//     updates is state, not a weight, so the optimizer never trains it.
//
// The interpreter's TrainStep and the generated train program compute
// every update's result before writing any param, so an update reads the
// values of the step (not another update's result). Predict and Loss
// never run updates.

// stateOp checks a call of assign, assign_add or assign_sub.
func (c *checker) stateOp(e *lang.CallExpr) (value, bool) {
	name := e.Func.Name
	b, ok := c.bind(opCallee(ir.MustLookup(name)), e, e) // assign(p, value), assign_add(p, delta) ...
	if !ok {
		return value{}, false
	}
	args := b.args
	target, ok := c.expr(args[0])
	if !ok {
		return value{}, false
	}
	operand, ok := c.expr(args[1])
	if !ok {
		return value{}, false
	}
	if target.lit || target.node.Op != ir.Param {
		c.errorf(args[0].Position(), "%s updates a param, but %s is %s", name, exprLabel(args[0]), describeTarget(target))
		return value{}, false
	}
	p := target.node
	for _, u := range c.g.Updates() {
		if u.Inputs[0] == p {
			c.errorf(e.Pos, "param %s is updated twice in one step (first at %s); combine the updates into one", p.Name, shortPos(u.Pos))
			return value{}, false
		}
	}
	if name != "assign" {
		v, ok := c.apply(e.Pos, e, ir.MustLookup(name), []value{target, operand}, nil)
		if !ok {
			return value{}, false
		}
		c.addUpdate(v.node)
		return v, true
	}
	nv := c.materialize(operand, p.Type.DType)
	if nv.Type.DType != p.Type.DType {
		c.errorf(args[1].Position(), "%s: cannot set param %s %s to %s %s (convert with cast)", name, p.Name, p.Type, exprLabel(args[1]), nv.Type)
		return value{}, false
	}
	if nv.Op == ir.Param || nv.Op == ir.Input || nv.Op == ir.Const || !nv.Type.Shape.Equal(p.Type.Shape) {
		// The update copies from a buffer of its own, computed before
		// any param is written (assign(a, b) with assign(b, a) swaps).
		c.g.SetOrigin(e.Pos, ir.Forward)
		b, err := c.g.Apply(ir.BroadcastTo, []*ir.Node{nv}, ir.Attrs{"shape": p.Type.Shape})
		if err != nil {
			c.errorf(args[1].Position(), "%s: the new value %s does not fit param %s %s", name, nv.Type, p.Name, p.Type)
			return value{}, false
		}
		nv = b
	}
	c.g.SetOrigin(e.Pos, ir.Update)
	as, err := c.g.Apply(ir.Assign, []*ir.Node{p, nv}, nil)
	c.g.SetOrigin(e.Pos, ir.Forward)
	if err != nil {
		c.errorf(e.Pos, "%s: %v", name, err)
		return value{}, false
	}
	c.addUpdate(as)
	return value{node: nv, pos: e.Pos}, true
}

// addUpdate appends update u to the graph's updates and marks its param
// as state the optimizer does not train.
func (c *checker) addUpdate(u *ir.Node) {
	c.g.AddUpdate(u)
	u.Inputs[0].Attrs["trainable"] = false
}

// describeTarget says what a value that is not a param is, for the
// message rejecting it as the target of an update.
func describeTarget(v value) string {
	switch {
	case v.lit:
		return "a constant"
	case v.node.Op == ir.Input:
		return "input " + v.node.Name + " (inputs are fed on every call)"
	case v.node.Op == ir.Const:
		return "a constant"
	}
	return fmt.Sprintf("a computed value (%s); only a declared param keeps a value across steps", v.node.Type)
}

// isUpdateValue reports whether n is the new value of a user-level
// update (an assign_add or assign_sub node, or the value an assign
// writes): binding it to a name that nothing else reads is not an unused
// value, since the update uses it.
func (c *checker) isUpdateValue(n *ir.Node) bool {
	for _, u := range c.g.Updates() {
		if u == n || u.Inputs[1] == n {
			return true
		}
	}
	return false
}
