package codegen

import (
	"sort"

	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/ir"
)

// Memory planning. Every node with a buffer gets a slot in its dtype's
// arena; nodes whose buffers are never live at the same time share a
// slot. Liveness is computed over each entry point's schedule (predict,
// loss, train: the nodes its program and the programs it calls first run,
// in order): a buffer is live from the node that writes it to its last
// reader, and to the end of the call if the entry point returns it or
// copies it into a param. An element-wise node may also take the slot of
// an operand of its shape and dtype that it reads last (an in-place
// update): it reads each element before writing the element at the same
// index. A control-flow node (cond, while, scan) writes the buffers of
// its regions' nodes and of its gets while it runs: they are live at its
// position, together, and never shared in place (control.go).

// memSlot is one region of an arena, shared by buffers with disjoint
// lifetimes.
type memSlot struct {
	size    map[int]int // elements, as a polynomial in N
	members []*ir.Node
}

// memPlan assigns the buffers of one generated model to slots.
type memPlan struct {
	slots  map[ir.DType][]*memSlot
	slotOf map[*ir.Node]*memSlot
}

// span is a buffer's live interval in one schedule.
type span struct{ def, last int }

// planMemory computes the plan of c's buffers for its programs: in
// order of decreasing size, each buffer takes the first slot of its dtype
// that is large enough and whose members are never live with it, or a
// new slot. First fit visits every slot for every buffer; the visits are
// kept to array reads (the sizes are monomials in N, the live intervals
// dense by buffer) so that a graph of thousands of buffers plans in
// milliseconds.
func (c *gen) planMemory(progs []program) *memPlan {
	byName := map[string]*program{}
	for i := range progs {
		byName[progs[i].name] = &progs[i]
	}
	bufs := append([]*ir.Node(nil), c.plan.bufs...)
	need := make(map[*ir.Node]size, len(bufs))
	for _, b := range bufs {
		need[b] = numel(b.Type.Shape)
	}
	sort.SliceStable(bufs, func(i, j int) bool { return sizeLess(need[bufs[j]], need[bufs[i]]) })
	index := make(map[*ir.Node]int, len(bufs))
	for i, b := range bufs {
		index[b] = i
	}
	// Each entry point's live intervals, by buffer; def < 0 where the
	// entry point does not compute the buffer.
	var lives [][]span
	for _, name := range []string{"predict", "loss", "train"} {
		p := byName[name]
		if p == nil {
			continue
		}
		live := make([]span, len(bufs))
		for i := range live {
			live[i] = span{def: -1}
		}
		for n, sp := range c.liveness(p) {
			if i, ok := index[n]; ok {
				live[i] = sp
			}
		}
		lives = append(lives, live)
	}
	inPlace := func(x, y *ir.Node) bool {
		// y overwrites x: y is element-wise, reads x, and has x's type.
		// Region nodes run many times: their buffers are never shared.
		if c.inRegion(x) || c.inRegion(y) || !y.Op.Elementwise || c.plan.epilogue[y] != nil || x.Type.DType != y.Type.DType || !x.Type.Shape.Equal(y.Type.Shape) {
			return false
		}
		for _, in := range c.plan.reads(y) {
			if in == x {
				return true
			}
		}
		return false
	}
	conflict := func(x, y int) bool {
		for _, live := range lives {
			a, b := live[x], live[y]
			if a.def < 0 || b.def < 0 || a.last < b.def || b.last < a.def {
				continue
			}
			if a.last == b.def && inPlace(bufs[x], bufs[y]) || b.last == a.def && inPlace(bufs[y], bufs[x]) {
				continue
			}
			return true
		}
		return false
	}
	type slot struct {
		*memSlot
		need    size
		members []int
	}
	slots := map[ir.DType][]*slot{}
	plan := &memPlan{slots: map[ir.DType][]*memSlot{}, slotOf: map[*ir.Node]*memSlot{}}
	for i, b := range bufs {
		var home *slot
	slots:
		for _, s := range slots[b.Type.DType] {
			if !sizeCovers(s.need, need[b]) {
				continue
			}
			for _, m := range s.members {
				if conflict(m, i) {
					continue slots
				}
			}
			home = s
			break
		}
		if home == nil {
			home = &slot{memSlot: &memSlot{size: polyOf(need[b])}, need: need[b]}
			slots[b.Type.DType] = append(slots[b.Type.DType], home)
			plan.slots[b.Type.DType] = append(plan.slots[b.Type.DType], home.memSlot)
		}
		home.members = append(home.members, i)
		home.memSlot.members = append(home.memSlot.members, b)
		plan.slotOf[b] = home.memSlot
	}
	return plan
}

