package codegen

import (
	"fmt"
	"strconv"

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
// shape share one plan, computed once. The decisions, with the estimated
// times, are in the plan functions' comments.

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

// profile returns the profile decisions are made with: Options.Profile,
// else the built-in one.
func (c *gen) profile() *cost.Profile {
	if c.opts.Profile != nil {
		return c.opts.Profile
	}
	if c.defaultProfile == nil {
		c.defaultProfile = cost.Default()
	}
	return c.defaultProfile
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
// intervals, computed once, and the plan functions declared for it, by
// whether they fuse ReLU.
type sharedPlan struct {
	steps []planStep
	fn    map[bool]string
}

// sharedPlan returns the shared plan of the calls whose options are those of
// key (a comparable value that determines options at every batch size),
// computing its intervals on first use.
func (c *gen) sharedPlan(key any, fixed bool, options func(batch int) []planOption) *sharedPlan {
	if sp, ok := c.plans[key]; ok {
		return sp
	}
	sp := &sharedPlan{steps: planSteps(fixed, options), fn: map[bool]string{}}
	c.plans[key] = sp
	return sp
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

// gemmPlan returns the runtime.GemmPlan expression of the SGEMM calls of
// matmul n (cost.MatmulDims), applying ReLU to the result when relu.
func (c *gen) gemmPlan(n *ir.Node, relu bool) jen.Code {
	if c.probe != nil {
		return jen.Null() // fuse asking for an element expression
	}
	p := c.profile()
	// m, n and k are products of dimensions, each fixed or the batch
	// size: their values at batch sizes 1 and 2 determine them at every
	// batch size.
	type gemmKey struct {
		m1, n1, k1, m2, n2, k2 int
		ta, tb                 bool
	}
	m1, n1, k1, _, ta, tb := cost.MatmulDims(n, cost.Bind(c.g, 1))
	m2, n2, k2, _, _, _ := cost.MatmulDims(n, cost.Bind(c.g, 2))
	sp := c.sharedPlan(gemmKey{m1, n1, k1, m2, n2, k2, ta, tb}, fixedShapes(n), func(b int) []planOption {
		m, nn, k, _, ta, tb := cost.MatmulDims(n, cost.Bind(c.g, b))
		var opts []planOption
		for _, o := range cost.Gemm(p, m, nn, k, ta, tb).Options {
			opts = append(opts, planOption{o.Kernel, o.Threads, o.Micros})
		}
		return opts
	})
	a, w := n.Inputs[0].Type.String(), n.Inputs[1].Type.String()
	if n.Attrs.Bool("transpose_a") {
		a += "ᵀ"
	}
	if n.Attrs.Bool("transpose_b") {
		w += "ᵀ"
	}
	return c.planCode("gemmPlan", "GemmPlan", gemmKernels, n, fmt.Sprintf("the SGEMM of %s (%s @ %s)", n.Label(), a, w), sp, relu)
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

// convPlan returns the runtime.ConvPlan expression of convolution node n
// (conv2d or a gradient), fusing ReLU into its output when relu.
func (c *gen) convPlan(n *ir.Node, relu bool) jen.Code {
	if c.probe != nil {
		return jen.Null() // fuse asking for an element expression
	}
	p := c.profile()
	// Only the batch dimension can be symbolic.
	type convKey struct {
		op     string
		geo1   cost.ConvGeometry
		batch2 int
	}
	key := convKey{n.Op.Name, cost.NodeConvGeometry(n, cost.Bind(c.g, 1)), cost.NodeConvGeometry(n, cost.Bind(c.g, 2)).Batch}
	sp := c.sharedPlan(key, fixedShapes(n), func(b int) []planOption {
		var opts []planOption
		for _, o := range cost.Conv(p, n.Op.Name, cost.NodeConvGeometry(n, cost.Bind(c.g, b))).Options {
			opts = append(opts, planOption{o.Kernel, o.Threads, o.Micros})
		}
		return opts
	})
	return c.planCode("convPlan", "ConvPlan", convKernels, n, n.Op.Name+" "+n.Label(), sp, relu)
}

// planCode renders sp as a runtime plan (typ: "GemmPlan" or
// "ConvPlan"): a literal for one step, else a call of a plan function
// named prefix+ID after the first node n that needs it, which every call
// of the same shape shares.
func (c *gen) planCode(prefix, typ string, kernels map[string]string, n *ir.Node, what string, sp *sharedPlan, relu bool) jen.Code {
	steps := sp.steps
	lit := func(s planStep) *jen.Statement {
		fields := []jen.Code{
			jen.Id("Kernel").Op(":").Qual(RuntimePath, kernels[s.kernel]),
			jen.Id("Threads").Op(":").Lit(s.threads),
		}
		if relu {
			fields = append(fields, jen.Id("Relu").Op(":").True())
		}
		return jen.Qual(RuntimePath, typ).Values(fields...)
	}
	if len(steps) == 1 {
		return lit(steps[0])
	}
	name, ok := sp.fn[relu]
	if !ok {
		name = prefix + strconv.Itoa(n.ID)
		sp.fn[relu] = name
		c.f.Comment(fmt.Sprintf("%s is the cost model's plan for %s by batch size n (estimated times):", name, what))
		var cases []jen.Code
		lo := 1
		for i, s := range steps {
			rng := fmt.Sprintf("n in [%d, %d]", lo, s.upTo)
			at := fmt.Sprintf("%s at n = %d", estimateText(s.us), s.upTo)
			if i == len(steps)-1 {
				rng, at = fmt.Sprintf("n >= %d", lo), fmt.Sprintf("%s at n = %d", estimateText(s.usLo), lo)
			}
			c.f.Comment(fmt.Sprintf("  - %s: %s on %d goroutine(s), %s", rng, s.kernel, s.threads, at))
			if i < len(steps)-1 {
				cases = append(cases, jen.Case(jen.Id("n").Op("<=").Lit(s.upTo)).Block(jen.Return(lit(s))))
			}
			lo = s.upTo + 1
		}
		c.f.Func().Id(name).Params(jen.Id("n").Int()).Qual(RuntimePath, typ).Block(
			jen.Switch().Block(cases...),
			jen.Return(lit(steps[len(steps)-1])),
		)
	}
	return jen.Id(name).Call(jen.Id("n"))
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
