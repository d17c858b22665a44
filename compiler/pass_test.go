package compiler

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler/ir"
)

// passCase builds a graph whose outputs a pass must preserve.
type passCase struct {
	name  string
	build func(b *gb) []*ir.Node // the outputs
	// check inspects the graph after the pass.
	check func(t *testing.T, g *ir.Module, outs []*ir.Node)
}

// gb is a small graph builder for pass tests.
type gb struct{ g *ir.Module }

func (b *gb) in(name string, s ir.Shape) *ir.Node { return b.inOf(name, ir.F32, s) }

// inOf declares an input of dtype dt.
func (b *gb) inOf(name string, dt ir.DType, s ir.Shape) *ir.Node {
	n := b.g.MustApply(ir.Input, nil, ir.Attrs{"dtype": dt, "shape": s})
	n.Name = name
	b.g.Inputs = append(b.g.Inputs, n)
	return n
}

func (b *gb) param(name string, s ir.Shape) *ir.Node {
	n := b.g.MustApply(ir.Param, nil, ir.Attrs{"dtype": ir.F32, "shape": s, "init": "zeros"})
	n.Name = name
	b.g.Params = append(b.g.Params, n)
	return n
}

func (b *gb) scalar(v float64) *ir.Node { return b.g.Const(ir.F32, v) }

func (b *gb) consts(s ir.Shape, v ...float64) *ir.Node {
	return b.g.MustApply(ir.Const, nil, ir.Attrs{"dtype": ir.F32, "shape": s, "values": v})
}

func (b *gb) op(def *ir.OpDef, attrs ir.Attrs, in ...*ir.Node) *ir.Node {
	return b.g.MustApply(def, in, attrs)
}

var symN = ir.Sym("N")

// newCaseGraph builds c's graph with its outputs set.
func newCaseGraph(c passCase) (*ir.Module, []*ir.Node) {
	b := &gb{g: ir.NewModule("T", "t.flow")}
	outs := c.build(b)
	for i, o := range outs {
		b.g.AddOutput(string(rune('a'+i)), o)
	}
	return b.g, outs
}

// runPassCase applies pass to c's graph and checks that its outputs have
// the values they had before (in the interpreter, on random inputs and
// params), that the nodes stay in topological order, then runs c.check.
func runPassCase(t *testing.T, pass Pass, c passCase) {
	t.Helper()
	ref, _ := newCaseGraph(c)
	g, outs := newCaseGraph(c)
	require.NoError(t, pass.Run(g))
	requireTopological(t, g)
	want := evalOutputs(t, ref)
	got := evalOutputs(t, g)
	for i := range want {
		require.Equal(t, want[i].Shape, got[i].Shape)
		require.LessOrEqual(t, relDiff(got[i].Data, want[i].Data), 1e-6, "output %d", i)
	}
	if c.check != nil {
		c.check(t, g, outs)
	}
}

func evalOutputs(t *testing.T, g *ir.Module) []*ir.Tensor {
	t.Helper()
	it, err := NewInterpreter(g)
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(1, 2))
	for _, p := range g.Params {
		for i := range it.State[p].Data {
			it.State[p].Data[i] = float64(float32(r.Float64() - 0.5))
		}
	}
	out, err := it.Predict(randomFeeds(r, g, 3))
	require.NoError(t, err)
	return out
}

func requireTopological(t *testing.T, g *ir.Module) {
	t.Helper()
	pos := map[*ir.Node]int{}
	for i, n := range g.Body.Nodes {
		pos[n] = i
	}
	for i, n := range g.Body.Nodes {
		for _, in := range n.Inputs {
			j, ok := pos[in]
			require.True(t, ok && j < i, "%s uses %s before it is computed", n, in)
		}
	}
	for _, r := range g.Roots() {
		_, ok := pos[r]
		require.True(t, ok, "root %s is not in the graph", r)
	}
}

// operandOf returns the single operand of the relu the cases wrap their
// value in (so that the value is not itself an output).
func operandOf(t *testing.T, n *ir.Node) *ir.Node {
	t.Helper()
	require.Equal(t, "relu", n.Op.Name)
	return n.Inputs[0]
}

func opsOf(g *ir.Module) []string {
	var out []string
	for _, n := range g.Body.Nodes {
		out = append(out, n.Op.Name)
	}
	return out
}

