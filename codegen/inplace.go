package codegen

import "github.com/flow-lang/flow/compiler/ir"

// In-place param updates. The train program ends by copying each update's
// new value into its param. When nothing reads the param's old value after
// the new value is computed (in the train program's order), the new value
// can be computed straight into the param's storage: it then needs no
// buffer and no copy. The value must be computed by the train program
// only (Predict and Loss never write params), have the param's type, be
// no other update's value, and be no get of a control-flow node (which
// its owner writes, earlier than the get's place in the order).

// decideInPlace returns the update values computed in their param's
// storage, each mapped to its param; they keep no buffer.
func (c *gen) decideInPlace() map[*ir.Node]*ir.Node {
	inPlace := map[*ir.Node]*ir.Node{}
	p := c.plan
	train, trainBit := p.facts.program("train")
	if train == nil {
		return inPlace
	}
	order := c.order(train)
	pos := map[*ir.Node]int{}
	for i, n := range order {
		pos[n] = i
	}
	// The code that reads each param, in order (an assign emits no code;
	// the copy it stands for is its value's).
	params := map[*ir.Node]bool{}
	for _, u := range c.g.Updates() {
		params[u.Inputs[0]] = true
	}
	readers := map[*ir.Node][]*ir.Node{}
	for _, n := range order {
		if n.Op == ir.Assign {
			continue
		}
		for _, x := range p.codeReads(n) {
			if params[x] {
				readers[x] = append(readers[x], n)
			}
		}
	}
	values := map[*ir.Node]int{}
	for _, u := range c.g.Updates() {
		values[updateValue(u)]++
	}
	for _, u := range c.g.Updates() {
		v, param := updateValue(u), u.Inputs[0]
		if v.Op == ir.Get || !p.computed[v] || p.absorbed(v) || values[v] != 1 || p.facts.emitted[v] != trainBit ||
			v.Type.DType != param.Type.DType || !v.Type.Shape.Equal(param.Type.Shape) {
			continue
		}
		ok := true
		for _, n := range readers[param] {
			// Another reader of the old value must come before v; v
			// itself may read p only at the index it writes.
			if n == v && !p.readsInPlace(v, param) || n != v && pos[n] > pos[v] {
				ok = false
				break
			}
		}
		if ok {
			inPlace[v] = param
		}
	}
	return inPlace
}

// codeReads returns the values n's code reads (through fused operands);
// none when n has no code of its own.
func (p *plan) codeReads(n *ir.Node) []*ir.Node {
	if p.absorbed(n) {
		return nil // its consumer's code does the reading
	}
	return p.reads(n)
}

// Carried values in place. A loop copies each trip's carried results into
// its carried block arguments for the next trip. When nothing in the body
// reads a carried argument after its new value is computed (in the
// body's order) — every reader comes before, or is the new value itself,
// element-wise, reading the argument at the index it writes — the new
// value can be computed straight into the argument's storage: it then
// needs no buffer and the trip ends with no copy. The accumulators of a
// reverse loop (dU += hᵀ dz) are the case this is for. The value must be
// computed by the body itself (not a get of a nested control-flow node,
// an argument or a constant), have the argument's type, and be no other
// carried slot's result (a per-step result reads it at the trip's end,
// where the argument's storage still holds it); the argument must not
// itself be a result of the body (which the trip's end would read).

// decideCarried returns the carried results of the loops' bodies that
// are computed in their block argument's storage, each mapped to the
// argument.
func (c *gen) decideCarried() map[*ir.Node]*ir.Node {
	out := map[*ir.Node]*ir.Node{}
	p := c.plan
	for _, l := range c.allNodes() {
		var body *ir.Region
		first, k := 0, l.Attrs.Int("carried", 0)
		switch l.Op {
		case ir.While:
			body = l.Attrs["body"].(*ir.Region)
		case ir.Scan:
			body = l.Attrs["body"].(*ir.Region)
			first = l.Attrs.Int("seqs", 0)
		default:
			continue
		}
		// Carried argument first+i has result off+i: a scan's body yields
		// its per-step results first.
		off := len(body.Results) - k
		// results counts each value's slots among all the results,
		// carriedSlots among the carried ones.
		results, carriedSlots := map[*ir.Node]int{}, map[*ir.Node]int{}
		for i, r := range body.Results {
			results[r]++
			if i >= off {
				carriedSlots[r]++
			}
		}
		pos := map[*ir.Node]int{}
		for i, n := range body.Nodes {
			pos[n] = i
		}
		readers := map[*ir.Node][]*ir.Node{}
		for _, n := range body.Nodes {
			for _, x := range p.codeReads(n) {
				if x.Op == ir.Arg {
					readers[x] = append(readers[x], n)
				}
			}
		}
		for i := range k {
			a, r := body.Args[first+i], body.Results[off+i]
			if r.Region != body || r.Op == ir.Get || r.Op == ir.Arg || !p.computed[r] || p.absorbed(r) || carriedSlots[r] != 1 || results[a] != 0 ||
				p.alias[a] != nil || r.Type.DType != a.Type.DType || !r.Type.Shape.Equal(a.Type.Shape) {
				continue
			}
			ok := true
			for _, n := range readers[a] {
				if n == r && !p.readsInPlace(r, a) || n != r && pos[n] > pos[r] {
					ok = false
					break
				}
			}
			if ok {
				out[r] = a
			}
		}
	}
	return out
}

// readsInPlace reports whether n's code, written into x's storage, reads
// x only at the index it is writing: n is element-wise, and when it is
// an epilogue's end, its kernel does not read x (the product's operands
// are read whole while the output is written; the addend, copied in
// first, may be x itself).
func (p *plan) readsInPlace(n, x *ir.Node) bool {
	if !n.Op.Elementwise {
		return false
	}
	if e := p.epilogue[n]; e != nil {
		for _, in := range e.kernel.Inputs {
			if in == x {
				return false
			}
		}
	}
	return true
}
