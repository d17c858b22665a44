package compiler

import (
	"fmt"
	"math"

	"github.com/flow-lang/flow/compiler/ir"
)

// Interpreter evaluates an IR graph directly, op by op, with each op's
// reference evaluation. It is slow and simple on purpose: it is the
// oracle that generated code and gradients are tested against. It shares
// no code with the runtime's kernels.
type Interpreter struct {
	G *ir.Module
	// State holds the current value of every param.
	State map[*ir.Node]*ir.Tensor
}

// NewInterpreter returns an interpreter with every param set to its
// initial value.
func NewInterpreter(g *ir.Module) (*Interpreter, error) {
	it := &Interpreter{G: g, State: map[*ir.Node]*ir.Tensor{}}
	for _, p := range g.Params {
		vals, err := InitialValues(p)
		if err != nil {
			return nil, err
		}
		t := ir.NewTensor(p.Type.DType, p.Type.Shape.Eval(nil))
		copy(t.Data, vals)
		it.State[p] = t.Round()
	}
	return it, nil
}

// Bind checks fed tensors against the declared inputs they feed and
// returns the binding of symbolic dimensions they imply.
func (it *Interpreter) Bind(feeds map[string]*ir.Tensor, inputs []*ir.Node) (ir.Binding, error) {
	b := ir.Binding{}
	for _, in := range inputs {
		t, ok := feeds[in.Name]
		if !ok {
			return nil, fmt.Errorf("input %s is not fed", in.Name)
		}
		s := in.Type.Shape
		if len(t.Shape) != len(s) {
			return nil, fmt.Errorf("input %s: fed rank %d, declared %s", in.Name, len(t.Shape), in.Type)
		}
		for i, d := range s {
			if d.IsSym() {
				if t.Shape[i] < 1 {
					return nil, fmt.Errorf("input %s: dimension %s is %d; symbolic dimensions are bound to positive sizes (flow's tensors have at least one element)", in.Name, d.Sym, t.Shape[i])
				}
				if v, seen := b[d.Sym]; seen && v != t.Shape[i] {
					return nil, fmt.Errorf("input %s: dimension %s is %d here but %d elsewhere", in.Name, d.Sym, t.Shape[i], v)
				}
				b[d.Sym] = t.Shape[i]
			} else if d.Size != t.Shape[i] {
				return nil, fmt.Errorf("input %s: dimension %d is %d, declared %s", in.Name, i, t.Shape[i], in.Type)
			}
		}
		if len(t.Data) != s.NumElements(b) {
			return nil, fmt.Errorf("input %s: %d elements for shape %v", in.Name, len(t.Data), t.Shape)
		}
	}
	return b, nil
}

// Run evaluates the fetched nodes given the feeds (by input name) and the
// current param state. It does not apply updates.
func (it *Interpreter) Run(feeds map[string]*ir.Tensor, fetches ...*ir.Node) ([]*ir.Tensor, error) {
	vals, err := it.eval(feeds, fetches)
	if err != nil {
		return nil, err
	}
	out := make([]*ir.Tensor, len(fetches))
	for i, f := range fetches {
		out[i] = vals[f]
	}
	return out, nil
}

func (it *Interpreter) eval(feeds map[string]*ir.Tensor, fetches []*ir.Node) (map[*ir.Node]*ir.Tensor, error) {
	b, err := it.Bind(feeds, it.G.InputsOf(fetches...))
	if err != nil {
		return nil, err
	}
	vals := map[*ir.Node]*ir.Tensor{}
	for _, n := range it.G.Schedule(fetches...) {
		switch n.Op {
		case ir.Input:
			vals[n] = feeds[n.Name].Clone().Round()
			continue
		case ir.Param:
			vals[n] = it.State[n]
			continue
		}
		if err := it.evalNode(n, vals, b); err != nil {
			return nil, err
		}
	}
	return vals, nil
}

// evalNode evaluates n from the values of its operands in vals and
// stores its value there.
func (it *Interpreter) evalNode(n *ir.Node, vals map[*ir.Node]*ir.Tensor, b ir.Binding) error {
	in := make([]*ir.Tensor, len(n.Inputs))
	for i, x := range n.Inputs {
		in[i] = vals[x]
	}
	cx := &ir.Context{Binding: b, Region: func(r *ir.Region, args []*ir.Tensor) ([]*ir.Tensor, error) {
		return it.evalRegion(r, args, b)
	}}
	v, err := n.Op.Eval(n, in, cx)
	if err != nil {
		return fmt.Errorf("%s: %s: %v", n.Pos, n.Op.Name, err)
	}
	if !n.Type.IsTuple() {
		if want := n.Type.Shape.Eval(b); !equalInts(v.Shape, want) {
			return fmt.Errorf("%s: %s produced shape %v, its type says %v (internal error)", n.Pos, n.Op.Name, v.Shape, want)
		}
	}
	vals[n] = v
	return nil
}

// evalRegion evaluates region r with its block arguments bound to args
// and returns its results.
func (it *Interpreter) evalRegion(r *ir.Region, args []*ir.Tensor, b ir.Binding) ([]*ir.Tensor, error) {
	if len(args) != len(r.Args) {
		return nil, fmt.Errorf("a region of %d block arguments given %d values (internal error)", len(r.Args), len(args))
	}
	vals := make(map[*ir.Node]*ir.Tensor, len(r.Nodes)+len(args))
	for i, a := range r.Args {
		vals[a] = args[i]
	}
	for _, n := range r.Schedule(r.Results...) {
		if err := it.evalNode(n, vals, b); err != nil {
			return nil, err
		}
	}
	out := make([]*ir.Tensor, len(r.Results))
	for i, res := range r.Results {
		out[i] = vals[res]
	}
	return out, nil
}

// TrainStep evaluates the loss, applies every update to the param state,
// and returns the loss computed before the update.
func (it *Interpreter) TrainStep(feeds map[string]*ir.Tensor) (float64, error) {
	g := it.G
	if g.Loss() == nil {
		return 0, fmt.Errorf("model %s has no train statement", g.Name)
	}
	loss := g.TrainingLoss() // training-mode dropout and batch_norm
	fetches := append([]*ir.Node{loss}, g.Updates()...)
	vals, err := it.eval(feeds, fetches)
	if err != nil {
		return 0, err
	}
	for _, u := range g.Updates() {
		it.State[u.Inputs[0]] = vals[u]
	}
	return vals[loss].Data[0], nil
}

// Predict evaluates the outputs.
func (it *Interpreter) Predict(feeds map[string]*ir.Tensor) ([]*ir.Tensor, error) {
	return it.Run(feeds, it.G.Outputs()...)
}

// Loss evaluates the loss without updating, in inference mode (dropout
// is the identity, batch_norm uses its moving averages), as Keras's
// evaluate does.
func (it *Interpreter) Loss(feeds map[string]*ir.Tensor) (float64, error) {
	if it.G.Loss() == nil {
		return math.NaN(), fmt.Errorf("model %s has no train statement", it.G.Name)
	}
	out, err := it.Run(feeds, it.G.Loss())
	if err != nil {
		return 0, err
	}
	return out[0].Data[0], nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
