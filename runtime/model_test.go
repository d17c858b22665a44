package runtime

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTensorSpec(t *testing.T) {
	tests := []struct {
		spec  TensorSpec
		str   string
		elems int // for n = 32
	}{
		{TensorSpec{Name: "x", DType: "f32", Shape: []int{-1, 784}, Dims: []string{"N", ""}}, "f32[N,784]", 32 * 784},
		{TensorSpec{Name: "img", DType: "f32", Shape: []int{-1, 28, 28, 1}, Dims: []string{"N", "", "", ""}}, "f32[N,28,28,1]", 32 * 784},
		{TensorSpec{Name: "W", DType: "f32", Shape: []int{784, 10}}, "f32[784,10]", 7840},
		{TensorSpec{Name: "s", DType: "f64", Shape: nil}, "f64[]", 1},
		{TensorSpec{Name: "q", DType: "i32", Shape: []int{-1, -1}, Dims: []string{"B", "T"}}, "i32[B,T]", 32 * 32},
		{TensorSpec{Name: "u", DType: "f32", Shape: []int{-1, 3}}, "f32[?,3]", 96},
		{TensorSpec{Name: "z", DType: "f32", Shape: []int{0, 5}}, "f32[0,5]", 0},
	}
	for _, tc := range tests {
		require.Equal(t, tc.str, tc.spec.String())
		require.Equal(t, tc.elems, tc.spec.Elems(32), tc.str)
	}
}

func TestSignatureInput(t *testing.T) {
	s := &Signature{Inputs: []TensorSpec{{Name: "x"}, {Name: "y_"}}}
	in, ok := s.Input("y_")
	require.True(t, ok)
	require.Equal(t, "y_", in.Name)
	_, ok = s.Input("nope")
	require.False(t, ok)
}

// TestDecodeGraph checks the generated graph's JSON lines decode to the
// nodes they describe, and that a corrupted line panics with its index.
func TestDecodeGraph(t *testing.T) {
	g := DecodeGraph("{\"name\":\"x\",\"op\":\"input\",\"dtype\":\"f32\",\"shape\":[-1,4]}\n" +
		"{\"name\":\"y\",\"op\":\"relu\",\"inputs\":[\"x\"],\"dtype\":\"f32\",\"shape\":[-1,4],\"role\":\"grad\"}\n")
	require.Equal(t, []GraphNode{
		{Name: "x", Op: "input", DType: "f32", Shape: []int{-1, 4}},
		{Name: "y", Op: "relu", Inputs: []string{"x"}, DType: "f32", Shape: []int{-1, 4}, Role: "grad"},
	}, g)
	require.PanicsWithValue(t, "runtime.DecodeGraph: node 1: unexpected end of JSON input", func() {
		DecodeGraph("{\"name\":\"x\",\"op\":\"input\",\"dtype\":\"f32\",\"shape\":[]}\n{\"name\":")
	})
}

func TestLossReductionPerExample(t *testing.T) {
	for _, tc := range []struct {
		r    LossReduction
		want float64
		ok   bool
	}{
		{LossSum, 2.5, true},
		{LossMean, 250, true},
		{LossPerBatch, 250, false},
		{"", 250, false},
		{"median", 250, false},
	} {
		got, ok := tc.r.PerExample(250, 100)
		require.Equal(t, tc.want, got, tc.r)
		require.Equal(t, tc.ok, ok, tc.r)
	}
}

func TestSequenceSpec(t *testing.T) {
	s := TensorSpec{Name: "x", DType: "f32", Shape: []int{-1, -1, 5}, Dims: []string{"N", "T", ""}}
	fixed, per, syms, err := s.Sequence()
	require.NoError(t, err)
	require.Equal(t, 0, fixed)
	require.Equal(t, 5, per)
	require.Equal(t, []string{"T"}, syms)
	require.Equal(t, 2*7*5, s.ElemsAt(2, map[string]int{"T": 7}))
	_, _, err = s.Batched()
	require.ErrorContains(t, err, "its dimension 1 is the symbolic dimension T")
	sig := &Signature{Inputs: []TensorSpec{s}}
	require.Equal(t, []string{"N", "T"}, sig.SymbolicDims())
}

func TestMemoryTerms(t *testing.T) {
	m := Memory{ParamBytes: 10, Syms: []string{"N", "T"}, Terms: []MemoryTerm{{Bytes: 100}, {Bytes: 8, Pow: []int{1, 0}}, {Bytes: 4, Pow: []int{1, 1}}}}
	a, ok := m.Arena(3, 5)
	require.True(t, ok)
	require.Equal(t, int64(100+8*3+4*15), a)
	a, _ = m.Arena(3) // T not given: 1
	require.Equal(t, int64(100+24+12), a)
	require.False(t, m.FitsInt(2, -1))
	require.Equal(t, 2, m.MaxBatchWithin(10+100+2*8+2*4*10, 10))
	require.Zero(t, testing.AllocsPerRun(10, func() { m.FitsInt(3, 5) }))
}
