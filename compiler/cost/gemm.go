package cost

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// GemmOption is one way of running an SGEMM the cost model considered:
// a kernel, a goroutine count and its estimated time.
type GemmOption struct {
	Kernel  string  `json:"kernel"`
	Threads int     `json:"threads"`
	Micros  float64 `json:"us"`
}

// GemmChoice is the cost model's decision for one m×k by k×n product:
// the fastest of the options it estimated, which generated code runs
// with runtime.SgemmPlan.
type GemmChoice struct {
	Kernel  string
	Threads int
	Micros  float64
	// Options are every kernel and goroutine count that could compute
	// the product, fastest first; Options[0] is the choice.
	Options []GemmOption
	// why overrides Reason's text (an empty product).
	why string
}

// Reason explains the choice: the kernel, its goroutines and the two
// runners-up, e.g. "packed on 2 goroutines (next: packed×1 41.3µs,
// direct×2 44.0µs)". It is built when asked: plans evaluate thousands
// of choices and read none of their reasons.
func (g GemmChoice) Reason() string {
	if g.why != "" {
		return g.why
	}
	var why strings.Builder
	fmt.Fprintf(&why, "%s on %d goroutine", g.Kernel, g.Threads)
	if g.Threads > 1 {
		why.WriteString("s")
	}
	writeRunnersUp(&why, len(g.Options), func(i int) (string, int, float64) {
		o := g.Options[i]
		return o.Kernel, o.Threads, o.Micros
	})
	return why.String()
}

// writeRunnersUp appends " (next: kernel×threads time, …)" for the
// second and third of n options (option(i) gives the i-th), nothing when
// there is only one.
func writeRunnersUp(b *strings.Builder, n int, option func(i int) (kernel string, threads int, us float64)) {
	if n < 2 {
		return
	}
	b.WriteString(" (next: ")
	for i := 1; i < min(n, 3); i++ {
		if i > 1 {
			b.WriteString(", ")
		}
		kernel, threads, us := option(i)
		fmt.Fprintf(b, "%s×%d %s", kernel, threads, micros(us))
	}
	b.WriteString(")")
}

// Gemm chooses how to run one SGEMM of an op(A) m×k by op(B) k×n
// product: it estimates every kernel of the profile's implementation
// that can compute the product, on 1 to Cores goroutines, and picks the
// fastest (the fewest goroutines on a tie). The estimates are:
//
//   - rows, small, narrow: 2·m·n·k FLOPs at the kernel's calibrated
//     rate for that size (Profile.GemmGFLOPS), plus, for narrow with B
//     not transposed, the copy of Bᵀ it makes;
//   - packed: the fitted packed rate (Profile.PackedGFLOPS) times the
//     useful fraction of the micro-tiles (TileEfficiency), plus the
//     packing copies at the packing bandwidth (PackTraffic);
//   - direct (B not transposed, or A transposed): the packed kernel's
//     arithmetic, without the copy of the operand read in place but
//     with that operand re-read from memory once per block of the other
//     (DirectTraffic);
//
// each plus the call overhead and, on more than one goroutine, the
// fork/join overhead.
func Gemm(p *Profile, m, n, k int, transA, transB bool) GemmChoice {
	return gemmUpTo(p, m, n, k, transA, transB, p.Cores)
}

// gemmUpTo is Gemm with at most maxThreads goroutines.
func gemmUpTo(p *Profile, m, n, k int, transA, transB bool, maxThreads int) GemmChoice {
	if m == 0 || n == 0 || k == 0 {
		return GemmChoice{Kernel: KernelSmall, Threads: 1, Micros: p.CallUs, why: "empty product",
			Options: []GemmOption{{KernelSmall, 1, p.CallUs}}}
	}
	d := p.Dispatch
	mnk := float64(m) * float64(n) * float64(k)
	flops := 2 * mnk
	opts := make([]GemmOption, 0, 4*max(maxThreads, 1)+1)
	consider := func(kernel string, threads int, us float64) {
		us += p.CallUs
		if threads > 1 {
			us += p.ForkJoinUs
		}
		opts = append(opts, GemmOption{kernel, threads, us})
	}
	for t := 1; t <= max(maxThreads, 1); t++ {
		if d.Has(KernelRows) && m <= d.RowsMax && (!transB || d.RowsTransB) {
			consider(KernelRows, t, flops/(p.GemmGFLOPS(KernelRows, t, mnk)*1e3))
		}
		if d.Has(KernelNarrow) && !transA && n <= d.NarrowMaxCols && t <= m {
			us := flops / (p.GemmGFLOPS(KernelNarrow, t, mnk) * 1e3)
			if !transB {
				us += 8 * float64(k) * float64(n) / (p.PackBandwidth() * 1e3)
			}
			consider(KernelNarrow, t, us)
		}
		tiles := max((m+d.MR-1)/d.MR, (n+d.NR-1)/d.NR)
		if t > tiles {
			continue // more goroutines than micro-tiles to share
		}
		arith := flops / (p.PackedGFLOPS(t, m, n, k) * TileEfficiency(d, m, n) * 1e3)
		consider(KernelPacked, t, arith+PackTraffic(d, m, n, k, t)/(p.PackBandwidth()*1e3))
		if d.Has(KernelDirect) && (!transB || transA) {
			packed, reread := DirectTraffic(d, m, n, k, t, transA, transB)
			consider(KernelDirect, t, arith+packed/(p.PackBandwidth()*1e3)+reread/(p.BandwidthGBs*1e3))
		}
	}
	if d.Has(KernelSmall) {
		consider(KernelSmall, 1, flops/(p.GemmGFLOPS(KernelSmall, 1, mnk)*1e3))
	}
	sort.SliceStable(opts, func(i, j int) bool { return opts[i].Micros < opts[j].Micros })
	best := opts[0]
	return GemmChoice{Kernel: best.Kernel, Threads: best.Threads, Micros: best.Micros, Options: opts}
}

