package codegen

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/cost"
	"github.com/flow-lang/flow/compiler/ir"
)

// Kernel plans. The cost model decides how every SGEMM and convolution
// of the generated code runs — its kernel and how many goroutines share
// it (cost.Gemm, cost.Conv) — and the code passes the decision to the
// runtime (runtime.SgemmPlan, runtime.Conv2D*Plan), whose own thresholds
// then play no part. A call whose shapes are fixed gets one plan, written
// as a literal; one whose shapes grow with the batch size n gets a plan
// function that switches on n over the intervals where the cost model's
// choice is the same, found by planSteps up to planBatchMax (larger
// batches keep the last interval's plan; an interval keeps its plan
// while that is within planSticky of the fastest). Calls of the same
// shape share one plan, computed once, and plans of different shapes
// that the cost model decides the same way (the same intervals, kernels
// and goroutine counts) share one plan function. The decisions, with the
// estimated times, are in the plan functions' comments.

// planBatchMax is the largest batch size plans are evaluated at.
const planBatchMax = 4096

// planStep is one interval of a plan function: batch sizes up to upTo
// (inclusive) run kernel on threads goroutines, estimated at us for the
// interval's last batch size (and usLo at its first).
type planStep struct {
	upTo    int
	kernel  string
	threads int
	us      float64 // at upTo
	usLo    float64 // at the interval's first batch size
}

// planOption is one way of running a kernel call and its estimate.
type planOption struct {
	kernel  string
	threads int
	us      float64
}

// planSticky is how much faster (as a fraction) another option must be
// estimated than the current interval's plan before a larger batch size
// switches to it: options within a few percent of each other are equal
// within the model's accuracy, and flapping between them would only
// lengthen the plan.
const planSticky = 0.05

// planSteps finds the intervals of batch sizes from 1 to planBatchMax
// (or the one size, when fixed) over which the choice among options
// (every way of running the call at a batch size, fastest first) is the
// same: an interval starts with the fastest option and keeps it while
// it is within planSticky of the fastest.
//
// It does not evaluate every batch size: up to planExact it does, and
// above, it probes batch sizes a stride of 1/planStrideDiv apart and
// bisects a stride where the plan stops holding for the first size where
// it does not. A switch away and back again inside one stride (an option
// faster on a few percent of the sizes) is not seen; the cost model is
// not that precise anyway.
func planSteps(fixed bool, options func(batch int) []planOption) []planStep {
	first := options(1)[0]
	steps := []planStep{{upTo: 1, kernel: first.kernel, threads: first.threads, us: first.us, usLo: first.us}}
	if fixed {
		return steps
	}
	// holds reports whether the current interval's plan is kept at batch
	// size b, and its estimate there; when it is not, it returns the
	// fastest option instead.
	holds := func(b int) (planOption, bool) {
		cur := &steps[len(steps)-1]
		opts := options(b)
		for _, o := range opts {
			if o.kernel == cur.kernel && o.threads == cur.threads && o.us <= opts[0].us*(1+planSticky) {
				return o, true
			}
		}
		return opts[0], false
	}
	for b := 1; b < planBatchMax; {
		next := min(b+planStride(b), planBatchMax)
		o, ok := holds(next)
		if !ok {
			// The plan holds at b and not at next: find the first size in
			// between where it does not.
			lo, hi, best := b, next, o
			for hi-lo > 1 {
				mid := (lo + hi) / 2
				if m, ok := holds(mid); ok {
					lo = mid
					steps[len(steps)-1].upTo, steps[len(steps)-1].us = mid, m.us
				} else {
					hi, best = mid, m
				}
			}
			steps = append(steps, planStep{upTo: hi, kernel: best.kernel, threads: best.threads, us: best.us, usLo: best.us})
			b = hi
			continue
		}
		steps[len(steps)-1].upTo, steps[len(steps)-1].us = next, o.us
		b = next
	}
	return steps
}

// Plan search: every batch size up to planExact is evaluated; above it,
// sizes b/planStrideDiv apart.
const (
	planExact     = 64
	planStrideDiv = 64
)

