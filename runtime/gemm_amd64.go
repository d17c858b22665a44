package runtime

import (
	"sync"
	"sync/atomic"
)

// Assembly kernels (gemm_amd64.s). They need AVX2 and FMA; gemmArch is nil
// on CPUs without them, so they are never called there.

// sgemmKernel6x16 computes C = alpha*Ap*Bp + beta*C for one 6×16 tile:
// a points at a 6-row sliver of packed A (column p at a[6p:6p+6]), b at a
// 16-column sliver of packed B (row p at b[16p:16p+16]), both kc (> 0)
// steps long, and c at the tile's top-left element, with row stride ldc.
// C is not read when beta is zero.
//
//go:noescape
func sgemmKernel6x16(kc int, a, b, c *float32, ldc int, alpha, beta float32)

// sgemmKernel6x16S is sgemmKernel6x16 for operands read where they are:
// column p of the 6-row sliver of op(A) is a[p*lda:p*lda+6] and row p of
// the 16-column sliver of op(B) is b[p*ldb:p*ldb+16]. Packed slivers have
// lda = 6 and ldb = 16; a transposed A and a B that is not transposed can
// be used as stored.
//
//go:noescape
func sgemmKernel6x16S(kc int, a, b, c *float32, lda, ldb, ldc int, alpha, beta float32)

// sgemvAxpy computes c[j] += alpha * Σ_p a[p*inca] * b[p*ldb+j] for
// 0 <= j < n, over 0 <= p < k. Whole 32-column blocks are updated by
// sweeps over c, each reading four rows of B as stored; the remaining
// 8-column strips and the last n%8 columns keep their sums in registers
// over all k rows. The tail uses masked loads and stores, so nothing past
// c[n-1] or past the end of a row of B is read or written.
//
//go:noescape
func sgemvAxpy(k, n int, a *float32, inca int, b *float32, ldb int, c *float32, alpha float32)

// sgemvAxpy2 is sgemvAxpy for two rows of C at once: c0[j] += alpha *
// Σ_p a0[p*inca] * b[p*ldb+j] and c1[j] likewise with a1, for 0 <= j <
// n&^31 (whole 32-column blocks only), so B is read once for both rows.
//
//go:noescape
func sgemvAxpy2(k, n int, a0, a1 *float32, inca int, b *float32, ldb int, c0, c1 *float32, alpha float32)

// sgemvDot computes c[j] += alpha * Σ_p a[p] * b[j*ldb+p] for 0 <= j < n,
// over 0 <= p < k: n dot products of the contiguous vector a with rows of
// B, four rows at a time. Trailing elements use masked loads.
//
//go:noescape
func sgemvDot(k, n int, a, b *float32, ldb int, c *float32, alpha float32)

// reluAVX sets p[i*ld+j] = max(p[i*ld+j], 0) for 0 <= i < rows and
// 0 <= j < cols with the semantics of Relu (NaN and -0 become +0), eight
// elements per instruction (gemm_relu_amd64.s). It needs AVX.
//
//go:noescape
func reluAVX(p *float32, rows, cols, ld int)

// reluVector reports whether reluVec may use reluAVX.
var reluVector = hasAVX2FMA()

// reluVec applies Relu to the rows×cols block of C at c[0] (row stride
// ldc) with AVX and reports true, or reports false and leaves C alone when
// the CPU lacks AVX2 or the rows are too short for a vector to pay.
func reluVec(rows, cols int, c []float32, ldc int) bool {
	if !reluVector || cols < 8 || rows < 1 {
		return false
	}
	_ = c[(rows-1)*ldc+cols-1]
	reluAVX(&c[0], rows, cols, ldc)
	return true
}

// gemmAVX2 is the AVX2/FMA implementation, or nil when the CPU lacks those
// instructions.
var gemmAVX2 = newGemmAVX2()

// gemmArchImpls are the assembly implementations this CPU supports, the
// fastest first: AVX-512 (gemm512_amd64.go), then AVX2/FMA.
var gemmArchImpls = archImpls(gemmAVX512, gemmAVX2)

// gemmArch is the fastest assembly implementation this CPU supports, or
// nil when it lacks even AVX2 and FMA.
var gemmArch = firstImpl(gemmArchImpls)

// archImpls returns the non-nil impls, in order.
func archImpls(impls ...*gemmImpl) []*gemmImpl {
	var out []*gemmImpl
	for _, g := range impls {
		if g != nil {
			out = append(out, g)
		}
	}
	return out
}

// firstImpl returns impls[0], or nil when impls is empty.
func firstImpl(impls []*gemmImpl) *gemmImpl {
	if len(impls) == 0 {
		return nil
	}
	return impls[0]
}

