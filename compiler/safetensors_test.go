package compiler

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParseSafetensors feeds the restore initializer's reader arbitrary
// bytes: it must return a file or an error, never panic, and every tensor
// it returns must hold exactly the bytes its dtype and shape need.
func FuzzParseSafetensors(f *testing.F) {
	good, err := os.ReadFile("testdata/restore.safetensors")
	require.NoError(f, err)
	f.Add(good)
	f.Add(good[:20])
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 0, '{', '}'})
	f.Add(append([]byte{60, 0, 0, 0, 0, 0, 0, 0}, []byte(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}    abcd`)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := parseSafetensors("fuzz.safetensors", data)
		if err != nil {
			return
		}
		for _, name := range st.Names {
			tn := st.Tensors[name]
			elems := int64(1)
			for _, d := range tn.Shape {
				elems *= int64(d)
			}
			require.Equal(t, elems*stSizes[tn.DType], int64(len(tn.Data)), name)
			if tn.DType == "F32" {
				require.Len(t, tn.float32s(), int(elems))
			}
		}
	})
}

// TestParseSafetensorsValues decodes the corpus file's tensor, written by
// runtime/checkpoint, to the values written.
func TestParseSafetensorsValues(t *testing.T) {
	data, err := os.ReadFile("testdata/restore.safetensors")
	require.NoError(t, err)
	st, err := parseSafetensors("restore.safetensors", data)
	require.NoError(t, err)
	require.Equal(t, []string{"R"}, st.Names)
	require.Equal(t, []int{2, 4}, st.Tensors["R"].Shape)
	require.Equal(t, []float32{0.5, -1.25, 0.125, 2, -0.375, 0.75, 1e-3, -3.5}, st.Tensors["R"].float32s())
}
