package ir

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWindowOutputFollowsTensorFlow checks the output sizes and padding
// of TensorFlow's SAME and VALID rules on hand-worked cases.
func TestWindowOutputFollowsTensorFlow(t *testing.T) {
	cases := []struct {
		in, k, stride, dil int
		same               bool
		out, pad           int
		ok                 bool
	}{
		{3, 2, 1, 1, true, 3, 0, true},   // pad total 1: all of it after
		{3, 3, 1, 1, true, 3, 1, true},   // pad 1 on each side
		{4, 3, 2, 1, true, 2, 0, true},   // total (2-1)*2+3-4 = 1, before 0
		{5, 3, 2, 1, true, 3, 1, true},   // total 2*2+3-5 = 2, before 1
		{7, 3, 1, 2, true, 7, 2, true},   // dilated to 5: total 4
		{28, 5, 1, 1, true, 28, 2, true}, // LeNet
		{6, 2, 3, 1, true, 2, 0, true},   // stride beyond the window: no padding
		{3, 2, 1, 1, false, 2, 0, true},
		{7, 3, 2, 2, false, 2, 0, true}, // (7-5)/2+1
		{6, 3, 3, 1, false, 2, 0, true},
		{2, 3, 1, 1, false, 0, 0, false}, // does not fit
		{4, 3, 1, 2, false, 0, 0, false}, // dilated to 5: does not fit
	}
	for _, c := range cases {
		out, pad, ok := WindowOutput(c.in, c.k, c.stride, c.dil, c.same)
		require.Equal(t, c.ok, ok, "%+v", c)
		if ok {
			require.Equal(t, []int{c.out, c.pad}, []int{out, pad}, "%+v", c)
		}
	}
}

// image returns a [1, h, w, 1] tensor.
func image(h, w int, data ...float64) *Tensor { return ten([]int{1, h, w, 1}, data...) }

func TestConv2DHandComputed(t *testing.T) {
	x := image(3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9)
	// The 2×2 filter [[1 0] [0 1]] adds each pixel to its lower-right
	// neighbour.
	f := ten([]int{2, 2, 1, 1}, 1, 0, 0, 1)
	valid := eval(t, "conv2d", Attrs{"padding": "VALID"}, x, f)
	require.Equal(t, []int{1, 2, 2, 1}, valid.Shape)
	require.Equal(t, []float64{1 + 5, 2 + 6, 4 + 8, 5 + 9}, valid.Data)
	// SAME pads one row and column, after (TensorFlow puts the odd one
	// after), so the last row and column see zeros.
	same := eval(t, "conv2d", nil, x, f)
	require.Equal(t, []int{1, 3, 3, 1}, same.Shape)
	require.Equal(t, []float64{6, 8, 3, 12, 14, 6, 7, 8, 9}, same.Data)
	// Stride 2: output ceil(3/2) = 2, pad total 1, all after.
	s2 := eval(t, "conv2d", Attrs{"strides": []int{2, 2}}, x, f)
	require.Equal(t, []float64{6, 3, 7, 9}, s2.Data)
	// A 3×3 box filter with SAME: pad 1 on each side.
	box := ten([]int{3, 3, 1, 1}, 1, 1, 1, 1, 1, 1, 1, 1, 1)
	require.Equal(t, []float64{12, 21, 16, 27, 45, 33, 24, 39, 28}, eval(t, "conv2d", nil, x, box).Data)
	// Dilation 2 over a 3×3 filter-of-corners on a 5×5 image, VALID: one
	// output, the sum of the image's corners.
	x5 := image(5, 5)
	for i := range 25 {
		x5.Data = append(x5.Data, float64(i+1))
	}
	corners := ten([]int{2, 2, 1, 1}, 1, 1, 1, 1)
	d := eval(t, "conv2d", Attrs{"padding": "VALID", "dilations": []int{4, 4}}, x5, corners)
	require.Equal(t, []float64{1 + 5 + 21 + 25}, d.Data)
	// Channels: two input channels, two output channels.
	xc := ten([]int{1, 1, 2, 2}, 1, 2, 3, 4)                                                       // pixels (1,2) and (3,4)
	fc := ten([]int{1, 2, 2, 2}, 1, 0, 0, 1, 10, 0, 0, 10)                                         // tap 0: identity, tap 1: 10×identity
	require.Equal(t, []float64{31, 42}, eval(t, "conv2d", Attrs{"padding": "VALID"}, xc, fc).Data) // 1+30, 2+40
}

