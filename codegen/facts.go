package codegen

import "github.com/flow-lang/flow/compiler/ir"

// graphFacts are what the code generation decisions (fusion, epilogues,
// in-place updates, loop splitting, the memory plan) and the emitted
// functions all ask of the graph. plan computes them once, before any
// decision, so every later step sees the same programs.
type graphFacts struct {
	// readers counts each node's uses as an operand; reader is the node
	// that uses it (the last one in graph order: the only one when
	// readers is 1).
	readers map[*ir.Node]int
	reader  map[*ir.Node]*ir.Node
	// results are the nodes an entry point returns or writes: outputs,
	// losses, updates and their new values.
	results map[*ir.Node]bool
	// progs are the programs to emit (see programs).
	progs []program
	// emitted gives, per node, the programs that emit its code, as a bit
	// mask over progs.
	emitted map[*ir.Node]uint64
}

// computeFacts fills c.facts.
func (c *gen) computeFacts() {
	f := graphFacts{readers: map[*ir.Node]int{}, reader: map[*ir.Node]*ir.Node{}, results: map[*ir.Node]bool{}}
	for _, n := range c.g.Body.Nodes {
		for _, in := range n.Inputs {
			f.readers[in]++
			f.reader[in] = n
		}
	}
	for _, o := range c.g.Outputs() {
		f.results[o] = true
	}
	if c.g.Loss() != nil {
		f.results[c.g.Loss()], f.results[c.g.TrainingLoss()] = true, true
	}
	for _, u := range c.g.Updates() {
		f.results[u], f.results[updateValue(u)] = true, true
	}
	f.progs = c.programs()
	f.emitted = c.emittedBy(f.progs)
	c.facts = f
}

// program returns the program called name, or nil.
func (f *graphFacts) program(name string) (*program, uint64) {
	for i := range f.progs {
		if f.progs[i].name == name {
			return &f.progs[i], 1 << i
		}
	}
	return nil, 0
}

// dropBufs removes the nodes for which drop is true from the buffers.
func (c *gen) dropBufs(drop func(n *ir.Node) bool) {
	var bufs []*ir.Node
	for _, n := range c.bufs {
		if drop(n) {
			delete(c.hasBuf, n)
			continue
		}
		bufs = append(bufs, n)
	}
	c.bufs = bufs
}
