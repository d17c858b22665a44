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

// Module is one model: its inputs and state, its optimizer, the body
// region holding every node, and the programs (predict, loss, train) a
// compiled model runs, each a set of roots in the body.
type Module struct {
	Name   string
	Source string   // the source file name as given to the compiler
	Pos    lang.Pos // where the model is declared

	// Body is the top-level region: the module's nodes in a topological
	// order. Nested regions (the branches of cond, the bodies of loops)
	// belong to the nodes that own them.
	Body *Region

	Inputs []*Node // op "input", in declaration order
	Params []*Node // op "param", in declaration order
	// Optimizer is the train statement's optimizer, or nil.
	Optimizer *Optimizer
	// Programs are the module's entry points in the order predict,
	// loss, train (those the model has): see Program.
	Programs []*Program
	// Grads maps each trained param to its gradient node (after autodiff).
	Grads map[*Node]*Node
	// Syms are the symbolic dimension names in order of first use.
	Syms []string
	// UpdatesOrdered records that every update of the train program has
	// control edges (Deps) on the nodes of the program that read its
	// param (ParamReaders), so that it runs after them; the compiler's
	// order-updates pass sets it and keeps the edges, and Verify checks
	// them from then on.
	UpdatesOrdered bool

	nextID int
	// cur is the region new nodes go to (Body unless a builder is inside
	// a nested region, see Within).
	cur *Region
	// pos and role are stamped on nodes made through Apply.
	pos  lang.Pos
	role Role
}

// Program names.
const (
	// PredictProgram computes the outputs (its Results, named by Names).
	PredictProgram = "predict"
	// LossProgram computes the loss as evaluation sees it: the inference
	// variant of mode-dependent ops (dropout off, batch_norm's moving
	// statistics).
	LossProgram = "loss"
	// TrainProgram computes the training loss (its Results, when the
	// model has a loss) and performs the state updates (its Effects): the
	// user's, then the optimizer's after lowering.
	TrainProgram = "train"
)

// Program is one entry point of a module: the values it returns and the
// state updates it performs, all nodes of the module's body.
type Program struct {
	Name string
	// Results are the values the program returns, in order.
	Results []*Node
	// Names name Results where the program returns them by name (the
	// predict program's outputs; a name may alias the node's own).
	Names []string
	// Effects are the update nodes (assign, assign_add, assign_sub) the
	// program performs, in order.
	Effects []*Node
}

// Roots returns the program's results, then its effects.
func (p *Program) Roots() []*Node {
	return append(slices.Clip(p.Results), p.Effects...)
}

