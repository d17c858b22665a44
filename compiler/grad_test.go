package compiler

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flow-lang/flow/compiler/ir"
	"github.com/stretchr/testify/require"
)

// gradCase is one finite-difference check: an op applied to operands of
// the given shapes (and attributes).
type gradCase struct {
	op     string
	shapes [][]int
	dtypes []ir.DType // per operand: f64, or the example's integer or bool dtype
	attrs  ir.Attrs
	// gen draws operand values.
	gen func(r *rand.Rand) float64
	// domain is the example's value domain; WellConditioned maps the
	// drawn values with ir.WellConditionedValue.
	domain ir.Domain
}

func positive(r *rand.Rand) float64 { return 0.5 + 2*r.Float64() }

// awayFromZero keeps relu's kink out of the finite-difference stencil.
func awayFromZero(r *rand.Rand) float64 {
	v := 0.2 + 1.8*r.Float64()
	if r.IntN(2) == 0 {
		return -v
	}
	return v
}

// gradCases are the registry's examples of every differentiable op.
func gradCases() []gradCase {
	var out []gradCase
	for _, def := range ir.Ops() {
		if def.Grad == nil {
			continue
		}
		for _, ex := range def.Examples {
			gen := awayFromZero
			if ex.Domain == ir.Positive {
				gen = positive
			}
			var dts []ir.DType
			for i := range ex.Shapes {
				dts = append(dts, ex.OperandDType(i, ir.F64))
			}
			out = append(out, gradCase{op: def.Name, shapes: ex.Shapes, dtypes: dts, attrs: ex.Attrs, gen: gen, domain: ex.Domain})
		}
	}
	return out
}

// TestGradientsMatchFiniteDifferences checks every differentiable op's
// gradient rule against central differences of the reference
// interpreter, in f64. The loss is sum(op(x...) * w) with a fixed random
// w, so every output element contributes with a distinct weight.
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	for i, tc := range gradCases() {
		t.Run(fmt.Sprintf("%s/%d", tc.op, i), func(t *testing.T) {
			checkGradient(t, tc, uint64(i))
		})
	}
}

// TestEveryOpHasExamples requires test examples in every op that users
// can call, so the gradient and codegen checks cover it.
func TestEveryOpHasExamples(t *testing.T) {
	for _, def := range ir.Ops() {
		if !def.Internal {
			require.NotEmpty(t, def.Examples, "op %s has no examples", def.Name)
		}
	}
}

func checkGradient(t *testing.T, tc gradCase, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 7))
	gen := tc.gen
	if gen == nil {
		gen = awayFromZero
	}
	g := ir.NewModule("grad", "test")
	var xs, operands []*ir.Node
	for i, s := range tc.shapes {
		dt := ir.F64
		if i < len(tc.dtypes) {
			dt = tc.dtypes[i]
		}
		p := g.MustApply(ir.Param, nil, ir.Attrs{"dtype": dt, "shape": ir.Shp(s...), "init": "zeros"})
		p.Name = fmt.Sprintf("x%d", i)
		g.Params = append(g.Params, p)
		operands = append(operands, p)
		if dt == ir.F64 {
			xs = append(xs, p) // integer and bool operands get no gradient
		}
	}
	attrs := ir.Attrs{}
	for k, v := range tc.attrs {
		attrs[k] = v
	}
	y, err := g.Apply(ir.MustLookup(tc.op), operands, attrs)
	require.NoError(t, err)
	if len(xs) == 0 || y.Type.DType != ir.F64 {
		return // no gradient flows through an integer or bool result
	}
	wshape := y.Type.Shape
	wvals := make([]float64, wshape.NumElements(nil))
	for i := range wvals {
		wvals[i] = r.Float64()*2 - 1
	}
	w := g.MustApply(ir.Const, nil, ir.Attrs{"dtype": ir.F64, "shape": wshape, "values": wvals})
	loss := g.MustApply(ir.Sum, []*ir.Node{g.MustApply(ir.Mul, []*ir.Node{y, w}, nil)}, nil)
	grads, err := Gradients(g, loss, xs)
	require.NoError(t, err)

	it, err := NewInterpreter(g)
	require.NoError(t, err)
	for _, x := range operands {
		for i := range it.State[x].Data {
			if x.Type.DType != ir.F64 {
				it.State[x].Data[i] = float64(r.IntN(3))
				if x.Type.DType == ir.Bool {
					it.State[x].Data[i] = float64(r.IntN(2))
				}
				continue
			}
			it.State[x].Data[i] = gen(r)
			if tc.domain == ir.WellConditioned {
				it.State[x].Data[i] = ir.WellConditionedValue(x.Type.Shape.Eval(nil), i, it.State[x].Data[i])
			}
		}
	}
	got, err := it.Run(nil, grads...)
	require.NoError(t, err)

	lossAt := func() float64 {
		out, err := it.Run(nil, loss)
		require.NoError(t, err)
		return out[0].Data[0]
	}
	const h = 1e-6
	for k, x := range xs {
		data := it.State[x].Data
		require.Equal(t, x.Type.Shape.Eval(nil), got[k].Shape, "gradient of x%d has the wrong shape", k)
		for i := range data {
			orig := data[i]
			data[i] = orig + h
			lp := lossAt()
			data[i] = orig - h
			lm := lossAt()
			data[i] = orig
			fd := (lp - lm) / (2 * h)
			an := got[k].Data[i]
			tol := 1e-6 * math.Max(1, math.Abs(fd))
			require.InDelta(t, fd, an, tol, "d loss / d x%d[%d]: finite difference %g, autodiff %g", k, i, fd, an)
		}
	}
}

