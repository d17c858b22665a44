package runtime

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// refSoftmax is the definition, in float64, without max subtraction (fine
// for the moderate inputs it is used on).
func refSoftmax(row []float64) []float64 {
	out := make([]float64, len(row))
	var sum float64
	for _, v := range row {
		sum += math.Exp(v)
	}
	for i, v := range row {
		out[i] = math.Exp(v) / sum
	}
	return out
}

func TestSoftmaxRows(t *testing.T) {
	tests := []struct {
		name       string
		rows, cols int
		src        []float32
		want       []float64
	}{
		{"uniform", 1, 4, []float32{3, 3, 3, 3}, []float64{0.25, 0.25, 0.25, 0.25}},
		{"two values", 1, 2, []float32{0, float32(math.Log(3))}, []float64{0.25, 0.75}},
		{"single column", 3, 1, []float32{-5, 0, 100}, []float64{1, 1, 1}},
		{"large values stay finite", 1, 3, []float32{1000, 1000, 1001}, refSoftmax([]float64{0, 0, 1})},
		{"very negative", 1, 2, []float32{-1000, -1000}, []float64{0.5, 0.5}},
		{"with -Inf", 1, 3, []float32{float32(math.Inf(-1)), 0, 0}, []float64{0, 0.5, 0.5}},
		{"two rows", 2, 3, []float32{1, 2, 3, -1, 0, 1}, append(refSoftmax([]float64{1, 2, 3}), refSoftmax([]float64{-1, 0, 1})...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]float32, len(tc.src))
			SoftmaxRows(dst, tc.src, tc.rows, tc.cols)
			for i := range dst {
				require.InDelta(t, tc.want[i], dst[i], 1e-6, "element %d", i)
			}
			// Aliasing dst and src gives the same result.
			inPlace := append([]float32(nil), tc.src...)
			SoftmaxRows(inPlace, inPlace, tc.rows, tc.cols)
			require.Equal(t, dst, inPlace)
		})
	}
}

func TestLogSoftmaxRows(t *testing.T) {
	tests := []struct {
		name       string
		rows, cols int
		src        []float32
	}{
		{"small", 1, 3, []float32{1, 2, 3}},
		{"negative", 2, 2, []float32{-3, -1, 0.5, 0.25}},
		{"large values stay finite", 1, 3, []float32{1000, 999, 998}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]float32, len(tc.src))
			LogSoftmaxRows(dst, tc.src, tc.rows, tc.cols)
			for r := 0; r < tc.rows; r++ {
				row := make([]float64, tc.cols)
				for j := range row {
					// Shift by the first element so exp stays finite; softmax is shift-invariant.
					row[j] = float64(tc.src[r*tc.cols+j] - tc.src[r*tc.cols])
				}
				want := refSoftmax(row)
				for j := range row {
					require.InDelta(t, math.Log(want[j]), dst[r*tc.cols+j], 1e-5)
				}
			}
			inPlace := append([]float32(nil), tc.src...)
			LogSoftmaxRows(inPlace, inPlace, tc.rows, tc.cols)
			require.Equal(t, dst, inPlace)
		})
	}
	t.Run("hand computed", func(t *testing.T) {
		dst := make([]float32, 2)
		LogSoftmaxRows(dst, []float32{0, 0}, 1, 2)
		require.InDelta(t, -math.Ln2, dst[0], 1e-7)
		require.InDelta(t, -math.Ln2, dst[1], 1e-7)
	})
}

func TestSoftmaxRowsNaN(t *testing.T) {
	dst := make([]float32, 3)
	SoftmaxRows(dst, []float32{1, float32(math.NaN()), 2}, 1, 3)
	for _, v := range dst {
		require.True(t, math.IsNaN(float64(v)))
	}
}

// TestSoftmaxRowsLarge runs the parallel path and checks every row sums to 1.
func TestSoftmaxRowsLarge(t *testing.T) {
	const rows, cols = 1000, 100
	src := make([]float32, rows*cols)
	for i := range src {
		src[i] = float32(i%37) * 0.1
	}
	dst := make([]float32, rows*cols)
	SoftmaxRows(dst, src, rows, cols)
	for r := 0; r < rows; r++ {
		var sum float64
		for _, v := range dst[r*cols : (r+1)*cols] {
			sum += float64(v)
		}
		require.InDelta(t, 1, sum, 1e-5, "row %d", r)
	}
}

func TestSoftmaxRowsBadShape(t *testing.T) {
	require.PanicsWithValue(t, "runtime.SoftmaxRows: src has 3 elements, want 2×2 = 4", func() {
		SoftmaxRows(make([]float32, 4), make([]float32, 3), 2, 2)
	})
	require.PanicsWithValue(t, "runtime.LogSoftmaxRows: dst has 1 elements, want 1×2 = 2", func() {
		LogSoftmaxRows(make([]float32, 1), make([]float32, 2), 1, 2)
	})
	require.PanicsWithValue(t, "runtime.SoftmaxRows: negative shape -1×2", func() {
		SoftmaxRows(nil, nil, -1, 2)
	})
	require.NotPanics(t, func() { SoftmaxRows(nil, nil, 0, 5) })
	require.NotPanics(t, func() { LogSoftmaxRows(nil, nil, 5, 0) })
}

func TestSoftmaxRowsDoesNotAllocate(t *testing.T) {
	for _, sz := range []struct{ rows, cols, procs, runs int }{
		{32, 10, 0, 100},
		{4096, 1000, parallelProcs(), 5},
	} {
		src := make([]float32, sz.rows*sz.cols)
		for i := range src {
			src[i] = float32(i%23) * 0.1
		}
		dst := make([]float32, len(src))
		t.Run(fmt.Sprintf("SoftmaxRows %dx%d", sz.rows, sz.cols), func(t *testing.T) {
			requireZeroAllocs(t, sz.procs, sz.runs, func() { SoftmaxRows(dst, src, sz.rows, sz.cols) })
		})
		t.Run(fmt.Sprintf("LogSoftmaxRows %dx%d", sz.rows, sz.cols), func(t *testing.T) {
			requireZeroAllocs(t, sz.procs, sz.runs, func() { LogSoftmaxRows(dst, src, sz.rows, sz.cols) })
		})
	}
}

func BenchmarkSoftmaxRows(b *testing.B) {
	for _, sz := range []struct{ rows, cols int }{{32, 10}, {4096, 1000}} {
		b.Run(fmt.Sprintf("%dx%d", sz.rows, sz.cols), func(b *testing.B) {
			src := make([]float32, sz.rows*sz.cols)
			for i := range src {
				src[i] = float32(i%23) * 0.1
			}
			dst := make([]float32, len(src))
			b.ReportAllocs()
			for b.Loop() {
				SoftmaxRows(dst, src, sz.rows, sz.cols)
			}
		})
	}
}

func TestArgmax(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		scores []float32
		want   int
	}{
		{[]float32{0.1, 0.7, 0.2}, 1},
		{[]float32{3, 3, 1}, 0},       // the first on ties
		{[]float32{nan, 0.2, 0.9}, 2}, // NaN loses to any number
		{[]float32{0.5, nan, 0.4}, 0}, // wherever it is
		{[]float32{nan, nan, nan}, 0}, // all NaN: the first
		{[]float32{-1, float32(math.Inf(-1)), -2}, 0},
	} {
		if got := Argmax(tc.scores); got != tc.want {
			t.Errorf("Argmax(%v) = %d, want %d", tc.scores, got, tc.want)
		}
	}
}
