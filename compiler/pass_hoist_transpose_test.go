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
