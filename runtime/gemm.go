package runtime

import (
	"fmt"
	"strings"
	"sync"
)

// Cache-blocking parameters of the packed GEMM. A kc×nc panel of op(B) is
// packed once per (jc, pc) block and reused for every mc×kc block of op(A);
// an mc×kc block of A (mc*kc*4 = 128 KiB) is meant to stay in L2 and one
// kc×nr sliver of B in L1 while the micro-kernel streams over it.
const (
	gemmKC = 256
	gemmMC = 128
	gemmNC = 1024
)

// gemmParallelMin is the smallest m*n*k that Sgemm splits across goroutines;
// smaller products run on the calling goroutine with no goroutine overhead.
// On a 2-core machine splitting only started to pay off around 128³.
const gemmParallelMin = 128 * 128 * 128

// gemmRowsMax is the largest m that Sgemm computes row by row, as
// alpha*a[i,:]*B accumulated with contiguous sweeps over the rows of B:
// for a few rows (inference on a small batch) packing B would cost more
// than the whole product.
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
// Large products are cache-blocked, packed into scratch buffers reused across
// calls, and split across GOMAXPROCS goroutines.
//
// Sgemm panics with a descriptive message if a dimension is negative, a
// leading dimension is too small, or a slice is too short for the shape it
// is said to hold; these are programming errors in the caller.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemmArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleMatrix(m, n, beta, c, ldc)
		return
	}
	work := m * n * k
	switch {
	case m <= gemmRowsMax && !transB:
		sgemmRows(transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	case work <= gemmSmallMax:
		sgemmSmall(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	case work < gemmParallelMin:
		sgemmBlocked(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	default:
		sgemmParallel(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
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
// Preconditions: m, n, k > 0, alpha != 0, arguments checked.
func sgemmRows(transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
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
	}
}

// sgemmSmall computes tiny products with direct loops, without packing.
// Preconditions: m, n, k > 0, alpha != 0, arguments checked.
func sgemmSmall(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
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
	}
}

// sgemmParallel splits C into row (or column) bands along its longer side,
// in whole micro-tiles, and runs sgemmBlocked on each band concurrently.
// It allocates nothing in steady state: the bands share one gemmBandTask
// taken from gemmTasks, and a product too small to split runs directly.
func sgemmParallel(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	// Each band should carry at least gemmParallelMin/2 multiply-adds.
	byRows := m >= n
	var tiles, minTiles int
	if byRows {
		tiles = (m + mr - 1) / mr
		minTiles = max(1, gemmParallelMin/2/(mr*n*k))
	} else {
		tiles = (n + nr - 1) / nr
		minTiles = max(1, gemmParallelMin/2/(nr*m*k))
	}
	if parallelRanges(tiles, minTiles) < 2 {
		sgemmBlocked(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	t := gemmTasks.Get().(*gemmBandTask)
	*t = gemmBandTask{
		byRows: byRows, transA: transA, transB: transB,
		m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc,
	}
	ParallelFor(tiles, minTiles, t)
	*t = gemmBandTask{} // drop the caller's matrices before pooling
	gemmTasks.Put(t)
}

// gemmBandTask is the Task of sgemmParallel: Run(lo, hi) computes the band
// of C made of micro-tile rows (byRows) or columns [lo, hi).
type gemmBandTask struct {
	byRows, transA, transB bool
	m, n, k                int
	alpha, beta            float32
	a, b, c                []float32
	lda, ldb, ldc          int
}

var gemmTasks = sync.Pool{New: func() any { return new(gemmBandTask) }}

func (t *gemmBandTask) Run(lo, hi int) {
	if t.byRows {
		r0, r1 := lo*mr, min(hi*mr, t.m)
		aOff := r0 * t.lda
		if t.transA {
			aOff = r0
		}
		sgemmBlocked(t.transA, t.transB, r1-r0, t.n, t.k, t.alpha, t.a[aOff:], t.lda, t.b, t.ldb, t.beta, t.c[r0*t.ldc:], t.ldc)
		return
	}
	c0, c1 := lo*nr, min(hi*nr, t.n)
	bOff := c0
	if t.transB {
		bOff = c0 * t.ldb
	}
	sgemmBlocked(t.transA, t.transB, t.m, c1-c0, t.k, t.alpha, t.a, t.lda, t.b[bOff:], t.ldb, t.beta, t.c[c0:], t.ldc)
}

// gemmScratch holds the packing buffers and the micro-tile of one goroutine.
// The tile lives here rather than on the stack because passing its address
// to the microKernel function variable would move it to the heap on every
// call.
type gemmScratch struct {
	a, b []float32
	tile [mr * nr]float32
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

// sgemmBlocked is the single-goroutine packed GEMM.
// Preconditions: m, n, k > 0, alpha != 0, arguments checked.
func sgemmBlocked(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sc := gemmPool.Get().(*gemmScratch)
	defer gemmPool.Put(sc)

	kcMax := min(k, gemmKC)
	sc.a = grow(sc.a, roundUp(min(m, gemmMC), mr)*kcMax)
	sc.b = grow(sc.b, roundUp(min(n, gemmNC), nr)*kcMax)

	for jc := 0; jc < n; jc += gemmNC {
		nb := min(gemmNC, n-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kb := min(gemmKC, k-pc)
			bp := sc.b[:roundUp(nb, nr)*kb]
			packB(transB, b, ldb, pc, jc, kb, nb, bp)
			for ic := 0; ic < m; ic += gemmMC {
				mb := min(gemmMC, m-ic)
				ap := sc.a[:roundUp(mb, mr)*kb]
				packA(transA, a, lda, ic, pc, mb, kb, ap)
				// The first k-block applies beta; later ones accumulate.
				bt := float32(1)
				if pc == 0 {
					bt = beta
				}
				macroKernel(mb, nb, kb, alpha, ap, bp, bt, c[ic*ldc+jc:], ldc, &sc.tile)
			}
		}
	}
}

func roundUp(x, to int) int { return (x + to - 1) / to * to }

// packA copies the mb×kb block of op(A) starting at (ic, pc) into ap as
// consecutive mr-row slivers; within a sliver, column p holds mr values.
// Rows past mb are zero-filled.
func packA(transA bool, a []float32, lda, ic, pc, mb, kb int, ap []float32) {
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
				d := dst[p*mr : p*mr+rows]
				copy(d, src)
			}
			continue
		}
		for ii := 0; ii < rows; ii++ {
			src := a[(ic+s+ii)*lda+pc:]
			src = src[:kb]
			for p, v := range src {
				dst[p*mr+ii] = v
			}
		}
	}
}

// packB copies the kb×nb block of op(B) starting at (pc, jc) into bp as
// consecutive nr-column slivers; within a sliver, row p holds nr values.
// Columns past nb are zero-filled.
func packB(transB bool, b []float32, ldb, pc, jc, kb, nb int, bp []float32) {
	for s := 0; s < nb; s += nr {
		cols := min(nr, nb-s)
		dst := bp[s*kb : (s+nr)*kb]
		if cols < nr {
			clear(dst)
		}
		if transB {
			// Stored n×k: op(B)(p, j) = b[j*ldb+p]; a row of storage is contiguous in p.
			for jj := 0; jj < cols; jj++ {
				src := b[(jc+s+jj)*ldb+pc:]
				src = src[:kb]
				for p, v := range src {
					dst[p*nr+jj] = v
				}
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
// of B, tile by tile, and merges each tile into C as
// C = alpha*tile + beta*C (C not read when beta is zero).
func macroKernel(mb, nb, kb int, alpha float32, ap, bp []float32, beta float32, c []float32, ldc int, tile *[mr * nr]float32) {
	for js := 0; js < nb; js += nr {
		cols := min(nr, nb-js)
		bs := bp[js*kb : (js+nr)*kb]
		for is := 0; is < mb; is += mr {
			rows := min(mr, mb-is)
			microKernel(kb, ap[is*kb:(is+mr)*kb], bs, tile)
			storeTile(rows, cols, alpha, tile, beta, c[is*ldc+js:], ldc)
		}
	}
}

// storeTile merges the top-left rows×cols corner of tile into C.
func storeTile(rows, cols int, alpha float32, tile *[mr * nr]float32, beta float32, c []float32, ldc int) {
	for i := 0; i < rows; i++ {
		crow := c[i*ldc : i*ldc+cols]
		t := tile[i*nr : i*nr+cols]
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
