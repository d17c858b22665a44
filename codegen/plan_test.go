package codegen

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/compiler/ir"
)

func TestSizeCovers(t *testing.T) {
	var sizes []size
	for _, c := range []int{0, 1, 2, 5, 10, 784} {
		for k := 0; k <= 2; k++ {
			sizes = append(sizes, size{c: c, k: strings.TrimSuffix(strings.Repeat("N*", k), "*")})
		}
	}
	eval := func(s size, n int) int {
		v := s.c
		for range monoDegree(s.k) {
			v *= n
		}
		return v
	}
	for _, p := range sizes {
		for _, q := range sizes {
			want := true
			for n := 1; n <= 1000; n++ {
				if eval(p, n) < eval(q, n) {
					want = false
					break
				}
			}
			require.Equal(t, want, sizeCovers(p, q), "%v covers %v", p, q)
			// Growth order: p before q when p is smaller for all large n.
			require.Equal(t, eval(p, 1000) < eval(q, 1000), sizeLess(p, q), "%v < %v", p, q)
		}
	}
}

// planOf compiles src and returns the generator with its memory plan.
func planOf(t *testing.T, src string) (*gen, map[string]*ir.Node) {
	t.Helper()
	g, err := compiler.Compile("m.flow", []byte(src), compiler.Options{})
	require.NoError(t, err)
	c := newGen(g, Options{Package: "m"})
	require.NoError(t, c.decide(""))
	named := map[string]*ir.Node{}
	for _, n := range g.Body.Nodes {
		if n.Name != "" {
			named[n.Name] = n
		}
	}
	return c, named
}

// TestPlanSharesDeadBuffers checks that an element-wise op runs in place
// and that a dead buffer's slot is reused, while a live one is not.
func TestPlanSharesDeadBuffers(t *testing.T) {
	c, n := planOf(t, `model M {
    input x: f32[N, 8]
    param W: f32[8, 8] = ones
    a = x @ W
    b = tanh(a)
    h = b @ W
    d = softmax(h)
    output d
}
`)
	pl := c.plan.mem
	require.Empty(t, c.plan.fused)
	require.Same(t, pl.slotOf[n["a"]], pl.slotOf[n["b"]], "tanh overwrites a, its last reader")
	require.Same(t, pl.slotOf[n["a"]], pl.slotOf[n["d"]], "d reuses the dead a and b")
	require.NotSame(t, pl.slotOf[n["b"]], pl.slotOf[n["h"]], "b is read while h is written")
	require.Equal(t, poly{"N": 16}, pl.size(ir.F32), "two [N,8] slots")
	require.Equal(t, poly{"N": 32}, c.plan.naiveSize(ir.F32))
}

// TestFuseChains checks which nodes fuse: a single-reader element-wise
// chain does, a node read twice or a result does not.
func TestFuseChains(t *testing.T) {
	c, n := planOf(t, `model M {
    input x: f32[N, 8]
    input y: f32[N, 8]
    a = square(x)
    b = abs(a)
    d = relu(b)
    e = d * a
    f = e + 1
    out = f @ transpose(y)
    output out, e
}
`)
	require.Equal(t, map[*ir.Node]bool{n["b"]: true, n["d"]: true}, c.plan.fused, "a has two readers, e is an output, f feeds a matmul")
	pl := c.plan.mem
	require.Same(t, pl.slotOf[n["a"]], pl.slotOf[n["e"]], "e overwrites a in place")
}

// TestVectorFunctionsDoNotFuse: an f32 exp, sigmoid or tanh neither fuses
// into its reader nor takes a fused operand, so that it runs as a vector
// kernel over a buffer (runtime.SigmoidSlice).
func TestVectorFunctionsDoNotFuse(t *testing.T) {
	c, _ := planOf(t, `model M {
    input x: f32[N, 8]
    a = x * 2
    b = sigmoid(a)
    d = b + 1
    e = tanh(d)
    f = e * e
    output f
}
`)
	require.Empty(t, c.plan.fused)
	code, err := Generate(c.g, Options{})
	require.NoError(t, err)
	require.Contains(t, string(code), "runtime.SigmoidSlice(")
	require.Contains(t, string(code), "runtime.TanhSlice(")
}