// Program returns the program named name, or nil.
func (g *Module) Program(name string) *Program {
	for _, p := range g.Programs {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// program returns the program named name, adding it in its place in
// the order predict, loss, train when the module has none.
func (g *Module) program(name string) *Program {
	if p := g.Program(name); p != nil {
		return p
	}
	order := []string{PredictProgram, LossProgram, TrainProgram}
	p := &Program{Name: name}
	i := 0
	for i < len(g.Programs) && slices.Index(order, g.Programs[i].Name) < slices.Index(order, name) {
		i++
	}
	g.Programs = slices.Insert(g.Programs, i, p)
	return p
}

// AddOutput appends an output named name to the predict program.
func (g *Module) AddOutput(name string, n *Node) {
	p := g.program(PredictProgram)
	p.Results = append(p.Results, n)
	p.Names = append(p.Names, name)
}

// Outputs returns the predict program's results: the values of
// `output`, in order.
func (g *Module) Outputs() []*Node {
	if p := g.Program(PredictProgram); p != nil {
		return p.Results
	}
	return nil
}

// OutputNames returns the names the output statement gave Outputs.
func (g *Module) OutputNames() []string {
	if p := g.Program(PredictProgram); p != nil {
		return p.Names
	}
	return nil
}

// SetLoss makes n the loss of both the loss and the train programs (the
// train-mode lowering later gives training its own variant with
// SetTrainingLoss).
func (g *Module) SetLoss(n *Node) {
	g.program(LossProgram).Results = []*Node{n}
	g.program(TrainProgram).Results = []*Node{n}
}

// Loss returns the train statement's loss as evaluation computes it, or
// nil.
func (g *Module) Loss() *Node {
	if p := g.Program(LossProgram); p != nil && len(p.Results) > 0 {
		return p.Results[0]
	}
	return nil
}

// SetTrainingLoss makes n the loss the train program differentiates
// and reports.
func (g *Module) SetTrainingLoss(n *Node) {
	g.program(TrainProgram).Results = []*Node{n}
}

// TrainingLoss returns the loss a training step differentiates and
// reports: the training variant of mode-dependent ops (dropout,
// batch_norm) when the train-mode lowering made one, else Loss; nil
// when the model has no loss.
func (g *Module) TrainingLoss() *Node {
	if p := g.Program(TrainProgram); p != nil && len(p.Results) > 0 {
		return p.Results[0]
	}
	return nil
}

// AddUpdate appends an update node to the train program's effects.
func (g *Module) AddUpdate(u *Node) {
	p := g.program(TrainProgram)
	p.Effects = append(p.Effects, u)
}

// Updates returns the update nodes of a training step: the user's, then
// the optimizer's after lowering.
func (g *Module) Updates() []*Node {
	if p := g.Program(TrainProgram); p != nil {
		return p.Effects
	}
	return nil
}

// NewModule returns an empty module.
func NewModule(name, source string) *Module {
	body := &Region{}
	return &Module{Name: name, Source: source, Body: body, cur: body, Grads: map[*Node]*Node{}}
}

// Within runs build with new nodes going to region r (a region of a node
// of this module), then restores the region they went to before.
func (g *Module) Within(r *Region, build func()) {
	saved := g.cur
	g.cur = r
	defer func() { g.cur = saved }()
	build()
}

// SetOrigin sets the position and role stamped on nodes created after it.
func (g *Module) SetOrigin(pos lang.Pos, role Role) {
	g.pos, g.role = pos, role
}

// Apply creates a node applying the op def (a handle) to inputs with
// attrs, checks it with the op's type rule and appends it to the graph.
func (g *Module) Apply(def *OpDef, inputs []*Node, attrs Attrs) (*Node, error) {
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
	for _, r := range n.Regions() {
		r.Owner = n
	}
	return n, nil
}

// NewRegion returns an empty region for a node about to be built (Apply
// makes the node its Owner).
func (g *Module) NewRegion() *Region { return &Region{} }

// AddArg appends a block argument of type t to region r and returns it.
func (g *Module) AddArg(r *Region, t Type) *Node {
	n := &Node{Op: Arg, Attrs: Attrs{"dtype": t.DType, "shape": t.Shape}, Type: t, Pos: g.pos, Role: g.role}
	n.ID = g.nextID
	g.nextID++
	n.Region = r
	r.Args = append(r.Args, n)
	return n
}

// MustApply is Apply for compiler-built nodes whose types are known to be
// right; a failure is an internal error and panics.
func (g *Module) MustApply(op *OpDef, inputs []*Node, attrs Attrs) *Node {
	n, err := g.Apply(op, inputs, attrs)
	if err != nil {
		panic(fmt.Sprintf("ir: internal error building %s: %v", op.Name, err))
	}
	return n
}

func (g *Module) add(n *Node) {
	n.ID = g.nextID
	g.nextID++
	n.Region = g.cur
	g.cur.Nodes = append(g.cur.Nodes, n)
	for _, s := range n.Type.Shape.Syms() {
		if !slices.Contains(g.Syms, s) {
			g.Syms = append(g.Syms, s)
		}
	}
}

// Const returns a new scalar constant of dtype dt.
func (g *Module) Const(dt DType, v float64) *Node {
	return g.MustApply(Const, nil, Attrs{"dtype": dt, "value": v})
}

// Param looks up a param by name.
func (g *Module) Param(name string) *Node {
	for _, p := range g.Params {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Input looks up an input by name.
func (g *Module) Input(name string) *Node {
	for _, p := range g.Inputs {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Schedule returns the body's nodes needed to compute roots, in a
// topological order (the body's order restricted to them).
func (g *Module) Schedule(roots ...*Node) []*Node {
	return g.Body.Schedule(roots...)
}

// InputsOf returns the module inputs that roots depend on, in
// declaration order.
func (g *Module) InputsOf(roots ...*Node) []*Node {
	need := Reachable(roots...)
	var out []*Node
	for _, in := range g.Inputs {
		if need[in] {
			out = append(out, in)
		}
	}
	return out
}

// Prune removes the body's nodes that no program, gradient, input or
// param needs, renumbering nothing: IDs stay stable so dumps before and
// after compare.
func (g *Module) Prune() {
	roots := append(g.Roots(), g.Inputs...)
	roots = append(roots, g.Params...)
	g.Body.Keep(Reachable(roots...))
}

// ParamReaders returns the nodes among sched that read the value of
// param p (Node.Reads) and so must run before an update of p. Update
// nodes are not readers: an update reads the values of the step's start,
// and the step writes the params after every update has computed its
// value.
func ParamReaders(sched []*Node, p *Node) []*Node {
	var out []*Node
	for _, n := range sched {
		if !n.Op.Update && slices.Contains(n.Reads(), p) {
			out = append(out, n)
		}
	}
	return out
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
func (g *Module) ParamCount() int {
	total := 0
	for _, p := range g.Params {
		if Trainable(p) {
			total += p.Type.Shape.NumElements(nil)
		}
	}
	return total
}
