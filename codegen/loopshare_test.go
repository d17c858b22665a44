package codegen_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/codegen"
	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/internal/opcheck"
)

// loopShareMain runs the generated package m's Predict on inputs that
// TestIdenticalLoopsShareOneType computes too, and prints its outputs as
// JSON.
const loopShareMain = `package main

import (
	"encoding/json"
	"os"

	"looptest/m"
)

func main() {
	const n = 16
	in := make([][]float32, 4)
	for k := range in {
		in[k] = make([]float32, n*4096)
		for i := range in[k] {
			in[k][i] = float32((i*7+k*3)%11)/4 - 1
		}
	}
	a, b := m.New().Predict(n, in[0], in[1], in[2], in[3])
	if err := json.NewEncoder(os.Stdout).Encode([][]float32{a, b}); err != nil {
		panic(err)
	}
}
`

// TestIdenticalLoopsShareOneType: two element-wise loops that are split
// across goroutines and differ only in their buffers are emitted as one
// task type that both call sites fill, and the generated package builds
// and computes what the interpreter does.
func TestIdenticalLoopsShareOneType(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a generated package")
	}
	src := `model M {
    input x: f32[N, 4096]
    input y: f32[N, 4096]
    input u: f32[N, 4096]
    input v: f32[N, 4096]
    a = x * y + x
    b = u * v + u
    output a, b
}`
	g, err := compiler.Compile("m.flow", []byte(src), compiler.Options{})
	require.NoError(t, err)
	code, err := codegen.Generate(g, codegen.Options{Package: "m"})
	require.NoError(t, err)
	types := regexp.MustCompile(`(?m)^type (loop\d+) struct`).FindAllStringSubmatch(string(code), -1)
	require.Len(t, types, 1, "task types in\n%s", code)
	uses := regexp.MustCompile(`m\.l\d+ = (loop\d+)\{`).FindAllStringSubmatch(string(code), -1)
	require.Len(t, uses, 2, "parallel loops in\n%s", code)
	for _, u := range uses {
		require.Equal(t, types[0][1], u[1])
	}

	root, err := opcheck.ModuleRoot(".")
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, opcheck.WriteModule(dir, root, "looptest"))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "m"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "m", "m.go"), code, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(loopShareMain), 0o644))
	out, err := opcheck.GoCommand(context.Background(), dir, "run", ".")
	require.NoError(t, err, "%s", out)
	var got [][]float32
	require.NoError(t, json.Unmarshal(out, &got), "%s", out)

	const n = 16
	feeds := map[string]*ir.Tensor{}
	for k, name := range []string{"x", "y", "u", "v"} {
		tn := ir.NewTensor(ir.F32, []int{n, 4096})
		for i := range tn.Data {
			tn.Data[i] = float64(float32((i*7+k*3)%11)/4 - 1)
		}
		feeds[name] = tn
	}
	it, err := compiler.NewInterpreter(g)
	require.NoError(t, err)
	want, err := it.Predict(feeds)
	require.NoError(t, err)
	require.Len(t, got, len(want))
	for o := range want {
		require.Len(t, got[o], len(want[o].Data))
		for i, w := range want[o].Data {
			require.InDelta(t, w, float64(got[o][i]), 1e-6, "output %d element %d", o, i)
		}
	}
}
