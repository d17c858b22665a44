package ir

// Replacing nodes: the one way graph passes redirect uses of a value, so
// that no reference (another node's operand, an output, the loss, a
// gradient, an update) is left pointing at a node that left the graph.

// Replace redirects every use of old to new and removes old from the
// graph; see ReplaceAll.
func (g *Graph) Replace(old, new *Node) {
	g.ReplaceAll(map[*Node]*Node{old: new})
}

// ReplaceAll redirects every use of each key of repl to its value: the
// operands of every node, Outputs, Loss, TrainLoss, the Grads values and
// the Updates entries. Chains resolve (a→b and b→c send a's uses to c).
// The replaced nodes leave Nodes; inputs and params are never removed
// (nor redirected in the Inputs and Params lists, which are the model's
// signature). A replaced node's source name carries over to its
// replacement when that has none (so `xent = -sum(y_ * log(y))`
// simplified to a cross-entropy is still called xent in dumps, graphs and
// signatures). Node IDs are not reused or renumbered. When a replacement
// was created after a node that now uses it, Nodes is re-sorted into a
// topological order that keeps the creation order wherever it can.
func (g *Graph) ReplaceAll(repl map[*Node]*Node) {
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
	out := g.Nodes[:0]
	for _, n := range g.Nodes {
		if r, ok := repl[n]; ok && r != n && n.Op.Name != "input" && n.Op.Name != "param" {
			if r := resolve(n); r.Name == "" && n.Name != "" && r.Op.Name != "input" && r.Op.Name != "param" && r.Op.Name != "const" {
				r.Name = n.Name
			}
			continue
		}
		for i, in := range n.Inputs {
			n.Inputs[i] = resolve(in)
		}
		out = append(out, n)
	}
	for i := len(out); i < len(g.Nodes); i++ {
		g.Nodes[i] = nil
	}
	g.Nodes = out
	for i, o := range g.Outputs {
		g.Outputs[i] = resolve(o)
	}
	if g.Loss != nil {
		g.Loss = resolve(g.Loss)
	}
	if g.TrainLoss != nil {
		g.TrainLoss = resolve(g.TrainLoss)
	}
	for p, gr := range g.Grads {
		g.Grads[p] = resolve(gr)
	}
	for i, u := range g.Updates {
		g.Updates[i] = resolve(u)
	}
	g.SortTopological()
}

// SortTopological restores a topological order of Nodes (every node after
// its operands) after a rewrite created operands later than their users.
// The order is stable: it changes only what it must, keeping creation
// order among independent nodes. It does nothing when Nodes is already
// ordered.
func (g *Graph) SortTopological() {
	pos := make(map[*Node]int, len(g.Nodes))
	for i, n := range g.Nodes {
		pos[n] = i
	}
	ordered := true
	for i, n := range g.Nodes {
		for _, in := range n.Inputs {
			if j, ok := pos[in]; !ok || j >= i {
				ordered = false
			}
		}
	}
	if ordered {
		return
	}
	done := make(map[*Node]bool, len(g.Nodes))
	out := make([]*Node, 0, len(g.Nodes))
	var visit func(n *Node)
	visit = func(n *Node) {
		if done[n] {
			return
		}
		done[n] = true
		for _, in := range n.Inputs {
			visit(in)
		}
		out = append(out, n)
	}
	for _, n := range g.Nodes {
		visit(n)
	}
	g.Nodes = out
}

// Users returns, for every node, the nodes of g that use it as an
// operand, in graph order (a node using another twice is listed twice).
// It is the one place uses are counted: len(users[n]) is n's use count as
// an operand, and the last entry is its last reader. Roots (outputs, the
// loss, updates, gradients) are not uses; callers that count them add
// g.Roots() themselves.
func (g *Graph) Users() map[*Node][]*Node {
	users := make(map[*Node][]*Node, len(g.Nodes))
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			users[in] = append(users[in], n)
		}
	}
	return users
}

// Roots returns the nodes a graph must keep computing: the outputs, the
// loss and training loss, the updates and the gradients (in a
// deterministic order: gradients in the order of Params).
func (g *Graph) Roots() []*Node {
	roots := append([]*Node{}, g.Outputs...)
	if g.Loss != nil {
		roots = append(roots, g.Loss)
	}
	if g.TrainLoss != nil {
		roots = append(roots, g.TrainLoss)
	}
	roots = append(roots, g.Updates...)
	for _, p := range g.Params {
		if gr, ok := g.Grads[p]; ok {
			roots = append(roots, gr)
		}
	}
	return roots
}
