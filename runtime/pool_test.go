package runtime

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// poolGeom builds a PoolShape by TensorFlow's rules.
func poolGeom(batch, h, w, c, kh, kw, sh, sw int, same bool) PoolShape {
	g := convGeom(batch, h, w, c, kh, kw, 1, sh, sw, 1, 1, same)
	return PoolShape{Batch: batch, InH: h, InW: w, C: c, KH: kh, KW: kw, StrideH: sh, StrideW: sw,
		OutH: g.OutH, OutW: g.OutW, PadTop: g.PadTop, PadLeft: g.PadLeft}
}

// naivePool calls f with every output index and the input indices of its
// window inside the image, in row-major window order.
func naivePool(s PoolShape, f func(yi int, xs []int)) {
	for b := 0; b < s.Batch; b++ {
		for oh := 0; oh < s.OutH; oh++ {
			for ow := 0; ow < s.OutW; ow++ {
				for c := 0; c < s.C; c++ {
					var xs []int
					for kh := 0; kh < s.KH; kh++ {
						for kw := 0; kw < s.KW; kw++ {
							ih, iw := oh*s.StrideH+kh-s.PadTop, ow*s.StrideW+kw-s.PadLeft
							if ih >= 0 && ih < s.InH && iw >= 0 && iw < s.InW {
								xs = append(xs, ((b*s.InH+ih)*s.InW+iw)*s.C+c)
							}
						}
					}
					f(((b*s.OutH+oh)*s.OutW+ow)*s.C+c, xs)
				}
			}
		}
	}
}

func poolCases() []PoolShape {
	var out []PoolShape
	for _, batch := range []int{1, 3, 9} {
		for _, same := range []bool{true, false} {
			for _, k := range [][2]int{{2, 2}, {3, 3}, {3, 2}, {1, 1}} {
				for _, st := range [][2]int{{1, 1}, {2, 2}, {3, 3}, {2, 1}} {
					for _, c := range []int{3, 7} {
						out = append(out, poolGeom(batch, 7, 6, c, k[0], k[1], st[0], st[1], same))
					}
				}
			}
		}
	}
	return append(out, poolGeom(2, 1, 1, 1, 2, 2, 2, 2, true), poolGeom(64, 28, 28, 32, 2, 2, 2, 2, false),
		// More channels than maxPoolGradImage's block, with a tail.
		poolGeom(3, 5, 6, 2*poolChannelBlock+6, 3, 2, 2, 1, true))
}

func TestPoolingMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, s := range poolCases() {
		t.Run(s.String(), func(t *testing.T) {
			x, dy := randSlice(r, s.inputLen()), randSlice(r, s.outputLen())
			// Ties: make some windows hold repeated maxima.
			for i := 0; i < len(x); i += 5 {
				x[i] = 0.75
			}
			wantMax, wantAvg := make([]float64, s.outputLen()), make([]float64, s.outputLen())
			wantMaxGrad, wantAvgGrad := make([]float64, s.inputLen()), make([]float64, s.inputLen())
			naivePool(s, func(yi int, xs []int) {
				best := xs[0]
				sum := 0.0
				for _, xi := range xs {
					if x[xi] > x[best] {
						best = xi
					}
					sum += float64(x[xi])
				}
				wantMax[yi] = float64(x[best])
				wantMaxGrad[best] += float64(dy[yi])
				wantAvg[yi] = sum / float64(len(xs))
				for _, xi := range xs {
					wantAvgGrad[xi] += float64(dy[yi]) / float64(len(xs))
				}
			})
			got := garbage(s.outputLen())
			MaxPool(got, x, s)
			requireCloseF64(t, wantMax, got, "max_pool")
			AvgPool(got, x, s)
			requireCloseF64(t, wantAvg, got, "avg_pool")
			gotDX := garbage(s.inputLen())
			MaxPoolGrad(gotDX, x, dy, s)
			requireCloseF64(t, wantMaxGrad, gotDX, "max_pool_grad")
			AvgPoolGrad(gotDX, dy, s)
			requireCloseF64(t, wantAvgGrad, gotDX, "avg_pool_grad")
			// The one-channel-at-a-time path for huge images.
			in, out := s.InH*s.InW*s.C, s.OutH*s.OutW*s.C
			gotDX = garbage(s.inputLen())
			for b := range s.Batch {
				maxPoolGradImageScalar(gotDX[b*in:][:in], x[b*in:][:in], dy[b*out:][:out], s)
			}
			requireCloseF64(t, wantMaxGrad, gotDX, "max_pool_grad (scalar)")
		})
	}
}

// TestMaxPoolGradFirstMaximum pins the tie rule: the first maximum in
// row-major window order gets the gradient.
func TestMaxPoolGradFirstMaximum(t *testing.T) {
	s := poolGeom(1, 2, 2, 1, 2, 2, 2, 2, false)
	x := []float32{1, 5, 5, 2}
	dx := make([]float32, 4)
	MaxPoolGrad(dx, x, []float32{3}, s)
	require.Equal(t, []float32{0, 3, 0, 0}, dx)
	y := make([]float32, 1)
	MaxPool(y, x, s)
	require.Equal(t, []float32{5}, y)
}

