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
	values := map[*ir.Node]int{}
	for _, u := range c.g.Updates {
		values[updateValue(u)]++
	}
	for _, u := range c.g.Updates {
		v, p := updateValue(u), u.Inputs[0]
		if !c.hasBuf[v] || c.fused[v] || values[v] != 1 || c.facts.emitted[v] != trainBit ||
			v.Type.DType != p.Type.DType || !v.Type.Shape.Equal(p.Type.Shape) {
			continue
		}
		ok := true
		for _, n := range order {
			if n == v || n.Op.Name == "assign" || !readsNode(c, n, p) {
				continue // an assign emits no code; the copy it stands for is v's
			}
			// Another reader of the old value must come before v.
			if pos[n] > pos[v] {
				ok = false
				break
			}
		}
		// v itself may read p only at the index it writes.
		if ok && readsNode(c, v, p) && !v.Op.Elementwise {
			ok = false
		}
		if ok {
			c.inPlace[v] = p
		}
	}
	c.dropBufs(func(n *ir.Node) bool { return c.inPlace[n] != nil })
}

// readsNode reports whether n's code reads x (through fused operands).
func readsNode(c *gen, n, x *ir.Node) bool {
	if c.fused[n] || c.epilogueOf[n] {
		return false // its consumer's code does the reading
	}
	for _, in := range c.reads(n) {
		if in == x {
			return true
		}
	}
	return false
}
