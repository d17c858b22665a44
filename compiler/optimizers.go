package compiler

import (
	"fmt"
	"sort"

	"github.com/flow-lang/flow/compiler/ir"
)

// Optimizer defines a training optimizer: its arguments and how it
// lowers a gradient into a param update, as IR nodes.
type Optimizer struct {
	Name    string
	Summary string
	Args    []ir.AttrSpec
	// Validate checks the argument values (after defaults are filled).
	Validate func(a ir.Attrs) error
	// Update builds the new value of param p from its gradient grad.
	Update func(g *ir.Graph, a ir.Attrs, p, grad *ir.Node) *ir.Node
}

// Optimizers lists the optimizers by name.
var Optimizers = map[string]*Optimizer{
	"sgd": {
		Name:    "sgd",
		Summary: "plain gradient descent: p -= lr * grad",
		Args:    []ir.AttrSpec{{Name: "lr", Kind: ir.FloatArg, Default: 0.01, Doc: "learning rate"}},
		Validate: func(a ir.Attrs) error {
			if lr := a.Float("lr", 0); !(lr > 0) {
				return fmt.Errorf("lr must be positive, got %g", lr)
			}
			return nil
		},
		Update: func(g *ir.Graph, a ir.Attrs, p, grad *ir.Node) *ir.Node {
			lr := g.Const(p.Type.DType, a.Float("lr", 0.01))
			step := g.MustApply("mul", []*ir.Node{lr, grad}, nil)
			return g.MustApply("sub", []*ir.Node{p, step}, nil)
		},
	},
}

func isOptimizer(name string) bool { _, ok := Optimizers[name]; return ok }

func optimizerNames() []string {
	var out []string
	for k := range Optimizers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
