package codegen

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/flow-lang/flow/compiler/cost"
	"github.com/flow-lang/flow/compiler/ir"
)

// The plan. Every decision code generation makes about a graph — the Go
// names of its values, the programs to emit, the epilogues, fusion,
// in-place updates, the buffers, parallel loops and their task types,
// the memory plan and the kernel plans — is made before a line is emitted, by the steps of
// planPasses run in order, and kept in one plan. A step reads what the
// steps before it decided and writes only its own part; the emitters
// only read the plan. DumpPlan renders it.

// plan is every decision about one graph, by the step that makes it.
type plan struct {
	// profile is the cost model's profile the decisions (and the
	// signature's estimates) are made with: Options.Profile, else the
	// built-in one.
	profile *cost.Profile

	names                // step "names"
	facts     graphFacts // step "facts" (facts.go)
	epilogues            // step "epilogues" (epilogue.go)
	// fused are the nodes computed inside their consumer's loop (step
	// "fusion", fuse.go); the consumer is the node's only reader.
	fused map[*ir.Node]bool
	// inPlace maps update values computed in their param's storage to
	// the param (step "in-place", inplace.go).
	inPlace map[*ir.Node]*ir.Node
	// carried maps the carried results of loop bodies computed in their
	// block argument's storage to the argument (step "in-place",
	// inplace.go).
	carried map[*ir.Node]*ir.Node
	buffers // step "buffers"
	// parallel are the element-wise loops split across goroutines (step
	// "parallel", parloop.go).
	parallel map[*ir.Node]loopSplit
	// loopTypes are the parallel loops' task types, shared by loops
	// whose types would be the same (step "loop-types", parloop.go).
	loopTypes map[*ir.Node]*loopTask
	memory    // step "memory" (plan.go, memory.go)
	// trainOnly are the gets of control-flow nodes that only the train
	// step reads (a loop's record of its trips, the values a scan keeps
	// for its gradient) though a program predict or loss runs computes
	// their owner: the owner writes them only while m.training (step
	// "train-only").
	trainOnly   map[*ir.Node]bool
	kernelPlans // step "kernels" (kernelplan.go)
}

// names are the Go names of the graph's values, and the nodes that need
// code and storage of their own before any decision.
type names struct {
	params   map[*ir.Node]int    // param → index in Model.params
	argNames map[*ir.Node]string // input → Go parameter name
	// symIdent maps each symbolic dimension to the Go parameter (and
	// Model field) that holds its size: n for the batch, the first of
	// ir.Module.Syms, and the others' names in lower case (symIdents).
	symIdent map[string]string
	outNames []string            // Go result names of Predict, by output
	constVar map[*ir.Node]string // tensor constants → package variable
	// allBufs are the nodes computed into storage of their own unless a
	// later step absorbs them, in graph order; computed is the same set.
	allBufs  []*ir.Node
	computed map[*ir.Node]bool
	// alias maps the block arguments of control-flow regions that have
	// no storage of their own to the node whose storage they read
	// (control.go).
	alias map[*ir.Node]*ir.Node
}

// epilogues are the chains computed by one GEMM or convolution call.
type epilogues struct {
	epilogue   map[*ir.Node]*epilogue // chain end → its kernel call
	epilogueOf map[*ir.Node]bool      // the nodes those calls absorb
}

// buffers are the nodes with a buffer of their own once epilogues,
// fusion and in-place updates have absorbed theirs, in graph order.
type buffers struct {
	bufs   []*ir.Node
	hasBuf map[*ir.Node]bool
	// bufName names each buffer's Model field and local (bufNames).
	bufName map[*ir.Node]string
}

// memory is the buffers' arena plan and what the code allocates.
type memory struct {
	mem   *memPlan
	needs MemoryNeeds
}

// loopSplit is the cost model's decision to split a loop: its goroutine
// count and the reason.
type loopSplit struct {
	threads int
	why     string
}

