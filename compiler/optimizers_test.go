package compiler

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler/ir"
)

// The optimizer tests train tiny f64 models through the interpreter and
// compare every step with the TensorFlow/Keras update rules written out
// here in float64, independently of the IR lowering. In f64 the
// interpreter's only differences from the references are rounding, and
// b^t computed as exp(t ln b), so the tolerance is 1e-12 relative.

const optTol = 1e-12

// trainModel compiles src and returns an interpreter and a step function
// that runs one training step (with no inputs).
func trainModel(t *testing.T, src string) (*ir.Module, *Interpreter, func()) {
	t.Helper()
	g, err := Compile("opt.flow", []byte(src), Options{})
	require.NoError(t, err)
	it, err := NewInterpreter(g)
	require.NoError(t, err)
	return g, it, func() {
		_, err := it.TrainStep(nil)
		require.NoError(t, err)
	}
}

// paramValue returns the current value of param name.
func paramValue(t *testing.T, g *ir.Module, it *Interpreter, name string) []float64 {
	t.Helper()
	p := g.Param(name)
	require.NotNil(t, p, "no param %s", name)
	return it.State[p].Data
}

func requireNear(t *testing.T, want, got float64, what string) {
	t.Helper()
	require.InDelta(t, want, got, optTol*math.Max(1, math.Abs(want)), "%s: want %.17g, got %.17g", what, want, got)
}

// squareModel minimizes w² from w = 1 (gradient 2w) with opt.
func squareModel(opt string) string {
	return fmt.Sprintf("model M {\n    param w: f64 = 1\n    train w * w with %s\n}\n", opt)
}

func TestSGDUpdate(t *testing.T) {
	g, it, step := trainModel(t, squareModel("sgd(lr = 0.1)"))
	step()
	requireNear(t, 0.8, paramValue(t, g, it, "w")[0], "step 1") // 1 - 0.1*2
	step()
	requireNear(t, 0.64, paramValue(t, g, it, "w")[0], "step 2") // 0.8 - 0.1*1.6
	require.Len(t, g.Params, 1, "sgd keeps no state")
}

func TestMomentumUpdate(t *testing.T) {
	for _, nesterov := range []bool{false, true} {
		t.Run(fmt.Sprint("nesterov=", nesterov), func(t *testing.T) {
			g, it, step := trainModel(t, squareModel(fmt.Sprintf("momentum(lr = 0.1, momentum = 0.9, nesterov = %v)", nesterov)))
			// Keras SGD with momentum.
			w, m := 1.0, 0.0
			for i := 1; i <= 4; i++ {
				grad := 2 * w
				m = 0.9*m - 0.1*grad
				if nesterov {
					w += 0.9*m - 0.1*grad
				} else {
					w += m
				}
				step()
				requireNear(t, w, paramValue(t, g, it, "w")[0], fmt.Sprintf("w after step %d", i))
				requireNear(t, m, paramValue(t, g, it, "w/momentum")[0], fmt.Sprintf("velocity after step %d", i))
			}
		})
	}
	// Hand-computed first two steps without Nesterov: m1 = -0.2, w1 = 0.8;
	// m2 = 0.9*-0.2 - 0.1*1.6 = -0.34, w2 = 0.46.
	g, it, step := trainModel(t, squareModel("momentum(lr = 0.1)"))
	step()
	step()
	requireNear(t, 0.46, paramValue(t, g, it, "w")[0], "w2")
}

// kerasAdam is tf.keras.optimizers.Adam's update, in float64.
type kerasAdam struct {
	lr, b1, b2, eps float64
	m, v            float64
	iterations      float64
}

func (a *kerasAdam) step(w, grad float64) float64 {
	t := a.iterations + 1
	a.m += (grad - a.m) * (1 - a.b1)
	a.v += (grad*grad - a.v) * (1 - a.b2)
	alpha := a.lr * math.Sqrt(1-math.Pow(a.b2, t)) / (1 - math.Pow(a.b1, t))
	a.iterations = t
	return w - a.m*alpha/(math.Sqrt(a.v)+a.eps)
}

