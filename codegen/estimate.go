package codegen

import (
	"math"

	"github.com/dave/jennifer/jen"

	"github.com/flow-lang/flow/compiler/cost"
)

// estimateBatches are the batch sizes the signature carries cost-model
// estimates for, per program, when the model has a symbolic batch
// dimension: predict for one example and a batch of 64, a training step
// at 64.
var estimateBatches = map[string][]int{
	"predict": {1, 64},
	"train":   {64},
}

// addEstimates adds the cost model's per-call estimates to the signature
// dict: predict and train at estimateBatches, or at the model's own batch
// when its shapes are all fixed. The profile is Options.Profile, else the
// built-in one, so generated code depends on the machine only when the
// caller asks.
func (c *gen) addEstimates(dict map[string]jen.Code) {
	p := c.plan.profile
	natural := 0
	if len(c.g.Syms) == 0 {
		natural = 1
		if len(c.g.Inputs) > 0 && c.g.Inputs[0].Type.Shape.Rank() > 0 {
			natural = c.g.Inputs[0].Type.Shape[0].Size
		}
	}
	var out []jen.Code
	for _, prog := range []string{"predict", "train"} {
		batches := estimateBatches[prog]
		if natural > 0 {
			batches = []int{natural}
		}
		for _, b := range batches {
			var pr *cost.Program
			if prog == "predict" {
				pr = cost.PredictFused(c.g, p, b, c.plan.fusion(), c.plan.splits())
			} else {
				pr = cost.TrainFused(c.g, p, b, c.plan.fusion(), c.plan.splits())
			}
			if pr == nil {
				continue
			}
			out = append(out, runtimeKeyed("Estimate", map[string]jen.Code{
				"Program": jen.Lit(prog),
				"Batch":   jen.Lit(b),
				"Micros":  jen.Lit(roundMicros(pr.Micros)),
			}))
		}
	}
	if len(out) > 0 {
		dict["Estimates"] = jen.Index().Qual(RuntimePath, "Estimate").Values(out...)
	}
}

// roundMicros rounds an estimate to three significant digits (at least
// 0.1 µs): its precision is far coarser than float64's, and short
// literals read better in generated code.
func roundMicros(us float64) float64 {
	if us <= 0 {
		return 0
	}
	scale := math.Pow(10, math.Floor(math.Log10(us))-2)
	scale = max(scale, 0.1)
	r := math.Round(us/scale) * scale
	// Strip the float noise of the multiplication for the literal.
	return math.Round(r*10) / 10
}
