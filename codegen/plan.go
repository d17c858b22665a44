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
	size poly // elements

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

// sizeCovers reports whether a slot of p elements holds q elements for
// every binding of the symbolic dimensions to sizes >= 1. Sizes are
// monomials with positive coefficients, c·N^a·T^b…, so p covers q exactly
// when p's coefficient is at least q's (compare at all symbols = 1) and
// p's power of every symbol is at least q's (else q outgrows p as that
// symbol grows): a partial order, under which some sizes (N·8 and T·8,
// say) are incomparable and never share a slot.
func sizeCovers(p, q size) bool {
	switch {
	case q.c == 0:
		return true
	case p.c == 0 || p.c < q.c:
		return false
	}
	return monoCovers(p.k, q.k)
}

// monoCovers reports whether monomial p has every symbol of q, at least
// to q's power: p ≥ q for every binding ≥ 1.
func monoCovers(p, q string) bool {
	if p == q || q == "" {
		return true
	}
	pf, qf := monoFactors(p), monoFactors(q)
	i := 0
	for _, f := range qf {
		for i < len(pf) && pf[i] < f {
			i++
		}
		if i == len(pf) || pf[i] != f {
			return false
		}
		i++
	}
	return true
}

// sizeLess orders sizes by their growth: the total degree of the
// monomial first, then the monomial's key (so that equal monomials are
// adjacent), then the coefficient; zero is the smallest. With one
// symbol, it orders by growth exactly; with several, it is a total order
// that extends sizeCovers's partial one (a size covering another is not
// less than it), so that first fit visits larger slots first.
func sizeLess(p, q size) bool {
	if p.c == 0 || q.c == 0 {
		return p.c == 0 && q.c != 0
	}
	if dp, dq := monoDegree(p.k), monoDegree(q.k); dp != dq {
		return dp < dq
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
func (pl *memPlan) size(dt ir.DType) poly {
	total := poly{}
	for _, s := range pl.slots[dt] {
		for k, v := range s.size {
			total[k] += v
		}
	}
	return total
}

// layout returns the statements carving dt's arena slice a into the
// buffers (field names their Model fields): each slot in turn, its
// members aliasing its start.
func (pl *memPlan) layout(dt ir.DType, field func(*ir.Node) string) []jen.Code {
	var out []jen.Code
	for _, s := range pl.slots[dt] {
		var lhs, rhs []jen.Code
		for _, n := range s.members {
			e := numel(n.Type.Shape).code()
			lhs = append(lhs, jen.Id("m").Dot(field(n)))
			rhs = append(rhs, jen.Id("a").Index(jen.Empty(), e.Clone(), e.Clone()))
		}
		out = append(out,
			jen.List(lhs...).Op("=").List(rhs...),
			jen.Id("a").Op("=").Id("a").Index(polyCode(s.size), jen.Empty()))
	}
	return out
}

// poly is a polynomial in the symbolic dimensions: monomial (a size's
// key) → coefficient.
type poly map[string]int

// polyOf converts a size to a polynomial.
func polyOf(s size) poly {
	if s.c == 0 {
		return poly{}
	}
	return poly{s.k: s.c}
}

// monos returns p's monomials with nonzero coefficients, by total
// degree and then key, lowest first.
func (p poly) monos() []string {
	var ks []string
	for k, c := range p {
		if c != 0 {
			ks = append(ks, k)
		}
	}
	sort.Slice(ks, func(i, j int) bool {
		if di, dj := monoDegree(ks[i]), monoDegree(ks[j]); di != dj {
			return di < dj
		}
		return ks[i] < ks[j]
	})
	return ks
}

// at evaluates p with every symbol bound as b says.
func (p poly) at(b map[string]int) int {
	total := 0
	for k, c := range p {
		v := c
		for _, f := range monoFactors(k) {
			v *= b[f]
		}
		total += v
	}
	return total
}
