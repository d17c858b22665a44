package codegen

import "github.com/flow-lang/flow/compiler/ir"

// graphFacts are what the code generation decisions (fusion, epilogues,
// in-place updates, loop splitting, the memory plan) and the emitted
// functions all ask of the graph. The "facts" step computes them once,
// before any decision, so every later step sees the same programs.
type graphFacts struct {
	// users are each node's readers as an operand (ir.Module.Users).
	users map[*ir.Node][]*ir.Node
	// results are the nodes an entry point returns or writes: outputs,
	// losses, updates and their new values.
	results map[*ir.Node]bool
	// progs are the programs to emit (see programs).
	progs []program
	// emitted gives, per node, the programs that emit its code, as a bit
	// mask over progs.
	emitted map[*ir.Node]uint64
}

// computeFacts returns the graph's facts.
func (c *gen) computeFacts() graphFacts {
	f := graphFacts{users: c.g.Users(), results: map[*ir.Node]bool{}}
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
	return f
}

// readers counts n's uses as an operand.
func (f *graphFacts) readers(n *ir.Node) int { return len(f.users[n]) }

// reader returns the last node in graph order that uses n (the only one
// when readers(n) is 1), or nil.
func (f *graphFacts) reader(n *ir.Node) *ir.Node {
	us := f.users[n]
	if len(us) == 0 {
		return nil
	}
	return us[len(us)-1]
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