func countOp(g *ir.Module, op string) int {
	c := 0
	for _, n := range g.Body.Nodes {
		if n.Op.Name == op {
			c++
		}
	}
	return c
}

func TestSimplifyRewrites(t *testing.T) {
	x4 := ir.Shape{symN, ir.Fixed(4)}
	identity := func(mk func(b *gb, x *ir.Node) *ir.Node) func(*gb) []*ir.Node {
		return func(b *gb) []*ir.Node {
			x := b.in("x", x4)
			return []*ir.Node{b.op(ir.Relu, nil, mk(b, x))}
		}
	}
	isX := func(t *testing.T, g *ir.Module, outs []*ir.Node) {
		require.Equal(t, g.Input("x"), operandOf(t, outs[0]), "%s", g.Dump())
	}
	cases := []passCase{
		{"x*1", identity(func(b *gb, x *ir.Node) *ir.Node { return b.op(ir.Mul, nil, x, b.scalar(1)) }), isX},
		{"1*x", identity(func(b *gb, x *ir.Node) *ir.Node { return b.op(ir.Mul, nil, b.scalar(1), x) }), isX},
		{"x*ones[4]", identity(func(b *gb, x *ir.Node) *ir.Node { return b.op(ir.Mul, nil, x, b.consts(ir.Shp(4), 1, 1, 1, 1)) }), isX},
		{"x*broadcast(1) of x's symbolic shape", identity(func(b *gb, x *ir.Node) *ir.Node {
			return b.op(ir.Mul, nil, x, b.op(ir.BroadcastTo, ir.Attrs{"shape": x4}, b.scalar(1)))
		}), isX},
		{"x+0", identity(func(b *gb, x *ir.Node) *ir.Node { return b.op(ir.Add, nil, x, b.scalar(0)) }), isX},
		{"0+x", identity(func(b *gb, x *ir.Node) *ir.Node { return b.op(ir.Add, nil, b.scalar(0), x) }), isX},
		{"x-0", identity(func(b *gb, x *ir.Node) *ir.Node { return b.op(ir.Sub, nil, x, b.scalar(0)) }), isX},
		{"x/1", identity(func(b *gb, x *ir.Node) *ir.Node { return b.op(ir.Div, nil, x, b.scalar(1)) }), isX},
		{"neg(neg(x))", identity(func(b *gb, x *ir.Node) *ir.Node { return b.op(ir.Neg, nil, b.op(ir.Neg, nil, x)) }), isX},
		{"transpose(transpose(x))", identity(func(b *gb, x *ir.Node) *ir.Node {
			return b.op(ir.Transpose, nil, b.op(ir.Transpose, nil, x))
		}), isX},
		{"identity transpose", identity(func(b *gb, x *ir.Node) *ir.Node {
			return b.op(ir.Transpose, ir.Attrs{"perm": []int{0, 1}}, x)
		}), isX},
		{"reshape back", identity(func(b *gb, x *ir.Node) *ir.Node {
			return b.op(ir.Reshape, ir.Attrs{"shape": []int{-1, 4}}, b.op(ir.Reshape, ir.Attrs{"shape": []int{-1, 2, 2}}, x))
		}), isX},
		{"broadcast_to own shape", identity(func(b *gb, x *ir.Node) *ir.Node {
			return b.op(ir.BroadcastTo, ir.Attrs{"shape": x4}, x)
		}), isX},
		{"sum_to own shape", identity(func(b *gb, x *ir.Node) *ir.Node {
			return b.op(ir.SumTo, ir.Attrs{"shape": x4}, x)
		}), isX},
		{"composed transposes", func(b *gb) []*ir.Node {
			x := b.in("x", ir.Shape{symN, ir.Fixed(2), ir.Fixed(3)})
			t1 := b.op(ir.Transpose, ir.Attrs{"perm": []int{1, 2, 0}}, x)  // [2,3,N]
			t2 := b.op(ir.Transpose, ir.Attrs{"perm": []int{1, 0, 2}}, t1) // [3,2,N]
			return []*ir.Node{b.op(ir.Relu, nil, t2)}
		}, func(t *testing.T, g *ir.Module, outs []*ir.Node) {
			tr := operandOf(t, outs[0])
			require.Equal(t, "transpose", tr.Op.Name)
			require.Equal(t, g.Input("x"), tr.Inputs[0])
			require.Equal(t, []int{2, 1, 0}, tr.Attrs.Ints("perm"))
		}},
		{"reshape of reshape", func(b *gb) []*ir.Node {
			x := b.in("x", ir.Shape{symN, ir.Fixed(4)})
			r := b.op(ir.Reshape, ir.Attrs{"shape": []int{-1, 2, 1, 2}}, b.op(ir.Reshape, ir.Attrs{"shape": []int{-1, 2, 2}}, x))
			return []*ir.Node{b.op(ir.Relu, nil, r)}
		}, func(t *testing.T, g *ir.Module, outs []*ir.Node) {
			r := operandOf(t, outs[0])
			require.Equal(t, "reshape", r.Op.Name)
			require.Equal(t, g.Input("x"), r.Inputs[0])
		}},
		{"fused cross entropy, all axes", func(b *gb) []*ir.Node {
			z, y := b.in("z", x4), b.in("y", x4)
			s := b.op(ir.Sum, nil, b.op(ir.Mul, nil, y, b.op(ir.LogSoftmax, nil, z)))
			return []*ir.Node{b.op(ir.Relu, nil, b.op(ir.Neg, nil, s))}
		}, func(t *testing.T, g *ir.Module, outs []*ir.Node) {
			s := operandOf(t, outs[0])
			require.Equal(t, "sum", s.Op.Name)
			require.Equal(t, "softmax_cross_entropy", s.Inputs[0].Op.Name)
			require.Equal(t, []*ir.Node{g.Input("z"), g.Input("y")}, s.Inputs[0].Inputs)
		}},
		{"fused cross entropy, mean of rows", func(b *gb) []*ir.Node {
			z, y := b.in("z", x4), b.in("y", x4)
			s := b.op(ir.Sum, ir.Attrs{"axes": []int{1}}, b.op(ir.Mul, nil, b.op(ir.LogSoftmax, nil, z), y))
			return []*ir.Node{b.op(ir.Relu, nil, b.op(ir.Neg, nil, b.op(ir.Mean, nil, s)))}
		}, func(t *testing.T, g *ir.Module, outs []*ir.Node) {
			m := operandOf(t, outs[0])
			require.Equal(t, "mean", m.Op.Name)
			require.Equal(t, "softmax_cross_entropy", m.Inputs[0].Op.Name)
		}},
		// Identities that would change a shape or a value stay.
		{"v + zeros[2,4] broadcasts", func(b *gb) []*ir.Node {
			v := b.in("v", ir.Shp(4))
			return []*ir.Node{b.op(ir.Relu, nil, b.op(ir.Add, nil, v, b.consts(ir.Shp(2, 4), make([]float64, 8)...)))}
		}, func(t *testing.T, g *ir.Module, outs []*ir.Node) {
			require.Equal(t, "add", operandOf(t, outs[0]).Op.Name)
		}},
		{"v * ones[2,4] broadcasts", func(b *gb) []*ir.Node {
			v := b.in("v", ir.Shp(4))
			return []*ir.Node{b.op(ir.Relu, nil, b.op(ir.Mul, nil, v, b.consts(ir.Shp(2, 4), 1, 1, 1, 1, 1, 1, 1, 1)))}
		}, func(t *testing.T, g *ir.Module, outs []*ir.Node) {
			require.Equal(t, "mul", operandOf(t, outs[0]).Op.Name)
		}},
		{"x * 2, x + [0, 1, 0, 0], 0 - x stay", func(b *gb) []*ir.Node {
			x := b.in("x", x4)
			return []*ir.Node{
				b.op(ir.Relu, nil, b.op(ir.Mul, nil, x, b.scalar(2))),
				b.op(ir.Relu, nil, b.op(ir.Add, nil, x, b.consts(ir.Shp(4), 0, 1, 0, 0))),
				b.op(ir.Relu, nil, b.op(ir.Sub, nil, b.scalar(0), x)),
			}
		}, func(t *testing.T, g *ir.Module, outs []*ir.Node) {
			for i, op := range []string{"mul", "add", "sub"} {
				require.Equal(t, op, operandOf(t, outs[i]).Op.Name)
			}
		}},
		{"labels that broadcast are not fused", func(b *gb) []*ir.Node {
			z, y := b.in("z", x4), b.in("y", ir.Shp(4))
			s := b.op(ir.Sum, nil, b.op(ir.Mul, nil, y, b.op(ir.LogSoftmax, nil, z)))
			return []*ir.Node{b.op(ir.Relu, nil, b.op(ir.Neg, nil, s))}
		}, func(t *testing.T, g *ir.Module, outs []*ir.Node) {
			require.Zero(t, countOp(g, "softmax_cross_entropy"))
		}},
		{"f64 cross entropy is not fused: softmax_cross_entropy takes f32 only", func(b *gb) []*ir.Node {
			z, y := b.inOf("z", ir.F64, x4), b.inOf("y", ir.F64, x4)
			s := b.op(ir.Sum, nil, b.op(ir.Mul, nil, y, b.op(ir.LogSoftmax, nil, z)))
			return []*ir.Node{b.op(ir.Relu, nil, b.op(ir.Neg, nil, s))}
		}, func(t *testing.T, g *ir.Module, outs []*ir.Node) {
			require.Zero(t, countOp(g, "softmax_cross_entropy"))
			require.Equal(t, 1, countOp(g, "log_softmax"))
		}},
		{"log_softmax over another axis is not fused: softmax_cross_entropy normalizes the last", func(b *gb) []*ir.Node {
			z, y := b.in("z", x4), b.in("y", x4)
			s := b.op(ir.Sum, ir.Attrs{"axes": []int{1}}, b.op(ir.Mul, nil, y, b.op(ir.LogSoftmax, ir.Attrs{"axis": 0}, z)))
			return []*ir.Node{b.op(ir.Relu, nil, b.op(ir.Neg, nil, s))}
		}, func(t *testing.T, g *ir.Module, outs []*ir.Node) {
			require.Zero(t, countOp(g, "softmax_cross_entropy"))
		}},
		{"an output is not replaced by an input", func(b *gb) []*ir.Node {
			return []*ir.Node{b.op(ir.Mul, nil, b.in("x", x4), b.scalar(1))}
		}, func(t *testing.T, g *ir.Module, outs []*ir.Node) {
			require.Equal(t, "mul", g.Outputs()[0].Op.Name)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runPassCase(t, Simplify, c) })
	}
}