// sizeCovers reports whether a slot of p elements holds q elements at
// every batch size n >= 1.
func sizeCovers(p, q size) bool {
	switch {
	case q.c == 0:
		return true
	case p.c == 0 || p.k < q.k:
		return false
	}
	return p.c >= q.c
}

// sizeLess orders sizes by their growth: the power of N first, then the
// coefficient; zero is the smallest.
func sizeLess(p, q size) bool {
	if p.c == 0 || q.c == 0 {
		return p.c == 0 && q.c != 0
	}
	if p.k != q.k {
		return p.k < q.k
	}
	return p.c < q.c
}

// liveness returns the live interval of every node entry point p
// computes, over the schedule p runs (its prefixes first).
func (c *gen) liveness(p *program) map[*ir.Node]span {
	order := c.order(p)
	live := map[*ir.Node]span{}
	for i, n := range order {
		if c.plan.absorbed(n) {
			continue // its consumer reads what it reads
		}
		if _, byOwner := live[n]; !byOwner || n.Op != ir.Get {
			live[n] = span{def: i, last: i}
		}
		// Control flow: its region nodes' buffers and its gets' are
		// written while it runs (control.go).
		for _, m := range c.ownerStorage(n) {
			live[m] = span{def: i, last: i}
		}
		for _, in := range c.plan.reads(n) {
			if s, ok := live[in]; ok {
				s.last = i
				live[in] = s
			}
		}
	}
	end := len(order)
	keep := func(n *ir.Node) {
		if s, ok := live[n]; ok {
			s.last = end
			live[n] = s
		}
	}
	for _, r := range p.roots {
		keep(r)
	}
	if p.name == "train" {
		for _, u := range c.g.Updates() {
			keep(updateValue(u))
		}
	}
	return live
}

// order returns the nodes entry point p runs, in order: the programs it
// calls first, then its own.
func (c *gen) order(p *program) []*ir.Node {
	var chain []*program
	for q := p; q != nil; q = q.prefix {
		chain = append([]*program{q}, chain...)
	}
	var order []*ir.Node
	done := map[*ir.Node]bool{}
	for _, q := range chain {
		for _, n := range c.g.Schedule(q.roots...) {
			if !done[n] {
				done[n] = true
				order = append(order, n)
			}
		}
	}
	return order
}

// size returns the elements of dt's arena under the plan.
func (pl *memPlan) size(dt ir.DType) map[int]int {
	total := map[int]int{}
	for _, s := range pl.slots[dt] {
		for k, v := range s.size {
			total[k] += v
		}
	}
	return total
}

// layout returns the statements carving dt's arena slice a into the
// buffers: each slot in turn, its members aliasing its start.
func (pl *memPlan) layout(dt ir.DType) []jen.Code {
	var out []jen.Code
	for _, s := range pl.slots[dt] {
		var lhs, rhs []jen.Code
		for _, n := range s.members {
			e := numel(n.Type.Shape).code()
			lhs = append(lhs, jen.Id("m").Dot(bufField(n)))
			rhs = append(rhs, jen.Id("a").Index(jen.Empty(), e.Clone(), e.Clone()))
		}
		out = append(out,
			jen.List(lhs...).Op("=").List(rhs...),
			jen.Id("a").Op("=").Id("a").Index(polyCode(s.size), jen.Empty()))
	}
	return out
}

// polyOf converts a size to a polynomial in N.
func polyOf(s size) map[int]int {
	if s.c == 0 {
		return map[int]int{}
	}
	return map[int]int{s.k: s.c}
}
