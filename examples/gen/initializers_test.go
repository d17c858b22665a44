package gen_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/runtime"
)

// TestInitialParamsExact checks that every example's generated New draws
// exactly the interpreter's initial values, bit for bit after rounding to
// float32: the compiler (compiler.InitialValues) and the runtime
// (runtime.Init*) define them separately.
func TestInitialParamsExact(t *testing.T) {
	for _, ex := range examples {
		g, err := compiler.CompileFile(ex.path, compiler.Options{Verify: true})
		require.NoError(t, err)
		it, err := compiler.NewInterpreter(g)
		require.NoError(t, err)
		params := ex.new().Params()
		require.Len(t, params, len(g.Params))
		for i, p := range g.Params {
			want := make([]float32, len(it.State[p].Data))
			for j, v := range it.State[p].Data {
				want[j] = float32(v)
			}
			require.Equal(t, want, params[i].Data, "%s: initial %s (%s)", ex.path, p.Name, p.Attrs.String("init", "zeros"))
		}
	}
}

// TestInitializersAgreeOnEveryRank compares compiler.InitialValues with
// the runtime function generated code calls, exactly, for every random
// initializer over shapes of rank 0 to 5 (so both fan computations are
// exercised on every branch).
func TestInitializersAgreeOnEveryRank(t *testing.T) {
	shapes := [][]int{{}, {7}, {6, 9}, {5, 8, 4}, {3, 3, 2, 8}, {2, 3, 2, 5, 3}}
	inits := map[string]func(dst []float32, shape []int, seed uint64){
		"glorot_uniform":   runtime.InitGlorotUniform,
		"glorot_normal":    runtime.InitGlorotNormal,
		"he_uniform":       runtime.InitHeUniform,
		"he_normal":        runtime.InitHeNormal,
		"truncated_normal": func(d []float32, _ []int, s uint64) { runtime.InitTruncatedNormal(d, 0.25, 0.3, s) },
		"normal":           func(d []float32, _ []int, s uint64) { runtime.InitNormal(d, 0.25, 0.3, s) },
		"uniform":          func(d []float32, _ []int, s uint64) { runtime.InitUniform(d, -0.25, 0.3, s) },
	}
	args := map[string]string{"truncated_normal": "mean = 0.25, stddev = 0.3, ", "normal": "mean = 0.25, stddev = 0.3, ", "uniform": "low = -0.25, high = 0.3, "}
	for name, fill := range inits {
		for i, shape := range shapes {
			dims := strings.Trim(strings.Join(strings.Fields(fmt.Sprint(shape)), ", "), "[]")
			typ := "f32"
			if len(shape) > 0 {
				typ = "f32[" + dims + "]"
			}
			src := fmt.Sprintf("model M {\n    input x: f32[N]\n    param W: %s = %s(%sseed = %d)\n    y = x * sum(W)\n    output y\n}\n", typ, name, args[name], 100+i)
			g, err := compiler.Compile("m.flow", []byte(src), compiler.Options{Verify: true})
			require.NoError(t, err, src)
			vals, err := compiler.InitialValues(g.Params[0])
			require.NoError(t, err, src)
			want := make([]float32, len(vals))
			for j, v := range vals {
				want[j] = float32(v)
			}
			got := make([]float32, len(vals))
			fill(got, shape, uint64(100+i))
			require.Equal(t, want, got, "%s on %v", name, shape)
		}
	}
}