// TestMaxIntoMatchesGo checks the architecture's maxInto and argMaxInto
// against the plain Go rule (replace only when strictly greater) on every
// length up to 19 and values with ties, NaNs and both zeros.
func TestMaxIntoMatchesGo(t *testing.T) {
	nan, negZero := float32(math.NaN()), float32(math.Copysign(0, -1))
	vals := []float32{1, -2, 3, 3, nan, 0, negZero, -1, 5, nan, 2, 0}
	r := rand.New(rand.NewPCG(11, 12))
	pick := func(n int) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = vals[r.IntN(len(vals))]
		}
		return out
	}
	bitsOf := func(v []float32) []uint32 {
		out := make([]uint32, len(v))
		for i, x := range v {
			out[i] = math.Float32bits(x)
		}
		return out
	}
	for n := range 20 {
		for range 20 {
			d, v := pick(n), pick(n+1)
			want := slices.Clone(d)
			maxIntoGo(want, v)
			maxInto(d, v)
			require.Equal(t, bitsOf(want), bitsOf(d), "maxInto, n=%d", n)

			bv, bi := pick(n), make([]int32, n)
			for i := range bi {
				bi[i] = int32(r.IntN(9))
			}
			wantV, wantI := slices.Clone(bv), slices.Clone(bi)
			argMaxIntoGo(wantV, wantI, v, 42)
			argMaxInto(bv, bi, v, 42)
			require.Equal(t, bitsOf(wantV), bitsOf(bv), "argMaxInto values, n=%d", n)
			require.Equal(t, wantI, bi, "argMaxInto positions, n=%d", n)
		}
	}
}

// TestMaxPoolNaN pins what a NaN does: as the first element of its
// window it is the maximum (and takes the gradient), anywhere else it
// loses every comparison.
func TestMaxPoolNaN(t *testing.T) {
	nan := float32(math.NaN())
	s := poolGeom(1, 2, 4, 1, 2, 2, 2, 2, false)
	x := []float32{nan, 1, 2, nan, 3, 4, 5, 6}
	y := make([]float32, 2)
	MaxPool(y, x, s)
	require.True(t, math.IsNaN(float64(y[0])))
	require.Equal(t, float32(6), y[1])
	dx := garbage(8)
	MaxPoolGrad(dx, x, []float32{10, 20}, s)
	require.Equal(t, []float32{10, 0, 0, 0, 0, 0, 0, 20}, dx)
}

func TestPoolingBadArguments(t *testing.T) {
	s := poolGeom(2, 4, 4, 1, 2, 2, 2, 2, false)
	x, y := make([]float32, s.inputLen()), make([]float32, s.outputLen())
	require.Panics(t, func() { MaxPool(y[1:], x, s) })
	require.Panics(t, func() { AvgPoolGrad(x, y[1:], s) })
	bad := s
	bad.OutH = 5 // the last window row would lie below the image
	require.Panics(t, func() { MaxPool(make([]float32, 100), x, bad) })
}

func TestPoolingSteadyStateDoesNotAllocate(t *testing.T) {
	s := poolGeom(16, 12, 12, 4, 2, 2, 2, 2, true)
	r := rand.New(rand.NewPCG(9, 10))
	x, dy := randSlice(r, s.inputLen()), randSlice(r, s.outputLen())
	y, dx := make([]float32, len(dy)), make([]float32, len(x))
	requireZeroAllocs(t, parallelProcs(), 5, func() {
		MaxPool(y, x, s)
		MaxPoolGrad(dx, x, dy, s)
		AvgPool(y, x, s)
		AvgPoolGrad(dx, dy, s)
	})
}

func TestSoftmaxCrossEntropyRows(t *testing.T) {
	logits := []float32{1, 2, 3, 1000, 0, -1000}
	labels := []float32{0, 0, 1, 0.5, 0.5, 0}
	dst := make([]float32, 2)
	SoftmaxCrossEntropyRows(dst, logits, labels, 2, 3)
	z := math.Log(math.Exp(1) + math.Exp(2) + math.Exp(3))
	require.InDelta(t, z-3, float64(dst[0]), 1e-6)
	// Row 2: log_softmax = [0, -1000, -2000]; 0.5*0 + 0.5*1000.
	require.InDelta(t, 500, float64(dst[1]), 1e-3)
	require.Panics(t, func() { SoftmaxCrossEntropyRows(dst[:1], logits, labels, 2, 3) })
	require.Zero(t, testing.AllocsPerRun(10, func() { SoftmaxCrossEntropyRows(dst, logits, labels, 2, 3) }))
}

func BenchmarkMaxPool(b *testing.B) {
	s := poolGeom(64, 28, 28, 32, 2, 2, 2, 2, false)
	r := rand.New(rand.NewPCG(1, 1))
	x, dy := randSlice(r, s.inputLen()), randSlice(r, s.outputLen())
	y, dx := make([]float32, len(dy)), make([]float32, len(x))
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			MaxPool(y, x, s)
		}
	})
	b.Run("grad", func(b *testing.B) {
		for b.Loop() {
			MaxPoolGrad(dx, x, dy, s)
		}
	})
}
