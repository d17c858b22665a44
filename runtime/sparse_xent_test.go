package runtime

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSparseSoftmaxCrossEntropyRowsHandComputed(t *testing.T) {
	// Row 0: logits (0, 0, 0): log 3 for any label. Row 1: logits (1, 2,
	// 3) with label 2: log(e^1 + e^2 + e^3) - 3 = log(1 + e^-1 + e^-2).
	logits := []float32{0, 0, 0, 1, 2, 3, 5, 6, 7}
	labels := []int32{1, 2, 3}
	dst := make([]float32, 3)
	SparseSoftmaxCrossEntropyRows(dst, logits, labels, 3, 3)
	require.InDelta(t, math.Log(3), float64(dst[0]), 1e-6)
	require.InDelta(t, math.Log(1+math.Exp(-1)+math.Exp(-2)), float64(dst[1]), 1e-6)
	require.True(t, math.IsNaN(float64(dst[2])), "a label outside 0..cols-1 gives NaN")

	// Large logits stay finite: the row maximum is subtracted first.
	big := []float32{1000, 0}
	d64 := make([]float32, 1)
	SparseSoftmaxCrossEntropyRows(d64, big, []int64{1}, 1, 2)
	require.InDelta(t, 1000, float64(d64[0]), 1e-3)
}

func TestFeedConversions(t *testing.T) {
	in := []float32{0, 1, 2, -3, 2.5}
	ints := FromFloat32([]int32(nil), in)
	require.Equal(t, []int32{0, 1, 2, -3, 2}, ints)
	require.Equal(t, []bool{false, true, true, true, true}, BoolFromFloat32(nil, in))
	require.Equal(t, []float32{0, 1, 2, -3, 2}, ToFloat32(nil, ints))
	require.Equal(t, []float32{1, 0}, BoolToFloat32(make([]float32, 5), []bool{true, false}))
	// A buffer that is long enough is reused.
	buf := make([]int64, 8)
	out := FromFloat32(buf, in)
	require.Equal(t, &buf[0], &out[0])
}
