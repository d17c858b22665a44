package compiler

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/flow-lang/flow/compiler/cost"
	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// PassContext runs the pass pipeline on checked modules: it holds what
// the passes depend on (the cost profile, whether to optimize) and the
// hooks that observe the pipeline (dumps, timing, verification).
type PassContext struct {
	// Profile is the machine profile the cost-based passes estimate with;
	// nil means cost.Default().
	Profile *cost.Profile
	// NoOptimize leaves the optimization passes out of the pipeline.
	NoOptimize bool
	// Dump, when set, receives the module after each stage (each
	// top-level pass of Pipeline that ran), under the stage's name.
	Dump func(stage string, g *ir.Module)
	// Timing, when set, receives the time each stage took.
	Timing func(stage string, d time.Duration)
	// Verify runs ir.Verify after every pass (and every step of a
	// composite pass) and turns a failure into an internal error naming
	// the pass.
	Verify bool
}

// verifyAll makes every compilation verify the IR after each pass, as
// Options.Verify does; the package's tests set it (TestMain).
var verifyAll bool

// passContext returns the pass context that opts ask for.
func (o Options) passContext() *PassContext {
	return &PassContext{Profile: o.Profile, NoOptimize: o.NoOptimize, Dump: o.DumpAfter, Timing: o.Timing, Verify: o.Verify || verifyAll}
}

// Pipeline returns the passes Run applies to a checked module, in order;
// each is a stage that Dump and Timing report under its name:
//
//   - stable-log-softmax, needed before autodiff;
//   - the optimization passes (OptimizationPasses) on the forward graph,
//     before autodiff, so that the gradients are taken of the simplified
//     graph (unless NoOptimize);
//   - train-mode (TrainMode), for models with dropout or batch_norm;
//   - train (Train): autodiff and the optimizer, prune, order-updates;
//   - the optimization passes again, on the whole training graph, where
//     gradients repeat forward values and build constant expressions
//     (unless NoOptimize);
//   - hoist-loop-transposes (HoistLoopTransposes), last (unless
//     NoOptimize).
func (cx *PassContext) Pipeline() []Pass {
	var opt []Pass
	if !cx.NoOptimize {
		opt = optimizationPasses(cx.Profile)
	}
	out := []Pass{StableLogSoftmax}
	out = append(out, opt...)
	out = append(out, TrainMode, Train)
	out = append(out, opt...)
	if !cx.NoOptimize {
		out = append(out, HoistLoopTransposes)
	}
	return out
}

// Run applies the pipeline to g. A pass's positioned error (a
// *lang.Error) comes back as a lang.ErrorList; any other error, a panic
// in a pass and, with Verify, a module that fails ir.Verify after a pass
// are errors naming the pass.
//
// Once order-updates has given the updates their control edges, Run
// derives them anew after every later pass: a pass that rewrites the
// readers of a param (transpose-matmul turning dy @ transpose(W) into a
// matmul that reads W) leaves them stale, and a reader that only an edge
// kept then dies with the next dce.
func (cx *PassContext) Run(g *ir.Module) error {
	timed := StageTimer(cx.Timing)
	if cx.Dump != nil {
		cx.Dump("check", g)
	}
	if err := cx.verify(g, "check"); err != nil {
		return err
	}
	for _, p := range cx.Pipeline() {
		if p.When != nil && !p.When(g) {
			continue
		}
		steps := p.Steps
		if steps == nil {
			steps = []Pass{p}
		}
		for _, s := range steps {
			if err := cx.runPass(g, s); err != nil {
				return err
			}
		}
		timed(p.Name)
		if cx.Dump != nil {
			cx.Dump(p.Name, g)
		}
	}
	return nil
}

// runPass runs one pass (not a composite) on g and verifies the result.
func (cx *PassContext) runPass(g *ir.Module, p Pass) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: internal error in pass %s: %v", g.Source, p.Name, r)
		}
	}()
	if err := p.Run(g); err != nil {
		var le *lang.Error
		if errors.As(err, &le) {
			return lang.ErrorList{le}
		}
		return fmt.Errorf("%s: pass %s: %v", g.Source, p.Name, err)
	}
	if g.UpdatesOrdered && p.Name != OrderUpdates.Name {
		// The pass's own work is checked before the edges are brought up
		// to date, which may move updates and so mend an order it broke.
		g.UpdatesOrdered = false
		err := cx.verify(g, p.Name)
		g.UpdatesOrdered = true
		if err != nil {
			return err
		}
		orderUpdates(g)
	}
	return cx.verify(g, p.Name)
}

// verify checks g after pass name when the context asks for it.
func (cx *PassContext) verify(g *ir.Module, name string) error {
	if !cx.Verify {
		return nil
	}
	if err := ir.Verify(g); err != nil {
		return fmt.Errorf("%s: internal error: the IR after pass %s is invalid:\n%v", g.Source, name, err)
	}
	return nil
}

// StageNames lists the names under which Options.DumpAfter receives the
// IR, in pipeline order: "check", then the stages of the full pipeline
// (the optimization passes run twice; their names appear once).
func StageNames() []string {
	return stageNames(&PassContext{})
}

// LoweringStageNames lists the stages that run with
// Options.NoOptimize, in pipeline order.
func LoweringStageNames() []string {
	return stageNames(&PassContext{NoOptimize: true})
}

func stageNames(cx *PassContext) []string {
	names := []string{"check"}
	for _, p := range cx.Pipeline() {
		if !slices.Contains(names, p.Name) {
			names = append(names, p.Name)
		}
	}
	return names
}