func TestAdamUpdate(t *testing.T) {
	g, it, step := trainModel(t, squareModel("adam(lr = 0.1)"))
	// The first step of Adam moves by about lr whatever the gradient's
	// scale: m = 0.2, v = 0.004, alpha = 0.1*sqrt(0.001)/0.1, so
	// w1 = 1 - 0.2*sqrt(0.001)/(sqrt(0.004) + 1e-7).
	step()
	requireNear(t, 1-0.2*math.Sqrt(0.001)/(math.Sqrt(0.004)+1e-7), paramValue(t, g, it, "w")[0], "w after step 1")
	requireNear(t, 0.2, paramValue(t, g, it, "w/adam_m")[0], "m after step 1")
	requireNear(t, 0.004, paramValue(t, g, it, "w/adam_v")[0], "v after step 1")
	requireNear(t, 1, paramValue(t, g, it, "optimizer/step")[0], "the step counter")

	// Against the Keras reference over several steps, with other betas.
	g, it, step = trainModel(t, squareModel("adam(lr = 0.05, beta1 = 0.8, beta2 = 0.99, epsilon = 1e-3)"))
	ref := &kerasAdam{lr: 0.05, b1: 0.8, b2: 0.99, eps: 1e-3}
	w := 1.0
	for i := 1; i <= 5; i++ {
		w = ref.step(w, 2*w)
		step()
		requireNear(t, w, paramValue(t, g, it, "w")[0], fmt.Sprintf("w after step %d", i))
		requireNear(t, ref.m, paramValue(t, g, it, "w/adam_m")[0], fmt.Sprintf("m after step %d", i))
		requireNear(t, ref.v, paramValue(t, g, it, "w/adam_v")[0], fmt.Sprintf("v after step %d", i))
	}
	requireNear(t, 5, paramValue(t, g, it, "optimizer/step")[0], "the step counter")
}

func TestAdamBetaZero(t *testing.T) {
	// beta1 = 0: m is the gradient and there is no first-moment correction.
	g, it, step := trainModel(t, squareModel("adam(lr = 0.1, beta1 = 0)"))
	ref := &kerasAdam{lr: 0.1, b1: 0, b2: 0.999, eps: 1e-7}
	w := 1.0
	for i := 1; i <= 3; i++ {
		w = ref.step(w, 2*w)
		step()
		requireNear(t, w, paramValue(t, g, it, "w")[0], fmt.Sprintf("w after step %d", i))
	}
}

func TestRMSpropUpdate(t *testing.T) {
	for _, mom := range []float64{0, 0.5} {
		t.Run(fmt.Sprint("momentum=", mom), func(t *testing.T) {
			g, it, step := trainModel(t, squareModel(fmt.Sprintf("rmsprop(lr = 0.01, rho = 0.8, momentum = %g)", mom)))
			// Keras RMSprop (not centered).
			w, v, m := 1.0, 0.0, 0.0
			for i := 1; i <= 4; i++ {
				grad := 2 * w
				v = 0.8*v + 0.2*grad*grad
				d := 0.01 * grad / math.Sqrt(v+1e-7)
				if mom > 0 {
					m = mom*m + d
					d = m
				}
				w -= d
				step()
				requireNear(t, w, paramValue(t, g, it, "w")[0], fmt.Sprintf("w after step %d", i))
				requireNear(t, v, paramValue(t, g, it, "w/rmsprop_v")[0], fmt.Sprintf("v after step %d", i))
			}
			if mom == 0 {
				require.Nil(t, g.Param("w/rmsprop_m"), "no momentum slot without momentum")
			} else {
				requireNear(t, m, paramValue(t, g, it, "w/rmsprop_m")[0], "momentum")
			}
		})
	}
}

