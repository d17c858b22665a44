package compiler

import (
	"errors"
	"fmt"
	"sort"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// Gradients appends to g the reverse-mode gradient of the scalar y with
// respect to each node of wrt, and returns the gradient nodes in the same
// order. A node of wrt that y does not depend on gets a zero gradient.
// Through control flow the ops' Grad hooks build reverse regions, for
// which autodiff differentiates region copies (ir.GradContext.Region).
func Gradients(g *ir.Module, y *ir.Node, wrt []*ir.Node) (grads []*ir.Node, err error) {
	if y.Type.IsTuple() || y.Type.Shape.Rank() != 0 {
		return nil, fmt.Errorf("gradients need a scalar, got %s", y.Type)
	}
	defer func() {
		if r := recover(); r != nil {
			var ng *ir.NoGradError
			var le *lang.Error
			if e, ok := r.(error); ok && errors.As(e, &ng) {
				err = &lang.Error{Pos: ng.Node.Pos, Msg: ng.Msg}
				return
			} else if ok && errors.As(e, &le) {
				err = le
				return
			}
			err = fmt.Errorf("internal error in autodiff: %v", r)
		}
	}()
	g.SetOrigin(y.Pos, ir.Backward)
	adj := map[*ir.Node]*ir.Node{y: g.Const(y.Type.DType, 1)}
	if err := backprop(g, g.Schedule(y), wrt, adj, nil); err != nil {
		return nil, err
	}
	grads = make([]*ir.Node, len(wrt))
	for i, x := range wrt {
		if d, ok := adj[x]; ok {
			grads[i] = d
			continue
		}
		g.SetOrigin(x.Pos, ir.Backward)
		grads[i] = g.Zeros(x.Type)
	}
	return grads, nil
}

// backprop propagates the adjoints in adj (seeded with the gradients of
// some nodes of fwd) backwards through fwd, a topological order, to the
// nodes on a path from a node of wrt, building the gradients in g's
// current region. Tuple-valued nodes get one upstream gradient per
// element, gathered from their get nodes. Each gradient is then linked
// to the named value it is the whole gradient of (nameGrads); alias
// gives the named node an unnamed one stands for (a region copy's block
// argument, bound to a new node, stands for the region's own).
func backprop(g *ir.Module, fwd []*ir.Node, wrt []*ir.Node, adj, alias map[*ir.Node]*ir.Node) error {
	seeds := make([]*ir.Node, 0, len(adj))
	for n := range adj {
		seeds = append(seeds, n)
	}
	toY := ir.Reachable(seeds...)
	fromX := map[*ir.Node]bool{}
	for _, x := range wrt {
		fromX[x] = true
	}
	for _, n := range fwd {
		for _, in := range n.Inputs {
			if fromX[in] {
				fromX[n] = true
			}
		}
	}
	onPath := func(n *ir.Node) bool { return toY[n] && fromX[n] }
	elems := map[*ir.Node][]*ir.Node{} // tuple node → gradient per element
	// slices holds, for a node whose every gradient contribution so far
	// is an unslice (the gradients of its slices), those contributions,
	// until the node's gradient is read: disjoint slices that tile the
	// node along one axis are then one concat (sliceSum), not a sum of
	// zero-padded copies.
	slices := map[*ir.Node][]*ir.Node{}
	flush := func(in *ir.Node) {
		if parts := slices[in]; parts != nil {
			delete(slices, in)
			adj[in] = sliceSum(g, parts)
		}
	}
	add := func(in, d *ir.Node) {
		_, has := adj[in]
		if d.Op == ir.Unslice && (!has || slices[in] != nil) {
			slices[in] = append(slices[in], d)
			adj[in] = nil // set by flush
			return
		}
		flush(in)
		if prev, ok := adj[in]; ok {
			adj[in] = g.MustApply(ir.Add, []*ir.Node{prev, d}, nil)
		} else {
			adj[in] = d
		}
	}
	cx := &ir.GradContext{Module: g, Region: func(r *ir.Region, args, dResults []*ir.Node, invariants int) ([]*ir.Node, []*ir.Node, map[*ir.Node]*ir.Node) {
		return gradRegion(g, r, args, dResults, invariants)
	}}
	for i := len(fwd) - 1; i >= 0; i-- {
		n := fwd[i]
		if !onPath(n) || len(n.Inputs) == 0 || !n.Type.IsTuple() && !n.Type.DType.IsFloat() {
			continue // no gradient flows through an integer or bool value
		}
		var dys []*ir.Node
		if n.Type.IsTuple() {
			dys = elems[n]
			if dys == nil {
				continue
			}
		} else {
			flush(n)
			dy, ok := adj[n]
			if !ok {
				continue
			}
			if n.Op == ir.Get {
				t := n.Inputs[0]
				if elems[t] == nil {
					elems[t] = make([]*ir.Node, len(t.Type.Elems))
				}
				k := n.Attrs.Int("index", 0)
				if prev := elems[t][k]; prev != nil {
					dy = g.MustApply(ir.Add, []*ir.Node{prev, dy}, nil)
				}
				elems[t][k] = dy
				continue
			}
			dys = []*ir.Node{dy}
		}
		if n.Op.Grad == nil {
			return &lang.Error{Pos: n.Pos, Msg: fmt.Sprintf("cannot differentiate through %s: the op has no gradient", n.Op.Name)}
		}
		g.SetOrigin(n.Pos, ir.Backward)
		gs := n.Op.Grad(cx, n, dys)
		for j, in := range n.Inputs {
			if j < len(gs) && gs[j] != nil && onPath(in) {
				add(in, gs[j])
			}
		}
	}
	// The contributions still pending (params and inputs, which the loop
	// above does not visit), in a fixed order: node IDs name buffers.
	pending := make([]*ir.Node, 0, len(slices))
	for in := range slices {
		pending = append(pending, in)
	}
	sort.Slice(pending, func(i, j int) bool { return pending[i].ID < pending[j].ID })
	for _, in := range pending {
		flush(in)
	}
	nameGrads(fwd, wrt, adj, alias)
	return nil
}

// sliceSum returns the sum of parts, unslices of one shape: when they
// are slices with unit strides along one axis, whole along every other,
// that tile that axis without gaps or overlaps, the concat of their
// operands in order along the axis; otherwise their sum, in order.
func sliceSum(g *ir.Module, parts []*ir.Node) *ir.Node {
	if xs, axis, ok := tiles(parts); ok {
		return g.MustApply(ir.Concat, xs, ir.Attrs{"axis": axis})
	}
	sum := parts[0]
	for _, d := range parts[1:] {
		sum = g.MustApply(ir.Add, []*ir.Node{sum, d}, nil)
	}
	return sum
}

// tiles reports whether the unslices parts (two or more, of one shape)
// tile their shape along one axis (see sliceSum), and returns their
// operands ordered along it.
func tiles(parts []*ir.Node) ([]*ir.Node, int, bool) {
	if len(parts) < 2 {
		return nil, 0, false
	}
	out := parts[0].Type.Shape
	axis := -1
	at := map[int]*ir.Node{} // begin along axis → operand
	for _, p := range parts {
		x := p.Inputs[0].Type.Shape
		begin, st := p.Attrs.Ints("begin"), p.Attrs.Ints("strides")
		if !p.Type.Shape.Equal(out) || x.Rank() != out.Rank() || len(begin) != out.Rank() || len(st) != out.Rank() {
			return nil, 0, false
		}
		for i := range out {
			if st[i] != 1 {
				return nil, 0, false
			}
			if x[i] == out[i] && begin[i] == 0 {
				continue
			}
			if axis != -1 && axis != i || x[i].IsSym() || out[i].IsSym() {
				return nil, 0, false
			}
			axis = i
		}
		if axis == -1 || at[begin[axis]] != nil {
			return nil, 0, false
		}
		at[begin[axis]] = p.Inputs[0]
	}
	var xs []*ir.Node
	for off := 0; off < out[axis].Size; {
		x := at[off]
		if x == nil {
			return nil, 0, false
		}
		xs = append(xs, x)
		off += x.Type.Shape[axis].Size
	}
	if len(xs) != len(parts) {
		return nil, 0, false
	}
	return xs, axis, true
}

// nameGrads sets GradOf on the gradients in adj, now complete, that are
// the whole gradient of a named value (its own name, or that of the node
// alias maps it to): fwd's nodes from the last, nearest the seeds, then
// wrt's, so a gradient that several values share (an add passes its
// gradient to both operands unchanged) is named after the value nearest
// the loss. A gradient that already has a GradOf keeps it (a loop body's
// gradients were named when its reverse region was built), and only
// gradients are named: a node of the forward pass that an op's gradient
// returns as is, a constant (which CSE shares with unrelated uses) and a
// node with a source name keep theirs.
func nameGrads(fwd, wrt []*ir.Node, adj, alias map[*ir.Node]*ir.Node) {
	name := func(n *ir.Node) {
		d, ok := adj[n]
		if !ok || d.GradOf != nil || d.Name != "" || d.Role != ir.Backward || d.Op == ir.Const {
			return
		}
		if a, ok := alias[n]; ok && n.Name == "" {
			n = a
		}
		if n.Name != "" {
			d.GradOf = n
		}
	}
	for i := len(fwd) - 1; i >= 0; i-- {
		name(fwd[i])
	}
	for _, x := range wrt {
		name(x)
	}
}

// gradRegion builds in g's current region a copy of r on args and the
// gradients of args given dResults, the gradients of r's results; it
// returns the copies of the results, the gradients and the copies of r's
// nodes. The gradients of the args are named after r's block arguments
// but for the last invariants (see ir.GradContext.Region).
func gradRegion(g *ir.Module, r *ir.Region, args, dResults []*ir.Node, invariants int) ([]*ir.Node, []*ir.Node, map[*ir.Node]*ir.Node) {
	results, copies := g.Inline(r, args)
	alias := make(map[*ir.Node]*ir.Node, len(args))
	for i, a := range r.Args[:len(args)-invariants] {
		alias[args[i]] = a
	}
	adj := map[*ir.Node]*ir.Node{}
	for i, d := range dResults {
		if d == nil {
			continue
		}
		if prev, ok := adj[results[i]]; ok {
			adj[results[i]] = g.MustApply(ir.Add, []*ir.Node{prev, d}, nil)
		} else {
			adj[results[i]] = d
		}
	}
	var fwd []*ir.Node
	for _, n := range r.Schedule(r.Results...) {
		fwd = append(fwd, copies[n])
	}
	if err := backprop(g, fwd, args, adj, alias); err != nil {
		panic(err)
	}
	dArgs := make([]*ir.Node, len(args))
	for i, a := range args {
		dArgs[i] = adj[a]
	}
	return results, dArgs, copies
}
