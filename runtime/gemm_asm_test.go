package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// gemmImpls returns the implementations available on this machine: the
// portable one always, and each of the architecture's assembly ones the
// CPU supports (AVX-512 and AVX2 on amd64), whatever FLOW_KERNELS says.
func gemmImpls() []*gemmImpl {
	return append([]*gemmImpl{gemmGeneric}, gemmArchImpls...)
}

// withGemm runs f with Sgemm using implementation g.
func withGemm(g *gemmImpl, f func()) {
	defer func(old *gemmImpl) { gemmActive = old }(gemmActive)
	gemmActive = g
	f()
}

func TestSelectGemm(t *testing.T) {
	require.Same(t, selectGemm(os.Getenv("FLOW_KERNELS")), gemmActive)
	require.Same(t, gemmGeneric, selectGemm("generic"))
	if gemmArch != nil {
		require.Same(t, gemmArch, selectGemm(""))
		require.Same(t, gemmArch, selectGemm("asm"))
		require.Same(t, gemmArchImpls[0], gemmArch)
	} else {
		require.Same(t, gemmGeneric, selectGemm(""))
		require.Same(t, gemmGeneric, selectGemm("avx2"))
	}
	for _, g := range gemmArchImpls {
		require.Same(t, g, selectGemm(g.name))
	}
	t.Logf("implementations on this CPU: %v; active: %s", implNames(gemmImpls()), gemmActive.name)
}

// TestSelectGemmByCPU checks that each assembly implementation is present
// exactly when the CPU (and OS) support it, and that asking for one the
// CPU lacks falls back to the fastest it has.
func TestSelectGemmByCPU(t *testing.T) {
	names := implNames(gemmArchImpls)
	if goruntime.GOARCH != "amd64" {
		require.Empty(t, names)
		return
	}
	avx2, avx512 := cpuHasAVX2(), cpuHasAVX512()
	want := []string{}
	if avx512 {
		want = append(want, "avx512")
	}
	if avx2 {
		want = append(want, "avx2")
	}
	require.Equal(t, want, names)
	if !avx512 {
		require.Same(t, selectGemm(""), selectGemm("avx512"))
	}
}

func implNames(impls []*gemmImpl) []string {
	names := []string{}
	for _, g := range impls {
		names = append(names, g.name)
	}
	return names
}

// implCase is one product checked by TestSgemmImplsAgainstReference.
type implCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	pad            int
}

func (tc implCase) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,m=%d,n=%d,k=%d,alpha=%g,beta=%g,pad=%d", tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.pad)
}

// check runs tc through Sgemm with every implementation and compares each
// result with the float64 reference naiveGemm and with each other, within
// a bound proportional to k*max|a|*max|b|*eps (plus the beta*C term).
func (tc implCase) check(t *testing.T, r *rand.Rand) {
	t.Helper()
	aRows, aCols := tc.m, tc.k
	if tc.transA {
		aRows, aCols = tc.k, tc.m
	}
	bRows, bCols := tc.k, tc.n
	if tc.transB {
		bRows, bCols = tc.n, tc.k
	}
	lda, ldb, ldc := max(1, aCols+tc.pad), max(1, bCols+tc.pad), max(1, tc.n+tc.pad)
	// Scales other than 1 make the tolerance's dependence on max|a|, max|b| matter.
	a := scaled(randSlice(r, aRows*lda), 3)
	b := scaled(randSlice(r, bRows*ldb), 0.5)
	c0 := randSlice(r, tc.m*ldc)
	if tc.beta == 0 {
		for i := range c0 {
			c0[i] = float32(math.NaN())
		}
	}
	want := naiveGemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c0, ldc)
	const eps = 0x1p-23
	tol := eps * (4*float64(tc.k+1)*maxAbs(a)*maxAbs(b)*math.Abs(float64(tc.alpha)) + 2*math.Abs(float64(tc.beta)))
	var results [][]float32
	for _, g := range gemmImpls() {
		c := append([]float32(nil), c0...)
		withGemm(g, func() {
			Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
		})
		for i := 0; i < tc.m; i++ {
			for j := 0; j < ldc; j++ {
				got, old := c[i*ldc+j], c0[i*ldc+j]
				if j >= tc.n {
					if got != old && !(math.IsNaN(float64(got)) && math.IsNaN(float64(old))) {
						t.Fatalf("%s %v: padding C[%d,%d] changed from %g to %g", g.name, tc, i, j, old, got)
					}
					continue
				}
				if w := want[i*tc.n+j]; !(math.Abs(float64(got)-w) <= tol) {
					t.Fatalf("%s %v: C[%d,%d] = %g, want %g (tol %g)", g.name, tc, i, j, got, w, tol)
				}
			}
		}
		results = append(results, c)
	}
	for _, c := range results[1:] {
		for i := range c {
			if d := math.Abs(float64(c[i]) - float64(results[0][i])); d > 2*tol {
				t.Fatalf("%v: implementations differ at %d: %g vs %g", tc, i, results[0][i], c[i])
			}
		}
	}
}

