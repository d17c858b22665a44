package compiler

import (
	"fmt"

	"github.com/flow-lang/flow/compiler/ir"
)

// CSE is common-subexpression elimination: nodes applying the same op to
// the same operands with equal attributes (and the same device) compute
// the same value, and all but the first are replaced by it; nodes with
// different control edges (Deps) do not merge. Constants
// merge when their dtype, shape and values are equal. The operands of add,
// mul, maximum and minimum are compared as a set (the ops commute
// exactly). Inputs, params, stateful ops (updates) and the
// mode-dependent dropout and batch_norm never merge. Gradients repeat
// forward values (softmax, log_softmax, transposes, broadcasts), so the
// pass removes many nodes from training graphs. Each region of control
// flow (a loop body, a branch) is its own scope: regions are closed, so
// its nodes can only equal each other (the reverse loop of a gradient
// repeats products of its own values).
var CSE = Pass{Name: "cse", Run: cse}

func cse(g *ir.Module) error {
	repl := map[*ir.Node]*ir.Node{}
	cseRegion(g.Body, repl)
	g.ReplaceAll(repl)
	return nil
}

// cseRegion adds to repl the nodes of r and of its nested regions that
// repeat an earlier node of their region, each mapped to that node.
func cseRegion(r *ir.Region, repl map[*ir.Node]*ir.Node) {
	seen := map[string]*ir.Node{}
	resolve := func(n *ir.Node) *ir.Node {
		if r, ok := repl[n]; ok {
			return r // replacements are never replaced themselves
		}
		return n
	}
	for _, n := range r.Nodes {
		for _, sub := range n.Regions() {
			cseRegion(sub, repl)
		}
		if ir.IsPinned(n) {
			continue
		}
		ids := make([]int, len(n.Inputs))
		for i, in := range n.Inputs {
			ids[i] = resolve(in).ID
		}
		if n.Op.Commutative && len(ids) == 2 && ids[0] > ids[1] {
			ids[0], ids[1] = ids[1], ids[0]
		}
		deps := make([]int, len(n.Deps))
		for i, d := range n.Deps {
			deps[i] = resolve(d).ID
		}
		key := n.Op.Name + "(" + fmt.Sprint(ids) + ")" + fmt.Sprint(deps) + n.Device + "|" + n.Attrs.Key() + "|" + n.Type.String()
		if first, ok := seen[key]; ok {
			repl[n] = first
			// A value shared by the forward pass and the gradient
			// belongs to the forward pass.
			first.Role = min(first.Role, n.Role)
			continue
		}
		seen[key] = n
	}
}