// TestPlanIsSafe simulates every entry point of every example under its
// memory plan: each slot holds the value of the last node that wrote it,
// and every read (of an operand, of a result at the end of the call, of
// an update's value) must find its own node's value there. An element-wise
// node may read the operand it overwrites: it reads before it writes. A
// control-flow node writes its regions' buffers and its gets'.
func TestPlanIsSafe(t *testing.T) {
	files, err := filepath.Glob("../examples/*.flow")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		g, err := compiler.CompileFile(f, compiler.Options{})
		require.NoError(t, err, f)
		c := newGen(g, Options{Package: "m"})
		require.NoError(t, c.decide(""))
		pl := c.plan.mem
		progs := c.plan.facts.progs
		byName := map[string]*program{}
		for i := range progs {
			byName[progs[i].name] = &progs[i]
		}
		for _, entry := range []string{"predict", "loss", "train"} {
			p := byName[entry]
			if p == nil {
				continue
			}
			var chain []*program
			for q := p; q != nil; q = q.prefix {
				chain = append([]*program{q}, chain...)
			}
			owner := map[*memSlot]*ir.Node{}
			overwritten := map[*ir.Node]bool{} // params whose new value is in place
			read := func(x *ir.Node, when string) {
				require.False(t, overwritten[x], "%s %s: %s reads param %s after its new value overwrote it", f, entry, when, x.Label())
				if s, ok := pl.slotOf[x]; ok {
					require.Same(t, x, owner[s], "%s %s: %s reads %s, but its slot holds %v", f, entry, when, x.Label(), owner[s])
				}
			}
			done := map[*ir.Node]bool{}
			for _, q := range chain {
				for _, n := range g.Schedule(q.roots...) {
					if done[n] {
						continue
					}
					done[n] = true
					if c.plan.absorbed(n) {
						continue // emitted inside its consumer
					}
					if n.Op != ir.Assign { // an assign emits no code
						for _, in := range c.plan.reads(n) {
							read(in, n.Label())
						}
					}
					if st := c.ownerStorage(n); len(st) > 0 {
						// Control flow writes its region nodes' buffers
						// and its gets' while it runs, again and again:
						// all of them, and its operands, must hold
						// their own values together.
						for _, m := range st {
							owner[pl.slotOf[m]] = m
						}
						for _, m := range st {
							read(m, n.Label()+" (running)")
						}
						for _, in := range c.plan.reads(n) {
							read(in, n.Label()+" (having run)")
						}
					}
					if s, ok := pl.slotOf[n]; ok && n.Op != ir.Get { // its owner wrote a get
						owner[s] = n
					}
					if p := c.plan.inPlace[n]; p != nil {
						require.Equal(t, "train", entry, "%s: %s is written into param %s outside the train step", f, n.Label(), p.Label())
						overwritten[p] = true
					}
				}
			}
			for _, r := range p.roots {
				read(r, "the end of the call")
			}
			if entry == "train" {
				for _, u := range g.Updates() {
					read(updateValue(u), "the update of "+u.Inputs[0].Name)
				}
			}
		}
		require.LessOrEqual(t, polyEval(pl.size(ir.F32), 64), polyEval(c.plan.naiveSize(ir.F32), 64), f)
	}
}