// PackTraffic is the memory traffic, in bytes, of the copies the packed
// kernel makes into its buffers on one goroutine's share of an m×k by k×n
// product split over threads goroutines: op(B) once and op(A) once per
// NC-wide panel of B, each read and written. Bands of rows each pack all
// of B and their rows of A; bands of columns their part of B and all of
// A (the runtime splits along C's longer side).
func PackTraffic(d GemmDispatch, m, n, k, threads int) float64 {
	a, b := packShares(d, m, n, k, threads)
	return 8 * (a + b)
}

// packShares returns the elements of op(A) and op(B) one goroutine's
// share of the packed kernel copies (see PackTraffic).
func packShares(d GemmDispatch, m, n, k, threads int) (a, b float64) {
	t := float64(max(threads, 1))
	panels := float64((n + max(d.NC, 1) - 1) / max(d.NC, 1))
	a, b = float64(m)*float64(k)*panels, float64(k)*float64(n)
	if threads > 1 {
		if m >= n {
			a /= t
		} else {
			b /= t
		}
	}
	return a, b
}

// DirectTraffic is the memory traffic, in bytes, of one goroutine's share
// of the direct kernel on threads goroutines. The kernel reads B in place
// when it is not transposed and a transposed A when B is, or when n <=
// DirectAMaxCols; it splits C by columns when it reads only B in place,
// by rows otherwise. packed is the copies it still makes of the other
// operand, reread the operand(s) read in place, once per MC-row block of
// A (B in place) or per NR-column sliver of B (Aᵀ in place), from memory
// rather than from a packed buffer in the caches.
func DirectTraffic(d GemmDispatch, m, n, k, threads int, transA, transB bool) (packed, reread float64) {
	t := float64(max(threads, 1))
	M, N, K := float64(m), float64(n), float64(k)
	directA, directB := transA && (transB || n <= d.DirectAMaxCols), !transB
	slivers := math.Ceil(N / float64(max(d.NR, 1)))
	switch {
	case directA && directB:
		// One block of A, split by rows: each goroutine reads B once and
		// its slivers of Aᵀ once per sliver of B.
		return 0, 4*K*N + 4*(M/t)*K*slivers
	case directB:
		// Split by columns: each goroutine packs all of op(A) and reads
		// its columns of B once per MC-row block.
		blocks := math.Ceil(M / float64(max(d.MC, 1)))
		return 8 * M * K, 4 * K * (N / t) * blocks
	}
	// Split by rows: each goroutine packs all of op(B) and reads its rows
	// of Aᵀ once per sliver of B.
	return 8 * K * N, 4 * (M / t) * K * slivers
}

// TileEfficiency is the fraction of the packed kernel's work that is
// useful on an m×n product: edge tiles are computed whole, so a product
// with n=10 on a 16-wide tile wastes 6/16 of it. The profile's packed
// rates are per useful FLOP of full tiles; estimates multiply by it.
func TileEfficiency(d GemmDispatch, m, n int) float64 {
	if m <= 0 || n <= 0 {
		return 1
	}
	mr, nr := max(d.MR, 1), max(d.NR, 1)
	pm := (m + mr - 1) / mr * mr
	pn := (n + nr - 1) / nr * nr
	return float64(m) * float64(n) / (float64(pm) * float64(pn))
}

// micros renders a time in µs with three significant digits.
func micros(us float64) string {
	switch {
	case us >= 100:
		return fmt.Sprintf("%.0fµs", us)
	case us >= 10:
		return fmt.Sprintf("%.1fµs", us)
	}
	return fmt.Sprintf("%.2fµs", us)
}