// planStride is how far planSteps steps from batch size b.
func planStride(b int) int {
	if b < planExact {
		return 1
	}
	return max(1, b/planStrideDiv)
}

// sharedPlan is the plan of every kernel call of one shape: its
// intervals, computed once, the plan functions that render them, by
// whether they fuse ReLU (none when there is one interval: the plan is
// a literal), and the calls that use it, in emission order.
type sharedPlan struct {
	// by is the monomial of symbolic dimensions (a size's key) whose
	// value the plan switches on: the batch, or for a model with several
	// symbols the one its sizes grow with (see gemmOptions).
	by    string
	steps []planStep
	fn    map[bool]string
	users []*ir.Node
}

// kernelPlan is the plan of one SGEMM or convolution call: the shared
// plan of its shape, and whether the call fuses ReLU (an epilogue's).
type kernelPlan struct {
	shared *sharedPlan
	relu   bool
}

// fn is the plan function the call uses, or "" for a literal.
func (k *kernelPlan) fn() string { return k.shared.fn[k.relu] }

// kernelPlans are the kernel plans of the SGEMM and convolution calls
// (step "kernels").
type kernelPlans struct {
	// kernels are the plans by the node whose call it is.
	kernels map[*ir.Node]*kernelPlan
	// fnCalls lists by plan function the first call of each plan that
	// uses it, in emission order: several when plans of different
	// shapes have the same intervals, kernels and goroutine counts, so
	// the same function body.
	fnCalls map[string][]*ir.Node
}

// planKernels plans every SGEMM and convolution call the programs make.
// Calls whose options are the same at every batch size share one plan;
// a plan function is named prefix+ID after the first call that needs it
// in emission order (the programs in turn, each in codeOrder), which
// also declares it, and serves every later plan whose function would
// have the same body (planBody).
func (c *gen) planKernels() kernelPlans {
	out := map[*ir.Node]*kernelPlan{}
	fnCalls := map[string][]*ir.Node{}
	byBody := map[string]string{}
	shared := map[any]*sharedPlan{}
	for i := range c.plan.facts.progs {
		for _, n := range c.emissionOrder(&c.plan.facts.progs[i]) {
			if c.plan.absorbed(n) {
				continue // planned at its epilogue's end, which knows of a ReLU
			}
			k, relu := n, false
			if e := c.plan.epilogue[n]; e != nil {
				k, relu = e.kernel, e.relu
			}
			if out[k] != nil {
				continue
			}
			var key any
			var options func(batch int) []planOption
			prefix := "convPlan"
			by := ""
			if len(c.g.Syms) > 0 {
				by = c.g.Syms[0]
			}
			switch k.Op {
			case ir.Matmul:
				if k.Type.DType != ir.F32 {
					continue // a loop nest (emitMatmul)
				}
				key, options, by = c.gemmOptions(k)
				prefix = "gemmPlan"
			case ir.Conv2d, ir.Conv2dBackpropInput, ir.Conv2dBackpropFilter:
				key, options = c.convOptions(k)
			default:
				continue
			}
			sp := shared[key]
			if sp == nil {
				sp = &sharedPlan{by: by, steps: planSteps(fixedShapes(k), options), fn: map[bool]string{}}
				shared[key] = sp
			}
			if _, ok := sp.fn[relu]; !ok && len(sp.steps) > 1 {
				body := planBody(prefix, sp, relu)
				name, ok := byBody[body]
				if !ok {
					name = prefix + strconv.Itoa(k.ID)
					byBody[body] = name
				}
				sp.fn[relu] = name
				fnCalls[name] = append(fnCalls[name], k)
			}
			sp.users = append(sp.users, k)
			out[k] = &kernelPlan{shared: sp, relu: relu}
		}
	}
	return kernelPlans{kernels: out, fnCalls: fnCalls}
}

