package cost_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/compiler/cost"
	"github.com/flow-lang/flow/compiler/ir"
)

// TestLoopEstimates: a scan costs its trips times its body's nodes, a
// while its limit times its condition and body, and a differentiated
// loop states the carried values it keeps for its gradient.
func TestLoopEstimates(t *testing.T) {
	src := `model L {
    input x: f32[N, 7, 5]
    param U: f32[6, 6]
    param W: f32[5, 6]
    xw = x @ W
    hs, h = for xt in xw along 1 (h = fill(dims = [N, 6], value = 0)) {
        h = tanh(xt + h @ U)
        yield h
    }
    r, _ = while (r = h, k = 0) k < 3 limit 4 {
        r = r * 0.5
        k = k + 1
    }
    loss = sum(hs) + sum(r)
    train loss with sgd(lr = 0.1)
}`
	g, err := compiler.Compile("l.flow", []byte(src), compiler.Options{NoOptimize: true})
	require.NoError(t, err)
	p := cost.Default()
	b := ir.Binding{"N": 16}
	var loops int
	for _, n := range g.Body.Nodes {
		if n.Op != ir.Scan && n.Op != ir.While {
			continue
		}
		loops++
		var per float64
		for _, r := range n.Regions() {
			for _, m := range r.Nodes {
				if m.Op != ir.Const {
					per += cost.EstimateNode(p, m, b).Micros
				}
			}
		}
		e := cost.EstimateNode(p, n, b)
		trips := 7.0
		if n.Op == ir.While {
			trips = 4
		}
		require.Equal(t, trips, cost.Trips(n, b), n.String())
		require.InDelta(t, per*trips, e.Micros, 1e-9*per*trips, n.String())
		if n.Attrs.Bool("record") {
			k := n.Attrs.Int("carried", 0)
			want := float64(k) * trips * 16 * 6 * 4 // f32[trips, N, 6] per carried value
			if n.Op == ir.While {
				want = trips*16*6*4 + trips*4 // r: f32[4, N, 6], k: i32[4]
			}
			require.Equal(t, want, cost.Recorded(n, b), n.String())
			require.Contains(t, e.Reason, "for its gradient")
		}
	}
	require.GreaterOrEqual(t, loops, 4, "two loops and their two reverse loops")
}
