package compiler

import (
	"fmt"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// Gradients appends to g the reverse-mode gradient of the scalar y with
// respect to each node of wrt, and returns the gradient nodes in the same
// order. A node of wrt that y does not depend on gets a zero gradient.
func Gradients(g *ir.Module, y *ir.Node, wrt []*ir.Node) (grads []*ir.Node, err error) {
	if y.Type.Shape.Rank() != 0 {
		return nil, fmt.Errorf("gradients need a scalar, got %s", y.Type)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error in autodiff: %v", r)
		}
	}()
	// Nodes on a path from some wrt node to y.
	toY := ir.Reachable(y)
	fromX := map[*ir.Node]bool{}
	for _, x := range wrt {
		fromX[x] = true
	}
	fwd := g.Schedule(y)
	for _, n := range fwd {
		for _, in := range n.Inputs {
			if fromX[in] {
				fromX[n] = true
			}
		}
	}
	onPath := func(n *ir.Node) bool { return toY[n] && fromX[n] }

	adj := map[*ir.Node]*ir.Node{}
	g.SetOrigin(y.Pos, ir.Backward)
	adj[y] = g.Const(y.Type.DType, 1)
	for i := len(fwd) - 1; i >= 0; i-- {
		n := fwd[i]
		dy, ok := adj[n]
		if !ok || !onPath(n) || len(n.Inputs) == 0 {
			continue
		}
		if n.Op.Grad == nil {
			return nil, &lang.Error{Pos: n.Pos, Msg: fmt.Sprintf("cannot differentiate through %s: the op has no gradient", n.Op.Name)}
		}
		g.SetOrigin(n.Pos, ir.Backward)
		gs := n.Op.Grad(&ir.GradContext{Module: g}, n, []*ir.Node{dy})
		for j, in := range n.Inputs {
			if j >= len(gs) || gs[j] == nil || !onPath(in) {
				continue
			}
			if prev, ok := adj[in]; ok {
				adj[in] = g.MustApply(ir.Add, []*ir.Node{prev, gs[j]}, nil)
			} else {
				adj[in] = gs[j]
			}
		}
	}
	grads = make([]*ir.Node, len(wrt))
	for i, x := range wrt {
		if d, ok := adj[x]; ok {
			grads[i] = d
			continue
		}
		g.SetOrigin(x.Pos, ir.Backward)
		zero := g.Const(x.Type.DType, 0)
		grads[i] = g.MustApply(ir.BroadcastTo, []*ir.Node{zero}, ir.Attrs{"shape": x.Type.Shape})
	}
	return grads, nil
}
