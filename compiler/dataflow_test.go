package compiler

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// dataflowProgram is a control-flow program the differential tests run
// through both interpreters: its source and the shapes of its inputs.
type dataflowProgram struct {
	name   string
	src    string
	inputs map[string][]int
	// signs, when set, draws input x all positive for even seeds and all
	// negative for odd ones, so both branches of a data-dependent if run.
	signs bool
}

// dataflowPrograms are the programs of control_test.go and more: nested
// if in while, while in for, a reverse for with several carried values,
// a while that runs 0 times, a while stopped by its limit, a for inside
// an if (a loop in an untaken branch: a dead frame), a while in a while,
// a for over a symbolic dimension, branches that are constants.
var dataflowPrograms = []dataflowProgram{
	{name: "cond", signs: true, inputs: map[string][]int{"x": {4}}, src: `model C {
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
}`},
	{name: "while", inputs: map[string][]int{"x": {3}}, src: `model W {
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
}`},
	{name: "scan", inputs: map[string][]int{"x": {2, 5, 3}}, src: `model R {
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
}`},
	{name: "if in for", inputs: map[string][]int{"x": {6}}, src: `model N {
    input x: f64[6]
    param w: f64[]
    param v: f64[]
    ys, acc = for xt in x (acc = v) {
        acc = if xt > 0.0 { acc * w + xt } else { acc - w * xt * xt }
        yield acc
    }
    loss = sum(ys) + acc * acc
    train loss with sgd(lr = 0.1)
}`},
	{name: "if in while", inputs: map[string][]int{"x": {3}}, src: `model A {
    input x: f64[3]
    param w: f64[3]
    r, k = while (r = w, k = 0) k < 5 limit 10 {
        r = if sum(r * x) > 0.0 { r * 0.5 + x } else { r - x * w }
        k = k + 1
    }
    loss = sum(r * r)
    output r, k
    train loss with sgd(lr = 0.1)
}`},
	{name: "while in for", inputs: map[string][]int{"x": {4, 2}}, src: `model B {
    input x: f64[4, 2]
    param w: f64[2]
    ys, acc = for xt in x (acc = w) {
        a, _ = while (a = acc + xt, k = 0) k < 3 limit 5 {
            a = tanh(a * w)
            k = k + 1
        }
        acc = a * 0.5 + acc
        yield a
    }
    loss = sum(ys * ys) + sum(acc)
    output ys
    train loss with sgd(lr = 0.1)
}`},
	{name: "reverse for, several carried", inputs: map[string][]int{"x": {5, 2}}, src: `model D {
    input x: f64[5, 2]
    param w: f64[2]
    param u: f64[2]
    ys, h, c = for xt in x reverse (h = w, c = u) {
        t = h * xt + c
        h = c
        c = sin(t)
        yield h * c
    }
    loss = sum(ys) + sum(h * c)
    output ys
    train loss with sgd(lr = 0.1)
}`},
	{name: "while 0 times", inputs: map[string][]int{"x": {3}}, src: `model Z {
    input x: f64[3]
    param w: f64[3]
    r, k = while (r = w, k = 0) k > 5 limit 10 {
        r = r * x
        k = k + 1
    }
    loss = sum(r * x)
    output r, k
    train loss with sgd(lr = 0.1)
}`},
	{name: "while limit reached", inputs: map[string][]int{"x": {3}}, src: `model L {
    input x: f64[3]
    param w: f64[3]
    r, s, k = while (r = w, s = x, k = 0) k >= 0 limit 4 {
        r = r * 0.5 + s * w
        s = cos(s + r)
        k = k + 1
    }
    loss = sum(r * s) + sum(cast(k, dtype = "f64")) * 0.0
    output r, s
    train loss with sgd(lr = 0.1)
}`},
	{name: "for in if", signs: true, inputs: map[string][]int{"x": {4}}, src: `model F {
    input x: f64[4]
    param w: f64[]
    s = sum(x)
    y = if s > 0.0 {
        ys, a = for xt in x (a = w) {
            a = a * xt + 1.0
            yield a
        }
        ys * a
    } else {
        x * w
    }
    loss = sum(y * y)
    output y
    train loss with sgd(lr = 0.1)
}`},
	{name: "while in while", inputs: map[string][]int{"x": {2}}, src: `model V {
    input x: f64[2]
    param w: f64[2]
    r, i = while (r = w, i = 0) i < 3 limit 3 {
        q, _ = while (q = r, j = 0) j < i + 1 limit 4 {
            q = sin(q) + x
            j = j + 1
        }
        r = q * 0.9
        i = i + 1
    }
    loss = sum(r * r)
    output r, i
    train loss with sgd(lr = 0.1)
}`},
	{name: "for over N", inputs: map[string][]int{"x": {4, 3}}, src: `model S {
    input x: f64[N, 3]
    param w: f64[3]
    hs, h = for xt in x (h = w) {
        h = tanh(h + xt * w)
        yield h * 2.0
    }
    loss = sum(hs) + sum(h)
    output hs
    train loss with sgd(lr = 0.1)
}`},
	{name: "constant branches", signs: true, inputs: map[string][]int{"x": {3}}, src: `model K {
    input x: f64[3]
    param w: f64[3]
    s = sum(x * w)
    z = if s > 0.0 { 3.0 } else if s < -100.0 { 4.0 } else { s * 2.0 }
    y = if s > 0.0 { w * z } else { x }
    loss = sum(y) + z
    output y
    train loss with sgd(lr = 0.1)
}`},
}