func TestFoldConstants(t *testing.T) {
	cases := []passCase{
		{"f32 rounding", func(b *gb) []*ir.Node {
			k := b.consts(ir.Shp(3), 1, 2, 3)
			e := b.op(ir.Exp, nil, b.op(ir.Mul, nil, k, b.scalar(0.1)))
			return []*ir.Node{b.op(ir.Add, nil, b.in("x", ir.Shape{symN, ir.Fixed(3)}), e)}
		}, func(t *testing.T, g *ir.Module, outs []*ir.Node) {
			c := outs[0].Inputs[1]
			require.Equal(t, "const", c.Op.Name)
			for i, v := range c.Attrs.Floats("values") {
				// Each op rounds to f32, as in the interpreter.
				m := float64(float32(float64(i+1) * float64(float32(0.1))))
				require.Equal(t, float64(float32(math.Exp(m))), v)
			}
			require.Zero(t, countOp(g, "exp"))
			require.Zero(t, countOp(g, "mul"))
		}},
		{"an output stays computed", func(b *gb) []*ir.Node {
			return []*ir.Node{b.op(ir.Exp, nil, b.scalar(1))}
		}, func(t *testing.T, g *ir.Module, outs []*ir.Node) {
			require.Equal(t, "exp", g.Outputs()[0].Op.Name)
		}},
		{"inputs, params and large or growing results are not folded", func(b *gb) []*ir.Node {
			x, p := b.in("x", ir.Shp(3)), b.param("p", ir.Shp(3))
			big := b.op(ir.BroadcastTo, ir.Attrs{"shape": ir.Shp(300, 300)}, b.scalar(2))
			return []*ir.Node{
				b.op(ir.Relu, nil, b.op(ir.Add, nil, x, b.op(ir.Exp, nil, p))),
				b.op(ir.Sum, nil, b.op(ir.Mul, nil, big, b.scalar(3))),
			}
		}, func(t *testing.T, g *ir.Module, outs []*ir.Node) {
			require.Equal(t, []string{"input", "param", "const", "broadcast_to", "exp", "add", "relu", "const", "mul", "sum"}, opsOf(g))
		}},
		{"NaN stays computed", func(b *gb) []*ir.Node {
			l := b.op(ir.Log, nil, b.scalar(-1))
			return []*ir.Node{b.op(ir.Add, nil, b.in("x", ir.Shp(2)), l)}
		}, func(t *testing.T, g *ir.Module, outs []*ir.Node) {
			require.Equal(t, "log", outs[0].Inputs[1].Op.Name)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "NaN stays computed" {
				// The outputs are NaN on both sides: check the structure only.
				g, outs := newCaseGraph(c)
				require.NoError(t, FoldConstants.Run(g))
				c.check(t, g, outs)
				return
			}
			runPassCase(t, FoldConstants, c)
		})
	}
}

