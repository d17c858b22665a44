package compiler

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/flow-lang/flow/compiler/ir"
)

// Optimizers are lowered into IR: a training step's updates are ordinary
// graph nodes ending in assign nodes, so the interpreter and the code
// generator support every optimizer without knowing it. Optimizer state
// (moment estimates, velocities, the step counter) lives in slot params:
// params the lowering creates with attribute trainable = false and
// initializer zeros, named after the param they belong to ("W/adam_m") or
// "optimizer/step". They are updated by assign nodes like the params, so
// they appear in Params() for checkpoints, but ir.Module.ParamCount does
// not count them.
//
// The semantics are TensorFlow's Keras optimizers (tf.keras.optimizers in
// TensorFlow 2.11 and later, the same as Keras 3), step for step:
//
//   - The step counter `iterations` starts at 0 and is incremented by
//     every training step. Learning-rate schedules are evaluated at
//     `iterations` before the increment (the first step uses schedule(0)),
//     and Adam's bias correction uses t = iterations + 1.
//   - Gradients are first clipped by their global norm (clip_norm, Keras's
//     global_clipnorm): g = g * clip_norm / max(global_norm, clip_norm),
//     where global_norm = sqrt(sum over every trained param of sum(g²)).
//   - Weight decay is decoupled and scaled by the learning rate, as Keras's
//     weight_decay argument (and so AdamW when used with adam): before the
//     optimizer's update, p = p - lr * weight_decay * p. It is not an L2
//     term added to the gradient, and so does not enter the moments.
//   - Then the optimizer updates p from its clipped gradient g, with t
//     the step count after the increment:
//
//	sgd:       p = p - lr * g
//	momentum:  m = momentum * m - lr * g
//	           p = p + m                       (nesterov: p = p + momentum * m - lr * g)
//	adam:      m = m + (g - m) * (1 - beta1)
//	           v = v + (g² - v) * (1 - beta2)
//	           alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//	           p = p - m * alpha / (sqrt(v) + epsilon)
//	rmsprop:   v = rho * v + (1 - rho) * g²
//	           d = lr * g / sqrt(v + epsilon)
//	           p = p - d                       (momentum > 0: m = momentum * m + d; p = p - m)
//
// Every value is computed in the param's dtype. The step counter has the
// dtype of the params too, so in f32 it counts exactly up to 2^24 steps.

// Optimizer defines a training optimizer: its arguments and how it
// lowers a gradient into a param update, as IR nodes.
type Optimizer struct {
	Name    string
	Summary string
	// Args are the optimizer's own arguments; every optimizer also takes
	// CommonArgs after them.
	Args []ir.AttrSpec
	// Validate checks the values of Args (after defaults are filled). Its
	// errors are *ArgError, naming the argument at fault.
	Validate func(a ir.Attrs) error
	// CountsSteps reports whether Update uses the step count (Step.Count),
	// so that the lowering creates the step counter before any slot.
	CountsSteps bool
	// Update builds the new value of s.Param from w, the value to update
	// (the param, after weight decay), and its gradient grad (after
	// clipping). It creates state with s.Slot and updates it with
	// s.Assign.
	Update func(s *Step, w, grad *ir.Node) *ir.Node
}

// AllArgs returns the optimizer's arguments: its own, then CommonArgs.
func (o *Optimizer) AllArgs() []ir.AttrSpec {
	return append(append([]ir.AttrSpec(nil), o.Args...), CommonArgs...)
}

// CommonArgs are the arguments every optimizer takes after its own, by
// keyword only: decoupled weight decay, clipping by global norm and the
// learning-rate schedule. None has a default value: an absent argument is
// off (0 for weight_decay and alpha, no clipping, the constant schedule).
var CommonArgs = []ir.AttrSpec{
	{Name: "weight_decay", Kind: ir.FloatArg, Doc: "decoupled weight decay: p -= lr * weight_decay * p before the update (default 0)"},
	{Name: "clip_norm", Kind: ir.FloatArg, Doc: "clip the gradients by their global norm to at most this (default: no clipping)"},
	{Name: "schedule", Kind: ir.StringArg, Doc: `learning-rate schedule: "constant" (default), "step", "exponential" or "cosine"`},
	{Name: "decay_steps", Kind: ir.FloatArg, Doc: "steps over which the schedule decays (step, exponential, cosine)"},
	{Name: "decay_rate", Kind: ir.FloatArg, Doc: "factor per decay_steps (step, exponential)"},
	{Name: "alpha", Kind: ir.FloatArg, Doc: "final learning rate as a fraction of lr (cosine; default 0)"},
}

