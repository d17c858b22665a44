package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// naiveGemm is the independent reference: a float64 triple loop straight
// from the definition C = alpha*op(A)*op(B) + beta*C.
func naiveGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var sum float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				sum += float64(av) * float64(bv)
			}
			v := float64(alpha) * sum
			if beta != 0 {
				v += float64(beta) * float64(c[i*ldc+j])
			}
			out[i*n+j] = v
		}
	}
	return out
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.Float64()*2 - 1)
	}
	return s
}

type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	pad            int // extra columns of leading dimension beyond the minimum
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,m=%d,n=%d,k=%d,alpha=%g,beta=%g,pad=%d", tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.pad)
}

// run executes one case through gemm and checks it against naiveGemm.
func (tc gemmCase) run(t *testing.T, gemm func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)) {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(tc.m*1000003+tc.n*1009+tc.k), 7))
	aRows, aCols := tc.m, tc.k
	if tc.transA {
		aRows, aCols = tc.k, tc.m
	}
	bRows, bCols := tc.k, tc.n
	if tc.transB {
		bRows, bCols = tc.n, tc.k
	}
	lda, ldb, ldc := max(1, aCols+tc.pad), max(1, bCols+tc.pad), max(1, tc.n+tc.pad)
	a := randSlice(r, aRows*lda)
	b := randSlice(r, bRows*ldb)
	c := randSlice(r, tc.m*ldc)
	if tc.beta == 0 {
		// beta == 0 must not read C: poison it.
		for i := range c {
			c[i] = float32(math.NaN())
		}
	}
	want := naiveGemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	before := append([]float32(nil), c...)
	gemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	// float32 accumulation over k terms of magnitude <= 1.
	tol := 1e-5 * float64(tc.k+4) * (math.Abs(float64(tc.alpha)) + math.Abs(float64(tc.beta)) + 1)
	for i := 0; i < tc.m; i++ {
		for j := 0; j < ldc; j++ {
			got := c[i*ldc+j]
			if j >= tc.n {
				// Padding columns must be untouched.
				if !(math.IsNaN(float64(before[i*ldc+j])) && math.IsNaN(float64(got))) {
					require.Equal(t, before[i*ldc+j], got, "%v: padding C[%d,%d] modified", tc, i, j)
				}
				continue
			}
			w := want[i*tc.n+j]
			if math.Abs(float64(got)-w) > tol {
				t.Fatalf("%v: C[%d,%d] = %g, want %g (tol %g)", tc, i, j, got, w, tol)
			}
		}
	}
}

func gemmSizes() []int {
	var s []int
	for i := 1; i <= 70; i += 2 {
		s = append(s, i)
	}
	return s
}

func TestSgemmSquareAndOddSizes(t *testing.T) {
	forEachGemm(t, func(t *testing.T) {
		sizes := append(gemmSizes(), 64, 128, 255, 300)
		for _, size := range sizes {
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					tc := gemmCase{transA: tA, transB: tB, m: size, n: size, k: size, alpha: 1, beta: 0}
					tc.run(t, Sgemm)
				}
			}
		}
	})
}

func TestSgemmRectangular(t *testing.T) {
	forEachGemm(t, func(t *testing.T) {
		dims := []int{1, 2, 3, 4, 5, 7, 9, 17, 33, 65, 130, 257, 1030}
		r := rand.New(rand.NewPCG(1, 2))
		scalars := []struct{ alpha, beta float32 }{{1, 0}, {1, 1}, {-0.5, 2}, {2, -1}, {0.25, 0}}
		for trial := 0; trial < 150; trial++ {
			tc := gemmCase{
				transA: r.IntN(2) == 1,
				transB: r.IntN(2) == 1,
				m:      dims[r.IntN(len(dims))],
				n:      dims[r.IntN(len(dims))],
				k:      dims[r.IntN(len(dims)-1)],
				pad:    r.IntN(3) * 3,
			}
			s := scalars[r.IntN(len(scalars))]
			tc.alpha, tc.beta = s.alpha, s.beta
			tc.run(t, Sgemm)
		}
	})
}

func TestSgemmAlphaBetaAndStride(t *testing.T) {
	forEachGemm(t, func(t *testing.T) {
		tests := []gemmCase{
			{m: 5, n: 7, k: 3, alpha: 2, beta: 0.5, pad: 4},
			{transA: true, m: 33, n: 31, k: 29, alpha: -1, beta: 1, pad: 5},
			{transB: true, m: 70, n: 9, k: 300, alpha: 0.5, beta: -2, pad: 1},
			{transA: true, transB: true, m: 129, n: 65, k: 257, alpha: 1.5, beta: 0, pad: 7},
			{m: 300, n: 255, k: 128, alpha: 1, beta: 1, pad: 3},
			{transA: true, m: 1, n: 1000, k: 1, alpha: 3, beta: 0, pad: 2},
			{transB: true, m: 1000, n: 1, k: 513, alpha: 1, beta: 0.1, pad: 2},
		}
		for _, tc := range tests {
			t.Run(tc.String(), func(t *testing.T) { tc.run(t, Sgemm) })
		}
	})
}

