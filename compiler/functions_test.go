package compiler_test

import (
	"errors"
	"io/fs"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/lang"
)

// memFS is an in-memory file system for imports.
type memFS map[string]string

func (m memFS) read(path string) ([]byte, error) {
	src, ok := m[filepath.ToSlash(path)]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return []byte(src), nil
}

func compileMem(t *testing.T, files memFS, main string) (*ir.Module, error) {
	t.Helper()
	return compiler.Compile(main, []byte(files[main]), compiler.Options{ReadFile: files.read})
}

func paramNames(g *ir.Module) []string {
	var out []string
	for _, p := range g.Params {
		out = append(out, p.Name)
	}
	return out
}

const denseLib = `
fn dense(x: f32[N, I], units: int, act = "linear") -> f32[N, units] {
    param W: f32[I, units] = 0.5
    param b: f32[units] = 0.25
    return act(x @ W + b)
}

fn block(x: f32[N, I], width: int) -> f32[N, width] {
    inner = dense(x, width, act = "relu")
    return dense(inner, width)
}
`

// TestScopes checks that every call of a layer creates its own params,
// named by the call's scope, nested for nested calls, as TensorFlow's
// name scopes are.
func TestScopes(t *testing.T) {
	files := memFS{"lib/layers.flow": denseLib, "m.flow": `
import "lib/layers.flow"
model M {
    input x: f32[N, 3]
    h1 = dense(x, 4)
    h2 = dense(h1, 4, name = "second")
    b  = block(h2, 2)
    y  = dense(b, 2) + dense(b, 2) + (dense(b, 2))
    output y
}`}
	g, err := compileMem(t, files, "m.flow")
	require.NoError(t, err)
	require.Equal(t, []string{
		"h1/W", "h1/b",
		"second/W", "second/b",
		"b/inner/W", "b/inner/b", "b/dense/W", "b/dense/b",
		"dense/W", "dense/b", "dense_1/W", "dense_1/b", "dense_2/W", "dense_2/b",
	}, paramNames(g))
	require.Equal(t, ir.Shp(3, 4), g.Param("h1/W").Type.Shape)
	require.Equal(t, ir.Shp(4, 2), g.Param("b/inner/W").Type.Shape)
	// Two calls, two seeds: random initial values differ between scopes.
	files["m.flow"] = `
import "lib/layers.flow"
fn rnd(x: f32[N, I]) -> f32[N, I] {
    param W: f32[I, I] = normal(stddev = 1)
    return x @ W
}
model M {
    input x: f32[N, 3]
    y = rnd(rnd(x))
    output y
}`
	g, err = compileMem(t, files, "m.flow")
	require.NoError(t, err)
	// The inner call is not assigned: it takes the function's name.
	require.Equal(t, []string{"rnd/W", "y/W"}, paramNames(g))
	require.NotEqual(t, g.Params[0].Attrs["seed"], g.Params[1].Attrs["seed"])
}

// TestLayerValues runs a layer through the interpreter and compares with
// values computed by hand: x @ W + b with W = 0.5 and b = 0.25 everywhere.
func TestLayerValues(t *testing.T) {
	files := memFS{"lib/layers.flow": denseLib, "m.flow": `
import "lib/layers.flow"
const k = [[1, -2], [0.5, 4]]
model M {
    input x: f32[N, 3]
    h = dense(x, 2, act = "relu")
    y = h @ k + [10, 20]
    output y
}`}
	g, err := compileMem(t, files, "m.flow")
	require.NoError(t, err)
	it, err := compiler.NewInterpreter(g)
	require.NoError(t, err)
	x := ir.NewTensor(ir.F32, []int{2, 3})
	copy(x.Data, []float64{1, 2, 3, -4, -5, -6})
	out, err := it.Predict(map[string]*ir.Tensor{"x": x})
	require.NoError(t, err)
	// Row 0: h = relu(0.5*6 + 0.25) = 3.25 in both columns.
	// Row 1: h = relu(0.5*-15 + 0.25) = 0.
	h := [][]float64{{3.25, 3.25}, {0, 0}}
	k := [][]float64{{1, -2}, {0.5, 4}}
	var want []float64
	for r := 0; r < 2; r++ {
		for c := 0; c < 2; c++ {
			want = append(want, h[r][0]*k[0][c]+h[r][1]*k[1][c]+[]float64{10, 20}[c])
		}
	}
	require.Len(t, out, 1)
	require.Equal(t, []int{2, 2}, out[0].Shape)
	for i := range want {
		require.InDelta(t, want[i], out[0].Data[i], 1e-6)
	}
}

// TestGenericDims checks that one layer works for any input width and
// keeps symbolic batch dimensions symbolic.
func TestGenericDims(t *testing.T) {
	files := memFS{"lib/layers.flow": denseLib, "m.flow": `
import "lib/layers.flow"
const width = 7
model M {
    input a: f32[N, 5]
    input b: f32[B, width]
    ya = dense(a, 3)
    yb = dense(b, width * 2)
    output ya, yb
}`}
	g, err := compileMem(t, files, "m.flow")
	require.NoError(t, err)
	require.Equal(t, "f32[N,3]", g.Outputs()[0].Type.String())
	require.Equal(t, "f32[B,14]", g.Outputs()[1].Type.String())
	require.Equal(t, ir.Shp(7, 14), g.Param("yb/W").Type.Shape)
}