// TestParallelLoops checks the cost model's split decision: a large
// element-wise loop runs on several goroutines, a small one on the caller,
// and a loop whose operand broadcasts cannot be split into ranges.
func TestParallelLoops(t *testing.T) {
	c, n := planOf(t, `model M {
    input x: f32[N, 4096]
    input s: f32[N, 8]
    input b: f32[4096]
    big = exp(x)
    small = exp(s)
    bias = x + b
    output big, small, bias
}
`)
	require.Contains(t, c.plan.parallel[n["big"]].why, "goroutines")
	require.NotContains(t, c.plan.parallel, n["small"])
	require.NotContains(t, c.plan.parallel, n["bias"], "b broadcasts along the rows")
}

// TestInPlaceUpdates checks that an update's new value is computed in its
// param's storage when nothing reads the param's old value later in the
// train step, and not when something does.
func TestInPlaceUpdates(t *testing.T) {
	model := func(updates string) string {
		return `model M {
    input x: f32[N, 4]
    input y: f32[N, 4]
    param W: f32[4, 4] = ones
    param s: f32[] = zeros
    param r: f32[] = zeros
    p = x @ W
    loss = mean(square(p - y))
` + updates + `
    output p
    train loss with sgd(lr = 0.1)
}
`
	}
	// k is written first, but q's value reads the old s: the compiler's
	// control edge (order-updates) moves k after that read, so k may
	// write s in place.
	c, n := planOf(t, model("    k = assign_add(s, 1)\n    q = assign(r, s * 2)"))
	require.Contains(t, n["k"].Deps, n["q"], "k runs after q's value, which reads s")
	require.Same(t, n["s"], c.plan.inPlace[n["k"]])
	require.Same(t, n["r"], c.plan.inPlace[n["q"]], "nothing reads the old r")
	// q's value first: now k may write s in place.
	c, n = planOf(t, model("    q = assign(r, s * 2)\n    k = assign_add(s, 1)"))
	require.Same(t, n["s"], c.plan.inPlace[n["k"]])
	require.Same(t, n["r"], c.plan.inPlace[n["q"]])
	require.Same(t, n["W"], c.plan.inPlace[c.g.Updates()[len(c.g.Updates())-1].Inputs[1]], "sgd's new W, after every read of W")
}

// TestMatmulEpilogue checks which chains become one GEMM: a row bias
// added to a product read nowhere else does, with a ReLU after it too
// (also in training, whose relu_grad reads the ReLU's output); a product
// read twice, or a sum with a full matrix, does not.
func TestMatmulEpilogue(t *testing.T) {
	c, n := planOf(t, `model M {
    input x: f32[N, 8]
    input z: f32[N, 4]
    param W: f32[8, 4] = ones
    param V: f32[8, 4] = ones
    param U: f32[8, 4] = ones
    param b: f32[4] = ones
    p = x @ W
    y = p + b
    q = x @ V
    u = q + z
    v = u * q
    r = x @ U
    s = r + b
    h = relu(s)
    output y, v, h
    train mean(h) with sgd(lr = 0.1)
}
`)
	require.Equal(t, &epilogue{kernel: n["p"], bias: n["b"]}, c.plan.epilogue[n["y"]])
	require.True(t, c.plan.epilogueOf[n["p"]])
	require.False(t, c.plan.hasBuf[n["p"]], "the product is written into y's buffer")
	require.Nil(t, c.plan.epilogue[n["u"]], "z is not a row bias, and q is read twice")
	require.Equal(t, &epilogue{kernel: n["r"], bias: n["b"], relu: true}, c.plan.epilogue[n["h"]])
	require.True(t, c.plan.epilogueOf[n["r"]] && c.plan.epilogueOf[n["s"]])
	require.False(t, c.plan.hasBuf[n["s"]], "the pre-activation is never stored")
}