// TestMinMaxTieRules checks the gradients of maximum and minimum where
// the operands tie, by hand: ties = "split" (the default) gives each
// operand half of dy, ties = "first" gives all of it to a, as
// TensorFlow's gradients do (maximum: dy where a >= b for a, where
// a < b for b). Away from ties both rules are checked against finite
// differences with the registry examples.
func TestMinMaxTieRules(t *testing.T) {
	a := []float64{1, 2, 3, 4}
	b := []float64{1, 5, 3, 0}
	dy := []float64{2, 4, 6, 8}
	for _, c := range []struct {
		op, ties     string
		wantA, wantB []float64
	}{
		// maximum picks b at 1, a at 3; 0 and 2 tie.
		{"maximum", "split", []float64{1, 0, 3, 8}, []float64{1, 4, 3, 0}},
		{"maximum", "first", []float64{2, 0, 6, 8}, []float64{0, 4, 0, 0}},
		// minimum picks a at 1, b at 3.
		{"minimum", "split", []float64{1, 4, 3, 0}, []float64{1, 0, 3, 8}},
		{"minimum", "first", []float64{2, 4, 6, 0}, []float64{0, 0, 0, 8}},
	} {
		t.Run(c.op+"/"+c.ties, func(t *testing.T) {
			g := ir.NewModule("ties", "test")
			pa := g.MustApply(ir.Param, nil, ir.Attrs{"dtype": ir.F64, "shape": ir.Shp(4), "init": "zeros"})
			pb := g.MustApply(ir.Param, nil, ir.Attrs{"dtype": ir.F64, "shape": ir.Shp(4), "init": "zeros"})
			g.Params = []*ir.Node{pa, pb}
			y := g.MustApply(ir.MustLookup(c.op), []*ir.Node{pa, pb}, ir.Attrs{"ties": c.ties})
			w := g.MustApply(ir.Const, nil, ir.Attrs{"dtype": ir.F64, "shape": ir.Shp(4), "values": dy})
			loss := g.MustApply(ir.Sum, []*ir.Node{g.MustApply(ir.Mul, []*ir.Node{y, w}, nil)}, nil)
			grads, err := Gradients(g, loss, []*ir.Node{pa, pb})
			require.NoError(t, err)
			it, err := NewInterpreter(g)
			require.NoError(t, err)
			copy(it.State[pa].Data, a)
			copy(it.State[pb].Data, b)
			got, err := it.Run(nil, grads...)
			require.NoError(t, err)
			require.Equal(t, c.wantA, got[0].Data, "d loss / d a")
			require.Equal(t, c.wantB, got[1].Data, "d loss / d b")
		})
	}
}