func scaled(s []float32, f float32) []float32 {
	for i := range s {
		s[i] *= f
	}
	return s
}

func maxAbs(s []float32) float64 {
	var m float64
	for _, v := range s {
		m = max(m, math.Abs(float64(v)))
	}
	return m
}

// TestSgemmImplsAgainstReference compares the assembly and portable
// implementations with a float64 triple loop over sampled shapes: sizes
// around the 6×16 and 2×4 tiles and the cache blocks, every transpose
// combination, alpha and beta in {0, 1, -0.5, 2} (beta = 0 with NaN in C),
// and leading dimensions larger than needed.
func TestSgemmImplsAgainstReference(t *testing.T) {
	dims := []int{1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 64, 100, 129, 257}
	scalars := []float32{0, 1, -0.5, 2}
	r := rand.New(rand.NewPCG(4, 4))
	trials := 400
	if testing.Short() {
		trials = 100
	}
	for range trials {
		tc := implCase{
			transA: r.IntN(2) == 1, transB: r.IntN(2) == 1,
			m: dims[r.IntN(len(dims))], n: dims[r.IntN(len(dims))], k: dims[r.IntN(len(dims))],
			alpha: scalars[r.IntN(len(scalars))], beta: scalars[r.IntN(len(scalars))],
			pad: r.IntN(2) * (1 + r.IntN(5)),
		}
		tc.check(t, r)
	}
	// Every transpose combination for the few-rows path (m <= 4), wide and
	// narrow, with k not a multiple of 4, 8 or 16.
	for m := 1; m <= 5; m++ {
		for _, nk := range [][2]int{{1, 1}, {7, 9}, {33, 70}, {517, 301}, {40, 785}} {
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					implCase{transA: tA, transB: tB, m: m, n: nk[0], k: nk[1], alpha: -0.5, beta: 2, pad: 3}.check(t, r)
					implCase{transA: tA, transB: tB, m: m, n: nk[0], k: nk[1], alpha: 1, beta: 0}.check(t, r)
				}
			}
		}
	}
	// A few large products: several k and m blocks, parallel bands.
	large := []implCase{
		{m: 600, n: 300, k: 517, alpha: 1, beta: 0, pad: 2},
		{transA: true, m: 301, n: 599, k: 300, alpha: -0.5, beta: 1},
		{transB: true, m: 450, n: 451, k: 333, alpha: 2, beta: -0.5, pad: 1},
		{transA: true, transB: true, m: 317, n: 402, k: 555, alpha: 1, beta: 2, pad: 5},
		{m: 1, n: 512, k: 784, alpha: 1, beta: 0},
		{transB: true, m: 3, n: 600, k: 513, alpha: 1, beta: 1},
		// Few rows, big enough to be split across goroutines.
		{m: 1, n: 1030, k: 2100, alpha: 1, beta: 0, pad: 1},
		{m: 3, n: 700, k: 1100, alpha: -0.5, beta: 2},
		{transA: true, transB: true, m: 2, n: 1100, k: 1000, alpha: 2, beta: 1, pad: 3},
	}
	for _, tc := range large {
		tc.check(t, r)
	}
}

// TestSgemmImplsKernelEdges drives each implementation's packed path
// directly (no few-rows or plain-loop shortcut) at shapes around its tile.
func TestSgemmImplsKernelEdges(t *testing.T) {
	for _, g := range gemmImpls() {
		for _, m := range []int{1, g.mr - 1, g.mr, g.mr + 1, 2*g.mr + 1} {
			for _, n := range []int{1, g.nr - 1, g.nr, g.nr + 1, 3*g.nr + 5} {
				for _, k := range []int{1, 3, 4, 5, g.kc + 3} {
					if m < 1 || n < 1 {
						continue
					}
					for _, tA := range []bool{false, true} {
						for _, tB := range []bool{false, true} {
							tc := gemmCase{transA: tA, transB: tB, m: m, n: n, k: k, alpha: 1.5, beta: -0.5, pad: 2}
							withGemm(g, func() { tc.run(t, sgemmBlocked) })
							tc.beta = 0
							withGemm(g, func() { tc.run(t, sgemmBlocked) })
						}
					}
				}
			}
		}
	}
}