// newGemmAVX2 returns the AVX2/FMA implementation if the CPU supports it.
//
// The 6×16 tile keeps its 12 accumulators, one row of B (two registers)
// and the broadcast values of A in the 16 YMM registers. The blocking suits
// Zen3 (32 KiB L1d, 512 KiB L2, 32 MiB L3): a 256×16 sliver of B (16 KiB)
// stays in L1, a 144×256 block of A (144 KiB) in L2, and a 256×3072 panel
// of B (3 MiB) in L3. On the shared 2-core machine it was tuned on, kc
// from 192 to 512 and mc from 48 to 192 all measured within the noise
// (about 80-100 GFLOP/s of thread CPU time at n = 256..1024).
func newGemmAVX2() *gemmImpl {
	if !hasAVX2FMA() {
		return nil
	}
	return &gemmImpl{
		name: "avx2",
		mr:   6, nr: 16,
		kc: 256, mc: 144, nc: 3072,
		parallelMin:    gemmParallelMinAVX2,
		kernel:         kernelAVX2,
		kernelS:        kernelSAVX2,
		directBMaxRows: 144,
		directAMaxCols: 32,
		narrow:         sgemmNarrowAVX2,
		narrowMaxCols:  12,
		rows:           sgemmRowsAVX2,
	}
}

// gemmParallelMinAVX2 is the gemmImpl.parallelMin of the AVX2
// implementation. At ~90 GFLOP/s a 128³ product takes ~50 µs, and waking a
// parked worker can cost a good part of that: on a shared 2-core Zen3 VM,
// square products split in two had a better median time than on one core
// only from about n = 224 (n = 128: 83 vs 76-91 GFLOP/s; n = 256: 105-107
// vs 78-86), although the best split runs reached 150+ GFLOP/s from
// n = 128.
const gemmParallelMinAVX2 = 224 * 224 * 224