// Schedules lists the learning-rate schedules by name, each with the
// learning rate it gives at step s (the number of steps done before).
var Schedules = map[string]string{
	"constant":    "lr",
	"step":        "lr * decay_rate^floor(s / decay_steps)",
	"exponential": "lr * decay_rate^(s / decay_steps)",
	"cosine":      "lr * ((1 - alpha) * 0.5 * (1 + cos(pi * min(s, decay_steps) / decay_steps)) + alpha)",
}

// ArgError is an invalid optimizer argument value.
type ArgError struct {
	Arg string // the argument at fault, or "" for the call as a whole
	Msg string // the message, in user terms
}

// Error returns the message.
func (e *ArgError) Error() string { return e.Msg }

func argErrorf(arg, format string, args ...any) error {
	return &ArgError{Arg: arg, Msg: fmt.Sprintf(format, args...)}
}

// Argument checks shared by the optimizers.
func checkPositive(a ir.Attrs, name string) error {
	v := a.Float(name, 0)
	if !(v > 0) {
		return argErrorf(name, "%s must be positive, got %g", name, v)
	}
	return checkFinite(name, v)
}

func checkFinite(name string, v float64) error {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return argErrorf(name, "%s must be a finite number, got %g", name, v)
	}
	return nil
}

func checkUnit(a ir.Attrs, name string) error {
	if v := a.Float(name, 0); !(v >= 0 && v < 1) {
		return argErrorf(name, "%s must be in [0, 1), got %g", name, v)
	}
	return nil
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

const lrDoc = "learning rate (before the schedule)"

// Optimizers lists the optimizers by name.
var Optimizers = map[string]*Optimizer{
	"sgd": {
		Name:    "sgd",
		Summary: "plain gradient descent: p -= lr * grad",
		Args:    []ir.AttrSpec{{Name: "lr", Kind: ir.FloatArg, Default: 0.01, Doc: lrDoc}},
		Validate: func(a ir.Attrs) error {
			return checkPositive(a, "lr")
		},
		Update: func(s *Step, w, grad *ir.Node) *ir.Node {
			return s.Apply(ir.Sub, w, s.Apply(ir.Mul, s.LR(), grad))
		},
	},
	"momentum": {
		Name:    "momentum",
		Summary: "gradient descent with momentum (Keras SGD with momentum), optionally Nesterov",
		Args: []ir.AttrSpec{
			{Name: "lr", Kind: ir.FloatArg, Default: 0.01, Doc: lrDoc},
			{Name: "momentum", Kind: ir.FloatArg, Default: 0.9, Doc: "decay of the velocity, in [0, 1)"},
			{Name: "nesterov", Kind: ir.BoolArg, Default: false, Doc: "use Nesterov momentum"},
		},
		Validate: func(a ir.Attrs) error {
			return firstError(checkPositive(a, "lr"), checkUnit(a, "momentum"))
		},
		Update: func(s *Step, w, grad *ir.Node) *ir.Node {
			mom := s.Const(s.Attrs.Float("momentum", 0.9))
			m := s.Slot("momentum")
			step := s.Apply(ir.Mul, grad, s.LR())
			m1 := s.Apply(ir.Sub, s.Apply(ir.Mul, m, mom), step)
			s.Assign(m, m1)
			if s.Attrs.Bool("nesterov") {
				return s.Apply(ir.Add, w, s.Apply(ir.Sub, s.Apply(ir.Mul, m1, mom), step))
			}
			return s.Apply(ir.Add, w, m1)
		},
	},
	"adam": {
		Name:        "adam",
		Summary:     "Adam (Keras semantics: bias correction folded into the step size, epsilon added to sqrt(v))",
		CountsSteps: true,
		Args: []ir.AttrSpec{
			{Name: "lr", Kind: ir.FloatArg, Default: 0.001, Doc: lrDoc},
			{Name: "beta1", Kind: ir.FloatArg, Default: 0.9, Doc: "decay of the first-moment estimate, in [0, 1)"},
			{Name: "beta2", Kind: ir.FloatArg, Default: 0.999, Doc: "decay of the second-moment estimate, in [0, 1)"},
			{Name: "epsilon", Kind: ir.FloatArg, Default: 1e-7, Doc: "added to sqrt(v) for stability"},
		},
		Validate: func(a ir.Attrs) error {
			return firstError(checkPositive(a, "lr"), checkUnit(a, "beta1"), checkUnit(a, "beta2"), checkPositive(a, "epsilon"))
		},
		Update: func(s *Step, w, grad *ir.Node) *ir.Node {
			b1, b2 := s.Attrs.Float("beta1", 0.9), s.Attrs.Float("beta2", 0.999)
			m, v := s.Slot("adam_m"), s.Slot("adam_v")
			m1 := s.Apply(ir.Add, m, s.Apply(ir.Mul, s.Apply(ir.Sub, grad, m), s.Const(1-b1)))
			v1 := s.Apply(ir.Add, v, s.Apply(ir.Mul, s.Apply(ir.Sub, s.Apply(ir.Square, grad), v), s.Const(1-b2)))
			s.Assign(m, m1)
			s.Assign(v, v1)
			alpha := s.shared("adam_alpha", func() *ir.Node {
				// lr * sqrt(1 - beta2^t) / (1 - beta1^t)
				c2 := s.Apply(ir.Sqrt, s.oneMinusPower(b2))
				return s.Apply(ir.Div, s.Apply(ir.Mul, s.LR(), c2), s.oneMinusPower(b1))
			})
			den := s.Apply(ir.Add, s.Apply(ir.Sqrt, v1), s.Const(s.Attrs.Float("epsilon", 1e-7)))
			return s.Apply(ir.Sub, w, s.Apply(ir.Div, s.Apply(ir.Mul, m1, alpha), den))
		},
	},
	"rmsprop": {
		Name:    "rmsprop",
		Summary: "RMSprop (Keras semantics: epsilon inside the square root), with optional momentum",
		Args: []ir.AttrSpec{
			{Name: "lr", Kind: ir.FloatArg, Default: 0.001, Doc: lrDoc},
			{Name: "rho", Kind: ir.FloatArg, Default: 0.9, Doc: "decay of the mean square, in [0, 1)"},
			{Name: "epsilon", Kind: ir.FloatArg, Default: 1e-7, Doc: "added to the mean square for stability"},
			{Name: "momentum", Kind: ir.FloatArg, Default: 0.0, Doc: "momentum of the step, in [0, 1); 0 is none"},
		},
		Validate: func(a ir.Attrs) error {
			return firstError(checkPositive(a, "lr"), checkUnit(a, "rho"), checkPositive(a, "epsilon"), checkUnit(a, "momentum"))
		},
		Update: func(s *Step, w, grad *ir.Node) *ir.Node {
			rho := s.Attrs.Float("rho", 0.9)
			v := s.Slot("rmsprop_v")
			v1 := s.Apply(ir.Add, s.Apply(ir.Mul, v, s.Const(rho)), s.Apply(ir.Mul, s.Apply(ir.Square, grad), s.Const(1-rho)))
			s.Assign(v, v1)
			den := s.Apply(ir.Sqrt, s.Apply(ir.Add, v1, s.Const(s.Attrs.Float("epsilon", 1e-7))))
			d := s.Apply(ir.Div, s.Apply(ir.Mul, s.LR(), grad), den)
			if mom := s.Attrs.Float("momentum", 0); mom > 0 {
				m := s.Slot("rmsprop_m")
				m1 := s.Apply(ir.Add, s.Apply(ir.Mul, m, s.Const(mom)), d)
				s.Assign(m, m1)
				d = m1
			}
			return s.Apply(ir.Sub, w, d)
		},
	},
}

// validateCommon checks the common arguments against each other.
func validateCommon(a ir.Attrs) error {
	if a.Has("weight_decay") {
		v := a.Float("weight_decay", 0)
		if !(v >= 0) {
			return argErrorf("weight_decay", "weight_decay must not be negative, got %g", v)
		}
		if err := checkFinite("weight_decay", v); err != nil {
			return err
		}
	}
	if a.Has("clip_norm") {
		if err := checkPositive(a, "clip_norm"); err != nil {
			return err
		}
	}
	sched := a.String("schedule", "constant")
	if _, ok := Schedules[sched]; !ok {
		names := scheduleNames()
		return argErrorf("schedule", "unknown schedule %q (want one of %s)%s", sched, strings.Join(names, ", "), suggestFrom(sched, names))
	}
	uses := map[string][]string{
		"decay_steps": {"step", "exponential", "cosine"},
		"decay_rate":  {"step", "exponential"},
		"alpha":       {"cosine"},
	}
	for _, arg := range []string{"decay_steps", "decay_rate", "alpha"} {
		if a.Has(arg) && !slices.Contains(uses[arg], sched) {
			return argErrorf(arg, "%s applies to the %s schedule%s, not to %q", arg, andList(uses[arg]), plural(len(uses[arg])), sched)
		}
	}
	for _, arg := range []string{"decay_steps", "decay_rate"} {
		if slices.Contains(uses[arg], sched) && !a.Has(arg) {
			return argErrorf("schedule", "schedule %q needs %s", sched, arg)
		}
	}
	if a.Has("decay_steps") {
		if err := checkPositive(a, "decay_steps"); err != nil {
			return err
		}
	}
	if a.Has("decay_rate") {
		if err := checkPositive(a, "decay_rate"); err != nil {
			return err
		}
	}
	if a.Has("alpha") {
		if v := a.Float("alpha", 0); !(v >= 0 && v <= 1) {
			return argErrorf("alpha", "alpha must be in [0, 1], got %g", v)
		}
	}
	return nil
}

// andList renders [a b c] as "a, b and c".
func andList(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func scheduleNames() []string {
	var out []string
	for k := range Schedules {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func isOptimizer(name string) bool { _, ok := Optimizers[name]; return ok }

func optimizerNames() []string {
	var out []string
	for k := range Optimizers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Step builds one training step's updates: it holds the optimizer's
// arguments, the param being updated, the values shared by every param's
// update (the learning rate after the schedule, the step count), and the
// state updates recorded so far.
type Step struct {
	// G is the graph the step's nodes are added to.
	G *ir.Module
	// Attrs are the optimizer's argument values, defaults filled in.
	Attrs ir.Attrs
	// Param is the param whose update is being built.
	Param *ir.Node

	dt      ir.DType
	cache   map[string]*ir.Node
	counter *ir.Node   // the step counter param, once created
	assigns []*ir.Node // assign nodes of slots, in creation order
}

func newStep(g *ir.Module, a ir.Attrs, dt ir.DType) *Step {
	return &Step{G: g, Attrs: a, dt: dt, cache: map[string]*ir.Node{}}
}

// Apply applies op to inputs. The lowering only combines values of the
// params' own float dtype and shapes, so a failure is an internal error.
func (s *Step) Apply(op *ir.OpDef, inputs ...*ir.Node) *ir.Node {
	return s.G.MustApply(op, inputs, nil)
}

// Const returns a scalar constant in the params' dtype.
func (s *Step) Const(v float64) *ir.Node { return s.G.Const(s.dt, v) }

// shared returns the node build makes, built once per step and key.
func (s *Step) shared(key string, build func() *ir.Node) *ir.Node {
	if n, ok := s.cache[key]; ok {
		return n
	}
	n := build()
	s.cache[key] = n
	return n
}

// newParam creates a non-trainable, zero-initialized param of shape
// shape, named name (made unique if a param of that name exists).
func (s *Step) newParam(name string, shape ir.Shape) *ir.Node {
	unique := name
	for i := 1; s.G.Param(unique) != nil; i++ {
		unique = fmt.Sprintf("%s_%d", name, i)
	}
	n := s.G.MustApply(ir.Param, nil, ir.Attrs{"dtype": s.dt, "shape": shape, "init": "zeros", "trainable": false})
	n.Name = unique
	s.G.Params = append(s.G.Params, n)
	return n
}

// Slot returns a new state param of s.Param's type, starting at zero,
// named "<param>/<suffix>".
func (s *Step) Slot(suffix string) *ir.Node {
	return s.newParam(s.Param.Name+"/"+suffix, s.Param.Type.Shape)
}

// Assign records that state param slot takes value v after the step.
func (s *Step) Assign(slot, v *ir.Node) {
	s.assigns = append(s.assigns, s.G.MustApply(ir.Assign, []*ir.Node{slot, v}, nil))
}

// Iterations returns the number of steps done before this one: the step
// counter param "optimizer/step", created on first use. The counter is
// incremented by the step.
func (s *Step) Iterations() *ir.Node {
	if s.counter == nil {
		s.counter = s.newParam("optimizer/step", ir.Shape{})
	}
	return s.counter
}

// Count returns this step's 1-based number, Iterations() + 1.
func (s *Step) Count() *ir.Node {
	return s.shared("count", func() *ir.Node { return s.Apply(ir.Add, s.Iterations(), s.Const(1)) })
}

// finish appends the counter's increment, when there is a counter, to the
// recorded state updates and returns them.
func (s *Step) finish() []*ir.Node {
	if s.counter != nil {
		s.Assign(s.counter, s.Count())
	}
	return s.assigns
}

// oneMinusPower returns 1 - b^Count(), computed as 1 - exp(Count() * ln b)
// (1 when b is 0).
func (s *Step) oneMinusPower(b float64) *ir.Node {
	if b == 0 {
		return s.Const(1)
	}
	p := s.Apply(ir.Exp, s.Apply(ir.Mul, s.Count(), s.Const(math.Log(b))))
	return s.Apply(ir.Sub, s.Const(1), p)
}

// scheduled reports whether the learning rate follows a schedule.
func (s *Step) scheduled() bool { return s.Attrs.String("schedule", "constant") != "constant" }

// LR returns the learning rate of this step: a constant, or the schedule
// evaluated at Iterations() (one node shared by every param).
func (s *Step) LR() *ir.Node {
	lr := s.Attrs.Float("lr", 0.01)
	if !s.scheduled() {
		return s.Const(lr)
	}
	return s.shared("lr", func() *ir.Node {
		it := s.Iterations()
		ds := s.Const(s.Attrs.Float("decay_steps", 1))
		var factor *ir.Node
		switch sched := s.Attrs.String("schedule", ""); sched {
		case "step", "exponential":
			// decay_rate^e = exp(e * ln decay_rate)
			e := s.Apply(ir.Div, it, ds)
			if sched == "step" {
				e = s.Apply(ir.Floor, e)
			}
			factor = s.Apply(ir.Exp, s.Apply(ir.Mul, e, s.Const(math.Log(s.Attrs.Float("decay_rate", 1)))))
		case "cosine":
			// min(it, ds) = ds - relu(ds - it)
			capped := s.Apply(ir.Sub, ds, s.Apply(ir.Relu, s.Apply(ir.Sub, ds, it)))
			frac := s.Apply(ir.Div, capped, ds)
			cos := s.Apply(ir.Cos, s.Apply(ir.Mul, frac, s.Const(math.Pi)))
			decayed := s.Apply(ir.Mul, s.Const(0.5), s.Apply(ir.Add, s.Const(1), cos))
			alpha := s.Attrs.Float("alpha", 0)
			factor = s.Apply(ir.Add, s.Apply(ir.Mul, decayed, s.Const(1-alpha)), s.Const(alpha))
		default:
			panic("compiler: unvalidated schedule " + sched)
		}
		return s.Apply(ir.Mul, s.Const(lr), factor)
	})
}

// clip scales grads by clip / max(norm, clip), norm being their global
// norm; max(norm, clip) is written clip + relu(norm - clip).
func (s *Step) clip(grads []*ir.Node, clip float64) []*ir.Node {
	var sq *ir.Node
	for _, g := range grads {
		t := s.Apply(ir.Sum, s.Apply(ir.Square, g))
		if sq == nil {
			sq = t
		} else {
			sq = s.Apply(ir.Add, sq, t)
		}
	}
	norm := s.Apply(ir.Sqrt, sq)
	c := s.Const(clip)
	den := s.Apply(ir.Add, c, s.Apply(ir.Relu, s.Apply(ir.Sub, norm, c)))
	factor := s.Apply(ir.Div, s.Const(clip), den)
	out := make([]*ir.Node, len(grads))
	for i, g := range grads {
		out[i] = s.Apply(ir.Mul, g, factor)
	}
	return out
}