func TestTransposeMatmul(t *testing.T) {
	cases := []passCase{
		{"both operands", func(b *gb) []*ir.Node {
			a, w := b.in("a", ir.Shape{ir.Fixed(4), symN}), b.param("w", ir.Shp(3, 4))
			mm := b.op(ir.Matmul, nil, b.op(ir.Transpose, nil, a), b.op(ir.Transpose, nil, w))
			return []*ir.Node{mm}
		}, func(t *testing.T, g *ir.Module, outs []*ir.Node) {
			mm := g.Outputs()[0]
			require.Equal(t, []*ir.Node{g.Input("a"), g.Param("w")}, mm.Inputs)
			require.True(t, mm.Attrs.Bool("transpose_a"))
			require.True(t, mm.Attrs.Bool("transpose_b"))
		}},
		{"an already transposed operand", func(b *gb) []*ir.Node {
			a, w := b.in("a", ir.Shape{symN, ir.Fixed(4)}), b.param("w", ir.Shp(4, 3))
			return []*ir.Node{b.op(ir.Matmul, ir.Attrs{"transpose_b": true}, a, b.op(ir.Transpose, nil, w))}
		}, func(t *testing.T, g *ir.Module, outs []*ir.Node) {
			require.False(t, g.Outputs()[0].Attrs.Bool("transpose_b"))
			require.Equal(t, g.Param("w"), g.Outputs()[0].Inputs[1])
		}},
		{"batched", func(b *gb) []*ir.Node {
			s, m := b.in("s", ir.Shape{symN, ir.Fixed(3), ir.Fixed(2)}), b.param("m", ir.Shp(3, 5))
			return []*ir.Node{b.op(ir.Matmul, nil, b.op(ir.Transpose, ir.Attrs{"perm": []int{0, 2, 1}}, s), m)}
		}, func(t *testing.T, g *ir.Module, outs []*ir.Node) {
			require.True(t, g.Outputs()[0].Attrs.Bool("transpose_a"))
			require.Zero(t, countOp(g, "transpose"), "dead transposes go")
		}},
		{"other permutations stay", func(b *gb) []*ir.Node {
			s, m := b.in("s", ir.Shp(3, 2, 3)), b.param("m", ir.Shp(3, 5))
			return []*ir.Node{b.op(ir.Matmul, nil, b.op(ir.Transpose, ir.Attrs{"perm": []int{1, 0, 2}}, s), m)}
		}, func(t *testing.T, g *ir.Module, outs []*ir.Node) {
			require.False(t, g.Outputs()[0].Attrs.Bool("transpose_a"))
			require.Equal(t, "transpose", g.Outputs()[0].Inputs[0].Op.Name)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runPassCase(t, Pass{Name: "tm+dce", Run: func(g *ir.Module) error {
				if err := TransposeMatmul.Run(g); err != nil {
					return err
				}
				return DCE.Run(g)
			}}, c)
		})
	}
}

