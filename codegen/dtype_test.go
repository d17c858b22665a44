package codegen_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/codegen"
	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/compiler/ir"
)

// TestGenerateRejectsUnsupportedDTypes checks the reasons Generate gives
// for values generated code cannot hold yet.
func TestGenerateRejectsUnsupportedDTypes(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"storage dtype", `model M {
    input x: f16[N, 4]
    y = x * x
    output y
}`, "x has dtype f16; generated code supports f32, f64, i32, i64 and bool (f16 is for storage and communication only)"},
		{"param dtype", `model M {
    input x: f64[N, 4]
    param w: f64[4] = ones
    y = x * w
    output y
}`, "param w has dtype f64; generated code supports f32 params only so far"},
	} {
		t.Run(c.name, func(t *testing.T) {
			g, err := compiler.Compile("m.flow", []byte(c.src), compiler.Options{})
			require.NoError(t, err)
			_, err = codegen.Generate(g, codegen.Options{})
			require.ErrorContains(t, err, c.want)
			if c.name == "param dtype" {
				require.ErrorIs(t, err, codegen.ErrParamDType)
			}
		})
	}
}

// TestGenerateChecksOpDTypes: an op applied to a dtype outside its
// registry entry's DTypes, which the checker refuses (see the error
// corpus), is refused by Generate too when a graph is built without the
// checker.
func TestGenerateChecksOpDTypes(t *testing.T) {
	g := ir.NewModule("M", "m.flow")
	x := g.MustApply(ir.Input, nil, ir.Attrs{"dtype": ir.F64, "shape": ir.Shp(2, 3, 3)})
	x.Name = "x"
	g.Inputs = []*ir.Node{x}
	y := g.MustApply(ir.MatrixInverse, []*ir.Node{x}, nil) // Infer takes f64, DTypes does not
	g.AddOutput("y", y)
	_, err := codegen.Generate(g, codegen.Options{})
	require.ErrorContains(t, err, "matrix_inverse takes f32 only, got f64[2,3,3]")
}

// TestGenerateComputesEveryDType: ops whose generated code once called
// float32 kernels only compute in every dtype their DTypes lists (the
// full check, against the interpreter, is internal/opcheck's).
func TestGenerateComputesEveryDType(t *testing.T) {
	src := `model M {
    input d: f64[N, 4]
    input k: i32[N, 4]
    input j: i64[4, 4]
    input m: bool[N, 4]
    a = exp(d) + sigmoid(d) + maximum(d, 0.5)
    b = maximum(k, 1) + minimum(abs(k), relu(k)) + max(k, axes = 1, keep_dims = true)
    c = j @ j
    e = concat(m, m, axis = 1)
    f = softmax(d) + log_softmax(d)
    output a, b, c, e, f
}`
	g, err := compiler.Compile("m.flow", []byte(src), compiler.Options{})
	require.NoError(t, err)
	code, err := codegen.Generate(g, codegen.Options{})
	require.NoError(t, err)
	s := string(code)
	for _, want := range []string{
		"runtime.ExpOf(", "runtime.SigmoidOf(", "runtime.MaximumOf(", "runtime.MinimumOf(", "runtime.AbsOf(", "runtime.ReluOf(",
		"int32(math.MinInt32)", "math.Exp(src[at+k] - mx)", "+= j[",
	} {
		require.True(t, strings.Contains(s, want), "the generated code lacks %q", want)
	}
}

// TestGenerateTypesEveryDType checks the Go types of buffers, literals and
// the public API for a model that holds every supported dtype.
func TestGenerateTypesEveryDType(t *testing.T) {
	src := `model M {
    input d: f64[2]
    input k: i32[N]
    input j: i64[N]
    input m: bool[N, 2]
    a = d * 0.5 + [1, 2]
    b = k * 3 - 1
    c = j + [7]
    e = logical_not(m)
    output a, b, c, e
}`
	g, err := compiler.Compile("m.flow", []byte(src), compiler.Options{})
	require.NoError(t, err)
	code, err := codegen.Generate(g, codegen.Options{})
	require.NoError(t, err)
	s := string(code)
	for _, want := range []string{
		"func (m *Model) Predict(n int, d []float64, k []int32, j []int64, m_ []bool) (a []float64, b []int32, c []int64, e []bool)",
		"float64(0.5)", "int32(3)", "int32(1)", "[]float64{1, 2}", "[]int64{7}",
		"arenaF64 []float64", "arenaI32 []int32", "arenaI64 []int64", "arenaBool []bool",
		"m.feedIn1 = runtime.FromFloat32(m.feedIn1, in[1])",
		"m.feedIn3 = runtime.BoolFromFloat32(m.feedIn3, in[3])",
		"m.feedOut3 = runtime.BoolToFloat32(m.feedOut3, o3)",
	} {
		require.Contains(t, s, want)
	}
}
