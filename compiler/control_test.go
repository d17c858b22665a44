package compiler

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// checkSourceGradients checks a model's source, differentiates its loss
// with respect to every param and compares each gradient element with a
// central finite difference of the loss, through the interpreter in f64.
// It returns the module and interpreter for further checks.
func checkSourceGradients(t *testing.T, src string, feeds map[string]*ir.Tensor, seed uint64) (*ir.Module, *Interpreter) {
	t.Helper()
	f, err := lang.ParseFile("t.flow", []byte(src))
	require.NoError(t, err)
	ms, err := CheckFile(f)
	require.NoError(t, err)
	g := ms[0]
	loss := g.Loss()
	require.NotNil(t, loss)
	grads, err := Gradients(g, loss, g.Params)
	require.NoError(t, err)
	it, err := NewInterpreter(g)
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(seed, 3))
	for _, p := range g.Params {
		for i := range it.State[p].Data {
			it.State[p].Data[i] = r.Float64()*1.6 - 0.8
		}
	}
	got, err := it.Run(feeds, grads...)
	require.NoError(t, err)
	lossAt := func() float64 {
		out, err := it.Run(feeds, loss)
		require.NoError(t, err)
		return out[0].Data[0]
	}
	const h = 1e-6
	for k, p := range g.Params {
		data := it.State[p].Data
		for i := range data {
			orig := data[i]
			data[i] = orig + h
			lp := lossAt()
			data[i] = orig - h
			lm := lossAt()
			data[i] = orig
			fd := (lp - lm) / (2 * h)
			require.InDelta(t, fd, got[k].Data[i], 1e-5*math.Max(1, math.Abs(fd)), "d loss / d %s[%d]", p.Name, i)
		}
	}
	return g, it
}

func tensor(shape []int, vals ...float64) *ir.Tensor {
	t := ir.NewTensor(ir.F64, shape)
	copy(t.Data, vals)
	return t
}

// TestCondGradients: a data-dependent if, each branch taken by some
// example of the feeds, is differentiated through both branches.
func TestCondGradients(t *testing.T) {
	src := `model C {
    input x: f64[4]
    param w: f64[4]
    param b: f64[]
    s = sum(x * w)
    y = if s > 0.0 {
        t = s * s * b
        t + w
    } else {
        exp(w) * b - s
    }
    loss = sum(y * y)
    train loss with sgd(lr = 0.1)
}`
	for _, x := range [][]float64{{1, 2, 3, 4}, {-1, -2, -3, -4}} {
		feeds := map[string]*ir.Tensor{"x": tensor([]int{4}, x...)}
		g, it := checkSourceGradients(t, src, feeds, 1)
		// The interpreter takes the branch the sign of s says.
		loss, err := it.Run(feeds, g.Loss())
		require.NoError(t, err)
		w, b := it.State[g.Params[0]].Data, it.State[g.Params[1]].Data[0]
		var sum, want float64
		for i := range w {
			sum += x[i] * w[i]
		}
		for i := range w {
			y := math.Exp(w[i])*b - sum
			if sum > 0 {
				y = sum*sum*b + w[i]
			}
			want += y * y
		}
		require.InDelta(t, want, loss[0].Data[0], 1e-9*math.Max(1, want), "s = %g", sum)
	}
}

// TestWhileGradients: Newton's iteration for the square root, which
// converges; the gradient through the loop matches finite differences
// and the value matches math.Sqrt.
func TestWhileGradients(t *testing.T) {
	src := `model W {
    input x: f64[3]
    param a: f64[3]
    v = a * a + 1.0
    r, k = while (r = v, k = 0) k < 30 && sum(abs(r * r - v)) > 1e-12 limit 40 {
        r = 0.5 * (r + v / r)
        k = k + 1
    }
    loss = sum(r * x) + sum(cast(k, dtype = "f64")) * 0.0
    output r
    train loss with sgd(lr = 0.1)
}`
	feeds := map[string]*ir.Tensor{"x": tensor([]int{3}, 1, -2, 0.5)}
	g, it := checkSourceGradients(t, src, feeds, 2)
	out, err := it.Run(feeds, g.Outputs()...)
	require.NoError(t, err)
	a := it.State[g.Params[0]].Data
	for i, r := range out[0].Data {
		require.InDelta(t, math.Sqrt(a[i]*a[i]+1), r, 1e-12)
	}
}

