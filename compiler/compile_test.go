package compiler

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler/ir"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestIRGolden dumps the IR of every example after each compilation stage
// and compares it with testdata/<example>.ir.golden.
func TestIRGolden(t *testing.T) {
	files, err := filepath.Glob("../examples/*.flow")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			var b strings.Builder
			_, err := CompileFile(path, Options{DumpAfter: func(stage string, g *ir.Module) {
				b.WriteString("== after " + stage + "\n")
				b.WriteString(g.Dump())
			}})
			require.NoError(t, err)
			compareGolden(t, filepath.Join("testdata", strings.TrimSuffix(filepath.Base(path), ".flow")+".ir.golden"), b.String())
		})
	}
}

// compareGolden compares got with the golden file, or with -update
// rewrites the file.
func compareGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test ./compiler -update")
	require.Equal(t, string(want), got)
}

// TestControlIRGolden dumps the IR that testdata/control/*.flow check
// into — cond, while and scan nodes with their regions printed indented
// under them, nested regions further in — and compares it with the
// .ir.golden file beside each. Only the checker's output is compared,
// so that changes to the passes leave these goldens alone.
func TestControlIRGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/control/*.flow")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			var dump string
			_, err := CompileFile(path, Options{DumpAfter: func(stage string, g *ir.Module) {
				if stage == "check" {
					dump = g.Dump()
				}
			}})
			require.NoError(t, err)
			require.Contains(t, dump, "\n      ", "no nested region in the dump")
			compareGolden(t, strings.TrimSuffix(path, ".flow")+".ir.golden", dump)
		})
	}
}

const seedModel = `model M {
    input x:  f32[N, 4]
    input y_: f32[N, 3]
    param W: f32[4, 3] = zeros
    param b: f32[3] = zeros
    y = softmax(x @ W + b)
    xent = -sum(y_ * log(y))
    output y
    train xent with sgd(lr = 0.5)
}
`

// TestLogSoftmaxStaysFinite feeds logits so large that softmax underflows
// to exactly zero for some classes: log(softmax(z)) would be -Inf and the
// loss NaN or Inf; the stable rewrite keeps both finite.
func TestLogSoftmaxStaysFinite(t *testing.T) {
	g, err := Compile("seed.flow", []byte(seedModel), Options{})
	require.NoError(t, err)
	it, err := NewInterpreter(g)
	require.NoError(t, err)
	W := it.State[g.Param("W")]
	for i := range W.Data {
		W.Data[i] = float64(i%3) * 100 // logits differ by hundreds
	}
	x := &ir.Tensor{DType: ir.F32, Shape: []int{2, 4}, Data: []float64{1, 1, 1, 1, 2, 0, 1, 3}}
	y := &ir.Tensor{DType: ir.F32, Shape: []int{2, 3}, Data: []float64{1, 0, 0, 0, 1, 0}}
	feeds := map[string]*ir.Tensor{"x": x, "y_": y}
	loss, err := it.TrainStep(feeds)
	require.NoError(t, err)
	require.False(t, math.IsNaN(loss) || math.IsInf(loss, 0), "loss %v", loss)
	// Class 0 has logit 0 and class 2 has 200·sum(x): the loss is huge
	// but exact: -(z0 - logsumexp(z)) for the first row.
	require.InDelta(t, 800+600, loss, 1e-3)
	for _, p := range g.Params {
		for _, v := range it.State[p].Data {
			require.False(t, math.IsNaN(v) || math.IsInf(v, 0))
		}
	}
}

// TestSeedModelLearns runs the seed model in the interpreter on a
// separable toy problem and checks the loss falls.
func TestSeedModelLearns(t *testing.T) {
	g, err := Compile("seed.flow", []byte(seedModel), Options{})
	require.NoError(t, err)
	it, err := NewInterpreter(g)
	require.NoError(t, err)
	x := &ir.Tensor{DType: ir.F32, Shape: []int{3, 4}, Data: []float64{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}}
	y := &ir.Tensor{DType: ir.F32, Shape: []int{3, 3}, Data: []float64{1, 0, 0, 0, 1, 0, 0, 0, 1}}
	feeds := map[string]*ir.Tensor{"x": x, "y_": y}
	first, err := it.TrainStep(feeds)
	require.NoError(t, err)
	require.InDelta(t, 3*math.Log(3), first, 1e-5, "zero params give uniform predictions")
	var last float64
	for i := 0; i < 50; i++ {
		last, err = it.TrainStep(feeds)
		require.NoError(t, err)
	}
	require.Less(t, last, 0.1*first)
	out, err := it.Predict(map[string]*ir.Tensor{"x": x})
	require.NoError(t, err)
	for r := 0; r < 3; r++ {
		require.Greater(t, out[0].Data[r*3+r], 0.8)
	}
}

// TestInitialValuesReproducible checks seeded initializers give the same
// values twice and distinct params get distinct default seeds.
func TestInitialValuesReproducible(t *testing.T) {
	src := `model M {
    input x: f32[N, 3]
    param a: f32[3, 2] = normal(stddev = 1)
    param b: f32[3, 2] = normal(stddev = 1)
    param c: f32[2] = uniform(low = 1, high = 2, seed = 5)
    param d: f32[2] = 0.5
    y = (x @ a + x @ b) * c * d
    output y
}
`
	g1, err := Compile("m.flow", []byte(src), Options{})
	require.NoError(t, err)
	g2, err := Compile("m.flow", []byte(src), Options{})
	require.NoError(t, err)
	for i := range g1.Params {
		v1, err := InitialValues(g1.Params[i])
		require.NoError(t, err)
		v2, err := InitialValues(g2.Params[i])
		require.NoError(t, err)
		require.Equal(t, v1, v2)
	}
	a, _ := InitialValues(g1.Param("a"))
	b, _ := InitialValues(g1.Param("b"))
	require.NotEqual(t, a, b, "params without a seed must not share one")
	c, _ := InitialValues(g1.Param("c"))
	for _, v := range c {
		require.True(t, v >= 1 && v < 2)
	}
	d, _ := InitialValues(g1.Param("d"))
	require.Equal(t, []float64{0.5, 0.5}, d)
}

// TestInterpreterRefusesEmptyBatch: a symbolic dimension is bound to a
// positive size, as in generated code (docs/language.md, "Zero-size
// tensors"); a batch of 0 is an error, not an empty result.
func TestInterpreterRefusesEmptyBatch(t *testing.T) {
	g, err := Compile("seed.flow", []byte(seedModel), Options{})
	require.NoError(t, err)
	it, err := NewInterpreter(g)
	require.NoError(t, err)
	feeds := map[string]*ir.Tensor{
		"x":  {DType: ir.F32, Shape: []int{0, 4}},
		"y_": {DType: ir.F32, Shape: []int{0, 3}},
	}
	_, err = it.Predict(feeds)
	require.ErrorContains(t, err, "input x: dimension N is 0; symbolic dimensions are bound to positive sizes")
	_, err = it.TrainStep(feeds)
	require.ErrorContains(t, err, "dimension N is 0")
}