// chainFLOPs sums the matmul op's FLOPs at N = 64.
func chainFLOPs(g *ir.Module) float64 {
	total := 0.0
	for _, n := range g.Body.Nodes {
		if n.Op == ir.Matmul {
			total += n.Op.Cost(n, ir.Bind(ir.Binding{"N": chainSymSize})).FLOPs
		}
	}
	return total
}

func TestMatmulChain(t *testing.T) {
	chain := func(b *gb) []*ir.Node {
		x := b.in("x", ir.Shape{symN, ir.Fixed(64)})
		a, c := b.param("a", ir.Shp(64, 32)), b.param("c", ir.Shp(2, 32))
		// (x @ a) @ cᵀ: c is read transposed.
		return []*ir.Node{b.op(ir.Matmul, ir.Attrs{"transpose_b": true}, b.op(ir.Matmul, nil, x, a), c)}
	}
	ref, _ := newCaseGraph(passCase{build: chain})
	before := chainFLOPs(ref)
	require.Equal(t, 2.0*64*64*32+2*64*32*2, before)
	runPassCase(t, Pass{Name: "chain+dce", Run: func(g *ir.Module) error {
		if err := MatmulChain.Run(g); err != nil {
			return err
		}
		return DCE.Run(g)
	}}, passCase{"reordered", chain, func(t *testing.T, g *ir.Module, outs []*ir.Node) {
		// x @ (a @ cᵀ): 2*64*32*2 + 2*N*64*2.
		require.Equal(t, 2.0*64*32*2+2*64*64*2, chainFLOPs(g))
		out := g.Outputs()[0]
		require.Equal(t, g.Input("x"), out.Inputs[0])
		inner := out.Inputs[1]
		require.Equal(t, []*ir.Node{g.Param("a"), g.Param("c")}, inner.Inputs)
		require.True(t, inner.Attrs.Bool("transpose_b"))
	}})
	keep := []passCase{
		{"already optimal", func(b *gb) []*ir.Node {
			x := b.in("x", ir.Shape{symN, ir.Fixed(64)})
			a, c := b.param("a", ir.Shp(64, 2)), b.param("c", ir.Shp(2, 64))
			return []*ir.Node{b.op(ir.Matmul, nil, b.op(ir.Matmul, nil, x, a), c)}
		}, nil},
		{"a shared intermediate", func(b *gb) []*ir.Node {
			x := b.in("x", ir.Shape{symN, ir.Fixed(64)})
			a, c := b.param("a", ir.Shp(64, 32)), b.param("c", ir.Shp(32, 2))
			xa := b.op(ir.Matmul, nil, x, a)
			return []*ir.Node{b.op(ir.Matmul, nil, xa, c), b.op(ir.Relu, nil, xa)}
		}, nil},
	}
	for _, c := range keep {
		t.Run(c.name, func(t *testing.T) {
			ref, _ := newCaseGraph(c)
			g, _ := newCaseGraph(c)
			require.NoError(t, MatmulChain.Run(g))
			require.Equal(t, ref.Dump(), g.Dump())
		})
	}
}