// TestScanGradients: a recurrent cell over a sequence along axis 1, with
// carried state, per-step outputs, params used inside the body and a
// reverse scan; checked against finite differences, and the forward
// values against a hand-written loop.
func TestScanGradients(t *testing.T) {
	src := `model R {
    input x: f64[2, 5, 3]
    param W: f64[3, 4]
    param U: f64[4, 4]
    param h0: f64[2, 4]
    hs, h = for xt in x along 1 (h = h0) {
        h = tanh(xt @ W + h @ U)
        yield h
    }
    bs, c = for yt in hs along 1 reverse (c = h) {
        c = c * 0.5 + sigmoid(yt)
        yield c * c
    }
    loss = sum(bs) + sum(c * h)
    output hs
    train loss with sgd(lr = 0.1)
}`
	r := rand.New(rand.NewPCG(5, 5))
	x := ir.NewTensor(ir.F64, []int{2, 5, 3})
	for i := range x.Data {
		x.Data[i] = r.Float64()*2 - 1
	}
	feeds := map[string]*ir.Tensor{"x": x}
	g, it := checkSourceGradients(t, src, feeds, 3)
	out, err := it.Run(feeds, g.Outputs()...)
	require.NoError(t, err)
	W, U, h0 := it.State[g.Params[0]].Data, it.State[g.Params[1]].Data, it.State[g.Params[2]].Data
	h := append([]float64{}, h0...)
	for step := range 5 {
		next := make([]float64, 8)
		for n := range 2 {
			for j := range 4 {
				acc := 0.0
				for i := range 3 {
					acc += x.Data[(n*5+step)*3+i] * W[i*4+j]
				}
				for i := range 4 {
					acc += h[n*4+i] * U[i*4+j]
				}
				next[n*4+j] = math.Tanh(acc)
			}
		}
		h = next
		for n := range 2 {
			for j := range 4 {
				require.InDelta(t, h[n*4+j], out[0].Data[(n*5+step)*4+j], 1e-12)
			}
		}
	}
}

// TestNestedControlGradients: an if inside a for body, whose branch
// depends on the step.
func TestNestedControlGradients(t *testing.T) {
	src := `model N {
    input x: f64[6]
    param w: f64[]
    param v: f64[]
    ys, acc = for xt in x (acc = v) {
        acc = if xt > 0.0 { acc * w + xt } else { acc - w * xt * xt }
        yield acc
    }
    loss = sum(ys) + acc * acc
    train loss with sgd(lr = 0.1)
}`
	feeds := map[string]*ir.Tensor{"x": tensor([]int{6}, 0.5, -1, 2, -0.3, 0.1, -2)}
	checkSourceGradients(t, src, feeds, 4)
}

// TestControlFlowPipeline compiles models with if, while and for through
// the whole pipeline (optimizations, training lowering with the loops'
// gradients) with the IR verified after every pass.
func TestControlFlowPipeline(t *testing.T) {
	src := `model P {
    input x: f32[N, 3]
    param W: f32[3, 3] = normal(stddev = 0.5, seed = 1)
    param a: f32[] = constant(value = 2.0)
    h = x @ W
    s = sum(h)
    y = if s > 0.0 {
        t = h * a
        t + 1.0
    } else {
        h - a
    }
    r, k = while (r = a, k = 0) k < 6 limit 10 {
        r = 0.5 * (r + 3.0 / r)
        k = k + 1
    }
    hs, hT = for xt in y (c = sum(x, axes = [0]) * 0.0) {
        c = tanh(xt * c + xt)
        yield c
    }
    loss = sum(hs) + r + sum(hT) + cast(k, dtype = "f32")
    output y
    train loss with adam(lr = 0.01)
}`
	for _, noOpt := range []bool{false, true} {
		g, err := Compile("p.flow", []byte(src), Options{Verify: true, NoOptimize: noOpt})
		require.NoError(t, err)
		require.NotNil(t, g.TrainingLoss())
		require.Len(t, g.Updates(), 2*3+1, "W and a with two Adam slots each, and the step counter")
	}
}

// TestFunctionParamInLoopGradients: a function that declares a param,
// called inside a for body and inside an if branch, declares a param of
// the model for each call (not one per step): the loop's step uses the
// same param on every trip, and both are differentiated through the
// control flow.
func TestFunctionParamInLoopGradients(t *testing.T) {
	src := `fn cell(x: f64[1, 2]) -> f64[1, 2] {
    param W: f64[2, 2]
    return tanh(x @ W)
}
model F {
    input x: f64[3, 1, 2]
    param h0: f64[1, 2]
    ys, h = for xt in x (h = h0) {
        h = cell(xt + h)
        yield h * 2.0
    }
    z = if sum(h) > 0.0 { cell(h) } else { h }
    loss = sum(ys) + sum(z * z)
    train loss with sgd(lr = 0.1)
}`
	feeds := map[string]*ir.Tensor{"x": tensor([]int{3, 1, 2}, 0.5, -1, 2, -0.3, 0.1, -2)}
	g, _ := checkSourceGradients(t, src, feeds, 6)
	require.Len(t, g.Params, 3)
}

// TestWhileOnCarriedBool: a while whose condition is a carried bool
// itself (no node of the condition region computes it) and one whose
// condition is a constant run as the interpreter says.
func TestWhileOnCarriedBool(t *testing.T) {
	src := `model B {
    input x: f64[2]
    param w: f64[2]
    r, _, k = while (r = x * w, go = true, k = 0) go limit 10 {
        r = r * 0.5
        k = k + 1
        go = k < 3
    }
    s, _ = while (s = r, j = 0) true limit 4 {
        s = s + 1.0
        j = j + 1
    }
    loss = sum(s) + cast(k, dtype = "f64")
    train loss with sgd(lr = 0.1)
}`
	feeds := map[string]*ir.Tensor{"x": tensor([]int{2}, 1, -2)}
	g, it := checkSourceGradients(t, src, feeds, 7)
	out, err := it.Run(feeds, g.Loss())
	require.NoError(t, err)
	w := it.State[g.Params[0]].Data
	// r = x*w/8 after three trips; s = r + 4 after the limit; k = 3.
	want := (1*w[0]-2*w[1])/8 + 8 + 3
	require.InDelta(t, want, out[0].Data[0], 1e-12)
}

