package runtime

import (
	"fmt"
	"math/rand/v2"
	goruntime "runtime"
	"testing"
)

// TestSgemmEdgeSizes sweeps each of m, n and k over every value from 1 to
// 70 (the other two drawn from 1..70), through every implementation the
// CPU supports, with the packed, direct and narrow kernels forced as well
// as Sgemm's own choice, on one and two goroutines, with and without ReLU,
// against the float64 reference. Leading dimensions are padded by an odd
// amount (or not at all), alpha/beta (beta = 0 with NaN in C) drawn at
// random, every transpose: sizes on either side of every tile edge (2×4,
// 6×16, 8×32) and of the unrolled k loops.
func TestSgemmEdgeSizes(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(max(2, goruntime.GOMAXPROCS(0))))
	kernels := []GemmKernel{GemmAuto, GemmNarrow, GemmDirect, GemmPacked}
	abs := []abCase{{1, 0, 0}, {-0.5, 1, 1}, {1.5, -2, 3}, {2, 0.5, 7}}
	step := 1
	if testing.Short() || raceEnabled {
		step = 3
	}
	for _, g := range gemmImpls() {
		t.Run(g.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(70, 70))
			withGemm(g, func() {
				for d := 1; d <= 70; d += step {
					for axis := range 3 {
						dims := [3]int{1 + r.IntN(70), 1 + r.IntN(70), 1 + r.IntN(70)}
						dims[axis] = d
						for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
							checkPlanCase(t, r, kernels, []int{1, 2}, tr[0], tr[1], dims[0], dims[1], dims[2], abs[r.IntN(len(abs))])
						}
					}
				}
			})
		})
	}
}

// forEachGemm runs f as a subtest named after each implementation the CPU
// supports, with Sgemm using it.
func forEachGemm(t *testing.T, f func(t *testing.T)) {
	for _, g := range gemmImpls() {
		t.Run(fmt.Sprintf("impl=%s", g.name), func(t *testing.T) { withGemm(g, func() { f(t) }) })
	}
}
