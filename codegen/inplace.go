package codegen

import "github.com/flow-lang/flow/compiler/ir"

// In-place param updates. The train program ends by copying each update's
// new value into its param. When nothing reads the param's old value after
// the new value is computed (in the train program's order), the new value
// can be computed straight into the param's storage: it then needs no
// buffer and no copy. The value must be computed by the train program
// only (Predict and Loss never write params), have the param's type, and
// be no other update's value.

// decideInPlace sets c.inPlace (new value → param) and removes those
// values from the buffers.
func (c *gen) decideInPlace() {
	c.inPlace = map[*ir.Node]*ir.Node{}
	train, trainBit := c.facts.program("train")
	if train == nil {
		return
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
		for _, x := range codeReads(c, n) {
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
		v, p := updateValue(u), u.Inputs[0]
		if !c.hasBuf[v] || c.fused[v] || values[v] != 1 || c.facts.emitted[v] != trainBit ||
			v.Type.DType != p.Type.DType || !v.Type.Shape.Equal(p.Type.Shape) {
			continue
		}
		ok := true
		for _, n := range readers[p] {
			// Another reader of the old value must come before v; v
			// itself may read p only at the index it writes.
			if n == v && !v.Op.Elementwise || n != v && pos[n] > pos[v] {
				ok = false
				break
			}
		}
		if ok {
			c.inPlace[v] = p
		}
	}
	c.dropBufs(func(n *ir.Node) bool { return c.inPlace[n] != nil })
}

// codeReads returns the values n's code reads (through fused operands);
// none when n has no code of its own.
func codeReads(c *gen, n *ir.Node) []*ir.Node {
	if c.fused[n] || c.epilogueOf[n] {
		return nil // its consumer's code does the reading
	}
	return c.reads(n)
}