// TestSgemmDirectPaths checks the paths that read an operand where it is
// stored (kernelS: B not transposed, transposed A) and the narrow-n dot
// products against the float64 reference, with the choice between them
// and packing forced each way: the defaults, every product that can use
// them doing so (also with many rows, several k blocks and wide B), and
// none. Shapes leave partial row slivers, partial and narrow column
// slivers, k not a multiple of 4 and k beyond one kc block; every
// transpose, alpha and beta (beta = 0 with NaN in C) and padded strides.
func TestSgemmDirectPaths(t *testing.T) {
	if len(gemmArchImpls) == 0 {
		t.Skip("no strided kernel on this machine")
	}
	configs := []struct {
		name string
		set  func(g *gemmImpl)
	}{
		{"default", func(*gemmImpl) {}},
		{"always", func(g *gemmImpl) { g.directBMaxRows, g.directAMaxCols, g.narrowMaxCols = 1<<30, 1<<30, 1<<30 }},
		{"direct-only", func(g *gemmImpl) { g.directBMaxRows, g.directAMaxCols, g.narrow = 1<<30, 1<<30, nil }},
		{"never", func(g *gemmImpl) { g.kernelS, g.narrow = nil, nil }},
	}
	shapes := [][3]int{
		{5, 7, 3}, {6, 16, 4}, {7, 17, 5}, {13, 10, 9}, {31, 33, 300},
		{100, 10, 785}, {64, 1, 513}, {150, 12, 260}, {200, 47, 31}, {17, 200, 600},
	}
	r := rand.New(rand.NewPCG(9, 9))
	for _, cfg := range configs {
		t.Run(cfg.name, func(t *testing.T) {
			// Every assembly implementation configured so; check compares
			// them all with the reference and with the portable one.
			for _, g := range gemmArchImpls {
				defer func(saved gemmImpl) { *g = saved }(*g)
				cfg.set(g)
			}
			for _, sh := range shapes {
				for _, tA := range []bool{false, true} {
					for _, tB := range []bool{false, true} {
						implCase{transA: tA, transB: tB, m: sh[0], n: sh[1], k: sh[2], alpha: -0.5, beta: 2, pad: 3}.check(t, r)
						implCase{transA: tA, transB: tB, m: sh[0], n: sh[1], k: sh[2], alpha: 1, beta: 0}.check(t, r)
						implCase{transA: tA, transB: tB, m: sh[0], n: sh[1], k: sh[2], alpha: 2, beta: 1, pad: 1}.check(t, r)
					}
				}
			}
		})
	}
}

// TestSgemmParallelRows drives the shared-panel parallel GEMM directly with
// two and three goroutines' worth of work items, over shapes that leave
// partial row blocks, partial B sliver groups and several k blocks.
func TestSgemmParallelRows(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(max(3, goruntime.GOMAXPROCS(0))))
	for _, g := range gemmImpls() {
		for _, workers := range []int{2, 3} {
			rows := func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
				g.parallelRows(workers, false, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
			}
			for _, shape := range [][3]int{{1, 1, 1}, {7, 5, 3}, {37, 29, 300}, {145, 131, 17}, {300, 17, 600}, {1100, 1030, 9}, {200, 3100, 5}} {
				for _, tA := range []bool{false, true} {
					for _, tB := range []bool{false, true} {
						gemmCase{transA: tA, transB: tB, m: shape[0], n: shape[1], k: shape[2], alpha: -0.5, beta: 2, pad: 3}.run(t, rows)
						gemmCase{transA: tA, transB: tB, m: shape[0], n: shape[1], k: shape[2], alpha: 1, beta: 0}.run(t, rows)
					}
				}
			}
		}
	}
}