// TestScanInsideLoopAndBranchGradients: a for whose gradient saves values
// (tanh's output), nested in a while and in an if, whose own gradients
// copy it into reverse regions no node owns yet; checked against finite
// differences and compiled through the pipeline with the IR verified.
func TestScanInsideLoopAndBranchGradients(t *testing.T) {
	for _, src := range []string{`model W {
    input x: f64[3, 2]
    param w: f64[]
    r, _ = while (r = x, k = 0) k < 2 limit 3 {
        _, s = for qt in r (s = w) {
            s = tanh(s * sum(qt) + 0.5)
            yield s
        }
        r = r * s
        k = k + 1
    }
    loss = sum(r * r)
    train loss with sgd(lr = 0.1)
}`, `model C {
    input x: f64[3, 2]
    param w: f64[]
    y = if sum(x) > 0.0 {
        ys, s = for qt in x (s = w) {
            s = tanh(s * sum(qt) + 0.5)
            yield s
        }
        sum(ys) + s
    } else {
        w * 2.0
    }
    loss = y * y
    train loss with sgd(lr = 0.1)
}`} {
		x := tensor([]int{3, 2}, 0.3, -0.2, 0.5, 0.1, -0.4, 0.6)
		checkSourceGradients(t, src, map[string]*ir.Tensor{"x": x}, 8)
		f32 := strings.ReplaceAll(src, "f64", "f32")
		_, err := Compile("t.flow", []byte(f32), Options{Verify: true})
		require.NoError(t, err, f32)
	}
}

// TestCarriedPairRebound: a loop body rebinds two carried values at once
// from an if, swapping them on one branch — the case the body's results
// are sealed for (ir.SealResults).
func TestCarriedPairRebound(t *testing.T) {
	src := `model P {
    input x: f64[2]
    param w: f64[2]
    a, b, _ = while (a = x * w, b = w, k = 0) k < 3 limit 4 {
        a, b = if k < 1 { b, a } else { a * 2.0, b + a }
        k = k + 1
    }
    loss = sum(a * b)
    train loss with sgd(lr = 0.1)
}`
	feeds := map[string]*ir.Tensor{"x": tensor([]int{2}, 0.5, -1.5)}
	g, it := checkSourceGradients(t, src, feeds, 9)
	out, err := it.Run(feeds, g.Loss())
	require.NoError(t, err)
	w, x := it.State[g.Params[0]].Data, feeds["x"].Data
	var want float64
	for i := range w {
		a, b := x[i]*w[i], w[i]
		a, b = b, a     // k = 0
		a, b = a*2, b+a // k = 1
		a, b = a*2, b+a // k = 2
		want += a * b
	}
	require.InDelta(t, want, out[0].Data[0], 1e-12)
}

// TestGradientsNameTheirValues: autodiff links the whole gradient of
// each named value to it (ir.Node.GradOf), the params', the top level's
// and, in the reverse loop, the step's values and carried values, but not
// a step's term of a loop invariant's gradient, nor a partial one.
func TestGradientsNameTheirValues(t *testing.T) {
	src := `model R {
    input x: f64[2, 5, 3]
    param W: f64[3, 4]
    param U: f64[4, 4]
    param h0: f64[2, 4]
    a = x @ W
    hs, h = for at in a along 1 (h = h0) {
        z = at + h @ U
        h = tanh(z)
        yield h
    }
    loss = sum(hs) + sum(h * h)
    output hs
    train loss with sgd(lr = 0.1)
}`
	x := ir.NewTensor(ir.F64, []int{2, 5, 3})
	for i := range x.Data {
		x.Data[i] = float64(i%7)/7 - 0.5
	}
	g, _ := checkSourceGradients(t, src, map[string]*ir.Tensor{"x": x}, 4)
	top, inLoop := map[string]int{}, map[string]int{}
	g.Body.Walk(func(n *ir.Node) {
		if n.GradOf == nil {
			return
		}
		require.Equal(t, ir.Backward, n.Role, "%s", n)
		require.NotEmpty(t, n.GradOf.Name, "%s", n)
		if n.Region == g.Body {
			top[n.GradOf.Name]++
		} else {
			inLoop[n.GradOf.Name]++
		}
	})
	require.Equal(t, map[string]int{"W": 1, "U": 1, "h0": 1, "a": 1, "hs": 1, "h": 1}, top)
	// at's gradient is z's: the add passes it on as it is, and it is named
	// after the value nearer the loss.
	require.Equal(t, map[string]int{"h": 1, "z": 1}, inLoop)
}