// TestSgemmPaths drives each internal implementation directly over the same
// sizes, so the packed and small paths are both checked at every size.
func TestSgemmPaths(t *testing.T) {
	forEachGemm(t, func(t *testing.T) {
		paths := map[string]func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int){
			"small": func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
				sgemmSmall(false, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
			},
			"blocked":  sgemmBlocked,
			"parallel": sgemmParallel,
		}
		for name, gemm := range paths {
			t.Run(name, func(t *testing.T) {
				for _, size := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 31, 67} {
					for _, tA := range []bool{false, true} {
						for _, tB := range []bool{false, true} {
							gemmCase{transA: tA, transB: tB, m: size, n: size + 2, k: size + 1, alpha: 0.7, beta: 0.3, pad: 1}.run(t, gemm)
							gemmCase{transA: tA, transB: tB, m: size + 3, n: size, k: size, alpha: 1, beta: 0}.run(t, gemm)
						}
					}
				}
			})
		}
	})
}

func TestSgemmDegenerate(t *testing.T) {
	forEachGemm(t, func(t *testing.T) {
		nan := float32(math.NaN())
		t.Run("k=0 beta=0 clears C", func(t *testing.T) {
			c := []float32{nan, nan, nan, nan}
			Sgemm(false, false, 2, 2, 0, 1, nil, 1, nil, 2, 0, c, 2)
			require.Equal(t, []float32{0, 0, 0, 0}, c)
		})
		t.Run("k=0 scales C", func(t *testing.T) {
			c := []float32{1, 2, 3, 4}
			Sgemm(false, false, 2, 2, 0, 1, nil, 1, nil, 2, 3, c, 2)
			require.Equal(t, []float32{3, 6, 9, 12}, c)
		})
		t.Run("alpha=0 does not read A or B", func(t *testing.T) {
			a := []float32{nan, nan}
			b := []float32{nan, nan}
			c := []float32{1, 2, 3, 4}
			Sgemm(false, false, 2, 2, 1, 0, a, 1, b, 2, 0.5, c, 2)
			require.Equal(t, []float32{0.5, 1, 1.5, 2}, c)
		})
		t.Run("m=0 and n=0 touch nothing", func(t *testing.T) {
			Sgemm(false, false, 0, 3, 3, 1, nil, 3, make([]float32, 9), 3, 0, nil, 3)
			Sgemm(false, false, 3, 0, 3, 1, make([]float32, 9), 3, nil, 1, 0, nil, 1)
		})
		t.Run("hand computed 2x3 times 3x2", func(t *testing.T) {
			a := []float32{1, 2, 3, 4, 5, 6}
			b := []float32{7, 8, 9, 10, 11, 12}
			c := []float32{1, 1, 1, 1}
			Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 1, c, 2)
			require.Equal(t, []float32{59, 65, 140, 155}, c)
			// Same product with both operands stored transposed.
			at := []float32{1, 4, 2, 5, 3, 6}
			bt := []float32{7, 9, 11, 8, 10, 12}
			c = []float32{nan, nan, nan, nan}
			Sgemm(true, true, 2, 2, 3, 2, at, 2, bt, 3, 0, c, 2)
			require.Equal(t, []float32{116, 128, 278, 308}, c)
		})
	})
}