func TestCSE(t *testing.T) {
	c := passCase{"merges", func(b *gb) []*ir.Node {
		x, y := b.in("x", ir.Shp(2, 3)), b.in("y", ir.Shp(2, 3))
		s1, s2 := b.op(ir.Add, nil, x, y), b.op(ir.Add, nil, y, x) // commutes
		e1, e2 := b.op(ir.Exp, nil, s1), b.op(ir.Exp, nil, s2)
		k1, k2, k3 := b.scalar(0.5), b.scalar(0.5), b.scalar(0.25)
		m1 := b.op(ir.Mul, nil, e1, k1)
		m2 := b.op(ir.Mul, nil, e2, k2)
		m3 := b.op(ir.Mul, nil, e2, k3)
		d1, d2 := b.op(ir.Sub, nil, x, y), b.op(ir.Sub, nil, y, x) // does not commute
		r1 := b.op(ir.Sum, ir.Attrs{"axes": []int{0}}, x)
		r2 := b.op(ir.Sum, ir.Attrs{"axes": []int{1}}, x)
		return []*ir.Node{m1, m2, m3, d1, d2, r1, r2}
	}, func(t *testing.T, g *ir.Module, outs []*ir.Node) {
		require.Equal(t, 1, countOp(g, "add"))
		require.Equal(t, 1, countOp(g, "exp"))
		require.Equal(t, 2, countOp(g, "const"))
		require.Equal(t, 2, countOp(g, "mul"))
		require.Equal(t, g.Outputs()[0], g.Outputs()[1])
		require.Equal(t, 2, countOp(g, "sub"))
		require.Equal(t, 2, countOp(g, "sum"))
	}}
	runPassCase(t, CSE, c)

	// Params and updates never merge.
	g := ir.NewModule("T", "t.flow")
	b := &gb{g: g}
	p1, p2 := b.param("p1", ir.Shp(2)), b.param("p2", ir.Shp(2))
	p1.Attrs["init"], p2.Attrs["init"] = "zeros", "zeros"
	v := b.in("v", ir.Shp(2))
	u1, u2 := b.op(ir.AssignAdd, nil, p1, v), b.op(ir.AssignAdd, nil, p1, v)
	g.AddUpdate(u1)
	g.AddUpdate(u2)
	g.AddOutput("o", b.op(ir.Add, nil, p1, p2))
	require.NoError(t, CSE.Run(g))
	require.Equal(t, 2, countOp(g, "param"))
	require.Equal(t, 2, countOp(g, "assign_add"))
	require.Equal(t, []*ir.Node{u1, u2}, g.Updates())
}

