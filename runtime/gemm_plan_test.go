package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	goruntime "runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

var allGemmKernels = []GemmKernel{GemmAuto, GemmRows, GemmSmall, GemmNarrow, GemmDirect, GemmPacked}

func TestGemmKernelString(t *testing.T) {
	var got []string
	for _, k := range allGemmKernels {
		got = append(got, k.String())
	}
	require.Equal(t, []string{"auto", "rows", "small", "narrow", "direct", "packed"}, got)
	require.Equal(t, "GemmKernel(9)", GemmKernel(9).String())
}

func TestGemmKernels(t *testing.T) {
	withGemm(gemmGeneric, func() {
		require.Equal(t, []GemmKernel{GemmRows, GemmSmall, GemmPacked}, GemmKernels())
	})
	for _, g := range gemmArchImpls {
		withGemm(g, func() {
			require.Equal(t, []GemmKernel{GemmRows, GemmSmall, GemmNarrow, GemmDirect, GemmPacked}, GemmKernels(), g.name)
		})
	}
}

// TestSgemmPlanKernelChoice checks which kernel a plan runs: the one asked
// for when the implementation has it and it fits the product, otherwise
// the one Sgemm's dispatch would pick on one goroutine.
func TestSgemmPlanKernelChoice(t *testing.T) {
	type choice struct {
		kern             GemmKernel
		directA, directB bool
	}
	pick := func(g *gemmImpl, kern GemmKernel, tA, tB bool, m, n, k int) choice {
		c, a, b := g.planKernel(kern, tA, tB, m, n, k)
		return choice{c, a, b}
	}
	auto := func(g *gemmImpl, tA, tB bool, m, n, k int) choice {
		c, a, b := g.autoKernel(tA, tB, m, n, k)
		return choice{c, a, b}
	}
	g := gemmGeneric
	// The portable implementation has no narrow, direct, nor transposed-B rows kernel.
	require.Equal(t, choice{kern: GemmPacked}, pick(g, GemmNarrow, false, false, 100, 10, 784))
	require.Equal(t, choice{kern: GemmPacked}, pick(g, GemmDirect, true, false, 100, 10, 784))
	require.Equal(t, choice{kern: GemmPacked}, pick(g, GemmRows, false, true, 100, 10, 784))
	require.Equal(t, choice{kern: GemmRows}, pick(g, GemmRows, false, false, 100, 10, 784))
	require.Equal(t, choice{kern: GemmSmall}, pick(g, GemmDirect, true, false, 5, 3, 7))
	require.Equal(t, choice{kern: GemmSmall}, pick(g, GemmSmall, false, false, 300, 300, 300))
	require.Equal(t, choice{kern: GemmPacked}, pick(g, GemmPacked, false, false, 1, 1, 1))
	require.Equal(t, auto(g, false, false, 3, 50, 50), pick(g, GemmKernel(200), false, false, 3, 50, 50))
	for _, g := range gemmArchImpls {
		if g.kernelS == nil || g.narrow == nil {
			continue
		}
		require.Equal(t, choice{kern: GemmNarrow}, pick(g, GemmNarrow, false, true, 100, 500, 784))
		require.Equal(t, auto(g, true, true, 100, 500, 784), pick(g, GemmNarrow, true, true, 100, 500, 784))
		require.Equal(t, auto(g, false, true, 100, 500, 784), pick(g, GemmDirect, false, true, 100, 500, 784))
		require.Equal(t, choice{GemmDirect, false, true}, pick(g, GemmDirect, false, false, 1000, 500, 784))
		require.Equal(t, choice{GemmDirect, true, false}, pick(g, GemmDirect, true, true, 1000, 500, 784))
		require.Equal(t, choice{GemmDirect, false, true}, pick(g, GemmDirect, true, false, 1000, 500, 784))
		require.Equal(t, choice{GemmDirect, true, true}, pick(g, GemmDirect, true, false, 1000, 20, 784))
		require.Equal(t, choice{kern: GemmRows}, pick(g, GemmRows, true, true, 100, 500, 784))
		// Sgemm's own choices.
		require.Equal(t, choice{kern: GemmRows}, auto(g, false, true, 4, 500, 784))
		require.Equal(t, choice{kern: GemmSmall}, auto(g, false, true, 5, 5, 5))
		require.Equal(t, choice{kern: GemmNarrow}, auto(g, false, false, 100, 10, 784))
		require.Equal(t, choice{GemmDirect, false, true}, auto(g, false, false, 64, 512, 784))
		require.Equal(t, choice{GemmDirect, true, false}, auto(g, true, true, 784, 10, 100))
		require.Equal(t, choice{kern: GemmPacked}, auto(g, false, true, 1000, 500, 784))
	}
}

