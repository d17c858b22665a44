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
			c.errorf(d.Loss.Position(), "the loss must be a floating-point scalar, got %s", loss.Type)
		case loss.Type.Shape.Rank() != 0:
			c.errorf(d.Loss.Position(), "the loss must be a scalar, got %s %s (reduce it with sum or mean)", exprString(d.Loss), loss.Type)
		case loss.Op.Name == "const":
			c.errorf(d.Loss.Position(), "the loss is a constant; it must depend on a param")
		default:
			c.g.Loss = loss
		}
	}
	name := d.Optimizer.Func.Name
	opt, ok := Optimizers[name]
	if !ok {
		c.errorf(d.Optimizer.Func.Pos, "unknown optimizer %s (want one of %s)%s", name, strings.Join(optimizerNames(), ", "), suggestFrom(name, optimizerNames()))
		return
	}
	attrs, ok := c.bindArgs(name, opt.Args, d.Optimizer)
	if !ok {
		return
	}
	if err := opt.Validate(attrs); err != nil {
		c.errorf(d.Optimizer.Pos, "%s: %v", name, err)
		return
	}
	c.g.Optimizer = &ir.Optimizer{Name: name, Attrs: attrs, Pos: d.Optimizer.Pos}
	if c.g.Loss != nil {
		trained := false
		reach := ir.Reachable(c.g.Loss)
		for _, p := range c.g.Params {
			if reach[p] {
				trained = true
			}
		}
		if !trained {
			c.errorf(d.Loss.Position(), "the loss does not depend on any param, so there is nothing to train (loss: %s)", exprString(d.Loss))
		}
	}
}

// lowerTraining differentiates the loss with respect to every param it
// depends on and appends the optimizer's updates as assign nodes.
func lowerTraining(g *ir.Graph) error {
	if g.Loss == nil {
		return nil
	}
	var wrt []*ir.Node
	reach := ir.Reachable(g.Loss)
	for _, p := range g.Params {
		if reach[p] {
			wrt = append(wrt, p)
		}
	}
	grads, err := Gradients(g, g.Loss, wrt)
	if err != nil {
		return err
	}
	opt := Optimizers[g.Optimizer.Name]
	for i, p := range wrt {
		g.Grads[p] = grads[i]
		g.SetOrigin(g.Optimizer.Pos, ir.Update)
		nv := opt.Update(g, g.Optimizer.Attrs, p, grads[i])
		as, err := g.Apply("assign", []*ir.Node{p, nv}, nil)
		if err != nil {
			return fmt.Errorf("%s: updating %s: %v", g.Optimizer.Pos, p.Name, err)
		}
		g.Updates = append(g.Updates, as)
	}
	return nil
}
