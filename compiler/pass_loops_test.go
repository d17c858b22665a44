package compiler

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler/ir"
)

// TestHoistLoopTransposes checks that the reverse loop of a recurrent
// layer's gradient reads a transpose of U made once before the loop, not
// U transposed by every trip's matmul, and that a matrix the loop carries
// (a new value each trip) is left alone. TestPassesPreserveSemantics
// checks the values of every example with loops against the unoptimized
// graph.
func TestHoistLoopTransposes(t *testing.T) {
	src := `model R {
    input x: f32[N, 5, 3]
    param W: f32[3, 4]
    param U: f32[4, 4]
    param V: f32[4, 4]
    hs, _, _ = for xt in x along 1 (h = fill(dims = [N, 4], value = 0), M = V) {
        h = tanh(xt @ W + h @ U + h @ M)
        M = M * 0.5
        yield h
    }
    loss = mean(hs * hs)
    output hs
    train loss with sgd(lr = 0.1)
}`
	count := func(g *ir.Module) (transposedInLoops, hoisted int) {
		users := g.Users()
		g.Body.Walk(func(n *ir.Node) {
			switch {
			case n.Op == ir.Matmul && n.Attrs.Bool("transpose_b") && n.Region != g.Body:
				transposedInLoops++
			case n.Op == ir.Transpose:
				for _, u := range users[n] {
					if u.Op == ir.Scan {
						hoisted++
					}
				}
			}
		})
		return
	}
	unopt, err := Compile("r.flow", []byte(src), Options{NoOptimize: true})
	require.NoError(t, err)
	before, _ := count(unopt)
	require.Equal(t, 3, before, "dh = dz @ Uᵀ + dz @ Mᵀ and dxt = dz @ Wᵀ in the reverse body")
	g, err := Compile("r.flow", []byte(src), Options{})
	require.NoError(t, err)
	after, hoisted := count(g)
	require.Equal(t, 1, after, "dz @ Mᵀ stays: M is carried, a new matrix every trip")
	require.Equal(t, 2, hoisted, "Uᵀ and Wᵀ are made once, before the reverse loop")
}

// TestCSEInRegions checks that common subexpressions inside a loop body
// merge: the reverse loop of this model's gradient computes hᵀ dz twice
// (for dU and for dM, h @ U and h @ M reading the same h) before cse.
func TestCSEInRegions(t *testing.T) {
	src := `model R {
    input x: f32[N, 5, 3]
    param U: f32[3, 4]
    param M: f32[3, 4]
    hs, _ = for xt in x along 1 (h = fill(dims = [N, 4], value = 0)) {
        h = tanh(xt @ U + xt @ M + h)
        yield h
    }
    loss = mean(hs * hs)
    output hs
    train loss with sgd(lr = 0.1)
}`
	products := func(opts Options) int {
		g, err := Compile("r.flow", []byte(src), opts)
		require.NoError(t, err)
		count := 0
		g.Body.Walk(func(n *ir.Node) {
			if n.Op == ir.Matmul && n.Region != g.Body && n.Attrs.Bool("transpose_a") {
				count++
			}
		})
		return count
	}
	require.Equal(t, 2, products(Options{NoOptimize: true}), "xtᵀ dz for dU and for dM")
	require.Equal(t, 1, products(Options{}), "computed once")
}