// planBody is what the body of a plan function (prefix: gemmPlan or
// convPlan) for sp, with ReLU or not, depends on: the value it switches
// on and each interval's end, kernel and goroutine count, not the
// estimates (which only its comment gives).
func planBody(prefix string, sp *sharedPlan, relu bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s by %q relu %v:", prefix, sp.by, relu)
	for _, s := range sp.steps {
		fmt.Fprintf(&b, " %d %s %d;", s.upTo, s.kernel, s.threads)
	}
	return b.String()
}

// gemmKernels maps the cost model's kernel names to the runtime's.
var gemmKernels = map[string]string{
	cost.KernelRows:   "GemmRows",
	cost.KernelSmall:  "GemmSmall",
	cost.KernelNarrow: "GemmNarrow",
	cost.KernelDirect: "GemmDirect",
	cost.KernelPacked: "GemmPacked",
}

// convKernels maps the cost model's convolution kernels to the
// runtime's.
var convKernels = map[string]string{
	cost.ConvIm2col: "ConvIm2col",
	cost.ConvDirect: "ConvDirect",
}

// gemmOptions returns the key of matmul n's SGEMM calls (a comparable
// value that determines its options at every size), its options
// (cost.MatmulDims, cost.Gemm) and the monomial its plan switches on
// (see sharedPlan.by). With one symbolic dimension, the plan switches on
// the batch size. With several, when each of m, n and k is fixed or a
// constant times one monomial (m = N·T for the stacked rows of a batched
// [N, T, D] @ [D, U]; m = T), the plan switches on that monomial's value
// (n*t); when they grow with different symbols (m = N and k = T, say),
// it switches on the batch size as though every symbol had its value.
func (c *gen) gemmOptions(n *ir.Node) (any, func(batch int) []planOption, string) {
	p := c.plan.profile
	type gemmKey struct {
		m1, n1, k1, m2, n2, k2 int
		ta, tb                 bool
		by                     string
	}
	m1, n1, k1, _, ta, tb := c.gemmDims(n, cost.Bind(c.g, 1))
	if w := c.gemmMonomial(n); w != "" {
		grows := func(d1, d2 int) int { return min(d2-d1, 1) } // 1 when the dim is the monomial's multiple
		b := cost.Bind(c.g, 2)
		m2, n2, k2, _, _, _ := c.gemmDims(n, b)
		gm, gn, gk := grows(m1, m2), grows(n1, n2), grows(k1, k2)
		scale := func(d, g, v int) int {
			if g == 0 {
				return d
			}
			return d * v
		}
		return gemmKey{m1, n1, k1, gm, gn, gk, ta, tb, w}, func(v int) []planOption {
			var opts []planOption
			for _, o := range cost.Gemm(p, scale(m1, gm, v), scale(n1, gn, v), scale(k1, gk, v), ta, tb).Options {
				opts = append(opts, planOption{o.Kernel, o.Threads, o.Micros})
			}
			return opts
		}, w
	}
	// m, n and k are products of dimensions, each fixed or the batch
	// size: their values at batch sizes 1 and 2 determine them at every
	// batch size.
	m2, n2, k2, _, _, _ := c.gemmDims(n, cost.Bind(c.g, 2))
	by := ""
	if len(c.g.Syms) > 0 {
		by = c.g.Syms[0]
	}
	return gemmKey{m1, n1, k1, m2, n2, k2, ta, tb, by}, func(b int) []planOption {
		m, nn, k, _, ta, tb := c.gemmDims(n, cost.Bind(c.g, b))
		var opts []planOption
		for _, o := range cost.Gemm(p, m, nn, k, ta, tb).Options {
			opts = append(opts, planOption{o.Kernel, o.Threads, o.Micros})
		}
		return opts
	}, by
}

// gemmDims returns the dimensions of matmul n's SGEMM calls under b, as
// cost.MatmulDims, except for a matmul whose batched products an
// epilogue sums, which is one call of cost.MatmulSumDims.
func (c *gen) gemmDims(n *ir.Node, b ir.Binding) (m, nn, k, calls int, transA, transB bool) {
	if c.sumsBatch(n) {
		m, nn, k = cost.MatmulSumDims(n, b)
		return m, nn, k, 1, true, false
	}
	return cost.MatmulDims(n, b)
}