func TestWeightDecayIsDecoupled(t *testing.T) {
	// sgd: w = w - lr*wd*w - lr*g.
	g, it, step := trainModel(t, squareModel("sgd(lr = 0.1, weight_decay = 0.5)"))
	step()
	requireNear(t, 1-0.1*0.5*1-0.1*2, paramValue(t, g, it, "w")[0], "sgd with weight decay") // 0.75

	// adam (AdamW): the decay does not enter the moments.
	g, it, step = trainModel(t, squareModel("adam(lr = 0.1, weight_decay = 0.04)"))
	ref := &kerasAdam{lr: 0.1, b1: 0.9, b2: 0.999, eps: 1e-7}
	w := 1.0
	for i := 1; i <= 3; i++ {
		grad := 2 * w
		w = ref.step(w-0.1*0.04*w, grad)
		step()
		requireNear(t, w, paramValue(t, g, it, "w")[0], fmt.Sprintf("w after step %d", i))
		requireNear(t, ref.m, paramValue(t, g, it, "w/adam_m")[0], fmt.Sprintf("m after step %d", i))
	}
}

func TestClipByGlobalNorm(t *testing.T) {
	// The gradients are x: [3, 3] and y: 4, norm sqrt(9+9+16) = sqrt(34).
	src := "model M {\n    param x: f64[2] = 0\n    param y: f64 = 0\n    train sum(x * 3) + y * 4 with sgd(lr = 1%s)\n}\n"
	norm := math.Sqrt(34)
	for _, clip := range []float64{1, 5, 6, 100} {
		t.Run(fmt.Sprint("clip=", clip), func(t *testing.T) {
			g, it, step := trainModel(t, fmt.Sprintf(src, fmt.Sprintf(", clip_norm = %g", clip)))
			step()
			scale := 1.0
			if norm > clip {
				scale = clip / norm
			}
			x, y := paramValue(t, g, it, "x"), paramValue(t, g, it, "y")
			requireNear(t, -3*scale, x[0], "x[0]")
			requireNear(t, -3*scale, x[1], "x[1]")
			requireNear(t, -4*scale, y[0], "y")
			// The clipped gradients have norm min(norm, clip).
			got := math.Sqrt(x[0]*x[0] + x[1]*x[1] + y[0]*y[0])
			requireNear(t, math.Min(norm, clip), got, "norm of the step")
		})
	}
	// Clipping to 1 by hand: the step is -(3, 3, 4)/sqrt(34).
	g, it, step := trainModel(t, fmt.Sprintf(src, ", clip_norm = 1"))
	step()
	requireNear(t, -4/math.Sqrt(34), paramValue(t, g, it, "y")[0], "y clipped to norm 1")
}