// TestGenericDimAsInt checks that a function's generic dimension bound
// to a fixed size is an int: as a layer's width, in an op's attribute,
// in constant arithmetic and as a number in a tensor expression.
func TestGenericDimAsInt(t *testing.T) {
	files := memFS{"lib/layers.flow": denseLib, "m.flow": `
import "lib/layers.flow"
fn scaled(x: f32[N, D]) -> f32[N, D] {
    h = dense(x, D)
    flat = reshape(h, [-1, D * 1])
    return flat / D
}
model M {
    input x: f32[N, 3]
    y = scaled(x)
    output y
}`}
	g, err := compileMem(t, files, "m.flow")
	require.NoError(t, err)
	require.Equal(t, "f32[N,3]", g.Outputs()[0].Type.String())
	require.Equal(t, []string{"y/h/W", "y/h/b"}, paramNames(g))
	require.Equal(t, ir.Shp(3, 3), g.Param("y/h/W").Type.Shape, "dense(x, D) with D = 3")
	it, err := compiler.NewInterpreter(g)
	require.NoError(t, err)
	x := ir.NewTensor(ir.F32, []int{1, 3})
	copy(x.Data, []float64{1, 2, 3})
	out, err := it.Predict(map[string]*ir.Tensor{"x": x})
	require.NoError(t, err)
	// dense: 0.5 * (1+2+3) + 0.25 = 3.25 in every column, divided by D = 3.
	for _, v := range out[0].Data {
		require.InDelta(t, 3.25/3, v, 1e-6)
	}

	// Bound to the symbolic batch dimension, it has no size yet.
	files["m.flow"] = `
import "lib/layers.flow"
fn bad(x: f32[B, D]) -> f32[B, B] {
    return dense(x, B)
}
model M {
    input x: f32[N, 3]
    y = bad(x)
    output y
}`
	_, err = compileMem(t, files, "m.flow")
	require.ErrorContains(t, err, "argument units of dense must be a constant int: dimension B is the symbolic dimension N at this call, which has no size until the model runs")
}

// TestConstants checks named constants in shapes, initializers,
// optimizer and op arguments, and bool constants as attributes.
func TestConstants(t *testing.T) {
	src := `
const hidden = 6
const lr = 0.5 / 10
const axis = 1
const half = hidden / 2
model M {
    const init = 0.125
    input x: f32[N, half]
    param W: f32[half, hidden] = init
    y = sum(x @ W, axes = [axis])
    loss = sum(y)
    output y
    train loss with sgd(lr = lr)
}`
	g, err := compiler.Compile("m.flow", []byte(src), compiler.Options{})
	require.NoError(t, err)
	require.Equal(t, ir.Shp(3, 6), g.Param("W").Type.Shape)
	require.Equal(t, 0.125, g.Param("W").Attrs.Float("value", 0))
	require.InDelta(t, 0.05, g.Optimizer.Attrs.Float("lr", 0), 1e-12)
	require.Equal(t, "f32[N]", g.Outputs()[0].Type.String())
}

// TestImportErrorsElsewhere checks errors positioned in imported files:
// a syntax error, a cycle between two imported files, and an error in an
// imported function's body, which names the call in the importing file.
func TestImportErrorsElsewhere(t *testing.T) {
	tests := []struct {
		name  string
		files memFS
		want  []string
	}{{
		name: "syntax",
		files: memFS{
			"m.flow":       "import \"lib/bad.flow\"\nmodel M { input x: f32; output x }",
			"lib/bad.flow": "fn f(x: f32) -> f32 {\n    return x +\n}\n",
		},
		want: []string{
			`lib/bad.flow:3:1: expected an expression after "+", found "}"`,
			`m.flow:1:8: cannot import "lib/bad.flow": it has errors`,
		},
	}, {
		name: "cycle",
		files: memFS{
			"m.flow":     "import \"lib/a.flow\"\nmodel M { input x: f32; y = relu(x); output y }",
			"lib/a.flow": "import \"b.flow\"\nconst a = 1",
			"lib/b.flow": "import \"a.flow\"\nconst b = 1",
		},
		want: []string{`lib/a.flow:1:8: import cycle: a.flow imports b.flow imports a.flow`},
	}, {
		name: "body",
		files: memFS{
			"m.flow":     "import \"lib/f.flow\"\nmodel M {\n    input x: f32[N]\n    y = f(x)\n    output y\n}",
			"lib/f.flow": "fn f(x: f32[N]) -> f32[N] {\n    return x * nothing\n}\n",
		},
		want: []string{`lib/f.flow:2:16: undefined: nothing (in f called at m.flow:4:9)`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := compileMem(t, tt.files, "m.flow")
			require.Nil(t, g)
			var list lang.ErrorList
			require.True(t, errors.As(err, &list), "%v", err)
			var got []string
			for _, e := range list {
				got = append(got, e.Error())
			}
			require.Equal(t, tt.want, got)
		})
	}
}