func TestConv2DGradientsHandComputed(t *testing.T) {
	f := ten([]int{2, 2, 1, 1}, 1, 0, 0, 1)
	ones := image(2, 2, 1, 1, 1, 1)
	attrs := func(k string, v any) Attrs {
		return Attrs{"padding": "VALID", k: v}
	}
	// Each output adds its gradient to the two pixels it read.
	dx := eval(t, "conv2d_backprop_input", attrs("input_shape", Shp(1, 3, 3, 1)), f, ones)
	require.Equal(t, []float64{1, 1, 0, 1, 2, 1, 0, 1, 1}, dx.Data)
	// Each filter tap's gradient is the sum of the pixels it met.
	x := image(3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9)
	df := eval(t, "conv2d_backprop_filter", attrs("filter_shape", Shp(2, 2, 1, 1)), x, ones)
	require.Equal(t, []float64{12, 16, 24, 28}, df.Data)
}

func TestPoolingHandComputed(t *testing.T) {
	x := image(4, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
	require.Equal(t, []float64{6, 8, 14, 16}, eval(t, "max_pool", nil, x).Data)
	require.Equal(t, []float64{3.5, 5.5, 11.5, 13.5}, eval(t, "avg_pool", nil, x).Data)
	// SAME on 3×3 with 2×2 windows, stride 2: windows are rows {0,1},{2}
	// and columns {0,1},{2}; the mean is over the elements inside.
	y := image(3, 3, 1, 9, 2, 3, 4, 8, 7, 5, 6)
	require.Equal(t, []float64{9, 8, 7, 6}, eval(t, "max_pool", Attrs{"padding": "SAME"}, y).Data)
	require.Equal(t, []float64{17.0 / 4, 5, 6, 6}, eval(t, "avg_pool", Attrs{"padding": "SAME"}, y).Data)
	// 3×3 windows, stride 1, VALID, over a 3×4 image with two channels.
	z := ten([]int{1, 3, 4, 2}, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6, 7, -7, 8, -8, 9, -9, 10, -10, 11, -11, 12, -12)
	require.Equal(t, []float64{11, -1, 12, -2}, eval(t, "max_pool", Attrs{"ksize": []int{3}, "strides": []int{1}}, z).Data)

	// The gradient of a tie goes to the first maximum in row-major order.
	tie := image(2, 2, 5, 5, 1, 5)
	require.Equal(t, []float64{2, 0, 0, 0}, eval(t, "max_pool_grad", nil, tie, image(1, 1, 2)).Data)
	g := eval(t, "max_pool_grad", Attrs{"padding": "SAME"}, y, image(2, 2, 1, 2, 3, 4))
	require.Equal(t, []float64{0, 1, 0, 0, 0, 2, 3, 0, 4}, g.Data)
	// avg_pool's gradient spreads over the window's elements inside.
	a := eval(t, "avg_pool_grad", Attrs{"padding": "SAME", "input_shape": Shp(1, 3, 3, 1)}, image(2, 2, 4, 2, 2, 1))
	require.Equal(t, []float64{1, 1, 1, 1, 1, 1, 1, 1, 1}, a.Data)
}

func TestBiasAddAndCrossEntropyHandComputed(t *testing.T) {
	x := ten([]int{2, 2}, 1, 2, 3, 4)
	require.Equal(t, []float64{11, 22, 13, 24}, eval(t, "bias_add", nil, x, ten([]int{2}, 10, 20)).Data)

	logits := ten([]int{2, 3}, 1, 2, 3, 1000, 0, -1000)
	labels := ten([]int{2, 3}, 0, 0, 1, 0, 1, 0)
	xe := eval(t, "softmax_cross_entropy", nil, logits, labels)
	require.Equal(t, []int{2}, xe.Shape)
	z := math.Log(math.E + math.E*math.E + math.E*math.E*math.E)
	require.InDelta(t, z-3, xe.Data[0], 1e-12)
	require.InDelta(t, 1000, xe.Data[1], 1e-9, "stable for large logits")
	// Soft labels weight each class's log-probability.
	soft := eval(t, "softmax_cross_entropy", nil, ten([]int{2}, 0, 0), ten([]int{2}, 0.5, 0.5))
	require.InDelta(t, math.Ln2, soft.Data[0], 1e-12)
}

// TestWindowOpErrors checks the user-facing messages of the type rules.
func TestWindowOpErrors(t *testing.T) {
	g := NewModule("t", "t")
	in := func(dt DType, s Shape) *Node {
		return g.MustApply(Input, nil, Attrs{"dtype": dt, "shape": s})
	}
	n := Sym("N")
	x := in(F32, Shape{n, Fixed(5), Fixed(5), Fixed(3)})
	f := in(F32, Shp(3, 3, 3, 8))
	cases := []struct {
		op    string
		ins   []*Node
		attrs Attrs
		want  string
	}{
		{"conv2d", []*Node{in(F32, Shape{n, Fixed(25)}), f}, nil, `conv2d needs a rank-4 input [batch, height, width, channels], got f32[N,25]`},
		{"conv2d", []*Node{x, in(F32, Shp(3, 3, 4, 8))}, nil, `the filter f32[3,3,4,8] expects 4 input channels, but the input f32[N,5,5,3] has 3`},
		{"conv2d", []*Node{x, f}, Attrs{"padding": "same"}, `padding must be "SAME" or "VALID", got "same"`},
		{"conv2d", []*Node{x, f}, Attrs{"strides": []int{1, 2, 3}}, `strides must be one integer or [height, width], got [1,2,3]`},
		{"conv2d", []*Node{x, f}, Attrs{"dilations": []int{0}}, `dilations must be positive, got [0]`},
		{"conv2d", []*Node{x, f}, Attrs{"padding": "VALID", "dilations": []int{3}}, `with padding "VALID", the 3×3 window (dilated to 7×7) does not fit in the 5×5 input`},
		{"conv2d", []*Node{in(F32, Shape{n, Sym("H"), Fixed(5), Fixed(3)}), f}, nil, `conv2d needs fixed height, width and channels`},
		{"max_pool", []*Node{x}, Attrs{"ksize": []int{6}}, `with padding "VALID", the 6×6 window does not fit in the 5×5 input`},
		{"avg_pool", []*Node{in(I32, Shp(1, 4, 4, 1))}, nil, `avg_pool needs a floating-point input`},
		{"bias_add", []*Node{x, in(F32, Shp(4))}, nil, `the bias f32[4] has 4 elements, but the last axis of f32[N,5,5,3] has 3`},
		{"bias_add", []*Node{x, in(F32, Shp(1, 3))}, nil, `bias_add needs a rank-1 bias`},
		{"softmax_cross_entropy", []*Node{in(F32, Shape{n, Fixed(10)}), in(F32, Shp(10))}, nil, `softmax_cross_entropy needs labels of the logits' shape`},
		{"softmax_cross_entropy", []*Node{in(F32, Shape{n, Fixed(10)}), in(F32, Shape{n, Fixed(10)})}, Attrs{"axis": 0}, `only the last axis is supported`},
	}
	for _, c := range cases {
		_, err := g.Apply(MustLookup(c.op), c.ins, c.attrs)
		require.Error(t, err, c.want)
		require.Contains(t, err.Error(), c.want)
	}
}