// planShapes are the products of TestSgemmPlanAgainstReference: every m
// from 1 to 7 with narrow and odd n, n one either side of a 16-column
// sliver, k of one, a few, and beyond one 256-deep k block, and a few
// larger products with partial tiles and both split directions.
var planShapes = [][3]int{
	{1, 1, 1}, {1, 40, 300}, {1, 5, 3}, {2, 17, 7}, {2, 1, 64}, {3, 16, 256}, {3, 33, 2},
	{4, 33, 257}, {5, 40, 64}, {5, 3, 300}, {6, 16, 1}, {6, 15, 100}, {7, 39, 300}, {7, 1, 5},
	{13, 12, 31}, {6, 48, 258}, {31, 33, 300}, {64, 1, 513}, {100, 10, 785}, {150, 12, 260},
	{145, 131, 17}, {17, 200, 300}, {200, 300, 150}, {300, 200, 150},
}

// abCase is an alpha, beta and padding of the leading dimensions.
type abCase struct {
	alpha, beta float32
	pad         int
}

// TestSgemmPlanAgainstReference runs every kernel, on one, two and three
// goroutines, with and without ReLU, every transpose, and alpha/beta
// variants (beta = 0 with NaN in C, beta = 1, and others) with padded
// strides, through both implementations, against the float64 reference.
// Kernels that cannot compute a product fall back, and are checked too.
func TestSgemmPlanAgainstReference(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(max(3, goruntime.GOMAXPROCS(0))))
	abs := []abCase{{1, 0, 0}, {-0.5, 1, 3}, {1.5, -2, 1}}
	r := rand.New(rand.NewPCG(5, 5))
	for _, g := range gemmImpls() {
		t.Run(g.name, func(t *testing.T) {
			withGemm(g, func() {
				for si, sh := range planShapes {
					m, n, k := sh[0], sh[1], sh[2]
					big := m*n*k > 1<<20
					if raceEnabled && m*n*k > 1<<16 {
						continue
					}
					for ti, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
						for ai, ab := range abs {
							if big && ai != (si+ti)%len(abs) {
								continue // one variant per transpose is enough for large products
							}
							checkPlanCase(t, r, allGemmKernels, []int{1, 2, 3}, tr[0], tr[1], m, n, k, ab)
						}
					}
				}
			})
		})
	}
}