// TestSliceGradientsTile checks that the gradient of a value read through
// slices that tile it along one axis is the concat of the slices'
// gradients (not a sum of zero-padded copies), inside a loop body too, and
// that slices with a gap or an overlap still sum; every gradient is
// checked by finite differences.
func TestSliceGradientsTile(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	random := func(shape ...int) *ir.Tensor {
		x := ir.NewTensor(ir.F64, shape)
		for i := range x.Data {
			x.Data[i] = r.Float64()*2 - 1
		}
		return x
	}
	flat := map[string]*ir.Tensor{"v": random(2, 6)}
	seq := map[string]*ir.Tensor{"x": random(2, 3, 6)}
	const v = `
    input v: f64[2, 6]
    param W: f64[6, 6]
    z = v @ W`
	for _, tc := range []struct {
		name, body string
		feeds      map[string]*ir.Tensor
		concats    int
	}{
		{"tiles", v + `
    a = slice(z, begin = [0, 0], size = [-1, 2])
    b = slice(z, begin = [0, 2], size = [-1, 3])
    c = slice(z, begin = [0, 5], size = [-1, 1])
    loss = sum(tanh(a) * 2.0) + sum(sigmoid(b)) + sum(c * c)`, flat, 1},
		{"in a loop", `
    input x: f64[2, 3, 6]
    param W: f64[6, 6]
    param h0: f64[2, 3]
    hs, _ = for xt in x along 1 (h = h0) {
        z = xt @ W
        i = slice(z, begin = [0, 0], size = [-1, 3])
        f = slice(z, begin = [0, 3], size = [-1, 3])
        h = tanh(h * sigmoid(f) + i)
        yield h
    }
    loss = sum(hs * hs)`, seq, 1},
		{"gap", v + `
    a = slice(z, begin = [0, 0], size = [-1, 2])
    b = slice(z, begin = [0, 3], size = [-1, 3])
    loss = sum(tanh(a)) + sum(b * b)`, flat, 0},
		{"overlap", v + `
    a = slice(z, begin = [0, 0], size = [-1, 4])
    b = slice(z, begin = [0, 3], size = [-1, 3])
    loss = sum(tanh(a)) + sum(b * b)`, flat, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "model S {" + tc.body + `
    train loss with sgd(lr = 0.1)
}`
			g, _ := checkSourceGradients(t, src, tc.feeds, 2)
			concats := 0
			g.Body.Walk(func(n *ir.Node) {
				if n.Op == ir.Concat && n.Role == ir.Backward {
					concats++
				}
			})
			require.Equal(t, tc.concats, concats)
		})
	}
}

// TestSliceGradientsDeterministic checks that the concats built for
// params read through tiling slices come out in the same order every
// time: node IDs name generated buffers, so the generated code must not
// depend on map order.
func TestSliceGradientsDeterministic(t *testing.T) {
	src := `model T {
    input x: f32[N, 4]
    input y: f32[N, 3]
    param W: f32[4, 6]
    param V: f32[4, 6]
    param Q: f32[4, 6]
    p = x @ slice(W, [0, 0], [4, 3]) + tanh(x @ slice(W, [0, 3], [4, 3])) * (x @ slice(V, [0, 0], [4, 3])) +
        sigmoid(x @ slice(V, [0, 3], [4, 3])) + (x @ slice(Q, [0, 0], [4, 3])) * (x @ slice(Q, [0, 3], [4, 3]))
    loss = mean(square(p - y))
    output p
    train loss with sgd(lr = 0.1)
}`
	var first string
	for i := range 12 {
		g, err := Compile("t.flow", []byte(src), Options{})
		require.NoError(t, err)
		if i == 0 {
			first = g.Dump()
			require.Contains(t, first, "concat(")
			continue
		}
		require.Equal(t, first, g.Dump(), "compilation %d", i)
	}
}
