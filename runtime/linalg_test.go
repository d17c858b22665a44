package runtime

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSgemmBatchedBroadcasts checks every batch element of a broadcast,
// transposed batched product against an independent triple loop over the
// matrices it reads.
func TestSgemmBatchedBroadcasts(t *testing.T) {
	cases := []struct {
		aBatch, bBatch, cBatch []int
		m, n, k                int
		ta, tb                 bool
	}{
		{[]int{}, []int{3}, []int{3}, 2, 3, 4, false, false},
		{[]int{2, 1}, []int{3}, []int{2, 3}, 3, 5, 2, true, false},
		{[]int{1, 3}, []int{2, 1}, []int{2, 3}, 1, 1, 1, false, true},
		{[]int{2, 1, 3}, []int{4, 1}, []int{2, 4, 3}, 5, 3, 7, true, true},
		{[]int{40}, []int{40}, []int{40}, 33, 17, 29, false, false},
		{[]int{2, 3}, []int{}, []int{2, 3}, 3, 5, 4, false, true},
		{[]int{2, 3}, []int{1}, []int{2, 3}, 3, 5, 4, true, false},
		{[]int{1, 3}, []int{}, []int{2, 3}, 3, 5, 4, false, false},
	}
	r := rand.New(rand.NewPCG(1, 2))
	// The auto dispatch, and explicit plans of every kernel (those that
	// cannot compute a product fall back).
	plans := []GemmPlan{{}, {Kernel: GemmPacked, Threads: 2}, {Kernel: GemmDirect, Threads: 1}, {Kernel: GemmRows, Threads: 2}, {Kernel: GemmNarrow, Threads: 1}, {Kernel: GemmSmall}}
	for i, c := range cases {
		plan := plans[i%len(plans)]
		t.Run(fmt.Sprintf("%v×%v/%v×%d", c.aBatch, c.bBatch, plan.Kernel, plan.Threads), func(t *testing.T) {
			a := randSlice(r, numMatrices(c.aBatch)*c.m*c.k)
			b := randSlice(r, numMatrices(c.bBatch)*c.k*c.n)
			got := make([]float32, numMatrices(c.cBatch)*c.m*c.n)
			for i := range got {
				got[i] = float32(math.NaN()) // must be overwritten
			}
			SgemmBatched(plan, c.ta, c.tb, c.m, c.n, c.k, a, c.aBatch, b, c.bBatch, got, c.cBatch)
			idx := make([]int, len(c.cBatch))
			for e := range numMatrices(c.cBatch) {
				// The multi-index of element e, and the matrices it reads.
				rest := e
				for d := len(idx) - 1; d >= 0; d-- {
					idx[d] = rest % c.cBatch[d]
					rest /= c.cBatch[d]
				}
				pick := func(batch []int) int {
					off := 0
					for d, size := range batch {
						i := idx[len(idx)-len(batch)+d]
						if size == 1 {
							i = 0
						}
						off = off*size + i
					}
					return off
				}
				am := a[pick(c.aBatch)*c.m*c.k:]
				bm := b[pick(c.bBatch)*c.k*c.n:]
				for i := range c.m {
					for j := range c.n {
						want := 0.0
						for p := range c.k {
							av, bv := am[i*c.k+p], bm[p*c.n+j]
							if c.ta {
								av = am[p*c.m+i]
							}
							if c.tb {
								bv = bm[j*c.k+p]
							}
							want += float64(av) * float64(bv)
						}
						require.InDelta(t, want, got[e*c.m*c.n+i*c.n+j], 1e-4, "element %d [%d %d]", e, i, j)
					}
				}
			}
		})
	}
}

func TestSgemmBatchedRejectsBadBatches(t *testing.T) {
	x := make([]float32, 64)
	require.PanicsWithValue(t, "runtime.SgemmBatched: batch shape [3] of a does not broadcast to [2]", func() {
		SgemmBatched(GemmPlan{}, false, false, 2, 2, 2, x, []int{3}, x, []int{2}, x, []int{2})
	})
	require.Panics(t, func() { SgemmBatched(GemmPlan{}, false, false, 2, 2, 2, x[:3], []int{2}, x, []int{2}, x, []int{2}) })
	require.Panics(t, func() { SgemmBatched(GemmPlan{}, false, false, 2, 2, 2, x, []int{1, 2}, x, nil, x, []int{2}) })
}