// checkPlanCase runs one product through SgemmPlan with each of kernels
// and thread counts, with and without ReLU, and compares each result with
// naiveGemm.
func checkPlanCase(t *testing.T, r *rand.Rand, kernels []GemmKernel, threadCounts []int, transA, transB bool, m, n, k int, ab abCase) {
	t.Helper()
	aRows, aCols := m, k
	if transA {
		aRows, aCols = k, m
	}
	bRows, bCols := k, n
	if transB {
		bRows, bCols = n, k
	}
	lda, ldb, ldc := aCols+ab.pad, bCols+ab.pad, n+ab.pad
	a := randSlice(r, (aRows-1)*lda+aCols)
	b := randSlice(r, (bRows-1)*ldb+bCols)
	c0 := randSlice(r, m*ldc)
	if ab.beta == 0 {
		for i := range c0 {
			c0[i] = float32(math.NaN())
		}
	}
	want := naiveGemm(transA, transB, m, n, k, ab.alpha, a, lda, b, ldb, ab.beta, c0, ldc)
	tol := 1e-5 * float64(k+4) * (math.Abs(float64(ab.alpha)) + math.Abs(float64(ab.beta)) + 1)
	c := make([]float32, len(c0))
	for _, kern := range kernels {
		for _, threads := range threadCounts {
			for _, relu := range []bool{false, true} {
				plan := GemmPlan{Kernel: kern, Threads: threads, Relu: relu}
				copy(c, c0)
				SgemmPlan(plan, transA, transB, m, n, k, ab.alpha, a, lda, b, ldb, ab.beta, c, ldc)
				for i := 0; i < m; i++ {
					for j := 0; j < ldc; j++ {
						got := c[i*ldc+j]
						if j >= n {
							if math.Float32bits(got) != math.Float32bits(c0[i*ldc+j]) {
								t.Fatalf("%+v tA=%v tB=%v %d×%d×%d %+v: padding C[%d,%d] modified", plan, transA, transB, m, n, k, ab, i, j)
							}
							continue
						}
						w := want[i*n+j]
						if relu {
							w = max(w, 0)
							if math.IsNaN(float64(got)) || math.Signbit(float64(got)) {
								t.Fatalf("%+v tA=%v tB=%v %d×%d×%d %+v: C[%d,%d] = %g after ReLU", plan, transA, transB, m, n, k, ab, i, j, got)
							}
						}
						if math.Abs(float64(got)-w) > tol {
							t.Fatalf("%+v tA=%v tB=%v %d×%d×%d %+v: C[%d,%d] = %g, want %g (tol %g)", plan, transA, transB, m, n, k, ab, i, j, got, w, tol)
						}
					}
				}
			}
		}
	}
}

// TestSgemmAutoRelu checks ReLU with Sgemm's own dispatch (GemmAuto,
// Threads 0) on products large enough for its parallel paths: rows sharing
// packed panels, and column bands.
func TestSgemmAutoRelu(t *testing.T) {
	if raceEnabled {
		t.Skip("large products")
	}
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(max(2, goruntime.GOMAXPROCS(0))))
	r := rand.New(rand.NewPCG(6, 6))
	for _, g := range gemmImpls() {
		withGemm(g, func() {
			for _, sh := range [][3]int{{240, 260, 200}, {120, 500, 200}, {30, 1200, 320}} {
				require.GreaterOrEqual(t, sh[0]*sh[1]*sh[2], g.parallelMin)
				checkPlanCase(t, r, []GemmKernel{GemmAuto}, []int{0}, false, false, sh[0], sh[1], sh[2], abCase{1, 0, 0})
				checkPlanCase(t, r, []GemmKernel{GemmAuto}, []int{0}, true, true, sh[0], sh[1], sh[2], abCase{-0.5, 1, 2})
			}
		})
	}
}

// TestSgemmPlanReluSpecialValues checks that the fused ReLU maps NaN and
// -Inf results to +0 and keeps +Inf, like Relu, in every kernel, and
// that it applies to the final sum including beta*C.
func TestSgemmPlanReluSpecialValues(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, g := range gemmImpls() {
		withGemm(g, func() {
			for _, kern := range allGemmKernels {
				for _, threads := range []int{1, 2} {
					// Column j of C is A's row i · column j of B. Row 0 of A
					// holds a NaN, row 1 huge values, rows 2 and 3 ones.
					const m, n, k = 4, 3, 2
					a := []float32{nan, 1, 3e38, 3e38, 1, 1, 1, 1}
					b := []float32{
						1, -1, 0,
						1, -1, 0,
					}
					c := []float32{
						0, 0, 0,
						0, 0, 0,
						-3, 1, 5,
						0, 0, -1,
					}
					SgemmPlan(GemmPlan{Kernel: kern, Threads: threads, Relu: true}, false, false, m, n, k, -1, a, k, b, n, 1, c, n)
					// Row 0: NaN everywhere (NaN*0 too). Row 1: -Inf, +Inf, -0.
					// Row 2: -2-3, 2+1, -0+5. Row 3: -2, 2, -0-1.
					want := []float32{0, 0, 0, 0, inf, 0, 0, 3, 5, 0, 2, 0}
					for i := range want {
						require.Equal(t, math.Float32bits(want[i]), math.Float32bits(c[i]), "%v threads=%d: C[%d] = %g, want %g", kern, threads, i, c[i], want[i])
					}
				}
			}
		})
	}
}

