package gen_test

import (
	"math"
	"math/rand/v2"
	goruntime "runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler"
)

// TestGeneratedCodeDoesNotAllocate checks that every example's generated
// Predict and TrainStep allocate nothing once the first call has laid out
// the arena: loops, recurrent layers and their gradients included. The
// count is taken over many calls at GOMAXPROCS 2 (parallel loops and
// split GEMMs on), so that the Go runtime's own occasional allocations (a
// new thread, a GC worker, the caches a GC empties) stay far below one
// per call; an allocation in the generated code shows up on every call.
func TestGeneratedCodeDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(2))
	const warmup, calls = 10, 200
	for _, ex := range examples {
		t.Run(ex.path, func(t *testing.T) {
			g, err := compiler.CompileFile(ex.path, compiler.Options{})
			require.NoError(t, err)
			m := ex.new()
			sig := m.Signature()
			n := 3
			_, sl := feeds(rand.New(rand.NewPCG(1, 2)), g, n)
			// count returns the fewest allocations per call over up to
			// five runs of calls: the Go runtime's own come now and then
			// (after a GC empties its caches, say), an allocation of the
			// generated code in every run.
			count := func(f func()) float64 {
				for range warmup { // the arena, the kernels' scratch, the worker pool
					f()
				}
				best := math.Inf(1)
				for range 5 {
					var before, after goruntime.MemStats
					goruntime.ReadMemStats(&before)
					for range calls {
						f()
					}
					goruntime.ReadMemStats(&after)
					best = min(best, float64(after.Mallocs-before.Mallocs)/calls)
					if best < 0.5 {
						break
					}
				}
				return best
			}
			if len(g.Outputs()) > 0 {
				in := pick(sl, sig.PredictInputs)
				require.Less(t, count(func() { m.PredictFeed(n, in) }), 0.5, "allocations per Predict")
			}
			if sig.Loss != "" {
				in := pick(sl, sig.TrainInputs)
				require.Less(t, count(func() { m.TrainFeed(n, in) }), 0.5, "allocations per TrainStep")
			}
		})
	}
}