// sumsBatch reports whether matmul n is the kernel of an epilogue that
// sums its batched products (epilogue.sumBatch).
func (c *gen) sumsBatch(n *ir.Node) bool {
	if !c.plan.epilogueOf[n] {
		return false
	}
	e := c.plan.epilogue[c.plan.facts.reader(n)]
	return e != nil && e.kernel == n && e.sumBatch
}

// gemmMonomial returns, for a model with several symbolic dimensions,
// the monomial every size of matmul n's SGEMM (m, n, k) that is not
// fixed equals a constant times, when there is one and it is not the
// batch alone; else "".
func (c *gen) gemmMonomial(n *ir.Node) string {
	if len(c.g.Syms) < 2 {
		return ""
	}
	m1, n1, k1, _, _, _ := c.gemmDims(n, cost.Bind(c.g, 1))
	base := [3]int{m1, n1, k1}
	// pow[d][s]: the power of symbol s in size d, from its growth when s
	// alone doubles.
	var pow [3][]int
	for _, s := range c.g.Syms {
		b := cost.Bind(c.g, 1)
		b[s] = 2
		m, nn, k, _, _, _ := c.gemmDims(n, b)
		for d, v := range [3]int{m, nn, k} {
			e := 0
			for v > base[d] && base[d] > 0 {
				v /= 2
				e++
			}
			if v != base[d] {
				return "" // not a monomial (clamped, say)
			}
			pow[d] = append(pow[d], e)
		}
	}
	var w []int
	for d := range pow {
		if !slices.ContainsFunc(pow[d], func(e int) bool { return e > 0 }) {
			continue // fixed
		}
		if w == nil {
			w = pow[d]
		} else if !slices.Equal(w, pow[d]) {
			return ""
		}
	}
	key := ""
	for i, e := range w {
		for range e {
			key = monoMul(key, c.g.Syms[i])
		}
	}
	if key == c.g.Syms[0] {
		return "" // the batch alone: the plan of one symbolic dimension
	}
	return key
}

// convOptions returns the key of convolution node n's calls (conv2d or
// a gradient) and its options (cost.Conv).
func (c *gen) convOptions(n *ir.Node) (any, func(batch int) []planOption) {
	p := c.plan.profile
	// Only the batch dimension can be symbolic (another symbol is
	// planned as though it had the batch's size).
	type convKey struct {
		op     string
		geo1   cost.ConvGeometry
		batch2 int
	}
	key := convKey{n.Op.Name, cost.NodeConvGeometry(n, cost.Bind(c.g, 1)), cost.NodeConvGeometry(n, cost.Bind(c.g, 2)).Batch}
	return key, func(b int) []planOption {
		var opts []planOption
		for _, o := range cost.Conv(p, n.Op.Name, cost.NodeConvGeometry(n, cost.Bind(c.g, b))).Options {
			opts = append(opts, planOption{o.Kernel, o.Threads, o.Micros})
		}
		return opts
	}
}

// fixedShapes reports whether n and its operands have no symbolic
// dimension.
func fixedShapes(n *ir.Node) bool {
	for _, v := range append([]*ir.Node{n}, n.Inputs...) {
		for _, d := range v.Type.Shape {
			if d.IsSym() {
				return false
			}
		}
	}
	return true
}

// gemmPlan returns the runtime.GemmPlan expression of the SGEMM calls of
// matmul n, as planned.
func (c *gen) gemmPlan(n *ir.Node) jen.Code {
	if c.probe != nil {
		return jen.Null() // fuse asking for an element expression
	}
	return c.planCode("GemmPlan", gemmKernels, n)
}

