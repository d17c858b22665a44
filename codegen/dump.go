package codegen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/flow-lang/flow/compiler/ir"
)

// DumpPlan returns codegen's decisions for g as text (`flowc gen
// --dump-plan`): the plan Generate would emit code from, made by the
// same steps. The rendering is deterministic — node IDs and names, no
// pointers, graph order — so that examples/gen/<package>/plan.txt can be
// golden files. For example:
//
//	%4 y = add(%3, %2) : f32[N,10]
//	  programs: forward; uses: 1, a result
//	  storage: buffer f32 slot 0 at 0 (10·N elements)
//	  epilogue: one kernel call computes %3 + bias %2
//	  kernel plan: literal narrow x1
func DumpPlan(g *ir.Module, opts Options) (_ []byte, err error) {
	defer internalError(g, &err)
	c, err := prepare(g, opts)
	if err != nil {
		return nil, err
	}
	if err := c.decide(""); err != nil {
		return nil, err
	}
	return []byte(c.plan.dump(c.g, c.pkg)), nil
}

// dump renders the plan of graph g, generated as package pkg.
func (p *plan) dump(g *ir.Module, pkg string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "plan of model %s (package %s)\n", g.Name, pkg)
	steps := make([]string, len(planPasses))
	for i, s := range planPasses {
		steps[i] = s.name
	}
	fmt.Fprintf(&b, "steps: %s\n", strings.Join(steps, ", "))

	b.WriteString("\nprograms:\n")
	for _, pr := range p.facts.progs {
		fmt.Fprintf(&b, "  %s:", pr.name)
		if pr.prefix != nil {
			fmt.Fprintf(&b, " after %s;", pr.prefix.name)
		}
		fmt.Fprintf(&b, " roots %s; inputs %s\n", nodeRefs(pr.roots), nodeRefs(pr.inputs))
	}

	// Where each buffer lives: its slot and the slot's offset, by dtype.
	places := map[*ir.Node]place{}
	for _, dt := range codeDTypes {
		offset := poly{}
		for i, s := range p.mem.slots[dt] {
			for _, n := range s.members {
				places[n] = place{dt, i, offset}
			}
			offset = polyAdd(offset, s.size)
		}
	}

	b.WriteString("\nnodes:\n")
	for _, n := range g.Body.Nodes {
		p.dumpNode(&b, n, "  ", places)
	}

	b.WriteString("\nmemory:\n")
	for _, dt := range codeDTypes {
		slots := p.mem.slots[dt]
		if len(slots) == 0 {
			continue
		}
		fmt.Fprintf(&b, "  arena %s: %s elements in %d slot(s); one buffer per tensor: %s\n", dt, polyString(p.mem.size(dt)), len(slots), polyString(p.naiveSize(dt)))
		for i, s := range slots {
			fmt.Fprintf(&b, "    slot %d at %s, %s elements: %s\n", i, polyString(places[s.members[0]].offset), polyString(s.size), nodeRefs(s.members))
		}
	}
	arena := p.needs.arenaPoly()
	fmt.Fprintf(&b, "  bytes: params %s, arena %s\n", ir.GroupInt(int(p.needs.ParamBytes)), polyString(arena))

	calls := 0
	shared := map[*sharedPlan]bool{}
	g.Body.Walk(func(n *ir.Node) {
		if k := p.kernels[n]; k != nil {
			calls++
			shared[k.shared] = true
		}
	})
	fmt.Fprintf(&b, "\nkernel plans: %d call(s), %d distinct plan(s), %d plan function(s)\n", calls, len(shared), len(p.fnCalls))
	types := map[*loopTask]bool{}
	for _, t := range p.loopTypes {
		types[t] = true
	}
	fmt.Fprintf(&b, "parallel loops: %d, %d task type(s)\n", len(p.parallel), len(types))
	return b.String()
}

// place is where a buffer lives in the dump: its dtype's arena, slot and
// the slot's offset.
type place struct {
	dt     ir.DType
	slot   int
	offset poly
}

