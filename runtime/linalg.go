package runtime

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
)

// Batched matrix kernels: matmul over batch axes, and the inverse and
// determinant of square matrices by LU factorization.

// SgemmBatched computes c[i] = op(a[ia]) · op(b[ib]) for every batch index
// i of cBatch, calling SgemmPlan once per batch element (or once for all of
// them when every element multiplies its own A by one shared B). a, b and c are
// row-major stacks of matrices: a holds matrices stored m×k (k×m when
// transA), with batch shape aBatch; b holds k×n matrices (n×k when
// transB), with batch shape bBatch; c holds m×n matrices with batch shape
// cBatch. The batch shapes broadcast as in NumPy: aligned from the right,
// an axis of size 1 or a missing axis repeats the operand's matrices, so
// ia and ib are the matrices of a and b that batch index i reads.
//
// Every product runs as plan says (SgemmPlan), with plan.Relu applied to
// each result.
//
// SgemmBatched panics if aBatch or bBatch does not broadcast to cBatch or
// a slice is too short for its shape; these are programming errors in the
// caller.
func SgemmBatched(plan GemmPlan, transA, transB bool, m, n, k int, a []float32, aBatch []int, b []float32, bBatch []int, c []float32, cBatch []int) {
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	total := checkBatch("c", cBatch, cBatch)
	na, nb := checkBatch("a", aBatch, cBatch), checkBatch("b", bBatch, cBatch)
	sa, sb, sc := m*k, k*n, m*n
	if len(a) < na*sa || len(b) < nb*sb || len(c) < total*sc {
		panic(fmt.Sprintf("runtime.SgemmBatched: slices of %d, %d and %d elements are too short for batches %s, %s and %s of %d×%d by %d×%d",
			len(a), len(b), len(c), dimList(aBatch), dimList(bBatch), dimList(cBatch), m, k, k, n))
	}
	if nb == 1 && na == total && !transA {
		// One shared op(B) and a stack of row-major A matrices: the stack
		// is a single (total·m)×k matrix, so one product computes it all.
		SgemmPlan(plan, false, transB, total*m, n, k, 1, a, lda, b, ldb, 0, c, n)
		return
	}
	for i := range total {
		ia, ib := batchIndex(i, cBatch, aBatch), batchIndex(i, cBatch, bBatch)
		SgemmPlan(plan, transA, transB, m, n, k, 1, a[ia*sa:(ia+1)*sa], lda, b[ib*sb:(ib+1)*sb], ldb, 0, c[i*sc:(i+1)*sc], n)
	}
}

// checkBatch panics unless batch broadcasts to out; it returns the number
// of matrices batch holds.
func checkBatch(name string, batch, out []int) int {
	if len(batch) > len(out) {
		panic(fmt.Sprintf("runtime.SgemmBatched: batch shape %s of %s has more axes than the result's %s", dimList(batch), name, dimList(out)))
	}
	count := 1
	for i, d := range batch {
		o := out[len(out)-len(batch)+i]
		if d < 0 || (d != o && d != 1) {
			panic(fmt.Sprintf("runtime.SgemmBatched: batch shape %s of %s does not broadcast to %s", dimList(batch), name, dimList(out)))
		}
		count *= d
	}
	return count
}

// dimList formats a shape as [a b c] without letting it escape to the
// heap, so that callers' shape literals stay on their stacks.
func dimList(s []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(d))
	}
	b.WriteByte(']')
	return b.String()
}

// batchIndex maps flat index i of batch shape out to the flat index of a
// batch shape in that broadcasts to it.
func batchIndex(i int, out, in []int) int {
	idx, stride := 0, 1
	for d := len(out) - 1; d >= 0; d-- {
		c := i % out[d]
		i /= out[d]
		if e := d - (len(out) - len(in)); e >= 0 {
			if in[e] != 1 {
				idx += c * stride
			}
			stride *= in[e]
		}
	}
	return idx
}

// luScratch holds the float64 work space of the LU kernels, reused across
// calls so that they allocate nothing once warm.
type luScratch struct {
	lu, x []float64
	perm  []int
}

var luPool = sync.Pool{New: func() any { return new(luScratch) }}

// getLU returns scratch space for n×n matrices; return it with luPool.Put.
func getLU(n int) *luScratch {
	sc := luPool.Get().(*luScratch)
	if cap(sc.lu) < n*n {
		sc.lu = make([]float64, n*n)
	}
	if cap(sc.x) < n {
		sc.x, sc.perm = make([]float64, n), make([]int, n)
	}
	sc.lu, sc.x, sc.perm = sc.lu[:n*n], sc.x[:n], sc.perm[:n]
	return sc
}