// compileSource checks src into its module.
func compileSource(t *testing.T, src string) *ir.Module {
	t.Helper()
	f, err := lang.ParseFile("t.flow", []byte(src))
	require.NoError(t, err)
	ms, err := CheckFile(f)
	require.NoError(t, err)
	return ms[0]
}

// dataflowStats sums over the differential tests which ops the
// lowerings produced and the dataflow interpreter ran.
type dataflowStats struct {
	produced   map[*ir.OpDef]int
	live, dead map[*ir.OpDef]int
}

// differential compiles p with the gradients of its loss wrt every
// param, lowers it to dataflow, and checks that the structured and the
// dataflow interpreters give exactly the same outputs, loss and
// gradients on random params and inputs for each seed.
func differential(t *testing.T, p dataflowProgram, seeds int, st *dataflowStats) {
	g := compileSource(t, p.src)
	loss := g.Loss()
	require.NotNil(t, loss)
	grads, err := Gradients(g, loss, g.Params)
	require.NoError(t, err)
	fetches := append(append([]*ir.Node{loss}, g.Outputs()...), grads...)

	low, copies, err := lowerToDataflow(g)
	require.NoError(t, err)
	checkLowered(t, low)
	for _, n := range low.Body.Nodes {
		st.produced[n.Op]++
	}
	lowFetches := make([]*ir.Node, len(fetches))
	for i, f := range fetches {
		lowFetches[i] = copies[f]
		require.NotNil(t, lowFetches[i])
	}
	for i, p := range g.Params {
		require.Same(t, copies[p], low.Params[i])
	}

	it, err := NewInterpreter(g)
	require.NoError(t, err)
	dit, err := NewDataflowInterpreter(low)
	require.NoError(t, err)
	for seed := range uint64(seeds) {
		r := rand.New(rand.NewPCG(seed, 11))
		for _, par := range g.Params {
			for i := range it.State[par].Data {
				it.State[par].Data[i] = r.Float64()*1.6 - 0.8
			}
			dit.State[copies[par]] = it.State[par].Clone()
		}
		feeds := map[string]*ir.Tensor{}
		for name, shape := range p.inputs {
			x := ir.NewTensor(ir.F64, shape)
			for i := range x.Data {
				x.Data[i] = r.Float64()*2 - 1
				if p.signs {
					x.Data[i] = (r.Float64() + 0.1) * float64(1-2*int(seed%2))
				}
			}
			feeds[name] = x
		}
		want, err := it.Run(feeds, fetches...)
		require.NoError(t, err)
		got, err := dit.Run(feeds, lowFetches...)
		require.NoError(t, err, "seed %d", seed)
		for i := range want {
			// The same float64 ops on the same values in the same order:
			// the results are equal exactly.
			require.Equal(t, want[i].Shape, got[i].Shape, "fetch %d (%s), seed %d", i, fetches[i].Label(), seed)
			require.Equal(t, want[i].Data, got[i].Data, "fetch %d (%s), seed %d", i, fetches[i].Label(), seed)
		}
	}
	for op, c := range dit.Live {
		st.live[op] += c
	}
	for op, c := range dit.Dead {
		st.dead[op] += c
	}
}

// checkLowered checks the lowered form's shape: no regions, operands
// before their users (Inputs and Deps acyclic), back edges resolved.
func checkLowered(t *testing.T, low *ir.Module) {
	t.Helper()
	seen := map[*ir.Node]bool{}
	for _, n := range low.Body.Nodes {
		require.Empty(t, n.Regions(), "%s owns regions after lowering", n.Op.Name)
		require.NotContains(t, []*ir.OpDef{ir.Cond, ir.While, ir.Scan, ir.Arg}, n.Op)
		for _, x := range append(append([]*ir.Node{}, n.Inputs...), n.Deps...) {
			require.True(t, seen[x], "%s %s uses %s before its definition", n.Op.Name, n.Label(), x.Label())
		}
		seen[n] = true
	}
	_, err := DataflowBackEdges(low)
	require.NoError(t, err)
}