// planPass is one step of planning: it runs after the steps it needs
// (listed for the reader and checked by a test) and sets its part of
// c.plan.
type planPass struct {
	name  string
	needs []string
	run   func(c *gen) error
}

// planPasses are the planning steps in the order they run. The order is
// forced by the dependencies: programs are found by the nodes that need
// code (names); epilogues are decided on the use counts and programs
// (facts); fusion leaves epilogues alone; an in-place update reads what
// fused and absorbed code reads; the buffers are what the three leave;
// loops and the arena are planned over the buffers; the loops' task
// types are compared as their emitters would declare them, and like
// kernel plans named after the first in emission order, which skips
// absorbed nodes.
var planPasses = []planPass{
	{"names", nil, func(c *gen) error { c.plan.names = c.nameValues(); return nil }},
	{"facts", []string{"names"}, func(c *gen) error { c.plan.facts = c.computeFacts(); return nil }},
	{"epilogues", []string{"names", "facts"}, func(c *gen) error { c.plan.epilogues = c.decideEpilogues(); return nil }},
	{"fusion", []string{"names", "facts", "epilogues"}, func(c *gen) error { c.plan.fused = c.fuse(); return nil }},
	{"in-place", []string{"names", "facts", "epilogues", "fusion"}, func(c *gen) error {
		c.plan.inPlace, c.plan.carried = c.decideInPlace(), c.decideCarried()
		return nil
	}},
	{"buffers", []string{"names", "epilogues", "fusion", "in-place"}, func(c *gen) error { c.plan.buffers = c.plan.keepBuffers(); return nil }},
	{"parallel", []string{"names", "epilogues", "fusion", "in-place", "buffers"}, func(c *gen) error { c.plan.parallel = c.decideParallel(); return nil }},
	{"loop-types", []string{"names", "facts", "epilogues", "fusion", "in-place", "buffers", "parallel"}, func(c *gen) error { c.plan.loopTypes = c.planLoopTypes(); return nil }},
	{"memory", []string{"facts", "epilogues", "fusion", "buffers"}, func(c *gen) error {
		c.plan.mem = c.planMemory(c.plan.facts.progs)
		var err error
		c.plan.needs, err = c.memoryNeeds()
		return err
	}},
	{"kernels", []string{"facts", "epilogues", "fusion"}, func(c *gen) error { c.plan.kernelPlans = c.planKernels(); return nil }},
	{"train-only", []string{"names"}, func(c *gen) error { c.plan.trainOnly = c.trainOnlyGets(); return nil }},
}

// decide runs the planning steps up to and including the one called
// through ("" for all of them).
func (c *gen) decide(through string) error {
	if through != "" && !hasStep(through) {
		panic(fmt.Sprintf("codegen: no planning step %q", through))
	}
	for _, s := range planPasses {
		if err := s.run(c); err != nil {
			return err
		}
		if s.name == through {
			break
		}
	}
	return nil
}

// hasStep reports whether a planning step is called name.
func hasStep(name string) bool {
	for _, s := range planPasses {
		if s.name == name {
			return true
		}
	}
	return false
}

// nameValues assigns names to params, inputs, outputs and constants, and
// lists the nodes that need storage of their own.
func (c *gen) nameValues() names {
	nm := names{params: map[*ir.Node]int{}, argNames: map[*ir.Node]string{}, constVar: map[*ir.Node]string{}, computed: map[*ir.Node]bool{}, alias: map[*ir.Node]*ir.Node{}}
	for i, p := range c.g.Params {
		nm.params[p] = i
	}
	taken := map[string]bool{"n": true, "m": true}
	nm.symIdent = symIdents(c.g.Syms, taken)
	for _, in := range c.g.Inputs {
		name := goName(in.Name)
		for taken[name] || goKeywords[name] || isGenerated(name) {
			name += "_"
		}
		taken[name] = true
		nm.argNames[in] = name
	}
	for _, o := range c.g.OutputNames() {
		name := goName(o)
		for taken[name] || goKeywords[name] || isGenerated(name) {
			name += "_"
		}
		taken[name] = true
		nm.outNames = append(nm.outNames, name)
	}
	for _, n := range c.g.Body.Nodes {
		switch {
		case n.Op == ir.Input, n.Op == ir.Param, n.Op == ir.Assign:
		case n.Op == ir.Const && n.Type.Shape.Rank() == 0:
		case n.Op == ir.Const:
			nm.constVar[n] = "c" + strconv.Itoa(n.ID)
		case n.Type.IsTuple():
			// Control flow: its gets hold its value; its regions'
			// nodes follow it.
			nm.nameRegions(n)
		default:
			nm.addBuf(n)
		}
	}
	return nm
}

