package compiler

import "github.com/flow-lang/flow/compiler/ir"

// DCE is dead-code elimination: it removes the nodes that no output,
// loss, training loss, gradient or update depends on. The declared inputs
// and params stay, used or not: they are the model's signature (the
// generated API and checkpoints). Before the train-mode lowering, dropout
// and batch_norm nodes stay too, since the lowering creates state (the
// dropout step counter, batch_norm's moving averages) for every one.
var DCE = Pass{Name: "dce", Run: dce}

func dce(g *ir.Module) error {
	roots := g.Roots()
	roots = append(roots, g.Inputs...)
	roots = append(roots, g.Params...)
	// The train-mode lowering replaces every batch_norm and gives the
	// model the param dropout/step when it has a dropout: before it, both
	// ops are kept for it.
	lowered := g.Param("dropout/step") != nil
	for _, n := range g.Body.Nodes {
		if n.Op == ir.BatchNorm || (n.Op == ir.Dropout && !lowered) {
			roots = append(roots, n)
		}
	}
	need := ir.Reachable(roots...)
	out := g.Body.Nodes[:0]
	for _, n := range g.Body.Nodes {
		if need[n] {
			out = append(out, n)
		}
	}
	for i := len(out); i < len(g.Body.Nodes); i++ {
		g.Body.Nodes[i] = nil
	}
	g.Body.Nodes = out
	return nil
}
