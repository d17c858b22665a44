package ir

import "slices"

// Replacing nodes: the one way graph passes redirect uses of a value, so
// that no reference (another node's operand, an output, the loss, a
// gradient, an update) is left pointing at a node that left the graph.

// Replace redirects every use of old to new and removes old from the
// graph; see ReplaceAll.
func (g *Module) Replace(old, new *Node) {
	g.ReplaceAll(map[*Node]*Node{old: new})
}

// ReplaceAll redirects every use of each key of repl to its value: the
// operands and control edges of every node (nested regions included),
// the regions' results, the programs' results and effects and the Grads
// values. Chains resolve (a→b and b→c send a's uses to c). The replaced
// nodes leave their region; inputs and params are never removed
// (nor redirected in the Inputs and Params lists, which are the model's
// signature). A replaced node's source name carries over to its
// replacement when that has none (so `xent = -sum(y_ * log(y))`
// simplified to a cross-entropy is still called xent in dumps, graphs and
// signatures), and so does a gradient's GradOf to a gradient that has
// neither (a name for its buffer in generated code). Node IDs are not reused or renumbered. When a replacement
// was created after a node that now uses it, Nodes is re-sorted into a
// topological order that keeps the creation order wherever it can.
func (g *Module) ReplaceAll(repl map[*Node]*Node) {
	if len(repl) == 0 {
		return
	}
	resolve := func(n *Node) *Node {
		for steps := 0; steps <= len(repl); steps++ {
			r, ok := repl[n]
			if !ok || r == n {
				return n
			}
			n = r
		}
		panic("ir: internal error: a cycle of replacements")
	}
	g.Body.replace(repl, resolve)
	for _, p := range g.Programs {
		for i, r := range p.Results {
			p.Results[i] = resolve(r)
		}
		for i, r := range p.Effects {
			p.Effects[i] = resolve(r)
		}
	}
	for p, gr := range g.Grads {
		g.Grads[p] = resolve(gr)
	}
	g.Body.SortTopological()
}

// replace drops the replaced nodes of r and of its nested regions and
// resolves the operands, control edges and results of the others.
func (r *Region) replace(repl map[*Node]*Node, resolve func(*Node) *Node) {
	out := r.Nodes[:0]
	for _, n := range r.Nodes {
		if x, ok := repl[n]; ok && x != n && n.Op != Input && n.Op != Param {
			x := resolve(n)
			if x.Name == "" && n.Name != "" && x.Op != Input && x.Op != Param && x.Op != Const {
				x.Name = n.Name
			}
			if x.Name == "" && x.GradOf == nil && x.Role == Backward && x.Op != Const {
				x.GradOf = n.GradOf
			}
			continue
		}
		for i, in := range n.Inputs {
			n.Inputs[i] = resolve(in)
		}
		for i, d := range n.Deps {
			n.Deps[i] = resolve(d)
		}
		n.Deps = uniqueDeps(n.Deps)
		for _, sub := range n.Regions() {
			sub.replace(repl, resolve)
		}
		out = append(out, n)
	}
	clear(r.Nodes[len(out):])
	r.Nodes = out
	for i, res := range r.Results {
		r.Results[i] = resolve(res)
	}
}

// SortTopological restores a topological order of r's nodes (every
// node after its operands, control edges and captures that are in r)
// after a rewrite created operands later than their users, in r and in
// its nested regions. The order is stable: it changes only what it
// must, keeping creation order among independent nodes. It does nothing
// when the nodes are already ordered.
func (r *Region) SortTopological() {
	pos := make(map[*Node]int, len(r.Nodes))
	for i, n := range r.Nodes {
		pos[n] = i
	}
	ordered := true
	for i, n := range r.Nodes {
		for _, sub := range n.Regions() {
			sub.SortTopological()
		}
		for _, in := range n.Operands() {
			if j, ok := pos[in]; ok && j >= i {
				ordered = false
			}
		}
	}
	if ordered {
		return
	}
	done := make(map[*Node]bool, len(r.Nodes))
	out := make([]*Node, 0, len(r.Nodes))
	var visit func(n *Node)
	visit = func(n *Node) {
		if done[n] {
			return
		}
		done[n] = true
		for _, in := range n.Operands() {
			if _, ok := pos[in]; ok {
				visit(in)
			}
		}
		out = append(out, n)
	}
	for _, n := range r.Nodes {
		visit(n)
	}
	r.Nodes = out
}

// Users returns, for every node, the nodes that use it as an operand, in
// the order Region.Walk visits them (a node using another twice is
// listed twice). It is the one place uses are counted: len(users[n]) is
// n's use count as an operand, and the last entry is its last reader.
// Roots (outputs, the loss, updates, gradients) are not uses; callers
// that count them add g.Roots() themselves.
func (g *Module) Users() map[*Node][]*Node {
	users := make(map[*Node][]*Node, len(g.Body.Nodes))
	g.Body.Walk(func(n *Node) {
		for _, in := range n.Inputs {
			users[in] = append(users[in], n)
		}
	})
	return users
}

// Roots returns the nodes a module must keep computing: every program's
// roots (predict, loss, train: results, then effects; the training loss
// only where it differs from the loss) and the gradients in the order
// of Params.
func (g *Module) Roots() []*Node {
	var roots []*Node
	for _, p := range g.Programs {
		rs := p.Roots()
		if p.Name == TrainProgram && len(p.Results) > 0 && p.Results[0] == g.Loss() {
			rs = rs[1:]
		}
		roots = append(roots, rs...)
	}
	for _, p := range g.Params {
		if gr, ok := g.Grads[p]; ok {
			roots = append(roots, gr)
		}
	}
	return roots
}

// SortDelaying restores a topological order of r's nodes like
// SortTopological, but by moving down each node that comes before one of
// its operands (with the nodes that use it) to just after the last of
// them, where SortTopological moves the operands up. A pass that gives a
// node a control edge on later nodes (an update on the readers of its
// param) moves that node alone.
func (r *Region) SortDelaying() {
	pos := make(map[*Node]int, len(r.Nodes))
	for i, n := range r.Nodes {
		pos[n] = i
	}
	placed := make(map[*Node]bool, len(r.Nodes))
	ready := func(n *Node) bool {
		for _, in := range n.Operands() {
			if _, ok := pos[in]; ok && !placed[in] {
				return false
			}
		}
		return true
	}
	out := make([]*Node, 0, len(r.Nodes))
	var held []*Node // nodes waiting for an operand, in their order
	place := func(n *Node) {
		placed[n] = true
		out = append(out, n)
	}
	for _, n := range r.Nodes {
		if !ready(n) {
			held = append(held, n)
			continue
		}
		place(n)
		// Placing n may release held nodes, which may release others.
		for progress := true; progress; {
			progress = false
			for i, h := range held {
				if ready(h) {
					place(h)
					held = slices.Delete(held, i, i+1)
					progress = true
					break
				}
			}
		}
	}
	if len(held) > 0 {
		panic("ir: internal error: a cycle among the nodes of a region")
	}
	r.Nodes = out
}

// uniqueDeps drops the repeated control edges that replacing two of them
// by one node leaves, keeping the first of each.
func uniqueDeps(deps []*Node) []*Node {
	for i := 1; i < len(deps); i++ {
		if slices.Contains(deps[:i], deps[i]) {
			deps = slices.Delete(deps, i, i+1)
			i--
		}
	}
	return deps
}