// symIdents names the Go arguments of the symbolic dimensions syms (in
// ir.Module.Syms order): n for the first, the batch; each other one its
// name in lower case ("t" for T), with "_" appended while it would clash
// with a name taken (which it joins), a Go keyword, a local or field of
// generated code, or a generated name such as t12.
func symIdents(syms []string, taken map[string]bool) map[string]string {
	out := map[string]string{}
	for i, s := range syms {
		if i == 0 {
			out[s] = "n"
			continue
		}
		name := goName(strings.ToLower(s))
		for taken[name] || goKeywords[name] || isGenerated(name) || generatedLocals[name] || generatedPrefix(name) {
			name += "_"
		}
		taken[name] = true
		out[s] = name
	}
	return out
}

// generatedLocals are the locals, package-level names and Model fields
// generated code declares, which a symbol's argument and a buffer
// (reservedName) must not shadow.
var generatedLocals = map[string]bool{
	"a": true, "arena": true, "at": true, "best": true, "check": true, "checkSym": true, "d": true, "derive": true,
	"dst": true, "e": true, "got": true, "hi": true, "i": true, "in": true, "inv": true, "j": true,
	"k": true, "l": true, "lo": true, "lse": true, "method": true, "mx": true, "name": true, "o": true,
	"outs": true, "p": true, "params": true, "path": true, "perm": true, "r": true, "s": true, "signature": true,
	"size": true, "src": true, "sum": true, "v": true, "want": true, "x": true, "per": true, "New": true,
	"fmt": true, "runtime": true, "checkpoint": true, "math": true, "bits": true, "unsafe": true,
	"append": true, "cap": true, "len": true, "make": true, "copy": true, "clear": true, "min": true, "max": true,
	"float32": true, "float64": true, "int": true, "int32": true, "int64": true, "bool": true, "panic": true,
	"true": true, "false": true, "nil": true, "new": true, "_": true,
}

// generatedPrefix reports whether name starts like a generated name
// with a number after it (arenaF64, feedIn0, gemmPlan12 ...).
func generatedPrefix(name string) bool {
	for _, p := range []string{"arena", "feedIn", "feedOut", "gemmPlan", "convPlan", "loop", "task"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	if len(name) > 1 {
		if _, err := strconv.Atoi(name[1:]); err == nil {
			return true // l12, a loop's field, and the like
		}
	}
	return false
}

// absorbed reports whether n has no code of its own: a consumer's code
// computes it (fusion, or an epilogue's kernel call).
func (p *plan) absorbed(n *ir.Node) bool { return p.fused[n] || p.epilogueOf[n] }

// keepBuffers returns the nodes that keep storage of their own: those
// no epilogue, fusion or in-place update absorbed.
func (p *plan) keepBuffers() buffers {
	b := buffers{hasBuf: map[*ir.Node]bool{}}
	for _, n := range p.allBufs {
		if p.absorbed(n) || p.inPlace[n] != nil || p.carried[n] != nil {
			continue
		}
		b.bufs = append(b.bufs, n)
		b.hasBuf[n] = true
	}
	b.bufName = p.bufNames(b.bufs)
	return b
}
