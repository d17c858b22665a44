package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// convGeom builds a ConvShape by TensorFlow's output and padding rules,
// independently of the compiler.
func convGeom(batch, h, w, c, kh, kw, oc, sh, sw, dh, dw int, same bool) ConvShape {
	axis := func(in, k, s, d int) (int, int) {
		eff := (k-1)*d + 1
		if !same {
			return (in-eff)/s + 1, 0
		}
		out := (in + s - 1) / s
		return out, max((out-1)*s+eff-in, 0) / 2
	}
	oh, pt := axis(h, kh, sh, dh)
	ow, pl := axis(w, kw, sw, dw)
	return ConvShape{Batch: batch, InH: h, InW: w, InC: c, KH: kh, KW: kw, OutC: oc, OutH: oh, OutW: ow,
		StrideH: sh, StrideW: sw, DilationH: dh, DilationW: dw, PadTop: pt, PadLeft: pl}
}

// naiveConv visits every (x, filter, y) index triple conv2d multiplies,
// with the plain seven-deep loop nest.
func naiveConv(s ConvShape, f func(xi, fi, yi int)) {
	for b := 0; b < s.Batch; b++ {
		for oh := 0; oh < s.OutH; oh++ {
			for ow := 0; ow < s.OutW; ow++ {
				for kh := 0; kh < s.KH; kh++ {
					for kw := 0; kw < s.KW; kw++ {
						ih := oh*s.StrideH + kh*s.DilationH - s.PadTop
						iw := ow*s.StrideW + kw*s.DilationW - s.PadLeft
						if ih < 0 || ih >= s.InH || iw < 0 || iw >= s.InW {
							continue
						}
						for c := 0; c < s.InC; c++ {
							for oc := 0; oc < s.OutC; oc++ {
								f(((b*s.InH+ih)*s.InW+iw)*s.InC+c, ((kh*s.KW+kw)*s.InC+c)*s.OutC+oc, ((b*s.OutH+oh)*s.OutW+ow)*s.OutC+oc)
							}
						}
					}
				}
			}
		}
	}
}

func requireCloseF64(t *testing.T, want []float64, got []float32, what string) {
	t.Helper()
	require.Len(t, got, len(want), what)
	var scale float64
	for _, v := range want {
		scale = math.Max(scale, math.Abs(v))
	}
	for i := range want {
		require.InDelta(t, want[i], float64(got[i]), 1e-5*math.Max(scale, 1), "%s[%d]", what, i)
	}
}

// convCases covers odd sizes, strides 1-3, SAME and VALID, dilations 1
// and 2, batch 1 and 3, 1×1 filters and a batch big enough to be split
// into several im2col chunks.
func convCases() []ConvShape {
	var out []ConvShape
	for _, batch := range []int{1, 3, 5} {
		for _, same := range []bool{true, false} {
			for _, st := range [][2]int{{1, 1}, {2, 2}, {3, 1}, {1, 3}} {
				for _, dil := range [][2]int{{1, 1}, {2, 2}, {1, 2}} {
					for _, k := range [][2]int{{3, 3}, {2, 3}, {1, 1}} {
						h, w := 7, 6
						if !same && ((k[0]-1)*dil[0]+1 > h || (k[1]-1)*dil[1]+1 > w) {
							continue
						}
						out = append(out, convGeom(batch, h, w, 3, k[0], k[1], 4, st[0], st[1], dil[0], dil[1], same))
					}
				}
			}
		}
	}
	out = append(out,
		convGeom(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, true),
		convGeom(2, 5, 5, 1, 5, 5, 2, 1, 1, 1, 1, true),
		convGeom(1, 5, 5, 2, 5, 5, 3, 1, 1, 1, 1, false),
		convGeom(3, 9, 11, 5, 4, 4, 3, 2, 3, 1, 1, true),
		// Several chunks: 40 images of 16*16*75 patch elements exceed convColMax.
		convGeom(40, 16, 16, 3, 5, 5, 2, 1, 1, 1, 1, true),
		// The image-parallel path: groups of several small images (odd
		// batch, single input channel) and of one large image each.
		convGeom(37, 9, 7, 1, 5, 5, 6, 1, 1, 1, 1, true),
		convGeom(9, 15, 13, 8, 5, 5, 7, 2, 1, 1, 2, false),
		convGeom(6, 40, 40, 6, 5, 5, 5, 1, 1, 1, 1, true),
	)
	// The direct kernel (few input channels, output channels in blocks of
	// 32): widths that leave 0, 1 and 2 pixels of the last block of three,
	// strides, dilations and both paddings.
	for _, g := range []struct{ batch, h, w, c, kh, kw, oc, sh, sw, dh, dw int }{
		{1, 7, 6, 1, 5, 5, 32, 1, 1, 1, 1},
		{5, 9, 7, 1, 3, 3, 32, 1, 1, 1, 1},
		{2, 8, 8, 2, 5, 5, 64, 1, 1, 1, 1},
		{3, 11, 10, 3, 3, 2, 32, 2, 3, 1, 1},
		{1, 9, 11, 4, 3, 3, 96, 1, 2, 2, 2},
		{2, 6, 5, 1, 1, 1, 32, 2, 2, 1, 1},
		{2, 7, 9, 32, 3, 3, 32, 2, 1, 1, 2},
		{1, 5, 8, 17, 2, 3, 64, 1, 1, 2, 1},
		// The input gradient as a direct convolution of dy (stride 1,
		// input channels in blocks of 32, at most 64 output channels).
		{3, 7, 6, 32, 3, 3, 16, 1, 1, 1, 1},
		{2, 9, 8, 64, 3, 2, 40, 1, 1, 2, 2},
		{5, 6, 6, 32, 5, 5, 64, 1, 1, 1, 1},
	} {
		for _, same := range []bool{true, false} {
			out = append(out, convGeom(g.batch, g.h, g.w, g.c, g.kh, g.kw, g.oc, g.sh, g.sw, g.dh, g.dw, same))
		}
	}
	return out
}

