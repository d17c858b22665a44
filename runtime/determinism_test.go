package runtime

import (
	"math/rand/v2"
	goruntime "runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestParallelSumsAreReproducible checks that the kernels whose
// goroutines each sum part of a reduction (the filter gradient over
// images, the few-rows GEMM over rows of B) give bit-identical results on
// every call, whichever goroutine runs first: training must be exactly
// reproducible (a resumed run equals an uninterrupted one). Before the
// shares were fixed per goroutine, repeated calls differed in the last
// bits.
func TestParallelSumsAreReproducible(t *testing.T) {
	if goruntime.GOMAXPROCS(0) < 2 {
		defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(2))
	}
	r := rand.New(rand.NewPCG(3, 4))
	fill := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.NormFloat64())
		}
		return s
	}
	s := ConvShape{Batch: 16, InH: 14, InW: 14, InC: 4, KH: 5, KW: 5, OutC: 32, OutH: 14, OutW: 14,
		StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, PadTop: 2, PadLeft: 2}
	x, dy := fill(s.inputLen()), fill(s.outputLen())
	for _, k := range []ConvKernel{ConvIm2col, ConvDirect} {
		plan := ConvPlan{Kernel: k, Threads: 2}
		first := make([]float32, s.filterLen())
		Conv2DBackpropFilterPlan(plan, first, x, dy, s)
		for range 20 {
			again := make([]float32, s.filterLen())
			Conv2DBackpropFilterPlan(plan, again, x, dy, s)
			require.Equal(t, first, again, "filter gradient, %v", k)
		}
	}
	m, n, kk := 3, 64, 4096
	a, b := fill(m*kk), fill(kk*n)
	plan := GemmPlan{Kernel: GemmRows, Threads: 2}
	first := make([]float32, m*n)
	SgemmPlan(plan, false, false, m, n, kk, 1, a, kk, b, n, 0, first, n)
	for range 20 {
		again := make([]float32, m*n)
		SgemmPlan(plan, false, false, m, n, kk, 1, a, kk, b, n, 0, again, n)
		require.Equal(t, first, again, "rows kernel over chunks of B")
	}
}
