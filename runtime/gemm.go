package runtime

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
)

// gemmParallelMin is the smallest m*n*k that Sgemm splits across goroutines
// with the portable kernel; smaller products run on the calling goroutine
// with no goroutine overhead. On a 2-core machine splitting only started to
// pay off around 128³. Faster kernels set their own threshold
// (gemmImpl.parallelMin).
const gemmParallelMin = 128 * 128 * 128

// gemmRowsMax is the largest m that Sgemm computes row by row without
// packing (gemmImpl.rows, or sgemmRows when B is not transposed), e.g. as
// alpha*a[i,:]*B accumulated with contiguous sweeps over the rows of B: for
// a few rows (inference on a small batch) packing B would cost more than
// the whole product.
const gemmRowsMax = 4

// gemmSmallMax is the largest m*n*k that Sgemm computes with plain loops
// instead of packing, where packing would cost more than it saves.
const gemmSmallMax = 12 * 12 * 12

// Sgemm computes C = alpha*op(A)*op(B) + beta*C on row-major float32
// matrices, with BLAS semantics: op(A) is m×k and op(B) is k×n, C is m×n.
// If transA is false, A is stored m×k with row stride lda (lda >= k);
// otherwise A is stored k×m (lda >= m) and op(A) is its transpose. Likewise B
// is stored k×n (ldb >= n) or, when transB, n×k (ldb >= k). C has row stride
// ldc >= n. When beta is zero C is not read, so it may hold garbage such as
// NaN; when alpha is zero or k is zero, A and B are not read.
//
// Sgemm picks its algorithm and its number of goroutines by thresholds on
// the shape (see gemmImpl.auto): a few rows of C are computed row by row,
// tiny products with plain loops, and larger ones cache-blocked, packed
// into scratch buffers reused across calls (an operand that would be used
// too little to repay the copy is read where it is), and split across
// GOMAXPROCS goroutines. It is SgemmPlan with the zero GemmPlan; code that
// knows better (the compiler's cost model) calls SgemmPlan to choose the
// kernel and the split itself, and to fuse a ReLU. On amd64 CPUs with
// AVX-512F (8×32 tiles), or else AVX2 and FMA (6×16 tiles), the inner
// kernels are hand-written assembly; elsewhere, or when the environment
// variable FLOW_KERNELS is "generic", they are portable Go.
// FLOW_KERNELS=avx2 forces the AVX2 kernels on a CPU with AVX-512.
//
// Sgemm panics with a descriptive message if a dimension is negative, a
// leading dimension is too small, or a slice is too short for the shape it
// is said to hold; these are programming errors in the caller.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	SgemmPlan(GemmPlan{}, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// auto is Sgemm's own dispatch: the kernel autoKernel picks, split across
// goroutines once the product reaches g.parallelMin multiply-adds (the
// few-rows kernel decides its own split). With relu, the result is
// rectified as in SgemmPlan.
// Preconditions: m, n, k > 0, alpha != 0, arguments checked.
func (g *gemmImpl) auto(relu, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	kern, directA, directB := g.autoKernel(transA, transB, m, n, k)
	switch {
	case kern == GemmRows:
		g.runRows(0, relu, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	case kern == GemmSmall:
		sgemmSmall(relu, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	case m*n*k < g.parallelMin:
		g.run(kern, directA, directB, 1, relu, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	default:
		g.parallel(relu, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}

// autoKernel is the kernel Sgemm's thresholds pick for a product run on one
// goroutine, with, for GemmDirect, the operands read where they are stored:
// the few-rows kernel for m <= gemmRowsMax (when g has one for this
// product), plain loops up to gemmSmallMax multiply-adds, otherwise what
// blockedKernel picks.
func (g *gemmImpl) autoKernel(transA, transB bool, m, n, k int) (kern GemmKernel, directA, directB bool) {
	switch {
	case m <= gemmRowsMax && (g.rows != nil || !transB):
		return GemmRows, false, false
	case m*n*k <= gemmSmallMax:
		return GemmSmall, false, false
	}
	return g.blockedKernel(transA, transB, m, n)
}

// blockedKernel is the kernel of g's packed GEMM for a product too large
// for plain loops: the narrow-n dot products when op(A) is not transposed
// and n <= g.narrowMaxCols (a 6×16 tile would be mostly empty and packing
// A would cost more than the product), the strided kernel when an operand
// would be used too little to repay packing it (B not transposed and m <=
// g.directBMaxRows, or A transposed and n <= g.directAMaxCols), otherwise
// the packed kernel.
func (g *gemmImpl) blockedKernel(transA, transB bool, m, n int) (kern GemmKernel, directA, directB bool) {
	if g.narrow != nil && !transA && n <= g.narrowMaxCols {
		return GemmNarrow, false, false
	}
	if g.kernelS != nil {
		directA = transA && n <= g.directAMaxCols && n <= g.nc
		directB = !transB && m <= g.directBMaxRows
		if directA || directB {
			return GemmDirect, directA, directB
		}
	}
	return GemmPacked, false, false
}

// checkGemmArgs panics if the arguments of Sgemm do not describe valid
// matrices.
func checkGemmArgs(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("runtime.Sgemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	aRows, aCols := m, k
	if transA {
		aRows, aCols = k, m
	}
	bRows, bCols := k, n
	if transB {
		bRows, bCols = n, k
	}
	checkMatrix("A", aRows, aCols, a, lda)
	checkMatrix("B", bRows, bCols, b, ldb)
	checkMatrix("C", m, n, c, ldc)
}

// checkMatrix panics unless s can hold a rows×cols row-major matrix with
// row stride ld.
func checkMatrix(name string, rows, cols int, s []float32, ld int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("runtime.Sgemm: ld%s=%d is less than the %d columns of %s", strings.ToLower(name), ld, cols, name))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if need := (rows-1)*ld + cols; len(s) < need {
		panic(fmt.Sprintf("runtime.Sgemm: %s has %d elements, a %d×%d matrix with stride %d needs %d", name, len(s), rows, cols, ld, need))
	}
}

// scaleMatrix sets C = beta*C, without reading C when beta is zero.
func scaleMatrix(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// sgemmRows computes C = alpha*op(A)*B + beta*C for a few rows of C by
// accumulating scaled rows of B (not transposed), reading B contiguously.
// It handles any m, but reads all of B once per row of C. With relu each
// row is rectified as soon as it is complete.
// Preconditions: m, n, k > 0, alpha != 0, arguments checked.
func sgemmRows(relu, transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		crow := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(crow)
		} else if beta != 1 {
			for j := range crow {
				crow[j] *= beta
			}
		}
		for p := 0; p < k; p++ {
			var av float32
			if transA {
				av = a[p*lda+i]
			} else {
				av = a[i*lda+p]
			}
			if av == 0 {
				continue
			}
			av *= alpha
			brow := b[p*ldb : p*ldb+n]
			brow = brow[:len(crow)]
			for j, bv := range brow {
				crow[j] += av * bv
			}
		}
		if relu {
			reluInPlace(crow)
		}
	}
}

// sgemmSmall computes tiny products with direct loops, without packing.
// With relu each row of C is rectified as soon as it is complete.
// Preconditions: m, n, k > 0, alpha != 0, arguments checked.
func sgemmSmall(relu, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		crow := c[i*ldc : i*ldc+n]
		for j := range crow {
			var sum float32
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
				sum += av * bv
			}
			if beta == 0 {
				crow[j] = alpha * sum
			} else {
				crow[j] = alpha*sum + beta*crow[j]
			}
		}
		if relu {
			reluInPlace(crow)
		}
	}
}

// sgemmParallel is Sgemm's dispatch for a product at least
// gemmActive.parallelMin multiply-adds large.
// Preconditions: m, n, k > 0, alpha != 0, arguments checked.
func sgemmParallel(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmActive.parallel(false, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// parallel runs the packed GEMM on as many goroutines as its size pays
// for, each carrying at least g.parallelMin/2 multiply-adds. When C has at
// least as many rows as columns, each packed panel of B is shared and the
// mc-row blocks of A are handed out dynamically (parallelRows); otherwise
// bands of whole micro-tile columns of C are handed out dynamically, each
// computed by blocked. A product too small to split runs in blocked on the
// calling goroutine. With relu, the result is rectified as in SgemmPlan.
// Preconditions: m, n, k > 0, alpha != 0, arguments checked.
func (g *gemmImpl) parallel(relu, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	byRows := m >= n
	var tiles, minTiles int
	if byRows {
		tiles = (m + g.mr - 1) / g.mr
		minTiles = max(1, g.parallelMin/2/(g.mr*n*k))
	} else {
		tiles = (n + g.nr - 1) / g.nr
		minTiles = max(1, g.parallelMin/2/(g.nr*m*k))
	}
	g.packedOn(GemmAuto, parallelRanges(tiles, minTiles), byRows, relu, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// packedOn runs the packed GEMM on workers goroutines: on the caller when
// workers < 2 (blocked, which may divert to its narrow or direct paths,
// for kern GemmAuto; packed for GemmPacked), otherwise with each packed
// panel of B shared by row blocks of C (byRows, parallelRows) or bands of
// columns of C computed with kern (split).
func (g *gemmImpl) packedOn(kern GemmKernel, workers int, byRows, relu, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	switch {
	case workers < 2 && kern == GemmAuto:
		g.blocked(relu, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	case workers < 2:
		g.packed(relu, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	case byRows:
		g.parallelRows(workers, relu, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	default:
		g.split(kern, workers, false, false, false, relu, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}

// split computes the product on workers (>= 2) goroutines, each taking
// chunks of rows (byRows) or of columns of C from a shared counter and
// computing them with kernel: GemmAuto for blocked (which picks per chunk),
// GemmPacked for packed, GemmDirect for blockedDirect with directA and
// directB, GemmRows for sgemmRows. Column chunks are whole micro-tile
// columns, about four per goroutine so that the shares can even out, but
// none narrower than 128 columns (repacking A per band must stay cheap)
// unless that would leave a goroutine without one; row chunks are whole
// micro-tile rows, about two per goroutine. It allocates nothing in steady
// state: the goroutines share one task taken from a sync.Pool.
// Preconditions: m, n, k > 0, alpha != 0, arguments checked, and those of
// kernel.
func (g *gemmImpl) split(kernel GemmKernel, workers int, byRows, directA, directB, relu, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	var chunk int
	if byRows {
		chunk = roundUp((m+2*workers-1)/(2*workers), g.mr)
	} else {
		chunk = roundUp(max(min(128, (n+workers-1)/workers), (n+4*workers-1)/(4*workers)), g.nr)
	}
	t := gemmTasks.Get().(*gemmSplitTask)
	*t = gemmSplitTask{
		g: g, kernel: kernel, byRows: byRows, directA: directA, directB: directB, relu: relu,
		transA: transA, transB: transB,
		m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc,
		chunk: chunk,
	}
	ParallelFor(workers, 1, t)
	*t = gemmSplitTask{} // drop the caller's matrices before pooling
	gemmTasks.Put(t)
}

// gemmSplitTask is the Task of split: every Run call, whatever its range,
// takes chunks of chunk rows or columns of C from next until none is left
// and computes each as a product of its own.
type gemmSplitTask struct {
	g                              *gemmImpl
	kernel                         GemmKernel
	byRows, directA, directB, relu bool
	transA, transB                 bool
	m, n, k, chunk                 int
	alpha, beta                    float32
	a, b, c                        []float32
	lda, ldb, ldc                  int
	next                           atomic.Int64
}

var gemmTasks = sync.Pool{New: func() any { return new(gemmSplitTask) }}

func (t *gemmSplitTask) Run(_, _ int) {
	total := t.n
	if t.byRows {
		total = t.m
	}
	for {
		x0 := int(t.next.Add(int64(t.chunk))) - t.chunk
		if x0 >= total {
			return
		}
		x1 := min(x0+t.chunk, total)
		m, n, a, b, c := t.m, t.n, t.a, t.b, t.c
		if t.byRows {
			m, c = x1-x0, c[x0*t.ldc:]
			if t.transA {
				a = a[x0:]
			} else {
				a = a[x0*t.lda:]
			}
		} else {
			n, c = x1-x0, c[x0:]
			if t.transB {
				b = b[x0*t.ldb:]
			} else {
				b = b[x0:]
			}
		}
		switch t.kernel {
		case GemmPacked:
			t.g.packed(t.relu, t.transA, t.transB, m, n, t.k, t.alpha, a, t.lda, b, t.ldb, t.beta, c, t.ldc)
		case GemmDirect:
			t.g.blockedDirect(t.transA, t.transB, t.directA, t.directB, t.relu, m, n, t.k, t.alpha, a, t.lda, b, t.ldb, t.beta, c, t.ldc)
		case GemmRows:
			sgemmRows(t.relu, t.transA, m, n, t.k, t.alpha, a, t.lda, b, t.ldb, t.beta, c, t.ldc)
		default:
			t.g.blocked(t.relu, t.transA, t.transB, m, n, t.k, t.alpha, a, t.lda, b, t.ldb, t.beta, c, t.ldc)
		}
	}
}

// parallelRows is the packed GEMM with the work shared by workers
// goroutines: for each kc×nc block of op(B), packed once by the caller, the
// goroutines compute the mc-row blocks of C, taken one at a time from a
// shared counter. A goroutine that starts late (its core busy with
// another program) thus takes less of the work instead of holding up the
// others. With relu each block of C is rectified by the goroutine that
// computes its last k-block, right after. Preconditions: as sgemmBlocked,
// workers >= 2.
func (g *gemmImpl) parallelRows(workers int, relu, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sc := gemmPool.Get().(*gemmScratch)
	defer gemmPool.Put(sc)
	sc.b = grow(sc.b, roundUp(min(n, g.nc), g.nr)*min(k, g.kc))

	t := gemmRowTasks.Get().(*gemmRowTask)
	defer gemmRowTasks.Put(t)
	// At least three row blocks per goroutine, so the shares can even out.
	mc := min(g.mc, roundUp((m+3*workers-1)/(3*workers), g.mr))
	*t = gemmRowTask{
		g: g, transA: transA, transB: transB, m: m, k: k, mc: mc,
		alpha: alpha, a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc,
	}
	for jc := 0; jc < n; jc += g.nc {
		t.jc, t.nb = jc, min(g.nc, n-jc)
		for pc := 0; pc < k; pc += g.kc {
			t.pc, t.kb = pc, min(g.kc, k-pc)
			t.bp = sc.b[:roundUp(t.nb, g.nr)*t.kb]
			t.beta = 1 // the first k-block applies beta; later ones accumulate
			if pc == 0 {
				t.beta = beta
			}
			t.relu = relu && pc+t.kb == k
			// Packing B costs O(k*n) against the O(m*n*k) product, with
			// m >= n here: the caller does it alone, which spares a second
			// hand-off (and worker wake-up) per block.
			packB(transB, b, ldb, pc, jc, t.kb, t.nb, g.nr, t.bp)
			t.next.Store(0)
			ParallelFor(workers, 1, t)
		}
	}
	*t = gemmRowTask{} // drop the caller's matrices before pooling
}

// gemmRowTask is the Task of parallelRows for one kc×nc block of op(B) at
// (pc, jc), packed in bp: every Run call, whatever its range, takes mc-row
// blocks of C from next until none is left and computes them.
type gemmRowTask struct {
	g              *gemmImpl
	transA, transB bool
	m, k, mc       int
	alpha, beta    float32
	a, b, c, bp    []float32
	lda, ldb, ldc  int
	jc, nb, pc, kb int
	relu           bool
	next           atomic.Int64
}

var gemmRowTasks = sync.Pool{New: func() any { return new(gemmRowTask) }}

func (t *gemmRowTask) Run(_, _ int) {
	g := t.g
	sc := gemmPool.Get().(*gemmScratch)
	defer gemmPool.Put(sc)
	sc.a = grow(sc.a, roundUp(t.mc, g.mr)*t.kb)
	for {
		ic := int(t.next.Add(1)-1) * t.mc
		if ic >= t.m {
			return
		}
		mb := min(t.mc, t.m-ic)
		ap := sc.a[:roundUp(mb, g.mr)*t.kb]
		packA(t.transA, t.a, t.lda, ic, t.pc, mb, t.kb, g.mr, ap)
		g.macroKernel(mb, t.nb, t.kb, t.alpha, ap, t.bp, t.beta, t.relu, t.c[ic*t.ldc+t.jc:], t.ldc, sc.tile[:g.mr*g.nr])
	}
}

// gemmImpl is one implementation of the packed GEMM: a micro-kernel, the
// tile shape it computes and the cache blocking tuned for it, plus an
// optional direct path for products with few rows.
type gemmImpl struct {
	name string
	// mr×nr is the micro-tile: the kernel multiplies an mr-row sliver of
	// packed A (column p at a[p*mr:(p+1)*mr]) by an nr-column sliver of
	// packed B (row p at b[p*nr:(p+1)*nr]).
	mr, nr int
	// A kc×nc panel of op(B) is packed once per (jc, pc) block and reused
	// for every mc×kc block of op(A); the A block is meant to stay in L2 and
	// one kc×nr sliver of B in L1 while the kernel streams over it.
	kc, mc, nc int
	// parallelMin is the smallest m*n*k that Sgemm splits across
	// goroutines.
	parallelMin int
	// kernel computes C = alpha*Ap*Bp + beta*C for one full mr×nr tile
	// whose top-left element is c[0] and whose row stride is ldc, over kc
	// packed steps (kc > 0). C is not read when beta is zero.
	kernel func(kc int, a, b, c []float32, ldc int, alpha, beta float32)
	// kernelS, when not nil, is kernel for operands read in place:
	// column p of the A sliver at a[p*lda:p*lda+mr], row p of the B sliver
	// at b[p*ldb:p*ldb+nr] (packed slivers have lda = mr, ldb = nr). With
	// it, blocked skips packing a B that is not transposed when m <=
	// directBMaxRows, and a transposed A when n <= directAMaxCols.
	kernelS func(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32)
	// directBMaxRows bounds m for using B as stored. Above it each block of
	// B would be read from memory once per mc-row block of A, and the
	// packed panel, read from L1 and L2, pays for its copy.
	directBMaxRows int
	// directAMaxCols bounds n for using a transposed A as stored: packing
	// pays only when each sliver of A is used for many slivers of B.
	directAMaxCols int
	// narrow, when not nil, computes products with op(A) not transposed
	// (preconditions as for blocked), as n dot products per row of C; Sgemm
	// uses it for n <= narrowMaxCols, where a 6×16 tile would be mostly
	// empty and packing A would cost more than the product. The rows of C
	// are split across min(threads, GOMAXPROCS, m) goroutines (threads >=
	// 1); with relu each is rectified as soon as it is complete.
	narrow        func(threads int, relu, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	narrowMaxCols int
	// rows, when not nil, computes a product with few rows of C without
	// packing (preconditions as for sgemmRows, either transB, any m; Sgemm
	// uses it for m <= gemmRowsMax). threads > 0 caps the goroutines it
	// splits the work across (also by GOMAXPROCS and by its chunks); 0
	// leaves the split to its own threshold. With relu each part of C is
	// rectified as soon as it is final.
	rows func(threads int, relu, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

// gemmTileMax bounds mr*nr over all implementations: the size of the
// scratch tile that edge tiles are computed into (8×32 for AVX-512).
const gemmTileMax = 8 * 32

// gemmActive is the implementation Sgemm uses, chosen once at init by
// selectGemm from the environment variable FLOW_KERNELS.
var gemmActive = selectGemm(os.Getenv("FLOW_KERNELS"))

// selectGemm returns the implementation to use given the value of the
// FLOW_KERNELS environment variable: "generic" forces the portable Go
// kernels; the name of an assembly implementation the CPU supports
// ("avx512", "avx2" on amd64) forces that one; anything else (empty, or
// an implementation this CPU lacks) selects the fastest the CPU supports
// (gemmArch), or the portable kernels when it supports none.
func selectGemm(env string) *gemmImpl {
	if env == "generic" {
		return gemmGeneric
	}
	for _, g := range gemmArchImpls {
		if g.name == env {
			return g
		}
	}
	if gemmArch == nil {
		return gemmGeneric
	}
	return gemmArch
}

// gemmScratch holds the packing buffers and the edge tile of one goroutine.
type gemmScratch struct {
	a, b []float32
	tile [gemmTileMax]float32
}

var gemmPool = sync.Pool{New: func() any { return new(gemmScratch) }}

// grow returns s resliced to length n, reallocating only when its capacity
// is too small.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// sgemmBlocked is Sgemm of the active implementation on the calling
// goroutine only, for products too large for plain loops (see
// gemmImpl.blocked).
// Preconditions: m, n, k > 0, alpha != 0, arguments checked.
func sgemmBlocked(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmActive.blocked(false, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// blocked is the single-goroutine GEMM with g's kernels for products too
// large for plain loops, computed by the kernel blockedKernel picks:
// narrow ones by g.narrow, those with an operand that packing would copy
// for little reuse by blockedDirect, the others by packed. With relu the
// result is rectified as in SgemmPlan.
// Preconditions: m, n, k > 0, alpha != 0, arguments checked.
func (g *gemmImpl) blocked(relu, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	kern, directA, directB := g.blockedKernel(transA, transB, m, n)
	g.run(kern, directA, directB, 1, relu, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// packed is the single-goroutine packed GEMM with g's kernel and blocking:
// for each kc×nc panel of op(B), packed once, every mc×kc block of op(A)
// is packed and multiplied by macroKernel. With relu each mc×nc block of
// C is rectified a column of tiles at a time as its last k-block is
// written.
// Preconditions: m, n, k > 0, alpha != 0, arguments checked.
func (g *gemmImpl) packed(relu, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sc := gemmPool.Get().(*gemmScratch)
	defer gemmPool.Put(sc)

	mr, nr := g.mr, g.nr
	kcMax := min(k, g.kc)
	sc.a = grow(sc.a, roundUp(min(m, g.mc), mr)*kcMax)
	sc.b = grow(sc.b, roundUp(min(n, g.nc), nr)*kcMax)

	for jc := 0; jc < n; jc += g.nc {
		nb := min(g.nc, n-jc)
		for pc := 0; pc < k; pc += g.kc {
			kb := min(g.kc, k-pc)
			bp := sc.b[:roundUp(nb, nr)*kb]
			packB(transB, b, ldb, pc, jc, kb, nb, nr, bp)
			// The first k-block applies beta; later ones accumulate.
			bt := float32(1)
			if pc == 0 {
				bt = beta
			}
			last := relu && pc+kb == k
			for ic := 0; ic < m; ic += g.mc {
				mb := min(g.mc, m-ic)
				ap := sc.a[:roundUp(mb, mr)*kb]
				packA(transA, a, lda, ic, pc, mb, kb, mr, ap)
				g.macroKernel(mb, nb, kb, alpha, ap, bp, bt, last, c[ic*ldc+jc:], ldc, sc.tile[:mr*nr])
			}
		}
	}
}

// blockedDirect is blocked with g.kernelS, reading op(A) where it is
// stored when directA (transA must be true) and B where it is stored when
// directB (transB must be false); the other operand is packed as usual.
// Only the slivers that would run past the edge of a stored operand (the
// last m%mr rows of op(A), the last n%nr columns of B) are still packed,
// once per k block. Skipping a copy pays when it would be used little: for
// a 64×784 · 784×512 layer, packing B cost about as much as a third of the
// product; for the 784×100 · 100×10 weight gradient of softmax regression,
// packing Aᵀ cost several times the product. With directA all n columns of
// op(B) are packed per k block when B is not read in place, so Sgemm uses
// it only for narrow n. With relu each tile of C is rectified right after
// its last k-block is written, a column of tiles at a time.
// Preconditions: as blocked, g.kernelS != nil, directA || directB.
func (g *gemmImpl) blockedDirect(transA, transB, directA, directB, relu bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sc := gemmPool.Get().(*gemmScratch)
	defer gemmPool.Put(sc)

	mr, nr := g.mr, g.nr
	kcMax := min(k, g.kc)
	mc := g.mc
	if directA {
		mc = m // nothing to keep in L2: one block
		sc.a = grow(sc.a, mr*kcMax)
	} else {
		sc.a = grow(sc.a, roundUp(min(m, mc), mr)*kcMax)
	}
	fullN := n / nr * nr
	if directB {
		sc.b = grow(sc.b, nr*kcMax)
	} else {
		sc.b = grow(sc.b, roundUp(n, nr)*kcMax)
	}
	tile := sc.tile[:mr*nr]
	for pc := 0; pc < k; pc += g.kc {
		kb := min(g.kc, k-pc)
		switch {
		case !directB:
			packB(transB, b, ldb, pc, 0, kb, n, nr, sc.b[:roundUp(n, nr)*kb])
		case fullN < n:
			packB(false, b, ldb, pc, fullN, kb, n-fullN, nr, sc.b[:nr*kb])
		}
		// The first k-block applies beta; later ones accumulate.
		bt := float32(1)
		if pc == 0 {
			bt = beta
		}
		last := relu && pc+kb == k
		for ic := 0; ic < m; ic += mc {
			mb := min(mc, m-ic)
			if !directA {
				packA(transA, a, lda, ic, pc, mb, kb, mr, sc.a[:roundUp(mb, mr)*kb])
			}
			for js := 0; js < n; js += nr {
				cols := min(nr, n-js)
				var bs []float32
				bst := nr
				switch {
				case !directB:
					bs = sc.b[js*kb:]
				case cols == nr:
					bs, bst = b[pc*ldb+js:], ldb
				default:
					bs = sc.b
				}
				for is := 0; is < mb; is += mr {
					rows := min(mr, mb-is)
					var as []float32
					ast := mr
					switch {
					case !directA:
						as = sc.a[is*kb:]
					case rows == mr:
						as, ast = a[pc*lda+ic+is:], lda
					default:
						as = sc.a[:mr*kb]
						packA(true, a, lda, ic+is, pc, rows, kb, mr, as)
					}
					cs := c[(ic+is)*ldc+js:]
					if rows == mr && cols == nr {
						g.kernelS(kb, as, ast, bs, bst, cs, ldc, alpha, bt)
						continue
					}
					g.kernelS(kb, as, ast, bs, bst, tile, nr, 1, 0)
					storeTile(rows, cols, nr, alpha, tile, bt, cs, ldc)
				}
				if last {
					reluTile(mb, cols, c[ic*ldc+js:], ldc)
				}
			}
		}
	}
}

func roundUp(x, to int) int { return (x + to - 1) / to * to }

// packA copies the mb×kb block of op(A) starting at (ic, pc) into ap as
// consecutive mr-row slivers; within a sliver, column p holds mr values.
// Rows past mb are zero-filled.
func packA(transA bool, a []float32, lda, ic, pc, mb, kb, mr int, ap []float32) {
	if transA && mr == 6 && mb >= 6 {
		// Stored k×m: row pc+p of storage holds column p of the block,
		// contiguous in i. Read each row once, front to back, and deal
		// its values out to the slivers, element by element: a direct
		// [6]float32 assignment between two slices (which may overlap)
		// compiles to a call of memmove, and one through a local to two
		// overlapping 16-byte moves whose reload stalls on store
		// forwarding; either made this copy two to three times slower.
		full := mb / 6 * 6
		for p := 0; p < kb; p++ {
			src := a[(pc+p)*lda+ic : (pc+p)*lda+ic+full]
			for s := 0; s < full; s += 6 {
				v := (*[6]float32)(src[s:])
				d := (*[6]float32)(ap[s*kb+p*6:])
				d[0], d[1], d[2], d[3], d[4], d[5] = v[0], v[1], v[2], v[3], v[4], v[5]
			}
		}
		if full < mb {
			packA(true, a, lda, ic+full, pc, mb-full, kb, mr, ap[full*kb:])
		}
		return
	}
	if transA && mr == 8 && mb >= 8 {
		// As for mr == 6, with 8-float slivers (one 32-byte move each).
		full := mb / 8 * 8
		for p := 0; p < kb; p++ {
			src := a[(pc+p)*lda+ic : (pc+p)*lda+ic+full]
			for s := 0; s < full; s += 8 {
				v := *(*[8]float32)(src[s:])
				*(*[8]float32)(ap[s*kb+p*8:]) = v
			}
		}
		if full < mb {
			packA(true, a, lda, ic+full, pc, mb-full, kb, mr, ap[full*kb:])
		}
		return
	}
	for s := 0; s < mb; s += mr {
		rows := min(mr, mb-s)
		dst := ap[s*kb : (s+mr)*kb]
		if rows < mr {
			clear(dst)
		}
		if transA {
			// Stored k×m: op(A)(i, p) = a[p*lda+i]; a row of storage is contiguous in i.
			for p := 0; p < kb; p++ {
				src := a[(pc+p)*lda+ic+s:]
				src = src[:rows]
				copy(dst[p*mr:p*mr+rows], src)
			}
			continue
		}
		if rows == 6 && mr == 6 {
			gather6(dst, a, (ic+s)*lda+pc, lda, kb)
			continue
		}
		if rows == 8 && mr == 8 {
			gather8(dst, 8, a, (ic+s)*lda+pc, lda, kb)
			continue
		}
		for ii := 0; ii < rows; ii++ {
			src := a[(ic+s+ii)*lda+pc:]
			src = src[:kb]
			d := dst[ii:]
			for p, v := range src {
				d[p*mr] = v
			}
		}
	}
}

// gather6 interleaves six rows of src, each n long, starting at off and
// ld apart, into dst: dst[6p+r] = src[off+r*ld+p]. It writes dst
// sequentially, which is about three times faster than scattering each row.
func gather6(dst, src []float32, off, ld, n int) {
	r0 := src[off : off+n]
	r1 := src[off+ld : off+ld+n]
	r2 := src[off+2*ld : off+2*ld+n]
	r3 := src[off+3*ld : off+3*ld+n]
	r4 := src[off+4*ld : off+4*ld+n]
	r5 := src[off+5*ld : off+5*ld+n]
	dst = dst[:6*n]
	for p := range r0 {
		d := (*[6]float32)(dst[6*p:])
		d[0], d[1], d[2], d[3], d[4], d[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
	}
}

// gather8 is gather6 for eight rows, writing dst[stride*p+r] for r < 8.
func gather8(dst []float32, stride int, src []float32, off, ld, n int) {
	r0 := src[off : off+n]
	r1 := src[off+ld : off+ld+n]
	r2 := src[off+2*ld : off+2*ld+n]
	r3 := src[off+3*ld : off+3*ld+n]
	r4 := src[off+4*ld : off+4*ld+n]
	r5 := src[off+5*ld : off+5*ld+n]
	r6 := src[off+6*ld : off+6*ld+n]
	r7 := src[off+7*ld : off+7*ld+n]
	for p := range r0 {
		d := (*[8]float32)(dst[stride*p:])
		d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p], r6[p], r7[p]
	}
}

// packB copies the kb×nb block of op(B) starting at (pc, jc) into bp as
// consecutive nr-column slivers; within a sliver, row p holds nr values.
// Columns past nb are zero-filled.
func packB(transB bool, b []float32, ldb, pc, jc, kb, nb, nr int, bp []float32) {
	if !transB && nr == 16 && nb >= 64 {
		// Four whole 16-column slivers at a time, reading 256 contiguous
		// bytes of each row of B; fixed-size array copies through locals
		// compile to a few vector moves, where copy (or a direct array
		// assignment between slices) would call memmove for every 64 bytes.
		full := nb &^ 63
		for s := 0; s < full; s += 64 {
			d0 := bp[s*kb : (s+16)*kb]
			d1 := bp[(s+16)*kb : (s+32)*kb]
			d2 := bp[(s+32)*kb : (s+48)*kb]
			d3 := bp[(s+48)*kb : (s+64)*kb]
			for p := 0; p < kb; p++ {
				row := b[(pc+p)*ldb+jc+s:]
				row = row[:64]
				v0, v1 := *(*[16]float32)(row[0:]), *(*[16]float32)(row[16:])
				v2, v3 := *(*[16]float32)(row[32:]), *(*[16]float32)(row[48:])
				*(*[16]float32)(d0[p*16:]) = v0
				*(*[16]float32)(d1[p*16:]) = v1
				*(*[16]float32)(d2[p*16:]) = v2
				*(*[16]float32)(d3[p*16:]) = v3
			}
		}
		if full < nb {
			packB(false, b, ldb, pc, jc+full, kb, nb-full, nr, bp[full*kb:])
		}
		return
	}
	if !transB && nr == 32 && nb >= 64 {
		// As for nr == 16: two whole 32-column slivers at a time.
		full := nb &^ 63
		for s := 0; s < full; s += 64 {
			d0 := bp[s*kb : (s+32)*kb]
			d1 := bp[(s+32)*kb : (s+64)*kb]
			for p := 0; p < kb; p++ {
				row := b[(pc+p)*ldb+jc+s:]
				row = row[:64]
				v0, v1 := *(*[32]float32)(row[0:]), *(*[32]float32)(row[32:])
				*(*[32]float32)(d0[p*32:]) = v0
				*(*[32]float32)(d1[p*32:]) = v1
			}
		}
		if full < nb {
			packB(false, b, ldb, pc, jc+full, kb, nb-full, nr, bp[full*kb:])
		}
		return
	}
	for s := 0; s < nb; s += nr {
		cols := min(nr, nb-s)
		dst := bp[s*kb : (s+nr)*kb]
		if cols < nr {
			clear(dst)
		}
		if transB {
			// Stored n×k: op(B)(p, j) = b[j*ldb+p]; a row of storage is contiguous in p.
			if cols == nr && (nr == 16 || nr == 32) {
				off := (jc+s)*ldb + pc
				for j := 0; j < nr; j += 8 {
					gather8(dst[j:], nr, b, off+j*ldb, ldb, kb)
				}
				continue
			}
			for jj := 0; jj < cols; jj++ {
				src := b[(jc+s+jj)*ldb+pc:]
				src = src[:kb]
				d := dst[jj:]
				for p, v := range src {
					d[p*nr] = v
				}
			}
			continue
		}
		if cols == 16 && nr == 16 {
			// Fixed-size array copies through a local compile to a few
			// vector moves, where copy would call memmove for every 64
			// bytes.
			for p := 0; p < kb; p++ {
				v := *(*[16]float32)(b[(pc+p)*ldb+jc+s:])
				*(*[16]float32)(dst[p*16:]) = v
			}
			continue
		}
		if cols == 32 && nr == 32 {
			for p := 0; p < kb; p++ {
				v := *(*[32]float32)(b[(pc+p)*ldb+jc+s:])
				*(*[32]float32)(dst[p*32:]) = v
			}
			continue
		}
		for p := 0; p < kb; p++ {
			src := b[(pc+p)*ldb+jc+s:]
			src = src[:cols]
			copy(dst[p*nr:p*nr+cols], src)
		}
	}
}

// macroKernel multiplies a packed mb×kb block of A by a packed kb×nb panel
// of B, tile by tile, merging each tile into C as C = alpha*tile + beta*C
// (C not read when beta is zero); with relu each column of tiles is then
// rectified while it is in L1. Full tiles go straight to C; edge tiles are
// computed into tile (mr*nr elements) and merged from there.
func (g *gemmImpl) macroKernel(mb, nb, kb int, alpha float32, ap, bp []float32, beta float32, relu bool, c []float32, ldc int, tile []float32) {
	mr, nr := g.mr, g.nr
	for js := 0; js < nb; js += nr {
		cols := min(nr, nb-js)
		bs := bp[js*kb : (js+nr)*kb]
		for is := 0; is < mb; is += mr {
			rows := min(mr, mb-is)
			as := ap[is*kb : (is+mr)*kb]
			if rows == mr && cols == nr {
				g.kernel(kb, as, bs, c[is*ldc+js:], ldc, alpha, beta)
				continue
			}
			g.kernel(kb, as, bs, tile, nr, 1, 0)
			storeTile(rows, cols, nr, alpha, tile, beta, c[is*ldc+js:], ldc)
		}
		if relu {
			// The mb×nr panel (at most 9 KiB with the AVX2 blocking) is
			// still in L1.
			reluTile(mb, cols, c[js:], ldc)
		}
	}
}

// storeTile merges the top-left rows×cols corner of tile (row stride ldt)
// into C as C = alpha*tile + beta*C, not reading C when beta is zero.
func storeTile(rows, cols, ldt int, alpha float32, tile []float32, beta float32, c []float32, ldc int) {
	for i := 0; i < rows; i++ {
		crow := c[i*ldc : i*ldc+cols]
		t := tile[i*ldt : i*ldt+cols]
		switch beta {
		case 0:
			for j, v := range t {
				crow[j] = alpha * v
			}
		case 1:
			for j, v := range t {
				crow[j] += alpha * v
			}
		default:
			for j, v := range t {
				crow[j] = alpha*v + beta*crow[j]
			}
		}
	}
}