// luFactor factors the n×n row-major matrix lu in place into P·A = L·U by
// Gaussian elimination with partial pivoting (the largest magnitude in
// each column; the first on ties): L below the diagonal (unit diagonal
// implied), U on and above it, perm[i] the row of A that row i of P·A is.
// It returns the sign of the permutation, and false if some column has
// no non-zero pivot, that is when A is singular.
func luFactor(lu []float64, perm []int, n int) (float64, bool) {
	for i := range perm {
		perm[i] = i
	}
	sign := 1.0
	for j := 0; j < n; j++ {
		p, best := j, math.Abs(lu[j*n+j])
		for i := j + 1; i < n; i++ {
			if v := math.Abs(lu[i*n+j]); v > best {
				p, best = i, v
			}
		}
		if best == 0 {
			return sign, false
		}
		if p != j {
			for c := 0; c < n; c++ {
				lu[j*n+c], lu[p*n+c] = lu[p*n+c], lu[j*n+c]
			}
			perm[j], perm[p] = perm[p], perm[j]
			sign = -sign
		}
		piv := lu[j*n+j]
		for i := j + 1; i < n; i++ {
			f := lu[i*n+j] / piv
			lu[i*n+j] = f
			for c := j + 1; c < n; c++ {
				lu[i*n+c] -= f * lu[j*n+c]
			}
		}
	}
	return sign, true
}

// MatrixInverse writes the inverses of the batch n×n row-major matrices
// of src to dst, computed by LU factorization with partial pivoting in
// float64. A matrix with no non-zero pivot in some column (exactly
// singular) has no inverse: its block of dst is filled with NaN. Nearly
// singular matrices give very large or infinite entries, as in NumPy.
func MatrixInverse(dst, src []float32, batch, n int) {
	checkSquare("MatrixInverse", dst, src, batch, n, n*n)
	sc := getLU(n)
	defer luPool.Put(sc)
	lu, perm, x := sc.lu, sc.perm, sc.x
	for m := range batch {
		s, d := src[m*n*n:(m+1)*n*n], dst[m*n*n:(m+1)*n*n]
		for i, v := range s {
			lu[i] = float64(v)
		}
		if _, ok := luFactor(lu, perm, n); !ok {
			nan := float32(math.NaN())
			for i := range d {
				d[i] = nan
			}
			continue
		}
		for c := 0; c < n; c++ {
			// Solve L U x = P e_c, column c of the inverse.
			for i := 0; i < n; i++ {
				v := 0.0
				if perm[i] == c {
					v = 1
				}
				for p := 0; p < i; p++ {
					v -= lu[i*n+p] * x[p]
				}
				x[i] = v
			}
			for i := n - 1; i >= 0; i-- {
				v := x[i]
				for p := i + 1; p < n; p++ {
					v -= lu[i*n+p] * x[p]
				}
				x[i] = v / lu[i*n+i]
			}
			for i := 0; i < n; i++ {
				d[i*n+c] = float32(x[i])
			}
		}
	}
}

// MatrixDeterminant writes the determinants of the batch n×n row-major
// matrices of src to dst (one value per matrix): the signed product of
// the pivots of an LU factorization with partial pivoting, in float64. An
// exactly singular matrix (no non-zero pivot in some column) has
// determinant 0.
func MatrixDeterminant(dst, src []float32, batch, n int) {
	checkSquare("MatrixDeterminant", dst, src, batch, n, 1)
	sc := getLU(n)
	defer luPool.Put(sc)
	lu, perm := sc.lu, sc.perm
	for m := range batch {
		for i, v := range src[m*n*n : (m+1)*n*n] {
			lu[i] = float64(v)
		}
		sign, ok := luFactor(lu, perm, n)
		if !ok {
			dst[m] = 0
			continue
		}
		det := sign
		for i := 0; i < n; i++ {
			det *= lu[i*n+i]
		}
		dst[m] = float32(det)
	}
}

// checkSquare panics unless src holds batch n×n matrices and dst batch
// results of per elements each.
func checkSquare(kernel string, dst, src []float32, batch, n, per int) {
	if batch < 0 || n < 0 || len(src) < batch*n*n || len(dst) < batch*per {
		panic(fmt.Sprintf("runtime.%s: %d source and %d destination elements do not hold %d matrices of %d×%d", kernel, len(src), len(dst), batch, n, n))
	}
}