// TestCompileFileImports compiles the examples that import the standard
// layers from disk, the way flowc does.
func TestCompileFileImports(t *testing.T) {
	g, err := compiler.CompileFile("../examples/layers.flow", compiler.Options{})
	require.NoError(t, err)
	require.Contains(t, paramNames(g), "logits/h1/W")
	require.Contains(t, paramNames(g), "skip/b")
	// A library alone is not a model.
	_, err = compiler.CompileFile("../examples/std/layers.flow", compiler.Options{})
	require.ErrorContains(t, err, "no model declared")
}

// TestLayerGradients checks that gradients flow through layer calls: one
// SGD step on a model built from a layer matches the step computed by
// hand.
func TestLayerGradients(t *testing.T) {
	files := memFS{"lib/layers.flow": denseLib, "m.flow": `
import "lib/layers.flow"
model M {
    input x: f32[N, 2]
    y = dense(x, 1)
    loss = sum(y * y)
    output y
    train loss with sgd(lr = 0.1)
}`}
	g, err := compileMem(t, files, "m.flow")
	require.NoError(t, err)
	it, err := compiler.NewInterpreter(g)
	require.NoError(t, err)
	x := ir.NewTensor(ir.F32, []int{1, 2})
	copy(x.Data, []float64{1, 2})
	loss, err := it.TrainStep(map[string]*ir.Tensor{"x": x})
	require.NoError(t, err)
	// y = 0.5*1 + 0.5*2 + 0.25 = 1.75; loss = y²; dL/dW = 2y x; dL/db = 2y.
	require.InDelta(t, 1.75*1.75, loss, 1e-6)
	w := it.State[g.Param("y/W")].Data
	b := it.State[g.Param("y/b")].Data
	require.InDelta(t, 0.5-0.1*2*1.75*1, w[0], 1e-6)
	require.InDelta(t, 0.5-0.1*2*1.75*2, w[1], 1e-6)
	require.InDelta(t, 0.25-0.1*2*1.75, b[0], 1e-6)
	require.False(t, math.IsNaN(w[0]))
}

// TestStdLayers checks the standard library's layers: parameter names
// and shapes, and result types, through a model that imports it from disk.
func TestStdLayers(t *testing.T) {
	src := `import "std/layers.flow"
model M {
    input x: f32[N, 7, 7, 2]
    input y_: f32[N, 3]
    c1 = conv_block(x, 4, size = 3)
    c2 = conv_block(c1, 6, pool = 1, act = "linear")
    f = mean(c2, axes = [1, 2])
    logits = dense(f, 3)
    loss = mean(softmax_cross_entropy(logits, y_))
    output logits
    train loss with sgd(lr = 0.1)
}`
	g, err := compiler.Compile("../examples/m.flow", []byte(src), compiler.Options{})
	require.NoError(t, err)
	var got []string
	for _, p := range g.Params {
		if ir.Trainable(p) {
			got = append(got, p.Name+" "+p.Type.String())
		}
	}
	require.Equal(t, []string{
		"c1/K f32[3,3,2,4]", "c1/b f32[4]",
		"c2/K f32[5,5,4,6]", "c2/b f32[6]",
		"logits/W f32[6,3]", "logits/b f32[3]",
	}, got)
	named := map[string]*ir.Node{}
	for _, n := range g.Body.Nodes {
		if n.Name != "" {
			named[n.Name] = n
		}
	}
	require.Equal(t, "f32[N,7,7,4]", named["c1/h"].Type.String())
	require.Equal(t, "f32[N,4,4,4]", named["c1"].Type.String())
	require.Equal(t, "f32[N,4,4,6]", named["c2"].Type.String())
	require.Equal(t, "f32[N,3]", g.Outputs()[0].Type.String())
}

// TestCompileTimeParams checks compile-time parameters used as attributes
// (a bool, an int list, a float initializer argument) and in shapes.
func TestCompileTimeParams(t *testing.T) {
	src := `
fn reduce(x: f32[N, I], axis: int, keep: bool) -> f32[N, 1] {
    return sum(x, axes = [axis], keep_dims = keep)
}
fn proj(x: f32[N, I], units: int, sd: float = 0) -> f32[N, units] {
    param W: f32[I, units] = normal(stddev = sd * 2)
    return x @ W
}
model M {
    input x: f32[N, 3]
    y = reduce(proj(x, 4, sd = 1), 1, true)
    output y
}`
	g, err := compiler.Compile("m.flow", []byte(src), compiler.Options{})
	require.NoError(t, err)
	require.Equal(t, "f32[N,1]", g.Outputs()[0].Type.String())
	require.Equal(t, 2.0, g.Param("proj/W").Attrs.Float("stddev", 0))
	require.Equal(t, ir.Shp(3, 4), g.Param("proj/W").Type.Shape)
}
