package compiler_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/runtime"
	"github.com/flow-lang/flow/runtime/checkpoint"
)

// TestRestoreInitializer restores params, one of them inside a layer
// (so its default tensor name is the scoped param name), from a
// checkpoint written next to the model, and checks the interpreter
// starts from exactly the values written.
func TestRestoreInitializer(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "ckpt"), 0o755))
	w := []float32{0.5, -1.25, 3, 1e-3, -7.5, 0.125}
	b := []float32{0.25, -0.75}
	require.NoError(t, checkpoint.Save(filepath.Join(dir, "ckpt", "pre.safetensors"), []runtime.Param{
		{Name: "h1/W", Shape: []int{3, 2}, Data: w},
		{Name: "bias", Shape: []int{2}, Data: b},
	}, nil))
	src := `fn layer(x: f32[N, 3]) -> f32[N, 2] {
    param W: f32[3, 2] = restore("ckpt/pre.safetensors")
    return x @ W
}

model M {
    input x: f32[N, 3]
    param c: f32[2] = restore("ckpt/pre.safetensors", name = "bias")
    h1 = layer(x)
    y = h1 + c
    output y
}
`
	path := filepath.Join(dir, "m.flow")
	require.NoError(t, os.WriteFile(path, []byte(src), 0o644))
	g, err := compiler.CompileFile(path, compiler.Options{})
	require.NoError(t, err)
	it, err := compiler.NewInterpreter(g)
	require.NoError(t, err)
	want := map[string][]float32{"h1/W": w, "c": b}
	require.Len(t, g.Params, 2)
	for _, p := range g.Params {
		require.Equal(t, want[p.Name], compiler.Restored(p), p.Name)
		got := make([]float32, len(it.State[p].Data))
		for i, v := range it.State[p].Data {
			got[i] = float32(v)
		}
		require.Equal(t, want[p.Name], got, p.Name)
	}
}

// TestRestoreRejectsOtherDTypes checks a tensor of another dtype is
// refused with both types named, from a hand-assembled F64 file.
func TestRestoreRejectsOtherDTypes(t *testing.T) {
	header := `{"R":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}`
	var data []byte
	n := uint64(len(header))
	for i := 0; i < 8; i++ {
		data = append(data, byte(n>>(8*i)))
	}
	data = append(data, header...)
	data = append(data, make([]byte, 16)...)
	files := map[string][]byte{"d.safetensors": data}
	read := func(p string) ([]byte, error) {
		if b, ok := files[p]; ok {
			return b, nil
		}
		return nil, os.ErrNotExist
	}
	src := "model M {\n    input x: f32[N, 2]\n    param R: f32[2] = restore(\"d.safetensors\")\n    y = x * R\n    output y\n}\n"
	_, err := compiler.Compile("m.flow", []byte(src), compiler.Options{ReadFile: read})
	require.EqualError(t, err, "m.flow:3:23: restore: tensor R in d.safetensors is F64[2], but param R is f32[2]")
}