// TestSchedules trains sum(w) (gradient 1) with sgd, so that each step
// lowers w by exactly that step's learning rate, and compares it with the
// Keras schedules' closed forms at step s = 0, 1, 2, ...
func TestSchedules(t *testing.T) {
	const lr = 0.5
	cases := []struct {
		args string
		want func(s float64) float64
	}{
		{`schedule = "constant"`, func(float64) float64 { return lr }},
		{`schedule = "step", decay_steps = 3, decay_rate = 0.5`, func(s float64) float64 {
			return lr * math.Pow(0.5, math.Floor(s/3))
		}},
		{`schedule = "exponential", decay_steps = 4, decay_rate = 0.1`, func(s float64) float64 {
			return lr * math.Pow(0.1, s/4)
		}},
		{`schedule = "exponential", decay_steps = 2.5, decay_rate = 1.5`, func(s float64) float64 {
			return lr * math.Pow(1.5, s/2.5)
		}},
		{`schedule = "cosine", decay_steps = 8`, func(s float64) float64 {
			return lr * 0.5 * (1 + math.Cos(math.Pi*math.Min(s, 8)/8))
		}},
		{`schedule = "cosine", decay_steps = 6, alpha = 0.2`, func(s float64) float64 {
			c := 0.5 * (1 + math.Cos(math.Pi*math.Min(s, 6)/6))
			return lr * ((1-0.2)*c + 0.2)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.args, func(t *testing.T) {
			src := fmt.Sprintf("model M {\n    param w: f64[2] = 0\n    train sum(w) with sgd(lr = %g, %s)\n}\n", lr, tc.args)
			g, it, step := trainModel(t, src)
			prev := 0.0
			for s := 0; s < 12; s++ {
				step()
				w := paramValue(t, g, it, "w")[1]
				requireNear(t, tc.want(float64(s)), prev-w, fmt.Sprintf("learning rate at step %d", s))
				prev = w
			}
		})
	}
	// Hand-computed: cosine over 4 steps gives lr * (1, (2+√2)/4, 1/2, (2-√2)/4, 0, 0).
	g, it, step := trainModel(t, "model M {\n    param w: f64 = 0\n    train w with sgd(lr = 1, schedule = \"cosine\", decay_steps = 4)\n}\n")
	want := []float64{1, (2 + math.Sqrt2) / 4, 0.5, (2 - math.Sqrt2) / 4, 0, 0}
	prev := 0.0
	for s, lr := range want {
		step()
		w := paramValue(t, g, it, "w")[0]
		require.InDelta(t, lr, prev-w, 1e-12, "cosine learning rate at step %d", s)
		prev = w
	}
}

func TestScheduleWithAdam(t *testing.T) {
	// Adam evaluates the schedule at the step count before the increment
	// and corrects bias with the count after it.
	g, it, step := trainModel(t, squareModel(`adam(lr = 0.1, schedule = "exponential", decay_steps = 2, decay_rate = 0.5)`))
	ref := &kerasAdam{b1: 0.9, b2: 0.999, eps: 1e-7}
	w := 1.0
	for i := 0; i < 4; i++ {
		ref.lr = 0.1 * math.Pow(0.5, float64(i)/2)
		w = ref.step(w, 2*w)
		step()
		requireNear(t, w, paramValue(t, g, it, "w")[0], fmt.Sprintf("w after step %d", i+1))
	}
}

func TestSlotParams(t *testing.T) {
	src := `model M {
    input x: f32[N, 3]
    param W: f32[3, 2] = 0.5
    param b: f32[2]
    y = x @ W + b
    output y
    train sum(y * y) with adam(schedule = "cosine", decay_steps = 100)
}
`
	g, err := Compile("m.flow", []byte(src), Options{})
	require.NoError(t, err)
	var names []string
	for _, p := range g.Params {
		names = append(names, p.Name)
		if p.Name == "W" || p.Name == "b" {
			require.True(t, ir.Trainable(p), p.Name)
			continue
		}
		require.False(t, ir.Trainable(p), p.Name)
		require.Equal(t, "zeros", p.Attrs.String("init", ""), p.Name)
	}
	require.Equal(t, []string{"W", "b", "optimizer/step", "W/adam_m", "W/adam_v", "b/adam_m", "b/adam_v"}, names)
	require.Equal(t, 8, g.ParamCount(), "only trainable params count")
	require.Equal(t, g.Param("W").Type, g.Param("W/adam_v").Type)
	require.Equal(t, 0, g.Param("optimizer/step").Type.Shape.Rank())
	// Every slot and the counter are updated.
	updated := map[string]bool{}
	for _, u := range g.Updates() {
		updated[u.Inputs[0].Name] = true
	}
	for _, name := range names {
		require.True(t, updated[name], "%s is not updated", name)
	}
	// The forward program reads no optimizer state.
	for n := range ir.Reachable(g.Outputs()...) {
		if n.Op == ir.Param {
			require.True(t, ir.Trainable(n), n.Name)
		}
	}
}

func TestOptimizerArgumentsAreTyped(t *testing.T) {
	for name, opt := range Optimizers {
		require.Equal(t, name, opt.Name)
		require.NotEmpty(t, opt.Summary, name)
		require.NotNil(t, opt.Validate, name)
		require.NotNil(t, opt.Update, name)
		seen := map[string]bool{}
		for _, a := range opt.AllArgs() {
			require.False(t, seen[a.Name], "%s: argument %s twice", name, a.Name)
			seen[a.Name] = true
		}
		require.True(t, seen["lr"], "%s has no lr", name)
	}
}