// dumpNode renders node n's decisions, indented by indent, and then the
// nodes of its regions (control flow), indented further.
func (p *plan) dumpNode(b *strings.Builder, n *ir.Node, indent string, places map[*ir.Node]place) {
	fmt.Fprintf(b, "%s%s\n", indent, planNodeHeader(n))
	if mask := p.facts.emitted[n]; mask != 0 {
		var progs []string
		for i, pr := range p.facts.progs {
			if mask&(1<<i) != 0 {
				progs = append(progs, pr.name)
			}
		}
		line := fmt.Sprintf("programs: %s; uses: %d", strings.Join(progs, ", "), p.facts.readers(n))
		if p.facts.results[n] {
			line += ", a result"
		}
		fmt.Fprintf(b, "%s  %s\n", indent, line)
	}
	pl, hasPlace := places[n]
	var storage string
	switch {
	case n.Op == ir.Input:
		storage = "argument " + p.argNames[n]
	case n.Op == ir.Param:
		storage = "param " + strconv.Itoa(p.params[n])
	case n.Op == ir.Assign:
		storage = "none (an update of " + nodeRef(n.Inputs[0]) + ")"
	case p.constVar[n] != "":
		storage = "package variable " + p.constVar[n]
	case scalarConst(n) != nil:
		storage = "inline constant"
	case p.fused[n]:
		storage = "none (fused into " + nodeRef(p.facts.reader(n)) + ")"
	case p.epilogueOf[n]:
		storage = "none (computed by the epilogue of " + nodeRef(p.epilogueEnd(n)) + ")"
	case p.inPlace[n] != nil:
		storage = "param " + strconv.Itoa(p.params[p.inPlace[n]]) + " " + p.inPlace[n].Label() + " (updated in place)"
	case p.carried[n] != nil:
		storage = "that of " + nodeRef(p.carried[n]) + " (carried in place)"
	case p.alias[n] != nil:
		storage = "that of " + nodeRef(p.alias[n])
	case hasPlace:
		storage = fmt.Sprintf("buffer %s slot %d at %s (%s elements)", pl.dt, pl.slot, polyString(pl.offset), polyString(polyOf(numel(n.Type.Shape))))
	case n.Type.IsTuple():
		storage = "none (its gets' buffers)"
	default:
		storage = "none"
	}
	fmt.Fprintf(b, "%s  storage: %s\n", indent, storage)
	if e := p.epilogue[n]; e != nil {
		what := nodeRef(e.kernel)
		if e.bias != nil {
			what += " + bias " + nodeRef(e.bias)
		}
		if e.addend != nil {
			what += " + " + nodeRef(e.addend)
		}
		if e.relu {
			what = "relu(" + what + ")"
		}
		if e.sumBatch {
			what += " summed over its batch axes"
		}
		fmt.Fprintf(b, "%s  epilogue: one kernel call computes %s\n", indent, what)
	}
	if s, ok := p.parallel[n]; ok {
		fmt.Fprintf(b, "%s  parallel: %s\n", indent, s.why)
		if t := p.loopTypes[n]; t != nil && t.shared() {
			fmt.Fprintf(b, "%s  task type: %s, shared by %s\n", indent, t.name, nodeRefs(t.loops))
		}
	}
	if k := p.kernels[n]; k != nil {
		fmt.Fprintf(b, "%s  kernel plan: %s\n", indent, k.text(n))
	}
	for _, name := range regionKeys(n) {
		r := n.Attrs[name].(*ir.Region)
		fmt.Fprintf(b, "%s  region %s: yields %s\n", indent, name, nodeRefs(r.Results))
		for _, a := range r.Args {
			p.dumpNode(b, a, indent+"    ", places)
		}
		for _, m := range r.Nodes {
			p.dumpNode(b, m, indent+"    ", places)
		}
	}
}

// epilogueEnd returns the end of the epilogue chain that absorbs n: its
// readers, in turn, up to the node whose epilogue it is.
func (p *plan) epilogueEnd(n *ir.Node) *ir.Node {
	for p.epilogue[n] == nil {
		n = p.facts.reader(n)
	}
	return n
}

// text describes kernel call n's plan for the dump.
func (k *kernelPlan) text(n *ir.Node) string {
	steps := k.shared.steps
	var s string
	if fn := k.fn(); fn != "" {
		parts := make([]string, len(steps))
		lo := 1
		for i, st := range steps {
			rng := fmt.Sprintf("n in [%d, %d]", lo, st.upTo)
			if i == len(steps)-1 {
				rng = fmt.Sprintf("n >= %d", lo)
			}
			parts[i] = fmt.Sprintf("%s %s x%d", rng, st.kernel, st.threads)
			lo = st.upTo + 1
		}
		s = fmt.Sprintf("function %s (%s)", fn, strings.Join(parts, "; "))
	} else {
		s = fmt.Sprintf("literal %s x%d", steps[0].kernel, steps[0].threads)
	}
	if k.relu {
		s += ", with ReLU"
	}
	var others []*ir.Node
	for _, u := range k.shared.users {
		if u != n {
			others = append(others, u)
		}
	}
	if len(others) > 0 {
		s += "; its intervals shared with " + nodeRefs(others)
	}
	return s
}

// planNodeHeader renders a node for the dump: ID, name, op, operands,
// type and role (no attributes: a constant's values can be long).
func planNodeHeader(n *ir.Node) string {
	s := "%" + strconv.Itoa(n.ID)
	if n.Name != "" {
		s += " " + n.Name
	}
	ins := make([]string, len(n.Inputs))
	for i, in := range n.Inputs {
		ins[i] = "%" + strconv.Itoa(in.ID)
	}
	s += " = " + n.Op.Name + "(" + strings.Join(ins, ", ") + ") : " + n.Type.String()
	if n.Role != ir.Forward {
		s += " [" + n.Role.String() + "]"
	}
	return s
}

// nodeRef names a node in the dump: %ID, and its name when it has one.
func nodeRef(n *ir.Node) string {
	if n.Name != "" {
		return "%" + strconv.Itoa(n.ID) + " " + n.Name
	}
	return "%" + strconv.Itoa(n.ID)
}

// nodeRefs names nodes in the dump, separated by commas; "none" for no
// node.
func nodeRefs(nodes []*ir.Node) string {
	if len(nodes) == 0 {
		return "none"
	}
	refs := make([]string, len(nodes))
	for i, n := range nodes {
		refs[i] = nodeRef(n)
	}
	return strings.Join(refs, ", ")
}

// polyAdd returns the sum of two polynomials.
func polyAdd(p, q poly) poly {
	out := poly{}
	for k, v := range p {
		out[k] += v
	}
	for k, v := range q {
		out[k] += v
	}
	return out
}
