package compiler

import "github.com/flow-lang/flow/compiler/ir"

// HoistLoopTransposes transposes a loop-invariant matrix once, before the
// loop, instead of on every trip: a matmul in the body of a scan or a
// while with transpose_b whose b is a block argument the loop binds to
// the same value on every trip (one of its operands v) and is a matrix
// becomes a matmul, without transpose_b, of a new block argument bound to
// transpose(v), computed before the loop. The SGEMM kernels pack a
// transposed B into a scratch buffer on every call (a strided gather);
// the hoisted copy is made once, and the kernels read it where it is.
// The reverse loop of a recurrent layer's gradient, dh = dz @ Uᵀ on every
// step, is the case this is for.
//
// It runs last, on the training graph: before autodiff, the transpose
// would only add a node for autodiff to differentiate, and
// transpose-matmul would fold it back into the matmul it came from.
// It runs only on models with loops.
var HoistLoopTransposes = Pass{Name: "hoist-loop-transposes", Run: hoistLoopTransposes,
	When: func(g *ir.Module) bool { return len(loopsOf(g)) > 0 }}

// loopsOf returns g's scan and while nodes, nested ones included.
func loopsOf(g *ir.Module) []*ir.Node {
	var loops []*ir.Node
	g.Body.Walk(func(n *ir.Node) {
		if n.Op == ir.Scan || n.Op == ir.While {
			loops = append(loops, n)
		}
	})
	return loops
}

func hoistLoopTransposes(g *ir.Module) error {
	for _, l := range loopsOf(g) {
		hoistTransposes(g, l)
	}
	return nil
}

// hoistTransposes hoists the transposes of loop l's body (see
// HoistLoopTransposes).
func hoistTransposes(g *ir.Module, l *ir.Node) {
	body, _ := l.Attrs["body"].(*ir.Region)
	if body == nil {
		return
	}
	// The block arguments from invariant on are bound to the operands v
	// (see ir's control-flow ops): scan(s..., c..., v...) and
	// while(c..., v...).
	invariant := l.Attrs.Int("carried", 0)
	if l.Op == ir.Scan {
		invariant += l.Attrs.Int("seqs", 0)
	}
	// The regions whose block arguments mirror the operands: a while's
	// cond takes them too.
	regions := []*ir.Region{body}
	if c, ok := l.Attrs["cond"].(*ir.Region); ok && l.Op == ir.While {
		regions = append(regions, c)
	}
	hoisted := map[*ir.Node]*ir.Node{} // block argument → its transpose's
	repl := map[*ir.Node]*ir.Node{}
	for _, m := range body.Nodes {
		if m.Op != ir.Matmul || !m.Attrs.Bool("transpose_b") {
			continue
		}
		b := m.Inputs[1]
		i := argIndex(body, b)
		if i < invariant || b.Type.Shape.Rank() != 2 {
			continue
		}
		t := hoisted[b]
		if t == nil {
			g.SetOrigin(m.Pos, m.Role)
			var v *ir.Node
			g.Within(l.Region, func() {
				v = g.MustApply(ir.Transpose, []*ir.Node{l.Inputs[i]}, ir.Attrs{"perm": []int{1, 0}})
			})
			v.Device = l.Device
			l.Inputs = append(l.Inputs, v)
			for _, r := range regions {
				a := g.AddArg(r, v.Type)
				if r == body {
					t = a
				}
			}
			hoisted[b] = t
		}
		g.SetOrigin(m.Pos, m.Role)
		g.Within(body, func() {
			repl[m] = g.MustApply(ir.Matmul, []*ir.Node{m.Inputs[0], t}, ir.Attrs{"transpose_a": m.Attrs.Bool("transpose_a")})
		})
		repl[m].Name, repl[m].Device = m.Name, m.Device
	}
	if len(hoisted) == 0 {
		return
	}
	g.ReplaceAll(repl)
	body.SortTopological()
	l.Region.SortTopological()
}

// argIndex returns the index of a among r's block arguments, or -1.
func argIndex(r *ir.Region, a *ir.Node) int {
	for i, x := range r.Args {
		if x == a {
			return i
		}
	}
	return -1
}