// TestMatmulSumEpilogue checks that the gradient of x @ W for a rank-3 x
// and a shared W, a batched product summed over the batch, is one SGEMM
// writing the sum, and that a batched product that broadcasts an operand
// is not.
func TestMatmulSumEpilogue(t *testing.T) {
	c, n := planOf(t, `model M {
    input x: f32[N, 5, 8]
    input z: f32[N, 8, 5]
    param W: f32[8, 4] = ones
    y = x @ W
    p = matmul(x, z, transpose_a = true, transpose_b = true)
    output y, p
    train mean(y) with sgd(lr = 0.1)
}
`)
	var sum *ir.Node
	for end, e := range c.plan.epilogue {
		if e.sumBatch {
			require.Nil(t, sum, "one summed product")
			sum = end
			k := e.kernel
			require.Equal(t, ir.SumTo, end.Op)
			require.Equal(t, ir.Matmul, k.Op)
			require.Same(t, n["x"], k.Inputs[0], "dW = Σ xᵢᵀ dyᵢ")
			require.True(t, c.plan.epilogueOf[k])
			require.False(t, c.plan.hasBuf[k], "the batch of products is never stored")
			require.Equal(t, "[8,4]", end.Type.Shape.String())
		}
	}
	require.NotNil(t, sum, "the gradient of W sums its products in one call")
	require.Nil(t, c.plan.epilogue[n["p"]], "transpose_b: no summed product")
}

// TestAddendEpilogue checks that a product plus a value of its type is
// one SGEMM accumulating onto a copy of the value, inside a loop body too;
// that of two products added, one is the other's addend; that a batched
// product over the stacked rows of x takes a bias; and that an addend is
// never fused into the kernel call.
func TestAddendEpilogue(t *testing.T) {
	c, n := planOf(t, `model M {
    input x: f32[N, 5, 8]
    input v: f32[N, 8]
    param W: f32[8, 8] = ones
    param U: f32[8, 8] = ones
    param V: f32[8, 8] = ones
    param b: f32[8] = ones
    xw = x @ W + b
    hs, _ = for xt in xw along 1 (h = v) {
        z = xt + h @ U
        h = tanh(z)
        yield h
    }
    p = v @ W
    q = v @ U
    s = p + q
    w = v * 2.0
    y = w + v @ V
    output hs, s, y
}
`)
	require.Equal(t, &epilogue{kernel: n["xw"].Inputs[0], bias: n["b"]}, c.plan.epilogue[n["xw"]], "x @ W over the stacked rows of x, plus b")
	require.Equal(t, &epilogue{kernel: n["p"], addend: n["q"]}, c.plan.epilogue[n["s"]], "the first product takes the second as its addend")
	require.False(t, c.plan.epilogueOf[n["q"]], "the addend keeps its buffer")
	require.NotNil(t, c.plan.epilogue[n["y"]])
	require.Same(t, n["w"], c.plan.epilogue[n["y"]].addend)
	require.False(t, c.plan.fused[n["w"]], "an addend is copied, not fused")
	var z *ir.Node
	for _, m := range c.allNodes() {
		if m.Name == "z" {
			z = m
		}
	}
	require.NotNil(t, z)
	e := c.plan.epilogue[z]
	require.NotNil(t, e, "xt + h @ U in the loop body is one kernel call")
	require.Equal(t, ir.Arg, e.addend.Op, "onto the step of xw")
}