// kernelCall describes the SGEMM or convolution call of node n for a
// plan function's comment.
func kernelCall(n *ir.Node) string {
	if n.Op != ir.Matmul {
		return n.Op.Name + " " + n.Label()
	}
	a, w := n.Inputs[0].Type.String(), n.Inputs[1].Type.String()
	if n.Attrs.Bool("transpose_a") {
		a += "ᵀ"
	}
	if n.Attrs.Bool("transpose_b") {
		w += "ᵀ"
	}
	return fmt.Sprintf("the SGEMM of %s (%s @ %s)", n.Label(), a, w)
}

// convPlan returns the runtime.ConvPlan expression of convolution node n
// (conv2d or a gradient), as planned.
func (c *gen) convPlan(n *ir.Node) jen.Code {
	if c.probe != nil {
		return jen.Null() // fuse asking for an element expression
	}
	return c.planCode("ConvPlan", convKernels, n)
}

// planCode renders the plan of n's kernel call as a runtime plan (typ:
// "GemmPlan" or "ConvPlan"): a literal for one step, else a call of its
// plan function, declared where first called, its comment describing the
// decisions for that call (kernelCall) and naming the other calls whose
// plans it serves too.
func (c *gen) planCode(typ string, kernels map[string]string, n *ir.Node) jen.Code {
	kp := c.plan.kernels[n]
	steps := kp.shared.steps
	lit := func(s planStep) *jen.Statement {
		fields := []jen.Code{
			jen.Id("Kernel").Op(":").Qual(RuntimePath, kernels[s.kernel]),
			jen.Id("Threads").Op(":").Lit(s.threads),
		}
		if kp.relu {
			fields = append(fields, jen.Id("Relu").Op(":").True())
		}
		return jen.Qual(RuntimePath, typ).Values(fields...)
	}
	name := kp.fn()
	if name == "" {
		return lit(steps[0])
	}
	v, by, arg := "n", "batch size n", jen.Id("n")
	if w := kp.shared.by; len(c.g.Syms) > 0 && w != "" && w != c.g.Syms[0] {
		arg = size{c: 1, k: w}.code()
		v = "v"
		if ident, ok := c.plan.symIdent[w]; ok {
			v = ident
		}
		by = fmt.Sprintf("%s = %s", v, monoText(w))
	}
	if !c.planDeclared[name] {
		c.planDeclared[name] = true
		c.f.Comment(fmt.Sprintf("%s is the cost model's plan for %s by %s (estimated times):", name, kernelCall(n), by))
		var cases []jen.Code
		lo := 1
		for i, s := range steps {
			rng := fmt.Sprintf("%s in [%d, %d]", v, lo, s.upTo)
			at := fmt.Sprintf("%s at %s = %d", estimateText(s.us), v, s.upTo)
			if i == len(steps)-1 {
				rng, at = fmt.Sprintf("%s >= %d", v, lo), fmt.Sprintf("%s at %s = %d", estimateText(s.usLo), v, lo)
			}
			c.f.Comment(fmt.Sprintf("  - %s: %s on %d goroutine(s), %s", rng, s.kernel, s.threads, at))
			if i < len(steps)-1 {
				cases = append(cases, jen.Case(jen.Id(v).Op("<=").Lit(s.upTo)).Block(jen.Return(lit(s))))
			}
			lo = s.upTo + 1
		}
		for _, o := range c.plan.fnCalls[name] {
			if c.plan.kernels[o].shared != kp.shared {
				c.f.Comment(fmt.Sprintf("It is also the plan for %s, which the cost model decides the same way.", kernelCall(o)))
			}
		}
		c.f.Func().Id(name).Params(jen.Id(v).Int()).Qual(RuntimePath, typ).Block(
			jen.Switch().Block(cases...),
			jen.Return(lit(steps[len(steps)-1])),
		)
	}
	return jen.Id(name).Call(arg)
}

// estimateText renders an estimated time.
func estimateText(us float64) string {
	switch {
	case us >= 1000:
		return fmt.Sprintf("%.1f ms", us/1000)
	case us >= 10:
		return fmt.Sprintf("%.0f µs", us)
	}
	return fmt.Sprintf("%.1f µs", us)
}
