package data

import (
	"testing"

	"github.com/flow-lang/flow/runtime/mnist"
	"github.com/stretchr/testify/require"
)

func TestFillImages(t *testing.T) {
	im := &mnist.Images{N: 3, Rows: 1, Cols: 2, Pixels: []uint8{0, 255, 51, 102, 255, 0}}
	dst := []float32{9, 9, 9, 9, 9, 9, 9}
	FillImages(dst, im, []int{2, 0, 1})
	require.Equal(t, []float32{1, 0, 0, 1, 0.2, 0.4, 9}, dst)

	require.PanicsWithValue(t, "data.FillImages: dst has 3 values, 2 images of 2 pixels need 4", func() { FillImages(dst[:3], im, []int{0, 1}) })
	require.PanicsWithValue(t, "data.FillImages: index 3 out of range [0, 3)", func() { FillImages(dst, im, []int{3}) })
}

func TestFillOneHot(t *testing.T) {
	labels := []uint8{3, 0, 9}
	dst := make([]float32, 3*10)
	for i := range dst {
		dst[i] = -1
	}
	FillOneHot(dst, labels, []int{1, 2, 0}, 10)
	want := make([]float32, 30)
	want[0] = 1    // example 1: label 0
	want[10+9] = 1 // example 2: label 9
	want[20+3] = 1 // example 0: label 3
	require.Equal(t, want, dst)

	require.PanicsWithValue(t, "data.FillOneHot: label 9 of example 2 is not below 5 classes", func() { FillOneHot(dst, labels, []int{2}, 5) })
	require.PanicsWithValue(t, "data.FillOneHot: index -1 out of range [0, 3)", func() { FillOneHot(dst, labels, []int{-1}, 10) })
	require.PanicsWithValue(t, "data.FillOneHot: dst has 30 values, 4 rows of 10 classes need 40", func() { FillOneHot(dst, labels, []int{0, 0, 0, 0}, 10) })
}