func numMatrices(s []int) int {
	p := 1
	for _, d := range s {
		p *= d
	}
	return p
}

func TestMatrixInverseAndDeterminantHandComputed(t *testing.T) {
	src := []float32{
		4, 7, 2, 6, // det 10, inverse [[6 -7] [-2 4]] / 10
		0, 1, 1, 0, // a row swap: det -1, its own inverse
		1, 2, 2, 4, // singular: det 0, NaN inverse
	}
	inv := make([]float32, len(src))
	MatrixInverse(inv, src, 3, 2)
	require.InDeltaSlice(t, []float32{0.6, -0.7, -0.2, 0.4, 0, 1, 1, 0}, inv[:8], 1e-7)
	for _, v := range inv[8:] {
		require.True(t, math.IsNaN(float64(v)))
	}
	det := make([]float32, 3)
	MatrixDeterminant(det, src, 3, 2)
	require.Equal(t, []float32{10, -1, 0}, det)

	// A 3×3 matrix that needs pivoting, determinant 1.
	b := []float32{1, 2, 3, 0, 1, 4, 5, 6, 0}
	MatrixInverse(inv[:9], b, 1, 3)
	require.InDeltaSlice(t, []float32{-24, 18, 5, 20, -15, -4, -5, 4, 1}, inv[:9], 1e-5)
	MatrixDeterminant(det[:1], b, 1, 3)
	require.InDelta(t, 1, det[0], 1e-6)
}

// TestMatrixInverseTimesMatrixIsIdentity checks that random diagonally
// dominant matrices times their inverses give the identity, and a random
// 3×3 determinant against the rule of Sarrus.
func TestMatrixInverseTimesMatrixIsIdentity(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const batch, n = 5, 9
	src := randSlice(r, batch*n*n)
	for m := range batch {
		for i := range n {
			src[m*n*n+i*n+i] += float32(n) * (1 + float32(i%2)) // dominant diagonal
		}
	}
	inv := make([]float32, len(src))
	MatrixInverse(inv, src, batch, n)
	prodm := make([]float32, len(src))
	SgemmBatched(GemmPlan{}, false, false, n, n, n, src, []int{batch}, inv, []int{batch}, prodm, []int{batch})
	for m := range batch {
		for i := range n {
			for j := range n {
				want := 0.0
				if i == j {
					want = 1
				}
				require.InDelta(t, want, prodm[m*n*n+i*n+j], 1e-5, "matrix %d [%d %d]", m, i, j)
			}
		}
	}

	s := randSlice(r, 9)
	sarrus := float64(s[0])*float64(s[4])*float64(s[8]) + float64(s[1])*float64(s[5])*float64(s[6]) + float64(s[2])*float64(s[3])*float64(s[7]) -
		float64(s[2])*float64(s[4])*float64(s[6]) - float64(s[1])*float64(s[3])*float64(s[8]) - float64(s[0])*float64(s[5])*float64(s[7])
	det := make([]float32, 1)
	MatrixDeterminant(det, s, 1, 3)
	require.InDelta(t, sarrus, det[0], 1e-6)
}

func TestSquareKernelsRejectShortSlices(t *testing.T) {
	require.Panics(t, func() { MatrixInverse(make([]float32, 4), make([]float32, 3), 1, 2) })
	require.Panics(t, func() { MatrixDeterminant(make([]float32, 1), make([]float32, 8), 2, 2) })
}

// TestLinalgKernelsDoNotAllocate keeps the generated code's promise that
// warm calls allocate nothing, shape literals included.
func TestLinalgKernelsDoNotAllocate(t *testing.T) {
	a, b, c := make([]float32, 6*3*4), make([]float32, 4*5), make([]float32, 6*4*5)
	n := 6
	src := make([]float32, 6*4*4)
	for i := range 6 {
		for j := range 4 {
			src[i*16+j*5] = 2
		}
	}
	dst := make([]float32, len(src))
	run := func() {
		SgemmBatched(GemmPlan{}, true, false, 4, 5, 3, a, []int{2, n / 2}, b, []int{}, c, []int{2, n / 2})
		SgemmBatched(GemmPlan{}, false, false, 3, 5, 4, a, []int{n}, b, []int{1}, c, []int{n})
		MatrixInverse(dst, src, n, 4)
		MatrixDeterminant(dst[:n], src, n, 4)
	}
	run()
	require.Zero(t, testing.AllocsPerRun(20, run))
}
