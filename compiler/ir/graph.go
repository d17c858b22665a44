package ir

import (
	"fmt"
	"slices"

	"github.com/flow-lang/flow/lang"
)

// Optimizer is the optimizer of a train statement, as written.
type Optimizer struct {
	Name  string
	Attrs Attrs
	Pos   lang.Pos
}

// Graph is one model: its nodes in creation order (which is always a
// topological order: a node's inputs are created before it), and the
// roles of its special nodes.
type Graph struct {
	Name   string
	Source string   // the source file name as given to the compiler
	Pos    lang.Pos // where the model is declared

	Nodes   []*Node
	Inputs  []*Node // op "input", in declaration order
	Params  []*Node // op "param", in declaration order
	Outputs []*Node // the values of `output`, in order
	// OutputNames are the names the output statement gave Outputs (a
	// name may be an alias of the node's own name).
	OutputNames []string

	Loss      *Node // the train statement's loss, or nil
	Optimizer *Optimizer
	// TrainLoss is the loss as a training step computes it, when that
	// differs from Loss: the training variant of mode-dependent ops
	// (dropout, batch_norm) made by the train-mode lowering. Loss is then
	// the inference variant, which the Loss program (evaluation) uses.
	TrainLoss *Node
	// Grads maps each trained param to its gradient node (after autodiff).
	Grads map[*Node]*Node
	// Updates are the update nodes (assign, assign_add, assign_sub) of a
	// training step: the user's, then the optimizer's after lowering.
	Updates []*Node
	// Syms are the symbolic dimension names in order of first use.
	Syms []string

	nextID int
	// pos and role are stamped on nodes made through Apply.
	pos  lang.Pos
	role Role
}

// NewGraph returns an empty graph.
func NewGraph(name, source string) *Graph {
	return &Graph{Name: name, Source: source, Grads: map[*Node]*Node{}}
}

// SetOrigin sets the position and role stamped on nodes created after it.
func (g *Graph) SetOrigin(pos lang.Pos, role Role) {
	g.pos, g.role = pos, role
}

// Apply creates a node applying the op def (a handle) to inputs with
// attrs, checks it with the op's type rule and appends it to the graph.
func (g *Graph) Apply(def *OpDef, inputs []*Node, attrs Attrs) (*Node, error) {
	if def == nil || def.Infer == nil {
		return nil, fmt.Errorf("op %v has no definition", def)
	}
	if attrs == nil {
		attrs = Attrs{}
	}
	for _, spec := range def.Attrs {
		if spec.Default != nil && !attrs.Has(spec.Name) {
			attrs[spec.Name] = spec.Default
		}
	}
	n := &Node{Op: def, Inputs: inputs, Attrs: attrs, Pos: g.pos, Role: g.role}
	t, err := def.Infer(n)
	if err != nil {
		return nil, err
	}
	if err := t.Shape.CheckSize(); err != nil {
		return nil, fmt.Errorf("the result would be %s: %v", t, err)
	}
	n.Type = t
	g.add(n)
	return n, nil
}

// MustApply is Apply for compiler-built nodes whose types are known to be
// right; a failure is an internal error and panics.
func (g *Graph) MustApply(op *OpDef, inputs []*Node, attrs Attrs) *Node {
	n, err := g.Apply(op, inputs, attrs)
	if err != nil {
		panic(fmt.Sprintf("ir: internal error building %s: %v", op.Name, err))
	}
	return n
}

func (g *Graph) add(n *Node) {
	n.ID = g.nextID
	g.nextID++
	g.Nodes = append(g.Nodes, n)
	for _, s := range n.Type.Shape.Syms() {
		if !slices.Contains(g.Syms, s) {
			g.Syms = append(g.Syms, s)
		}
	}
}

// Const returns a new scalar constant of dtype dt.
func (g *Graph) Const(dt DType, v float64) *Node {
	return g.MustApply(Const, nil, Attrs{"dtype": dt, "value": v})
}

// TrainingLoss returns the loss a training step differentiates and
// reports: TrainLoss when set, else Loss.
func (g *Graph) TrainingLoss() *Node {
	if g.TrainLoss != nil {
		return g.TrainLoss
	}
	return g.Loss
}

// Param looks up a param by name.
func (g *Graph) Param(name string) *Node {
	for _, p := range g.Params {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Input looks up an input by name.
func (g *Graph) Input(name string) *Node {
	for _, p := range g.Inputs {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Reachable returns the set of nodes the given roots depend on (roots
// included).
func Reachable(roots ...*Node) map[*Node]bool {
	seen := map[*Node]bool{}
	var stack []*Node
	for _, r := range roots {
		if r != nil && !seen[r] {
			seen[r] = true
			stack = append(stack, r)
		}
	}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, in := range n.Inputs {
			if !seen[in] {
				seen[in] = true
				stack = append(stack, in)
			}
		}
	}
	return seen
}

// Schedule returns the nodes needed to compute roots, in a topological
// order (the graph's creation order restricted to them).
func (g *Graph) Schedule(roots ...*Node) []*Node {
	need := Reachable(roots...)
	out := make([]*Node, 0, len(need))
	for _, n := range g.Nodes {
		if need[n] {
			out = append(out, n)
		}
	}
	return out
}

// InputsOf returns the graph inputs that roots depend on, in declaration
// order.
func (g *Graph) InputsOf(roots ...*Node) []*Node {
	need := Reachable(roots...)
	var out []*Node
	for _, in := range g.Inputs {
		if need[in] {
			out = append(out, in)
		}
	}
	return out
}

// Prune removes nodes not needed by the outputs, loss, gradients or
// updates (and keeps inputs and params), renumbering nothing: IDs stay
// stable so dumps before and after compare.
func (g *Graph) Prune() {
	roots := append([]*Node{}, g.Outputs...)
	roots = append(roots, g.Loss, g.TrainLoss)
	roots = append(roots, g.Updates...)
	for _, gr := range g.Grads {
		roots = append(roots, gr)
	}
	roots = append(roots, g.Inputs...)
	roots = append(roots, g.Params...)
	need := Reachable(roots...)
	out := g.Nodes[:0]
	for _, n := range g.Nodes {
		if need[n] {
			out = append(out, n)
		}
	}
	g.Nodes = out
}

// Trainable reports whether param p is a model parameter rather than
// optimizer state: the optimizer lowering creates its slot params (such
// as "W/adam_m" and "optimizer/step") with attribute trainable = false.
func Trainable(p *Node) bool {
	v, ok := p.Attrs["trainable"].(bool)
	return !ok || v
}

// ParamCount is the total number of elements of the trainable params
// (params have static shapes); optimizer state is not counted.
func (g *Graph) ParamCount() int {
	total := 0
	for _, p := range g.Params {
		if Trainable(p) {
			total += p.Type.Shape.NumElements(nil)
		}
	}
	return total
}
