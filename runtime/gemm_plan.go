package runtime

import (
	"fmt"
	goruntime "runtime"
)

// GemmKernel names one of SGEMM's algorithms.
type GemmKernel uint8

const (
	// GemmAuto is Sgemm's own dispatch: the kernel and, with Threads 0,
	// the split are chosen by thresholds on the shape.
	GemmAuto GemmKernel = iota
	// GemmRows computes C row by row without packing: as sums of scaled
	// rows of B swept contiguously when B is not transposed, otherwise (in
	// the assembly implementation only) as dot products with the rows of
	// the stored B. It is meant for a few rows of C (Sgemm uses it for
	// m <= 4) but handles any m; it reads all of B once per row (or pair
	// of rows) of C. The portable implementation has it for B not
	// transposed only.
	GemmRows
	// GemmSmall is plain loops, no packing: for tiny products only. It
	// always runs on the calling goroutine.
	GemmSmall
	// GemmNarrow computes n dot products per row of C, with B transposed
	// into scratch when it is not stored that way: for narrow C (small n).
	// It needs op(A) not transposed; only the assembly implementation has
	// it.
	GemmNarrow
	// GemmDirect is the cache-blocked strided micro-kernel reading B (not
	// transposed) and/or Aᵀ (A transposed) where they are stored, packing
	// only the other operand: for products where packing would copy an
	// operand for little reuse. It needs transA or !transB; only the
	// assembly implementation has it.
	GemmDirect
	// GemmPacked is the packed, cache-blocked micro-kernel.
	GemmPacked
)

var gemmKernelNames = [...]string{"auto", "rows", "small", "narrow", "direct", "packed"}

// String returns "auto", "rows", "small", "narrow", "direct" or "packed",
// or GemmKernel(n) for a value that names no kernel.
func (k GemmKernel) String() string {
	if int(k) < len(gemmKernelNames) {
		return gemmKernelNames[k]
	}
	return fmt.Sprintf("GemmKernel(%d)", uint8(k))
}

// GemmPlan is how one SGEMM call runs: its kernel, how many goroutines
// share the work, and whether ReLU is applied to the result.
type GemmPlan struct {
	// Kernel is the algorithm; see SgemmPlan for kernels that cannot
	// compute a product.
	Kernel GemmKernel
	// Threads is how many goroutines share the work: 0 or 1 for the
	// calling goroutine only, except that with GemmAuto 0 leaves the split
	// to Sgemm's thresholds too.
	Threads int
	// Relu sets C = max(alpha*op(A)*op(B) + beta*C, 0), rectifying each
	// block of C as soon as it is final (while it is in cache) rather than
	// in a separate pass over C. Like the runtime's Relu it maps NaN and
	// -0 to +0.
	Relu bool
}