func TestDCE(t *testing.T) {
	g := ir.NewModule("T", "t.flow")
	b := &gb{g: g}
	x, unused := b.in("x", ir.Shp(2)), b.in("unused", ir.Shp(2))
	p := b.param("p", ir.Shp(2))
	dead := b.op(ir.Exp, nil, x)
	b.op(ir.Relu, nil, dead)
	drop := b.op(ir.Dropout, ir.Attrs{"rate": 0.5}, x)
	g.AddOutput("o", b.op(ir.Add, nil, x, p))
	require.NoError(t, DCE.Run(g))
	require.Equal(t, []string{"input", "input", "param", "dropout", "add"}, opsOf(g))
	require.Equal(t, []*ir.Node{x, unused}, g.Inputs, "the signature stays")
	require.Contains(t, g.Body.Nodes, drop, "dropout stays for the train-mode lowering")
}

// TestReplaceUpdatesEveryReference checks ir.Module.Replace redirects
// operands, outputs, the losses, gradients and updates, removes the old
// node and restores a topological order when the new node is younger.
func TestReplaceUpdatesEveryReference(t *testing.T) {
	g := ir.NewModule("T", "t.flow")
	b := &gb{g: g}
	x, p := b.in("x", ir.Shp(2)), b.param("p", ir.Shp(2))
	old := b.op(ir.Mul, nil, x, p)
	use := b.op(ir.Exp, nil, old)
	loss := b.op(ir.Sum, nil, old)
	upd := b.op(ir.Assign, nil, p, old)
	g.AddOutput("a", old)
	g.AddOutput("b", use)
	g.SetLoss(old)
	g.Grads[p] = old
	g.AddUpdate(upd)
	_ = loss
	repl := b.op(ir.Add, nil, x, p) // created after its users
	g.Replace(old, repl)
	require.NotContains(t, g.Body.Nodes, old)
	require.Equal(t, repl, use.Inputs[0])
	require.Equal(t, repl, loss.Inputs[0])
	require.Equal(t, repl, upd.Inputs[1])
	require.Equal(t, []*ir.Node{repl, use}, g.Outputs())
	require.Equal(t, repl, g.Loss())
	require.Equal(t, repl, g.TrainingLoss())
	require.Equal(t, repl, g.Grads[p])
	requireTopological(t, g)
	ids := map[int]bool{}
	for _, n := range g.Body.Nodes {
		require.False(t, ids[n.ID], "IDs stay unique")
		ids[n.ID] = true
	}
}

// TestNoOptimize checks that Options.NoOptimize runs only the lowering
// stages and that DumpAfter sees every pass otherwise.
func TestNoOptimize(t *testing.T) {
	var stages []string
	_, err := CompileFile("../examples/mnist_softmax.flow", Options{NoOptimize: true, DumpAfter: func(s string, _ *ir.Module) {
		stages = append(stages, s)
	}})
	require.NoError(t, err)
	require.Equal(t, []string{"check", "stable-log-softmax", "train"}, stages)
	stages = nil
	_, err = CompileFile("../examples/mnist_softmax.flow", Options{DumpAfter: func(s string, _ *ir.Module) {
		stages = append(stages, s)
	}})
	require.NoError(t, err)
	for _, p := range OptimizationPasses {
		n := 0
		for _, s := range stages {
			if s == p.Name {
				n++
			}
		}
		require.Equal(t, 2, n, "pass %s runs on the forward and the training graph", p.Name)
	}
	for _, s := range stages {
		require.True(t, slices.Contains(StageNames(), s), s)
	}
}
