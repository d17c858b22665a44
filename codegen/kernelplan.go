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
// choice is the same, evaluated for every n up to planBatchMax (larger
// batches keep the last interval's plan; an interval keeps its plan
// while that is within planSticky of the fastest). The decisions, with the
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

// planSteps evaluates options (every way of running the call at a batch
// size, fastest first) at every batch size from 1 to planBatchMax (or
// once, when fixed) and returns the intervals of equal choice: the
// fastest option, unless the previous interval's plan is within
// planSticky of it.
func planSteps(fixed bool, options func(batch int) []planOption) []planStep {
	last := planBatchMax
	if fixed {
		last = 1
	}
	var steps []planStep
	for b := 1; b <= last; b++ {
		opts := options(b)
		best := opts[0]
		if n := len(steps); n > 0 {
			cur := &steps[n-1]
			for _, o := range opts {
				if o.kernel == cur.kernel && o.threads == cur.threads && o.us <= best.us*(1+planSticky) {
					cur.upTo, cur.us = b, o.us
					best.kernel = ""
					break
				}
			}
		}
		if best.kernel != "" {
			steps = append(steps, planStep{upTo: b, kernel: best.kernel, threads: best.threads, us: best.us, usLo: best.us})
		}
	}
	return steps
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
	steps := planSteps(fixedShapes(n), func(b int) []planOption {
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
	return c.planCode("gemmPlan", "GemmPlan", gemmKernels, n, fmt.Sprintf("the SGEMM of %s (%s @ %s)", n.Label(), a, w), steps, relu)
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
	steps := planSteps(fixedShapes(n), func(b int) []planOption {
		var opts []planOption
		for _, o := range cost.Conv(p, n.Op.Name, cost.NodeConvGeometry(n, cost.Bind(c.g, b))).Options {
			opts = append(opts, planOption{o.Kernel, o.Threads, o.Micros})
		}
		return opts
	})
	return c.planCode("convPlan", "ConvPlan", convKernels, n, n.Op.Name+" "+n.Label(), steps, relu)
}

// planCode renders steps as a runtime plan (typ: "GemmPlan" or
// "ConvPlan"): a literal for one step, else a call of a plan function
// named prefix+ID, declared once per node.
func (c *gen) planCode(prefix, typ string, kernels map[string]string, n *ir.Node, what string, steps []planStep, relu bool) jen.Code {
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
	name := prefix + strconv.Itoa(n.ID)
	if !c.planDeclared[name] {
		c.planDeclared[name] = true
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
