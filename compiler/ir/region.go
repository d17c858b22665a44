package ir

import "slices"

// Region is a sequence of nodes closed over its inputs: its nodes use
// its block arguments, each other and values of the regions that enclose
// it (captures), and it yields Results. A module's Body is a region; so
// are the branches of a cond and the bodies of loops, owned by their
// node through an attribute (see Node.Regions). Nodes are kept in a
// topological order.
type Region struct {
	// Nodes are the region's own nodes (not those of regions nested in
	// them) in a topological order.
	Nodes []*Node
	// Args are the block arguments, nodes of op "arg" that the owner
	// binds on each entry (a loop's carried values, the step of a
	// sequence); they are not in Nodes.
	Args []*Node
	// Results are what the region yields, in order.
	Results []*Node
	// Owner is the node whose attribute the region is; nil for a
	// module's Body.
	Owner *Node
}

// Contains reports whether n is a node (or block argument) of r or of a
// region nested in r.
func (r *Region) Contains(n *Node) bool {
	for q := n.Region; q != nil; {
		if q == r {
			return true
		}
		if q.Owner == nil {
			return false
		}
		q = q.Owner.Region
	}
	return false
}

// Walk calls f on every node of r, nested regions included: each node
// before the nodes of its regions, block arguments first.
func (r *Region) Walk(f func(n *Node)) {
	for _, a := range r.Args {
		f(a)
	}
	for _, n := range r.Nodes {
		f(n)
		for _, sub := range n.Regions() {
			sub.Walk(f)
		}
	}
}

// Captures returns the values r's nodes (nested regions included) use
// that are defined outside r, in order of first use.
func (r *Region) Captures() []*Node {
	var out []*Node
	seen := map[*Node]bool{}
	use := func(v *Node) {
		if v != nil && !seen[v] && !r.Contains(v) {
			seen[v] = true
			out = append(out, v)
		}
	}
	r.Walk(func(n *Node) {
		for _, in := range n.Inputs {
			use(in)
		}
		for _, d := range n.Deps {
			use(d)
		}
	})
	for _, res := range r.Results {
		use(res)
	}
	return out
}

// Schedule returns the region's nodes needed to compute roots, in a
// topological order (the region's order restricted to them).
func (r *Region) Schedule(roots ...*Node) []*Node {
	need := Reachable(roots...)
	out := make([]*Node, 0, len(need))
	for _, n := range r.Nodes {
		if need[n] {
			out = append(out, n)
		}
	}
	return out
}

// Keep removes the nodes of r (and of its nested regions) that need
// does not hold, keeping the order of the others.
func (r *Region) Keep(need map[*Node]bool) {
	out := r.Nodes[:0]
	for _, n := range r.Nodes {
		if need[n] {
			out = append(out, n)
			for _, sub := range n.Regions() {
				sub.Keep(Reachable(sub.Results...))
			}
		}
	}
	clear(r.Nodes[len(out):])
	r.Nodes = out
}

// Regions returns the regions among n's attributes, in the order of
// their attribute names.
func (n *Node) Regions() []*Region {
	keys := n.regionAttrs()
	if len(keys) == 0 {
		return nil
	}
	out := make([]*Region, len(keys))
	for i, k := range keys {
		out[i] = n.Attrs[k].(*Region)
	}
	return out
}

// Operands returns every value n must wait for: its inputs, its control
// dependencies (Deps), then the values its regions capture from
// outside. Traversals (reachability, schedules, liveness) follow these.
func (n *Node) Operands() []*Node {
	regions := n.Regions()
	if len(n.Deps) == 0 && len(regions) == 0 {
		return n.Inputs
	}
	out := slices.Concat(n.Inputs, n.Deps)
	for _, r := range regions {
		for _, c := range r.Captures() {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// Reads returns the values n reads: its inputs, then the values its
// regions capture from outside, each once; unlike Operands, not its
// control edges.
func (n *Node) Reads() []*Node {
	regions := n.Regions()
	if len(regions) == 0 {
		return n.Inputs
	}
	out := slices.Clone(n.Inputs)
	for _, r := range regions {
		for _, c := range r.Captures() {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// Reachable returns the set of nodes the given roots depend on (roots
// included), following Operands.
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
		for _, in := range n.Operands() {
			if !seen[in] {
				seen[in] = true
				stack = append(stack, in)
			}
		}
	}
	return seen
}

// Inline builds a copy of r's nodes in the current region with r's block
// arguments replaced by args, regions nested in them copied too, and
// returns the copies of r's results and the copy of each of r's nodes.
func (g *Module) Inline(r *Region, args []*Node) ([]*Node, map[*Node]*Node) {
	m := make(map[*Node]*Node, len(r.Nodes)+len(args))
	for i, a := range r.Args {
		m[a] = args[i]
	}
	for _, n := range r.Nodes {
		m[n] = g.clone(n, m)
	}
	out := make([]*Node, len(r.Results))
	for i, res := range r.Results {
		out[i] = m[res]
	}
	return out, m
}

// clone copies n into the current region with its operands mapped by m
// (unmapped operands are kept) and its regions copied.
func (g *Module) clone(n *Node, m map[*Node]*Node) *Node {
	ins := make([]*Node, len(n.Inputs))
	for i, in := range n.Inputs {
		ins[i] = in
		if c, ok := m[in]; ok {
			ins[i] = c
		}
	}
	attrs := n.Attrs.Clone()
	for _, k := range n.regionAttrs() { // sorted: IDs must not depend on map order
		attrs[k] = g.CloneRegion(n.Attrs[k].(*Region))
	}
	saved, savedRole := g.pos, g.role
	g.pos, g.role = n.Pos, n.Role
	c := g.MustApply(n.Op, ins, attrs)
	g.pos, g.role = saved, savedRole
	c.Name, c.Device, c.GradOf = n.Name, n.Device, n.GradOf
	return c
}

// CloneRegion returns a deep copy of r (new block arguments and nodes),
// which a new node is to own.
func (g *Module) CloneRegion(r *Region) *Region {
	c := g.NewRegion()
	args := make([]*Node, len(r.Args))
	for i, a := range r.Args {
		args[i] = g.AddArg(c, a.Type)
		args[i].Name, args[i].GradOf = a.Name, a.GradOf
	}
	g.Within(c, func() {
		c.Results, _ = g.Inline(r, args)
	})
	return c
}

// Zeros returns a tensor of zeros of type t.
func (g *Module) Zeros(t Type) *Node {
	return g.MustApply(BroadcastTo, []*Node{g.Const(t.DType, 0)}, Attrs{"shape": t.Shape})
}

// SealResults makes every result of r a distinct node of r's own, not a
// block argument: a loop's carried values are stored apart from the body's
// new values, so a body that passes an argument through or swaps two
// ("h, c = c, h") would otherwise copy over a value it still reads. A
// result that is an argument or repeats an earlier one gets a copy.
func (g *Module) SealResults(r *Region) {
	seen := map[*Node]bool{}
	for i, res := range r.Results {
		if res.Op == Arg || seen[res] || res.Region != r {
			g.Within(r, func() {
				r.Results[i] = g.MustApply(ReshapeTo, []*Node{res}, Attrs{"shape": res.Type.Shape})
			})
		}
		seen[r.Results[i]] = true
	}
}
