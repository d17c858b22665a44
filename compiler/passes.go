package compiler

import "github.com/flow-lang/flow/compiler/ir"

// A Pass rewrites a graph in place.
type Pass struct {
	Name string
	Run  func(g *ir.Graph) error
}

// StableLogSoftmax rewrites log(softmax(x)) into log_softmax(x), which
// stays finite when a probability underflows to zero. It must run before
// autodiff so the gradient is taken of the stable form.
var StableLogSoftmax = Pass{Name: "stable-log-softmax", Run: func(g *ir.Graph) error {
	for _, n := range g.Nodes {
		if n.Op.Name != "log" || n.Inputs[0].Op.Name != "softmax" {
			continue
		}
		sm := n.Inputs[0]
		n.Op = ir.MustLookup("log_softmax")
		n.Inputs = []*ir.Node{sm.Inputs[0]}
		n.Attrs = sm.Attrs.Clone()
	}
	return nil
}}