func TestSgemmBadArguments(t *testing.T) {
	tests := []struct {
		name string
		call func()
		msg  string
	}{
		{"negative m", func() { Sgemm(false, false, -1, 1, 1, 1, nil, 1, nil, 1, 0, nil, 1) }, "runtime.Sgemm: negative dimension m=-1 n=1 k=1"},
		{"lda too small", func() {
			Sgemm(false, false, 2, 2, 3, 1, make([]float32, 6), 2, make([]float32, 6), 2, 0, make([]float32, 4), 2)
		}, "runtime.Sgemm: lda=2 is less than the 3 columns of A"},
		{"A too short", func() {
			Sgemm(false, false, 2, 2, 3, 1, make([]float32, 5), 3, make([]float32, 6), 2, 0, make([]float32, 4), 2)
		}, "runtime.Sgemm: A has 5 elements, a 2×3 matrix with stride 3 needs 6"},
		{"B too short transposed", func() {
			Sgemm(false, true, 2, 2, 3, 1, make([]float32, 6), 3, make([]float32, 5), 3, 0, make([]float32, 4), 2)
		}, "runtime.Sgemm: B has 5 elements, a 2×3 matrix with stride 3 needs 6"},
		{"C too short", func() {
			Sgemm(false, false, 2, 2, 3, 1, make([]float32, 6), 3, make([]float32, 6), 2, 0, make([]float32, 3), 2)
		}, "runtime.Sgemm: C has 3 elements, a 2×2 matrix with stride 2 needs 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { require.PanicsWithValue(t, tc.msg, tc.call) })
	}
}

func TestSgemmSteadyStateDoesNotAllocate(t *testing.T) {
	skipIfRace(t)
	const n = 48 // blocked but single-threaded
	a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	Sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
	allocs := testing.AllocsPerRun(20, func() {
		Sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
	})
	require.Zero(t, allocs)
}

func benchmarkGemm(b *testing.B, n int, gemm func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)) {
	r := rand.New(rand.NewPCG(1, 1))
	x, y, z := randSlice(r, n*n), randSlice(r, n*n), make([]float32, n*n)
	b.ResetTimer()
	for b.Loop() {
		gemm(false, false, n, n, n, 1, x, n, y, n, 0, z, n)
	}
	b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// naiveSgemm is the textbook i-j-p loop used as the benchmark baseline.
func naiveSgemm(_, _ bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var sum float32
			for p := 0; p < k; p++ {
				sum += a[i*lda+p] * b[p*ldb+j]
			}
			c[i*ldc+j] = alpha*sum + beta*c[i*ldc+j]
		}
	}
}

func BenchmarkSgemm(b *testing.B) {
	for _, n := range []int{64, 256, 512} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) { benchmarkGemm(b, n, Sgemm) })
	}
}

func BenchmarkSgemmSingleThread(b *testing.B) {
	for _, n := range []int{64, 256, 512} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) { benchmarkGemm(b, n, sgemmBlocked) })
	}
}

func BenchmarkSgemmNaive(b *testing.B) {
	for _, n := range []int{64, 256, 512} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) { benchmarkGemm(b, n, naiveSgemm) })
	}
}

// hotPathCase is one product of TestSgemmHotPathsDoNotAllocate, run on
// procs goroutines (0: as it is) runs times.
type hotPathCase struct {
	name           string
	transA, transB bool
	m, n, k        int
	procs, runs    int
}

// TestSgemmHotPathsDoNotAllocate checks the sizes a model's TrainStep uses:
// serial ones (a 32-sample batch through a 784→10 layer, forward and both
// gradients) and ones big enough to run on the worker pool.
func TestSgemmHotPathsDoNotAllocate(t *testing.T) {
	tests := []hotPathCase{
		{"serial 32x10x784", false, false, 32, 10, 784, 0, 100},
		{"serial 32x10x784 transB", false, true, 32, 10, 784, 0, 100},
		{"serial 784x10x32 transA", true, false, 784, 10, 32, 0, 100},
		{"parallel 512x512x512", false, false, 512, 512, 512, parallelProcs(), 10},
		{"parallel by columns 64x1024x256", false, true, 64, 1024, 256, parallelProcs(), 10},
		{"few rows 1x512x784", false, false, 1, 512, 784, 0, 20},
		{"few rows parallel 1x2048x1100", false, false, 1, 2048, 1100, parallelProcs(), 10},
		{"few rows parallel 2x1024x1100 transB", false, true, 2, 1024, 1100, parallelProcs(), 10},
		{"few rows 2x300x100 transA transB", true, true, 2, 300, 100, 0, 20},
		{"few rows 1x10x512", false, false, 1, 10, 512, 0, 100},
	}
	forEachGemm(t, func(t *testing.T) { checkHotPathsDoNotAllocate(t, tests) })
}

// checkHotPathsDoNotAllocate is TestSgemmHotPathsDoNotAllocate with the
// active implementation.
func checkHotPathsDoNotAllocate(t *testing.T, tests []hotPathCase) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lda, ldb := tc.k, tc.n
			if tc.transA {
				lda = tc.m
			}
			if tc.transB {
				ldb = tc.k
			}
			a, b, c := make([]float32, tc.m*tc.k), make([]float32, tc.k*tc.n), make([]float32, tc.m*tc.n)
			requireZeroAllocs(t, tc.procs, tc.runs, func() {
				Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, 1, a, lda, b, ldb, 0.5, c, tc.n)
			})
		})
	}
}