func TestSgemmPlanDegenerate(t *testing.T) {
	t.Run("k=0 scales C then rectifies", func(t *testing.T) {
		c := []float32{-1, 2, float32(math.NaN()), 4}
		SgemmPlan(GemmPlan{Kernel: GemmPacked, Relu: true}, false, false, 2, 2, 0, 1, nil, 1, nil, 2, 2, c, 2)
		require.Equal(t, []float32{0, 4, 0, 8}, c)
	})
	t.Run("alpha=0 beta=0 clears C", func(t *testing.T) {
		nan := float32(math.NaN())
		c := []float32{nan, nan}
		SgemmPlan(GemmPlan{Relu: true}, false, false, 1, 2, 1, 0, []float32{nan}, 1, []float32{nan, nan}, 2, 0, c, 2)
		require.Equal(t, []float32{0, 0}, c)
	})
	t.Run("bad arguments panic as in Sgemm", func(t *testing.T) {
		require.PanicsWithValue(t, "runtime.Sgemm: C has 3 elements, a 2×2 matrix with stride 2 needs 4", func() {
			SgemmPlan(GemmPlan{Kernel: GemmDirect, Threads: 2}, false, false, 2, 2, 3, 1, make([]float32, 6), 3, make([]float32, 6), 2, 0, make([]float32, 3), 2)
		})
	})
}

func TestPlanWorkers(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(4))
	require.Equal(t, 1, planWorkers(0, 10))
	require.Equal(t, 1, planWorkers(1, 10))
	require.Equal(t, 3, planWorkers(3, 10))
	require.Equal(t, 4, planWorkers(8, 10))
	require.Equal(t, 2, planWorkers(8, 2))
	require.Equal(t, 1, planWorkers(8, 0))
	g := gemmGeneric
	require.Equal(t, 2, g.planTileWorkers(4, true, 3, 1000))  // two 2-row tiles
	require.Equal(t, 1, g.planTileWorkers(4, false, 1000, 3)) // one 4-column tile
}

// planAllocShapes are products each kernel computes itself (not by
// fallback) on the assembly implementation, with both split directions
// for the packed one.
var planAllocShapes = []struct {
	kern           GemmKernel
	transA, transB bool
	m, n, k        int
}{
	{GemmAuto, false, false, 64, 512, 784},
	{GemmRows, false, false, 3, 300, 600},
	{GemmRows, false, true, 3, 300, 600},
	{GemmSmall, false, false, 5, 6, 7},
	{GemmNarrow, false, false, 100, 10, 784},
	{GemmDirect, false, false, 64, 512, 200},
	{GemmDirect, true, false, 300, 20, 100},
	{GemmPacked, false, false, 200, 150, 100},
	{GemmPacked, false, true, 50, 300, 100},
}

// TestSgemmPlanNoAlloc checks that every kernel, on one and two
// goroutines, with and without ReLU, allocates nothing per call once
// warm.
func TestSgemmPlanNoAlloc(t *testing.T) {
	skipIfRace(t)
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(max(2, goruntime.GOMAXPROCS(0))))
	for _, g := range gemmImpls() {
		withGemm(g, func() {
			for _, s := range planAllocShapes {
				lda, ldb := s.k, s.n
				if s.transA {
					lda = s.m
				}
				if s.transB {
					ldb = s.k
				}
				a, b, c := make([]float32, s.m*s.k), make([]float32, s.k*s.n), make([]float32, s.m*s.n)
				for _, threads := range []int{1, 2} {
					for _, relu := range []bool{false, true} {
						plan := GemmPlan{Kernel: s.kern, Threads: threads, Relu: relu}
						f := func() { SgemmPlan(plan, s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0.5, c, s.n) }
						f()
						require.Zero(t, testing.AllocsPerRun(10, f), "%s %+v %+v", g.name, plan, s)
					}
				}
			}
		})
	}
}