// TestCarriedInPlace checks that a loop's carried value is computed in
// its block argument's storage when nothing reads the argument after the
// new value (the trip then ends with no copy), and not when something
// does.
func TestCarriedInPlace(t *testing.T) {
	c, _ := planOf(t, `model M {
    input x: f32[N, 4, 8]
    param W: f32[8, 8] = ones
    qs, s, h, k = for xt in x along 1 (s = fill(dims = [N, 8], value = 0), h = fill(dims = [N, 8], value = 0), k = fill(dims = [N, 8], value = 0)) {
        s = s + xt
        h = tanh(h @ W)
        k2 = k + xt
        q = k * k2
        k = k2
        yield q
    }
    output qs, s, h, k
}
`)
	var body *ir.Region
	for _, n := range c.g.Body.Nodes {
		if n.Op == ir.Scan {
			body = n.Attrs["body"].(*ir.Region)
		}
	}
	require.NotNil(t, body)
	arg := func(name string) *ir.Node {
		for _, a := range body.Args {
			if a.Name == name {
				return a
			}
		}
		t.Fatalf("no block argument %s", name)
		return nil
	}
	// Results: the per-step q, then s, h, k.
	s, h, k := body.Results[1], body.Results[2], body.Results[3]
	require.Same(t, arg("s"), c.plan.carried[s], "s + s's step: element-wise, its only reader")
	require.Same(t, arg("h"), c.plan.carried[h], "h @ W reads h before tanh writes it")
	require.Nil(t, c.plan.carried[k], "q reads the old k after k2 is computed")
	require.False(t, c.plan.hasBuf[s] || c.plan.hasBuf[h])
	require.True(t, c.plan.hasBuf[k])
}

// TestConvEpilogue checks that relu(bias_add(conv2d(x, K), c)) is one
// convolution call with the bias and ReLU fused, and that a convolution
// whose result is read twice keeps its own buffer.
func TestConvEpilogue(t *testing.T) {
	c, n := planOf(t, `model M {
    input x: f32[N, 6, 6, 1]
    param K: f32[3, 3, 1, 32] = ones
    param c: f32[32] = ones
    a = conv2d(x, K, padding = "SAME")
    s = bias_add(a, c)
    h = relu(s)
    k = conv2d(x, K, padding = "VALID")
    j = k * k
    output h, j
}
`)
	require.Equal(t, &epilogue{kernel: n["a"], bias: n["c"], relu: true}, c.plan.epilogue[n["h"]])
	require.False(t, c.plan.hasBuf[n["a"]] || c.plan.hasBuf[n["s"]])
	require.Nil(t, c.plan.epilogue[n["j"]])
	require.True(t, c.plan.hasBuf[n["k"]])
}

// polyEval evaluates a polynomial in N at n.
func polyEval(p poly, n int) int {
	total := 0
	for k, c := range p {
		v := c
		for range monoDegree(k) {
			v *= n
		}
		total += v
	}
	return total
}

// TestPlanStepOrder checks that every planning step runs after the steps
// it says it needs, and that step names are unique.
func TestPlanStepOrder(t *testing.T) {
	done := map[string]bool{}
	for _, s := range planPasses {
		require.False(t, done[s.name], "two steps are called %s", s.name)
		for _, need := range s.needs {
			require.True(t, done[need], "step %s needs %s, which runs later or not at all", s.name, need)
		}
		done[s.name] = true
	}
}

// TestSizeCoversSeveralSymbols checks the slot comparison with two
// symbols against evaluation at every binding of N and T up to 30: a
// slot covers a size when it is at least as large at all of them, and
// sizes growing with different symbols are incomparable.
func TestSizeCoversSeveralSymbols(t *testing.T) {
	var sizes []size
	for _, c := range []int{0, 1, 3, 8} {
		for _, k := range []string{"", "N", "T", "N*T", "N*N", "N*T*T"} {
			sizes = append(sizes, size{c: c, k: k})
		}
	}
	eval := func(s size, n, t int) int {
		return poly{s.k: s.c}.at(map[string]int{"N": n, "T": t})
	}
	for _, p := range sizes {
		for _, q := range sizes {
			want := true
			for n := 1; n <= 30 && want; n++ {
				for t := 1; t <= 30; t++ {
					if eval(p, n, t) < eval(q, n, t) {
						want = false
						break
					}
				}
			}
			require.Equal(t, want, sizeCovers(p, q), "%v covers %v", p, q)
			if sizeCovers(p, q) && !sizeCovers(q, p) {
				require.False(t, sizeLess(p, q), "%v covers %v, so it is not less", p, q)
			}
		}
	}
	require.Equal(t, "N^2·T", monoText(monoMul("T", "N*N")))
}
