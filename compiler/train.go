package compiler

import (
	"fmt"
	"strings"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// trainStmt checks `train loss with optimizer(args)`.
func (c *checker) trainStmt(d *lang.TrainStmt) {
	if c.train != nil {
		c.errorf(d.Pos, "a model has one train statement; the first is at %s", shortPos(c.train.Pos))
		return
	}
	c.train = d
	v, ok := c.expr(d.Loss)
	if ok {
		loss := c.materialize(v, ir.F32)
		switch {
		case !loss.Type.DType.IsFloat():
			c.errorNode(d.Loss.Position(), d.Loss, "the loss must be a floating-point scalar, got %s", loss.Type)
		case loss.Type.Shape.Rank() != 0:
			c.errorNode(d.Loss.Position(), d.Loss, "the loss must be a scalar, got %s %s (reduce it with sum or mean)", exprLabel(d.Loss), loss.Type)
		case loss.Op == ir.Const:
			c.errorNode(d.Loss.Position(), d.Loss, "the loss is a constant; it must depend on a param")
		default:
			c.g.SetLoss(loss)
		}
	}
	name := d.Optimizer.Func.Name
	opt, ok := Optimizers[name]
	if !ok {
		c.errorf(d.Optimizer.Func.Pos, "unknown optimizer %s (want one of %s)%s", name, strings.Join(optimizerNames(), ", "), suggestFrom(name, optimizerNames()))
		return
	}
	specs := opt.AllArgs()
	b, ok := c.bind(opt.callee(), d.Optimizer, d.Optimizer)
	attrs, good := c.attrArgs(name, specs, b.args)
	if !ok || !good {
		return
	}
	err := opt.Validate(attrs)
	if err == nil {
		err = validateCommon(attrs)
	}
	if err != nil {
		c.errorf(optimizerArgPos(d.Optimizer, specs, b, err), "%s: %v", name, err)
		return
	}
	c.g.Optimizer = &ir.Optimizer{Name: name, Attrs: attrs, Pos: d.Optimizer.Pos}
	if c.g.Loss() != nil {
		trained := false
		reach := ir.Reachable(c.g.Loss())
		for _, p := range c.g.Params {
			if reach[p] {
				trained = true
			}
		}
		if !trained {
			c.errorNode(d.Loss.Position(), d.Loss, "the loss does not depend on any param, so there is nothing to train (loss: %s)", exprLabel(d.Loss))
		}
	}
}

// optimizerArgPos is where to report an invalid optimizer argument: at
// the value of the argument an *ArgError names, else at the call.
func optimizerArgPos(call *lang.CallExpr, specs []ir.AttrSpec, b bound, err error) lang.Pos {
	ae, ok := err.(*ArgError)
	if !ok || ae.Arg == "" {
		return call.Pos
	}
	for i, s := range specs {
		if s.Name == ae.Arg && b.args[i] != nil {
			return b.args[i].Position()
		}
	}
	return call.Pos
}

// Train is the training lowering, a composite pass: Training (autodiff
// and the optimizer), Prune, then OrderUpdates.
var Train = Pass{Name: "train", Steps: []Pass{Training, Prune, OrderUpdates}}

// Training differentiates the training loss and appends the optimizer's
// updates (lowerTraining).
var Training = Pass{Name: "training", Run: lowerTraining}

// Prune removes the nodes no program, gradient, input or param needs
// (ir.Module.Prune): the forward nodes the training lowering left
// behind, such as the mode-dependent ops' originals.
var Prune = Pass{Name: "prune", Run: func(g *ir.Module) error {
	g.Prune()
	return nil
}}

// lowerTraining differentiates the loss with respect to every param it
// depends on and appends the optimizer's updates as assign nodes: first
// the optimizer state's (slot params, created here), then the params'.
// See optimizers.go for the semantics.
func lowerTraining(g *ir.Module) error {
	if g.Loss() == nil {
		if len(g.Updates()) > 0 {
			// Only the user's assign* exist before this lowering.
			u := g.Updates()[0]
			return &lang.Error{Pos: u.Pos, Msg: fmt.Sprintf("this updates param %s, but updates run only in a training step and model %s has no train statement", u.Inputs[0].Name, g.Name)}
		}
		return nil
	}
	var wrt []*ir.Node
	loss := g.TrainingLoss()
	reach := ir.Reachable(loss)
	for _, p := range g.Params {
		if reach[p] && ir.Trainable(p) {
			if !p.Type.DType.IsFloat() {
				return &lang.Error{Pos: p.Pos, Msg: fmt.Sprintf("param %s is %s; only floating-point params can be trained", p.Name, p.Type)}
			}
			if len(wrt) > 0 && p.Type.DType != wrt[0].Type.DType {
				return &lang.Error{Pos: g.Optimizer.Pos, Msg: fmt.Sprintf("the trained params %s (%s) and %s (%s) have different dtypes; an optimizer updates params of one dtype", wrt[0].Name, wrt[0].Type.DType, p.Name, p.Type.DType)}
			}
			wrt = append(wrt, p)
		}
	}
	if len(wrt) == 0 {
		return nil // the checker has reported it
	}
	grads, err := Gradients(g, loss, wrt)
	if err != nil {
		return err
	}
	opt := Optimizers[g.Optimizer.Name]
	a := g.Optimizer.Attrs
	g.SetOrigin(g.Optimizer.Pos, ir.Update)
	s := newStep(g, a, wrt[0].Type.DType)
	if opt.CountsSteps || s.scheduled() {
		s.Iterations() // create the counter before any slot, so it comes first
	}
	updates := grads
	if a.Has("clip_norm") {
		updates = s.clip(grads, a.Float("clip_norm", 0))
	}
	var assigns []*ir.Node
	for i, p := range wrt {
		g.Grads[p] = grads[i]
		s.Param = p
		w := p
		if wd := a.Float("weight_decay", 0); wd > 0 {
			// Decoupled weight decay, scaled by the learning rate.
			w = s.Apply(ir.Sub, p, s.Apply(ir.Mul, p, s.Apply(ir.Mul, s.LR(), s.Const(wd))))
		}
		nv := opt.Update(s, w, updates[i])
		as, err := g.Apply(ir.Assign, []*ir.Node{p, nv}, nil)
		if err != nil {
			return fmt.Errorf("%s: updating %s: %v", g.Optimizer.Pos, p.Name, err)
		}
		assigns = append(assigns, as)
	}
	for _, u := range append(s.finish(), assigns...) {
		g.AddUpdate(u)
	}
	return nil
}