// TestDataflowMatchesStructured is the differential test: every
// program's outputs, loss and gradients (which run recording loops and
// reverse scans) agree exactly between the interpreters; and the
// dataflow form produces and runs every op of the seed's control-flow
// family (Switch, Merge, Enter, Exit, NextIteration, LoopCond), with
// dead values down untaken switch sides, exits and next_iterations.
func TestDataflowMatchesStructured(t *testing.T) {
	st := &dataflowStats{produced: map[*ir.OpDef]int{}, live: map[*ir.OpDef]int{}, dead: map[*ir.OpDef]int{}}
	for _, p := range dataflowPrograms {
		t.Run(p.name, func(t *testing.T) {
			differential(t, p, 4, st)
		})
	}
	for _, op := range []*ir.OpDef{ir.Switch, ir.Merge, ir.Enter, ir.Exit, ir.NextIteration, ir.LoopCond, ir.ArrayWrite} {
		require.Positive(t, st.produced[op], "no lowering produced %s", op.Name)
		require.Positive(t, st.live[op], "the dataflow interpreter never ran %s live", op.Name)
	}
	for _, op := range []*ir.OpDef{ir.Get, ir.Merge, ir.Enter, ir.Exit, ir.NextIteration, ir.Switch, ir.LoopCond} {
		require.Positive(t, st.dead[op], "no dead %s", op.Name)
	}
	for _, op := range []*ir.OpDef{ir.Cond, ir.While, ir.Scan} {
		require.Zero(t, st.produced[op], "%s survived lowering", op.Name)
	}
}

// TestDataflowLoopCap: a while without a limit that never stops is an
// error of the dataflow interpreter after MaxIterations, not a hang.
func TestDataflowLoopCap(t *testing.T) {
	g := compileSource(t, `model H {
    input x: f64[2]
    r, k = while (r = x, k = 0) k >= 0 {
        r = r + 1.0
        k = k + 1
    }
    output r, k
}`)
	low, err := LowerToDataflow(g)
	require.NoError(t, err)
	dit, err := NewDataflowInterpreter(low)
	require.NoError(t, err)
	dit.MaxIterations = 50
	_, err = dit.Run(map[string]*ir.Tensor{"x": tensor([]int{2}, 1, 2)}, low.Outputs()...)
	require.ErrorContains(t, err, "did not stop within 50 iterations")
}

// TestDataflowOpsRefuseStructuredEval: the structured interpreter does
// not run the dataflow ops.
func TestDataflowOpsRefuseStructuredEval(t *testing.T) {
	x := tensor([]int{2}, 1, 2)
	for _, op := range []*ir.OpDef{ir.Switch, ir.Merge, ir.Enter, ir.Exit, ir.NextIteration, ir.LoopCond} {
		_, err := op.Eval(&ir.Node{Op: op, Attrs: ir.Attrs{}}, []*ir.Tensor{x, x}, ir.Bind(nil))
		require.ErrorContains(t, err, "outside the dataflow interpreter", op.Name)
	}
}

// TestDataflowLoweringShape pins the lowering of a small while: one
// frame, an enter per loop value (the trip counter too) and per
// invariant, a loop merge and a next_iteration per loop value naming it.
func TestDataflowLoweringShape(t *testing.T) {
	g := compileSource(t, `model P {
    input x: f64[2]
    r, k = while (r = x, k = 0) k < 3 limit 5 {
        r = r * x
        k = k + 1
    }
    output r, k
}`)
	low, err := LowerToDataflow(g)
	require.NoError(t, err)
	count := map[string]int{}
	frames := map[string]bool{}
	for _, n := range low.Body.Nodes {
		count[n.Op.Name]++
		if n.Op == ir.Enter {
			frames[n.Attrs.String("frame_name", "")] = true
			if n.Attrs.Bool("is_constant") {
				count["constant enter"]++
			}
		}
	}
	// Loop values: the trip counter, r and k; invariant: x.
	require.Len(t, frames, 1)
	require.Equal(t, 4, count["enter"], "%v", count)
	require.Equal(t, 1, count["constant enter"])
	require.Equal(t, 3, count["merge"])
	require.Equal(t, 3, count["switch"])
	require.Equal(t, 3, count["exit"])
	require.Equal(t, 3, count["next_iteration"])
	require.Equal(t, 1, count["loop_cond"])
	back, err := DataflowBackEdges(low)
	require.NoError(t, err)
	require.Len(t, back, 3)
	for n, m := range back {
		require.Equal(t, m.ID, n.Attrs.Int("merge", -1))
		require.True(t, m.Attrs.Bool("loop"))
	}
	require.Len(t, DataflowRoots(low, low.Outputs()...), 5)
	dit, err := NewDataflowInterpreter(low)
	require.NoError(t, err)
	out, err := dit.Run(map[string]*ir.Tensor{"x": tensor([]int{2}, 2, 3)}, low.Outputs()...)
	require.NoError(t, err)
	require.Equal(t, []float64{16, 81}, out[0].Data)
	require.Equal(t, 4, dit.Live[ir.Merge]/3, fmt.Sprint(dit.Live))
}
