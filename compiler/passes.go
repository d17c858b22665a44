package compiler

import (
	"slices"

	"github.com/flow-lang/flow/compiler/cost"
	"github.com/flow-lang/flow/compiler/ir"
)

// A Pass rewrites a graph in place. The pipeline (PassContext.Pipeline)
// is a list of passes, each a stage that dumps and timing report under
// its name.
type Pass struct {
	Name string
	Run  func(g *ir.Module) error
	// Steps, when set, are the passes a composite pass runs in order in
	// place of Run (each verified on its own); the stage is reported once,
	// after the last.
	Steps []Pass
	// When, when set, says whether the pass applies to g; a pass that
	// does not apply neither runs nor is reported.
	When func(g *ir.Module) bool
}

// StableLogSoftmax rewrites log(softmax(x)) into log_softmax(x), which
// stays finite when a probability underflows to zero. It must run before
// autodiff so the gradient is taken of the stable form.
var StableLogSoftmax = Pass{Name: "stable-log-softmax", Run: func(g *ir.Module) error {
	for _, n := range g.Body.Nodes {
		if n.Op != ir.Log || n.Inputs[0].Op != ir.Softmax {
			continue
		}
		sm := n.Inputs[0]
		n.Op = ir.LogSoftmax
		n.Inputs = []*ir.Node{sm.Inputs[0]}
		n.Attrs = sm.Attrs.Clone()
	}
	return nil
}}

// OptimizationPasses are the graph optimizations, in the order the
// pipeline runs them: once on the forward graph (before autodiff) and
// once on the training graph (after the optimizer lowering).
// Options.NoOptimize turns them all off. Every pass preserves the values
// of the outputs, the losses, the gradients and the updates up to float
// rounding, keeps Nodes in a topological order and leaves the Inputs and
// Params lists (the model's signature) as declared.
var OptimizationPasses = []Pass{
	FoldConstants,
	Simplify,
	TransposeMatmul,
	MatmulChain,
	CSE,
	DCE,
}

// optimizationPasses returns OptimizationPasses with the matmul-chain
// pass costing products with profile p.
func optimizationPasses(p *cost.Profile) []Pass {
	out := slices.Clone(OptimizationPasses)
	for i := range out {
		if out[i].Name == MatmulChain.Name {
			out[i] = matmulChainPass(p)
		}
	}
	return out
}

// useCounts counts the uses of every node: as an operand (once per
// operand position) and as a root (output, loss, gradient, update).
// The operand uses come from g.Users, the one index of them.
func useCounts(g *ir.Module) map[*ir.Node]int {
	users := g.Users()
	uses := make(map[*ir.Node]int, len(users))
	for n, us := range users {
		uses[n] = len(us)
	}
	for _, r := range g.Roots() {
		uses[r]++
	}
	return uses
}

// sameType reports whether two nodes have the same dtype and shape,
// symbol for symbol.
func sameType(a, b *ir.Node) bool {
	return a.Type.DType == b.Type.DType && a.Type.Shape.Equal(b.Type.Shape)
}

// rebuild applies op to inputs with attrs in g at the position, role,
// name and device of like, which the new node is to replace, and returns the new node if it type-checks to exactly like's
// type; otherwise it returns nil and adds nothing to g.
func rebuild(g *ir.Module, like *ir.Node, def *ir.OpDef, inputs []*ir.Node, attrs ir.Attrs) *ir.Node {
	if attrs == nil {
		attrs = ir.Attrs{}
	}
	for _, spec := range def.Attrs {
		if spec.Default != nil && !attrs.Has(spec.Name) {
			attrs[spec.Name] = spec.Default
		}
	}
	probe := &ir.Node{Op: def, Inputs: inputs, Attrs: attrs}
	t, err := def.Infer(probe)
	if err != nil || t.DType != like.Type.DType || !t.Shape.Equal(like.Type.Shape) {
		return nil
	}
	g.SetOrigin(like.Pos, like.Role)
	n := g.MustApply(def, inputs, attrs)
	n.Name = like.Name
	n.Device = like.Device
	return n
}

// leaf reports whether n is a declaration or a constant.
func leaf(n *ir.Node) bool {
	switch n.Op {
	case ir.Input, ir.Param, ir.Const:
		return true
	}
	return false
}

// resultSet returns the graph's roots (outputs, losses, gradients,
// updates) as a set.
func resultSet(g *ir.Module) map[*ir.Node]bool {
	set := map[*ir.Node]bool{}
	for _, r := range g.Roots() {
		set[r] = true
	}
	return set
}

// mayReplace reports whether a pass may replace n by r: a result of the
// program (an output, a loss, a gradient) that is computed stays computed
// rather than becoming an input, a param or a constant, which generated
// code returns by reference to its own storage.
func mayReplace(results map[*ir.Node]bool, n, r *ir.Node) bool {
	return !results[n] || !leaf(r) || leaf(n)
}