// BenchmarkSgemmKernels reports GFLOP/s of square products for each
// implementation on one and two threads, and of the batch-1 MLP layer
// 1×784 · 784×512. Compare impl=avx2 with impl=generic to see what the
// assembly buys (FLOW_KERNELS=generic selects the latter in programs).
func BenchmarkSgemmKernels(b *testing.B) {
	for _, g := range gemmImpls() {
		for _, threads := range []int{1, 2} {
			for _, n := range []int{64, 128, 256, 512, 1024} {
				b.Run(fmt.Sprintf("impl=%s/threads=%d/n=%d", g.name, threads, n), func(b *testing.B) {
					defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(threads))
					withGemm(g, func() { benchmarkGemmShape(b, false, false, n, n, n) })
				})
			}
			for _, tB := range []bool{false, true} {
				b.Run(fmt.Sprintf("impl=%s/threads=%d/m=1,k=784,n=512,transB=%v", g.name, threads, tB), func(b *testing.B) {
					defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(threads))
					withGemm(g, func() { benchmarkGemmShape(b, false, tB, 1, 512, 784) })
				})
			}
		}
	}
}

// BenchmarkSgemmMLPPredict times the three layers of a batch-1 784-512-512-10
// MLP forward pass (the products only).
func BenchmarkSgemmMLPPredict(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	x := randSlice(r, 784)
	w1, w2, w3 := randSlice(r, 784*512), randSlice(r, 512*512), randSlice(r, 512*10)
	h1, h2, y := make([]float32, 512), make([]float32, 512), make([]float32, 10)
	for _, g := range gemmImpls() {
		b.Run("impl="+g.name, func(b *testing.B) {
			withGemm(g, func() {
				for b.Loop() {
					Sgemm(false, false, 1, 512, 784, 1, x, 784, w1, 512, 0, h1, 512)
					Sgemm(false, false, 1, 512, 512, 1, h1, 512, w2, 512, 0, h2, 512)
					Sgemm(false, false, 1, 10, 512, 1, h2, 512, w3, 10, 0, y, 10)
				}
			})
		})
	}
}

func benchmarkGemmShape(b *testing.B, transA, transB bool, m, n, k int) {
	r := rand.New(rand.NewPCG(1, 1))
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	x, y, z := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
	for b.Loop() {
		Sgemm(transA, transB, m, n, k, 1, x, lda, y, ldb, 0, z, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemmModelShapes times the medium and skinny products of the
// example models: the MLP 784-512-512-10 at batch 64 (forward, and the
// weight and input gradients of its first layer) and softmax regression on
// MNIST at batch 100 (forward and weight gradient).
func BenchmarkSgemmModelShapes(b *testing.B) {
	shapes := []gemmShape{
		{"mlp1", false, false, 64, 512, 784},
		{"mlp2", false, false, 64, 512, 512},
		{"mlp3", false, false, 64, 10, 512},
		{"mlp1dW", true, false, 784, 512, 64},
		{"mlp2dX", false, true, 64, 512, 512},
		{"mlp3dW", true, false, 512, 10, 64},
		{"softmax", false, false, 100, 10, 784},
		{"softmaxdW", true, false, 784, 10, 100},
	}
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) { benchmarkGemmShape(b, s.transA, s.transB, s.m, s.n, s.k) })
		if gemmArch != nil && (!s.transB && s.m <= gemmArch.directBMaxRows || s.transA && s.n <= gemmArch.directAMaxCols || !s.transA && s.n <= gemmArch.narrowMaxCols) {
			// The same product with both operands packed, for comparison.
			b.Run(s.name+"/packed", func(b *testing.B) {
				defer func(g gemmImpl) { *gemmArch = g }(*gemmArch)
				gemmArch.kernelS, gemmArch.narrow = nil, nil
				benchmarkGemmShape(b, s.transA, s.transB, s.m, s.n, s.k)
			})
		}
	}
}

// TestSgemmModelShapesNoAlloc checks that the products of the example
// models (direct, narrow and parallel paths) allocate nothing per call
// once warm.
func TestSgemmModelShapesNoAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop objects")
	}
	for _, s := range []struct {
		transA, transB bool
		m, n, k        int
	}{
		{false, false, 64, 512, 784}, {true, false, 784, 512, 64}, {false, true, 64, 784, 512},
		{false, false, 100, 10, 784}, {true, false, 784, 10, 100}, {false, true, 100, 10, 784},
	} {
		lda, ldb := s.k, s.n
		if s.transA {
			lda = s.m
		}
		if s.transB {
			ldb = s.k
		}
		a, b, c := make([]float32, s.m*s.k), make([]float32, s.k*s.n), make([]float32, s.m*s.n)
		f := func() { Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n) }
		f()
		require.Zero(t, testing.AllocsPerRun(20, f), "%+v", s)
	}
}