// SgemmPlan is Sgemm run as plan says. A kernel the active implementation
// lacks, or that cannot compute this product (GemmRows with B transposed in
// the portable implementation, GemmNarrow with transA, GemmDirect when
// neither operand can be read in place, an unknown value), falls back to
// the kernel Sgemm's dispatch would pick for the product on one goroutine,
// so a plan made on one machine is always correct on another
// (FLOW_KERNELS=generic, another GOARCH). GemmAuto with Threads >= 1 runs
// that kernel too, split as Threads says. Threads is capped at GOMAXPROCS
// and at what the kernel can split: micro-tile rows or columns of C for
// the packed and direct kernels, rows of C for the narrow one (and the
// portable rows one), the assembly rows kernel's chunks of 64 columns of C
// (B transposed) or 128 rows of B (not transposed, each extra goroutine
// summing into its own m×n scratch); GemmSmall always runs on the calling
// goroutine. Arguments are checked as by Sgemm, which panics the same way.
// In steady state SgemmPlan allocates nothing.
func SgemmPlan(plan GemmPlan, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemmArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleMatrix(m, n, beta, c, ldc)
		if plan.Relu && beta != 0 {
			for i := 0; i < m; i++ {
				reluInPlace(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	g := gemmActive
	if plan.Kernel == GemmAuto && plan.Threads <= 0 {
		g.auto(plan.Relu, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	kern, directA, directB := g.planKernel(plan.Kernel, transA, transB, m, n, k)
	g.run(kern, directA, directB, max(plan.Threads, 1), plan.Relu, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// GemmKernels reports which kernels the active implementation has, in
// GemmKernel order, GemmAuto excluded (for calibration). A kernel listed
// may still be unable to compute some products (see SgemmPlan).
func GemmKernels() []GemmKernel {
	g := gemmActive
	ks := []GemmKernel{GemmRows, GemmSmall}
	if g.narrow != nil {
		ks = append(ks, GemmNarrow)
	}
	if g.kernelS != nil {
		ks = append(ks, GemmDirect)
	}
	return append(ks, GemmPacked)
}

// GemmPlanKernel returns the kernel SgemmPlan runs for plan on an op(A)
// m×k by op(B) k×n product: plan.Kernel when the active implementation
// has it and it can compute the product, else its fallback (for
// GemmAuto, the kernel Sgemm's dispatch picks).
func GemmPlanKernel(plan GemmPlan, transA, transB bool, m, n, k int) GemmKernel {
	g := gemmActive
	if plan.Kernel == GemmAuto {
		kern, _, _ := g.autoKernel(transA, transB, m, n, k)
		return kern
	}
	kern, _, _ := g.planKernel(plan.Kernel, transA, transB, m, n, k)
	return kern
}

// planKernel returns the kernel that computes the product for a plan
// asking for kern: kern itself when g has it and it can compute the
// product, otherwise autoKernel's choice. For GemmDirect it also returns
// which operands are read in place: B whenever it is not transposed, and a
// transposed A when B cannot be, or when n <= g.directAMaxCols (reading A
// in place pays only when each of its slivers serves few of B's).
func (g *gemmImpl) planKernel(kern GemmKernel, transA, transB bool, m, n, k int) (GemmKernel, bool, bool) {
	switch kern {
	case GemmRows:
		if g.rows != nil || !transB {
			return GemmRows, false, false
		}
	case GemmSmall, GemmPacked:
		return kern, false, false
	case GemmNarrow:
		if g.narrow != nil && !transA {
			return GemmNarrow, false, false
		}
	case GemmDirect:
		if g.kernelS != nil && (transA || !transB) {
			directB := !transB
			directA := transA && (!directB || n <= g.directAMaxCols)
			return GemmDirect, directA, directB
		}
	}
	return g.autoKernel(transA, transB, m, n, k)
}

// run computes the product with kern (which g has and which can compute
// it; directA and directB as for blockedDirect), on up to threads (>= 1)
// goroutines, rectifying the result when relu.
// Preconditions: m, n, k > 0, alpha != 0, arguments checked.
func (g *gemmImpl) run(kern GemmKernel, directA, directB bool, threads int, relu, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	switch kern {
	case GemmRows:
		g.runRows(threads, relu, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	case GemmSmall:
		sgemmSmall(relu, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	case GemmNarrow:
		g.narrow(threads, relu, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	case GemmDirect:
		// Split by columns when B is read in place, so each goroutine
		// reads its own part of it; otherwise by rows.
		byRows := directA || !directB
		if w := g.planTileWorkers(threads, byRows, m, n); w >= 2 {
			g.split(GemmDirect, w, byRows, directA, directB, relu, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
			return
		}
		g.blockedDirect(transA, transB, directA, directB, relu, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	default:
		// As Sgemm's split: rows of C sharing each packed panel of B when
		// C has at least as many rows as columns, otherwise column bands.
		byRows := m >= n
		g.packedOn(GemmPacked, g.planTileWorkers(threads, byRows, m, n), byRows, relu, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}

// planTileWorkers is how many goroutines a plan asking for threads gets to
// split a product into micro-tile rows (byRows) or columns of C: no more
// than GOMAXPROCS, nor than there are tiles.
func (g *gemmImpl) planTileWorkers(threads int, byRows bool, m, n int) int {
	if byRows {
		return planWorkers(threads, (m+g.mr-1)/g.mr)
	}
	return planWorkers(threads, (n+g.nr-1)/g.nr)
}

// planWorkers is min(threads, GOMAXPROCS, units), at least 1.
func planWorkers(threads, units int) int {
	return max(1, min(threads, goruntime.GOMAXPROCS(0), units))
}

// runRows computes the product with g's few-rows kernel, or sgemmRows (B
// not transposed) when g has none. threads is as for gemmImpl.rows; the
// portable sgemmRows splits rows of C only when threads asks for it.
// Preconditions: as sgemmRows, and !transB when g.rows is nil.
func (g *gemmImpl) runRows(threads int, relu, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if g.rows != nil {
		g.rows(threads, relu, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if w := planWorkers(threads, m); w >= 2 {
		g.split(GemmRows, w, true, false, false, relu, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	sgemmRows(relu, transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// reluInPlace sets each element of s to Relu of it.
func reluInPlace(s []float32) {
	reluTile(1, len(s), s, len(s))
}

// reluTile applies Relu to the rows×cols block of C at c[0] with row
// stride ldc, with vector instructions where the architecture has them
// (reluVec).
func reluTile(rows, cols int, c []float32, ldc int) {
	if reluVec(rows, cols, c, ldc) {
		return
	}
	for i := 0; i < rows; i++ {
		row := c[i*ldc : i*ldc+cols]
		for j, v := range row {
			row[j] = Relu(v)
		}
	}
}
