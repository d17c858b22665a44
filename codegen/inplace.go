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
			if n == v && !v.Op.Elementwise || n != v && pos[n] > pos[v] {
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