// sgemmNarrowAVX2 is the gemmImpl.narrow of the AVX2 implementation: each
// row of C is n dot products (sgemvDot) of the contiguous row of A with
// the rows of the stored n×k B, or of Bᵀ copied into scratch when B is not
// transposed (k*n values, against the m*n*k product). A is read once, in
// place, and Bᵀ stays in L1 or L2. For softmax regression on MNIST
// (100×784 · 784×10) this took a third of the time of the packed 6×16
// kernel, which packs all of A to fill 10 of each tile's 16 columns.
// Rows of C are split across up to threads goroutines; with relu each row
// is rectified as soon as it is complete.
// Preconditions: as gemmImpl.blocked, transA false, threads >= 1.
func sgemmNarrowAVX2(threads int, relu, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sc := gemmPool.Get().(*gemmScratch)
	defer gemmPool.Put(sc)
	if !transB {
		sc.b = grow(sc.b, n*k)
		_ = b[(k-1)*ldb+n-1]
		for j := 0; j < n; j++ {
			dst := sc.b[j*k : (j+1)*k]
			for p := range dst {
				dst[p] = b[p*ldb+j]
			}
		}
		b, ldb = sc.b, k
	}
	workers := planWorkers(threads, m)
	if workers < 2 {
		narrowRows(relu, 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	t := narrowTasks.Get().(*narrowTask)
	defer narrowTasks.Put(t)
	*t = narrowTask{
		relu: relu, m: m, n: n, k: k, chunk: (m + 4*workers - 1) / (4 * workers),
		alpha: alpha, beta: beta, a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc,
	}
	ParallelFor(workers, 1, t)
	*t = narrowTask{} // drop the caller's matrices before pooling
}

// narrowRows computes the rows [i0, i1) of C for sgemmNarrowAVX2, B
// transposed (stored n×k), one row at a time: C = beta*C, the dot
// products, and with relu the rectification, while the row is in L1.
func narrowRows(relu bool, i0, i1, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := i0; i < i1; i++ {
		crow := c[i*ldc : i*ldc+n]
		scaleMatrix(1, n, beta, crow, ldc)
		gemvDot(1, k, alpha, a[i*lda:], lda, b, ldb, crow, ldc, 0, n)
		if relu {
			reluInPlace(crow)
		}
	}
}

// narrowTask is the Task of sgemmNarrowAVX2's split: every Run call,
// whatever its range, takes chunks of chunk rows of C from next until none
// is left and computes them with narrowRows.
type narrowTask struct {
	relu          bool
	m, n, k       int
	chunk         int
	alpha, beta   float32
	a, b, c       []float32
	lda, ldb, ldc int
	next          atomic.Int64
}

var narrowTasks = sync.Pool{New: func() any { return new(narrowTask) }}

func (t *narrowTask) Run(_, _ int) {
	for {
		i0 := int(t.next.Add(int64(t.chunk))) - t.chunk
		if i0 >= t.m {
			return
		}
		narrowRows(t.relu, i0, min(i0+t.chunk, t.m), t.n, t.k, t.alpha, t.a, t.lda, t.b, t.ldb, t.beta, t.c, t.ldc)
	}
}

// kernelSAVX2 is the gemmImpl.kernelS of the AVX2 implementation.
func kernelSAVX2(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	// Bounds checks once per tile, so the assembly stays within the slices.
	_ = a[(kc-1)*lda+5]
	_ = b[(kc-1)*ldb+15]
	_ = c[5*ldc+15]
	sgemmKernel6x16S(kc, &a[0], &b[0], &c[0], lda, ldb, ldc, alpha, beta)
}

// kernelAVX2 is the gemmImpl.kernel of the AVX2 implementation.
func kernelAVX2(kc int, a, b, c []float32, ldc int, alpha, beta float32) {
	// Bounds checks once per tile, so the assembly stays within the slices.
	_ = a[kc*6-1]
	_ = b[kc*16-1]
	_ = c[5*ldc+15]
	sgemmKernel6x16(kc, &a[0], &b[0], &c[0], ldc, alpha, beta)
}

// gemvParallelMin is the smallest m*n*k that the few-rows path splits
// across goroutines. Below it, waking a worker costs more than it saves: on
// a shared 2-core Zen3 VM, 1×784·784×512 took a median 22 µs on one core
// and 70 µs split in two (best cases 18 and 17 µs), 1×1024·1024×1024 54
// and 166 µs, while 1×2048·2048×2048 (B streamed from L3 and memory) took
// 720 µs on one core and 340 µs on two.
const gemvParallelMin = 1 << 21

// Granularity of that split, in rows of B for the sums of scaled rows
// (goroutines sweep disjoint, contiguous row ranges of B into private
// partial sums) and in columns of C for the dot products (disjoint,
// contiguous row ranges of the stored, transposed B). The goroutines take
// chunks one at a time from a shared counter, so one that starts late (its
// core busy with another program) simply takes fewer.
const (
	gemvRowChunk = 128
	gemvColChunk = 64
)

// sgemmRowsAVX2 is the gemmImpl.rows of the AVX2 implementation. Rows of C
// are computed without packing: when B is not transposed as sums of scaled
// rows of B (sgemvAxpy2, sgemvAxpy), otherwise as dot products of rows of
// op(A) with rows of the stored B (sgemvDot). Large products are split
// across goroutines (with threads 0 from gemvParallelMin multiply-adds,
// otherwise across up to threads). With relu, a chunk of columns of C is
// rectified as soon as its dot products are done; sums of rows of B are
// complete only at the end, and C is rectified then.
// Preconditions: m, n, k > 0, alpha != 0, arguments checked.
func sgemmRowsAVX2(threads int, relu, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sc := gemmPool.Get().(*gemmScratch)
	defer gemmPool.Put(sc)
	if transA && transB {
		// sgemvDot needs contiguous rows of op(A): gather them.
		sc.a = grow(sc.a, m*k)
		for i := 0; i < m; i++ {
			row := sc.a[i*k : (i+1)*k]
			for p := range row {
				row[p] = a[p*lda+i]
			}
		}
		a, lda, transA = sc.a, k, false
	}
	scaleMatrix(m, n, beta, c, ldc)

	var chunks, minChunks int
	if transB {
		chunks = (n + gemvColChunk - 1) / gemvColChunk
		minChunks = max(1, gemvParallelMin/2/(gemvColChunk*m*k))
	} else {
		chunks = (k + gemvRowChunk - 1) / gemvRowChunk
		minChunks = max(1, gemvParallelMin/2/(gemvRowChunk*m*n))
	}
	workers := parallelRanges(chunks, minChunks)
	if threads > 0 {
		workers = planWorkers(threads, chunks)
	}
	switch {
	case workers < 2 && transB:
		gemvDot(m, k, alpha, a, lda, b, ldb, c, ldc, 0, n)
		if relu {
			reluTile(m, n, c, ldc)
		}
	case workers < 2:
		gemvAxpy(transA, m, n, k, alpha, a, lda, b, ldb, c, ldc)
		if relu {
			reluTile(m, n, c, ldc)
		}
	default:
		t := gemvTasks.Get().(*gemvTask)
		defer gemvTasks.Put(t)
		*t = gemvTask{
			transA: transA, transB: transB, relu: relu, m: m, n: n, k: k, workers: workers,
			alpha: alpha, a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc,
		}
		if !transB {
			// Goroutine w > 0 sums into part[(w-1)*m*n:], added to C below.
			sc.b = grow(sc.b, (workers-1)*m*n)
			t.part = sc.b
		}
		ParallelFor(workers, 1, t)
		for w := 1; w < workers && !transB; w++ {
			part := t.part[(w-1)*m*n : w*m*n]
			for i := 0; i < m; i++ {
				crow := c[i*ldc : i*ldc+n]
				for j, v := range part[i*n : (i+1)*n] {
					crow[j] += v
				}
				if relu && w == workers-1 {
					reluInPlace(crow)
				}
			}
		}
		*t = gemvTask{} // drop the caller's matrices before pooling
	}
}

// gemvTask is the Task of sgemmRowsAVX2. Every Run(w, w+1) call takes
// chunks from next until none is left: when transB, chunks of gemvColChunk
// columns of C, computed in place; otherwise chunks of gemvRowChunk rows of
// B, whose contributions goroutine 0 adds to C directly and goroutine
// w > 0 to its own m×n partial sum in part — goroutine w takes the fixed
// chunks w, w + workers, …, so that the sums are formed in the same order
// on every call (results reproducible bit for bit). With relu, the columns of C
// computed in place are rectified as soon as they are done (transB).
type gemvTask struct {
	transA, transB bool
	relu           bool
	m, n, k        int
	alpha          float32
	a, b, c, part  []float32
	lda, ldb, ldc  int
	workers        int
	next           atomic.Int64
}

var gemvTasks = sync.Pool{New: func() any { return new(gemvTask) }}

func (t *gemvTask) Run(lo, hi int) {
	if t.transB {
		for {
			j0 := int(t.next.Add(gemvColChunk)) - gemvColChunk
			if j0 >= t.n {
				return
			}
			j1 := min(j0+gemvColChunk, t.n)
			gemvDot(t.m, t.k, t.alpha, t.a, t.lda, t.b, t.ldb, t.c, t.ldc, j0, j1)
			if t.relu {
				reluTile(t.m, j1-j0, t.c[j0:], t.ldc)
			}
		}
	}
	for w := lo; w < hi; w++ {
		dst, ldd := t.c, t.ldc
		if w > 0 {
			dst, ldd = t.part[(w-1)*t.m*t.n:w*t.m*t.n], t.n
			clear(dst)
		}
		for p0 := w * gemvRowChunk; p0 < t.k; p0 += t.workers * gemvRowChunk {
			p1 := min(p0+gemvRowChunk, t.k)
			a := t.a[p0:] // columns p0.. of op(A)
			if t.transA {
				a = t.a[p0*t.lda:]
			}
			gemvAxpy(t.transA, t.m, t.n, p1-p0, t.alpha, a, t.lda, t.b[p0*t.ldb:], t.ldb, dst, ldd)
		}
	}
}

// gemvDot adds alpha*op(A)*op(B) to the columns [j0, j1) of C, for B
// transposed (stored n×k) and op(A)'s rows contiguous (not transposed).
func gemvDot(m, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, j0, j1 int) {
	_ = b[(j1-1)*ldb+k-1]
	for i := 0; i < m; i++ {
		arow := a[i*lda : i*lda+k]
		_ = c[i*ldc+j1-1]
		sgemvDot(k, j1-j0, &arow[0], &b[j0*ldb], ldb, &c[i*ldc+j0], alpha)
	}
}

// gemvAxpy adds alpha*op(A)*B to C (m×n, B not transposed), two rows of C
// at a time so that each read of B serves both.
func gemvAxpy(transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	_ = b[(k-1)*ldb+n-1]
	_ = c[(m-1)*ldc+n-1]
	inca := 1
	if transA {
		inca = lda
	}
	i := 0
	if n32 := n &^ 31; n32 > 0 {
		for ; i+1 < m; i += 2 {
			a0, a1 := gemvRowA(transA, a, lda, k, i), gemvRowA(transA, a, lda, k, i+1)
			sgemvAxpy2(k, n32, a0, a1, inca, &b[0], ldb, &c[i*ldc], &c[(i+1)*ldc], alpha)
			if n > n32 {
				sgemvAxpy(k, n-n32, a0, inca, &b[n32], ldb, &c[i*ldc+n32], alpha)
				sgemvAxpy(k, n-n32, a1, inca, &b[n32], ldb, &c[(i+1)*ldc+n32], alpha)
			}
		}
	}
	for ; i < m; i++ {
		sgemvAxpy(k, n, gemvRowA(transA, a, lda, k, i), inca, &b[0], ldb, &c[i*ldc], alpha)
	}
}

// gemvRowA returns a pointer to the first element of row i of op(A), after
// checking that the whole row (k elements, stride lda if transA) is in a.
func gemvRowA(transA bool, a []float32, lda, k, i int) *float32 {
	if transA {
		_ = a[(k-1)*lda+i]
		return &a[i]
	}
	_ = a[i*lda+k-1]
	return &a[i*lda]
}