func TestConv2DMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range convCases() {
		t.Run(s.String(), func(t *testing.T) {
			x, f, dy := randSlice(r, s.inputLen()), randSlice(r, s.filterLen()), randSlice(r, s.outputLen())
			wantY := make([]float64, s.outputLen())
			wantDX := make([]float64, s.inputLen())
			wantDF := make([]float64, s.filterLen())
			naiveConv(s, func(xi, fi, yi int) {
				wantY[yi] += float64(x[xi]) * float64(f[fi])
				wantDX[xi] += float64(dy[yi]) * float64(f[fi])
				wantDF[fi] += float64(x[xi]) * float64(dy[yi])
			})
			// Outputs start as garbage: the kernels must overwrite them.
			y := garbage(s.outputLen())
			Conv2D(y, x, f, s)
			requireCloseF64(t, wantY, y, "y")
			dx := garbage(s.inputLen())
			Conv2DBackpropInput(dx, f, dy, s)
			requireCloseF64(t, wantDX, dx, "dx")
			df := garbage(s.filterLen())
			Conv2DBackpropFilter(df, x, dy, s)
			requireCloseF64(t, wantDF, df, "dfilter")
		})
	}
}

func garbage(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 1e30
	}
	return s
}

func TestConv2DEmptyBatch(t *testing.T) {
	s := convGeom(0, 5, 5, 2, 3, 3, 2, 1, 1, 1, 1, true)
	df := garbage(s.filterLen())
	Conv2D(nil, nil, make([]float32, s.filterLen()), s)
	Conv2DBackpropInput(nil, make([]float32, s.filterLen()), nil, s)
	Conv2DBackpropFilter(df, nil, nil, s)
	require.Equal(t, make([]float32, s.filterLen()), df, "the filter gradient of no images is zero")
}

func TestConv2DBadArguments(t *testing.T) {
	s := convGeom(2, 5, 5, 2, 3, 3, 2, 1, 1, 1, 1, true)
	x, f, y := make([]float32, s.inputLen()), make([]float32, s.filterLen()), make([]float32, s.outputLen())
	require.PanicsWithValue(t, fmt.Sprintf("runtime.Conv2D: x has %d elements, want %d for %v", len(x)-1, len(x), s),
		func() { Conv2D(y, x[1:], f, s) })
	require.Panics(t, func() { Conv2DBackpropInput(x, f[1:], y, s) })
	require.Panics(t, func() { Conv2DBackpropFilter(f, x, y[1:], s) })
	bad := s
	bad.StrideH = 0
	require.Panics(t, func() { Conv2D(y, x, f, bad) })
}

func TestConv2DSteadyStateDoesNotAllocate(t *testing.T) {
	for _, s := range []ConvShape{
		convGeom(8, 12, 12, 3, 5, 5, 8, 1, 1, 1, 1, true),
		convGeom(1, 7, 7, 2, 3, 3, 4, 2, 2, 1, 1, false),
		convGeom(5, 10, 10, 1, 5, 5, 32, 1, 1, 1, 1, true), // direct kernel
	} {
		r := rand.New(rand.NewPCG(3, 4))
		x, f, dy := randSlice(r, s.inputLen()), randSlice(r, s.filterLen()), randSlice(r, s.outputLen())
		y, dx, df := make([]float32, len(dy)), make([]float32, len(x)), make([]float32, len(f))
		requireZeroAllocs(t, parallelProcs(), 5, func() {
			Conv2D(y, x, f, s)
			Conv2DBackpropInput(dx, f, dy, s)
			Conv2DBackpropFilter(df, x, dy, s)
		})
	}
}

// LeNet's two convolutions at batch 64.
var lenetConvs = []struct {
	name string
	s    ConvShape
}{
	{"28x28x1to32", convGeom(64, 28, 28, 1, 5, 5, 32, 1, 1, 1, 1, true)},
	{"14x14x32to64", convGeom(64, 14, 14, 32, 5, 5, 64, 1, 1, 1, 1, true)},
}