// gemmShape is a product benchmarked by name.
type gemmShape struct {
	name           string
	transA, transB bool
	m, n, k        int
}

// implBenchShapes are the products of BenchmarkSgemmImpls and
// TestSgemmImplsInterleaved.
var implBenchShapes = []gemmShape{
	{"lstm", false, false, 64, 512, 128},
	{"lstmdX", false, true, 64, 128, 512},
	{"lstmdW", true, false, 128, 512, 64},
	{"sq512", false, false, 512, 512, 512},
	{"sq1024", false, false, 1024, 1024, 1024},
}

// BenchmarkSgemmImpls reports GFLOP/s of each implementation, side by side,
// on the LSTM's products (batch 64, hidden 128, four gates: the forward
// 64×128 · 128×512, the input gradient 64×512 · (128×512)ᵀ and the weight
// gradient (64×128)ᵀ · 64×512) and on 512² and 1024² squares, on one
// goroutine (GOMAXPROCS 1) and with Sgemm's own split. Compare
// impl=avx512 with impl=avx2 within one run: the machine is noisy.
func BenchmarkSgemmImpls(b *testing.B) {
	for _, s := range implBenchShapes {
		for _, threads := range []int{1, 2} {
			for _, g := range gemmImpls() {
				if g == gemmGeneric && s.m*s.n*s.k > 1<<24 {
					continue
				}
				b.Run(fmt.Sprintf("shape=%s/threads=%d/impl=%s", s.name, threads, g.name), func(b *testing.B) {
					defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(threads))
					withGemm(g, func() { benchmarkGemmShape(b, s.transA, s.transB, s.m, s.n, s.k) })
				})
			}
		}
	}
}

// TestSgemmImplsInterleaved measures the implementations against each
// other on the shapes of BenchmarkSgemmImpls on one goroutine, taking
// turns call by call so that load from other programs on a shared machine
// hits them alike: for each shape it logs each implementation's median
// and best GFLOP/s over the rounds, and its median time relative to the
// first assembly implementation's. It only runs with FLOW_GEMM_INTERLEAVED
// set (to the number of rounds).
func TestSgemmImplsInterleaved(t *testing.T) {
	rounds, _ := strconv.Atoi(os.Getenv("FLOW_GEMM_INTERLEAVED"))
	if rounds <= 0 || len(gemmArchImpls) == 0 {
		t.Skip("set FLOW_GEMM_INTERLEAVED to the number of rounds")
	}
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(1))
	impls := gemmArchImpls
	if g := gemmArchImpls[0]; os.Getenv("FLOW_GEMM_KC") != "" {
		// An extra variant of the fastest implementation, for tuning kc.
		kc, _ := strconv.Atoi(os.Getenv("FLOW_GEMM_KC"))
		v := *g
		v.name, v.kc = fmt.Sprintf("%s-kc%d", g.name, kc), kc
		impls = append(impls, &v)
	}
	for _, s := range implBenchShapes {
		r := rand.New(rand.NewPCG(1, 1))
		lda, ldb := s.k, s.n
		if s.transA {
			lda = s.m
		}
		if s.transB {
			ldb = s.k
		}
		a, b, c := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), make([]float32, s.m*s.n)
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		reps := max(1, int(2e7/flops)) // about 0.2 ms per turn
		times := make([][]float64, len(impls))
		for round := 0; round < rounds; round++ {
			for i, g := range impls {
				withGemm(g, func() {
					start := time.Now()
					for range reps {
						SgemmPlan(GemmPlan{Threads: 1}, s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n)
					}
					times[i] = append(times[i], time.Since(start).Seconds()/float64(reps))
				})
			}
		}
		var line strings.Builder
		fmt.Fprintf(&line, "%-7s", s.name)
		var ref float64
		for i, g := range impls {
			slices.Sort(times[i])
			med := times[i][len(times[i])/2]
			if i == 0 {
				ref = med
			}
			fmt.Fprintf(&line, "  %s median %.1f best %.1f GFLOP/s (×%.2f)", g.name, flops/med/1e9, flops/times[i][0]/1e9, ref/med)
		}
		t.Log(line.String())
	}
}