// BenchmarkSgemmRelu compares ReLU fused into the GEMM's writes of C
// (SgemmPlan with Relu) with Sgemm followed by a separate pass over C
// (scalar, as generated element-wise code does it, and vectorized), for
// the first layer of the MLP at batch 64 and at batch 1, with Sgemm's own
// dispatch and on one goroutine.
func BenchmarkSgemmRelu(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, m := range []int{64, 1} {
		const n, k = 512, 784
		x, w, y := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
		for _, threads := range []int{0, 1} {
			plan := GemmPlan{Threads: threads}
			name := fmt.Sprintf("%dx%dx%d/threads=%d", m, k, n, threads)
			b.Run(name+"/none", func(b *testing.B) {
				for b.Loop() {
					SgemmPlan(plan, false, false, m, n, k, 1, x, k, w, n, 0, y, n)
				}
			})
			// A separate pass as generated element-wise code writes it.
			b.Run(name+"/separate", func(b *testing.B) {
				for b.Loop() {
					SgemmPlan(plan, false, false, m, n, k, 1, x, k, w, n, 0, y, n)
					for i, v := range y {
						y[i] = Relu(v)
					}
				}
			})
			// A separate pass with the fused epilogue's row ReLU.
			b.Run(name+"/separate-vec", func(b *testing.B) {
				for b.Loop() {
					SgemmPlan(plan, false, false, m, n, k, 1, x, k, w, n, 0, y, n)
					reluInPlace(y)
				}
			})
			fused := plan
			fused.Relu = true
			b.Run(name+"/fused", func(b *testing.B) {
				for b.Loop() {
					SgemmPlan(fused, false, false, m, n, k, 1, x, k, w, n, 0, y, n)
				}
			})
		}
	}
}

// TestReluInPlace checks the ReLU of the fused epilogue over a row and
// over a strided block, vector or not, against Relu, bit for bit, over
// lengths that leave every tail, with NaN, ±0, ±Inf and subnormal values.
func TestReluInPlace(t *testing.T) {
	special := []float32{
		float32(math.NaN()), float32(math.Copysign(0, -1)), 0, float32(math.Inf(1)), float32(math.Inf(-1)),
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 1.5, -2.5, math.MaxFloat32, -math.MaxFloat32,
	}
	for n := 0; n <= 75; n++ {
		buf := make([]float32, n+2)
		for i := range buf {
			buf[i] = special[(i*7+n)%len(special)]
		}
		orig := append([]float32(nil), buf...)
		reluInPlace(buf[1 : n+1])
		for i, v := range buf {
			want := orig[i]
			if i >= 1 && i <= n {
				want = Relu(want)
			}
			require.Equal(t, math.Float32bits(want), math.Float32bits(v), "n=%d element %d", n, i)
		}
	}
	// A block of a strided matrix: rows×cols at (1, 2), row stride 41.
	for _, rows := range []int{1, 2, 5} {
		for _, cols := range []int{1, 7, 8, 9, 16, 33, 38} {
			const ld = 41
			buf := make([]float32, (rows+2)*ld)
			for i := range buf {
				buf[i] = special[(i*5+cols)%len(special)]
			}
			orig := append([]float32(nil), buf...)
			reluTile(rows, cols, buf[ld+2:], ld)
			for i, v := range buf {
				want := orig[i]
				if r, c := i/ld, i%ld; r >= 1 && r <= rows && c >= 2 && c < 2+cols {
					want = Relu(want)
				}
				require.Equal(t, math.Float32bits(want), math.Float32bits(v), "%d×%d element %d", rows, cols, i)
			}
		}
	}
}