func benchConv(b *testing.B, run func(s ConvShape, x, f, y []float32)) {
	for _, c := range lenetConvs {
		b.Run(c.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(5, 6))
			s := c.s
			x, f, y := randSlice(r, s.inputLen()), randSlice(r, s.filterLen()), randSlice(r, s.outputLen())
			flops := 2 * float64(s.Batch*s.OutH*s.OutW*s.OutC*s.patch())
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				run(s, x, f, y)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func BenchmarkConv2D(b *testing.B) {
	benchConv(b, func(s ConvShape, x, f, y []float32) { Conv2D(y, x, f, s) })
}

func BenchmarkConv2DBackpropInput(b *testing.B) {
	benchConv(b, func(s ConvShape, x, f, y []float32) { Conv2DBackpropInput(x, f, y, s) })
}

func BenchmarkConv2DBackpropFilter(b *testing.B) {
	benchConv(b, func(s ConvShape, x, f, y []float32) { Conv2DBackpropFilter(f, x, y, s) })
}

// BenchmarkConv2DNaive is the seven-deep loop the kernels replace, for
// comparison.
func BenchmarkConv2DNaive(b *testing.B) {
	benchConv(b, func(s ConvShape, x, f, y []float32) {
		clear(y)
		naiveConv(s, func(xi, fi, yi int) { y[yi] += x[xi] * f[fi] })
	})
}

// TestConv2DDirectMatchesIm2col checks the direct kernel against the
// im2col path on LeNet's first convolution and on odd geometries.
func TestConv2DDirectMatchesIm2col(t *testing.T) {
	if convDirectArch == nil {
		t.Skip("no direct convolution kernel on this architecture")
	}
	r := rand.New(rand.NewPCG(15, 16))
	directInput := 0
	for _, s := range []ConvShape{
		convGeom(4, 28, 28, 1, 5, 5, 32, 1, 1, 1, 1, true),
		convGeom(3, 13, 17, 3, 4, 3, 64, 2, 1, 1, 2, true),
		convGeom(2, 13, 17, 2, 3, 5, 32, 1, 3, 2, 1, false),
		convGeom(2, 14, 14, 32, 5, 5, 64, 1, 1, 1, 1, true), // forward only
		convGeom(2, 14, 14, 64, 5, 5, 32, 1, 1, 1, 1, true), // forward only
	} {
		require.True(t, s.directApplies(convForward), "%v", s)
		x, f, dy := randSlice(r, s.inputLen()), randSlice(r, s.filterLen()), randSlice(r, s.outputLen())
		got, want := garbage(s.outputLen()), garbage(s.outputLen())
		gotDF, wantDF := garbage(s.filterLen()), garbage(s.filterLen())
		Conv2D(got, x, f, s)
		Conv2DBackpropFilter(gotDF, x, dy, s)
		col := make([]float32, s.OutH*s.OutW*s.patch())
		per := s.OutH * s.OutW * s.OutC
		for b := range s.Batch {
			s1 := s
			s1.Batch = 1
			im2colImage(col, x[b*s.InH*s.InW*s.InC:], s1)
			Sgemm(false, false, s.OutH*s.OutW, s.OutC, s.patch(), 1, col, s.patch(), f, s.OutC, 0, want[b*per:], s.OutC)
			Sgemm(true, false, s.patch(), s.OutC, s.OutH*s.OutW, 1, col, s.patch(), dy[b*per:], s.OutC, float32(min(b, 1)), wantDF, s.OutC)
		}
		for i := range want {
			require.InDelta(t, want[i], got[i], 1e-4*(1+math.Abs(float64(want[i]))), "%v: y element %d", s, i)
		}
		for i := range wantDF {
			require.InDelta(t, wantDF[i], gotDF[i], 1e-3*(1+math.Abs(float64(wantDF[i]))), "%v: dfilter element %d", s, i)
		}
		if s.directApplies(convBackInput) {
			directInput++
			gotDX, wantDX := garbage(s.inputLen()), make([]float32, s.inputLen())
			Conv2DBackpropInput(gotDX, f, dy, s)
			in := s.InH * s.InW * s.InC
			for b := range s.Batch {
				Sgemm(false, true, s.OutH*s.OutW, s.patch(), s.OutC, 1, dy[b*per:], s.OutC, f, s.OutC, 0, col, s.patch())
				col2imImage(wantDX[b*in:][:in], col, s)
			}
			for i := range wantDX {
				require.InDelta(t, wantDX[i], gotDX[i], 1e-3*(1+math.Abs(float64(wantDX[i]))), "%v: dx element %d", s, i)
			}
		}
	}
	require.Equal(t, 2, directInput, "geometries whose input gradient takes the direct path")
}

// TestAddIntoMatchesGo checks the architecture's addInto against the plain
// loop on every length up to 40 (vector body and scalar tail).
func TestAddIntoMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for n := range 41 {
		d, v := randSlice(r, n), randSlice(r, n+3)
		want := slices.Clone(d)
		addIntoGo(want, v)
		addInto(d, v)
		require.Equal(t, want, d, "n=%d", n)
	}
}
