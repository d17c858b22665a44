package compiler

import (
	"slices"

	"github.com/flow-lang/flow/compiler/ir"
)

// OrderUpdates gives every update of the train program control edges
// (Deps) on the nodes of the program that read its param
// (ir.ParamReaders) other than its own operands, so that it runs after
// every read of the old value: the rule that generated code applies the
// updates after every read is an edge of the IR, which scheduling, dce
// and cse honour and ir.Verify checks. An update that comes before a
// reader (a user's assign_add written before another read of its param,
// the dropout step's update) moves down to just after it
// (Region.SortDelaying). The edges are derived: the pass replaces any edges updates had,
// so running it again after a pass that changed the readers brings them
// up to date (PassContext.Run does, after every later pass). It sets
// Module.UpdatesOrdered.
var OrderUpdates = Pass{Name: "order-updates", Run: func(g *ir.Module) error {
	orderUpdates(g)
	return nil
}}

func orderUpdates(g *ir.Module) {
	g.UpdatesOrdered = true
	p := g.Program(ir.TrainProgram)
	if p == nil || len(p.Effects) == 0 {
		return
	}
	// The schedule without the old edges, which may hold readers that
	// are dead since.
	for _, u := range p.Effects {
		u.Deps = nil
	}
	sched := g.Schedule(p.Roots()...)
	readers := map[*ir.Node][]*ir.Node{}
	for _, u := range p.Effects {
		readers[u.Inputs[0]] = nil
	}
	for _, n := range sched {
		if n.Op.Update {
			continue // see ir.ParamReaders
		}
		for _, v := range n.Reads() {
			if rs, ok := readers[v]; ok && (len(rs) == 0 || rs[len(rs)-1] != n) {
				readers[v] = append(rs, n)
			}
		}
	}
	for _, u := range p.Effects {
		for _, r := range readers[u.Inputs[0]] {
			if !slices.Contains(u.Inputs, r) { // read through data already
				u.Deps = append(u.Deps, r)
			}
		}
	}
	g.Body.SortDelaying()
}
