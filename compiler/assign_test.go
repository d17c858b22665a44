package compiler_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler/ir"
)

// TestAssignCounterAndRunningMean checks user-level updates against
// hand-computed values: w = 2 trained by sgd(lr = 0.1) on loss = w²x²
// with x = 1 gives w ← 0.8·w, so the three losses are 4, 2.56 and
// 1.6384; after three steps the counter is 3, the running mean is their
// mean 2.7328 and the budget is 10 - 3.
func TestAssignCounterAndRunningMean(t *testing.T) {
	g, it := compileModel(t, `
model M {
    input x: f64[1]
    param w: f64[] = constant(2)
    param steps: f64[] = zeros
    param mean_loss: f64[] = zeros
    param budget: f64[] = constant(10)
    loss = sum(square(w * x))
    n = assign_add(steps, 1)
    avg = assign(mean_loss, mean_loss + (loss - mean_loss) / n)
    left = assign_sub(budget, delta = 1)
    output n, left
    train loss with sgd(lr = 0.1)
}`)
	steps, mean, budget := param(t, g, "steps"), param(t, g, "mean_loss"), param(t, g, "budget")
	for _, p := range []*ir.Node{steps, mean, budget} {
		require.False(t, ir.Trainable(p), "%s is state, not trained", p.Name)
		require.NotContains(t, g.Grads, p)
	}
	require.Contains(t, g.Grads, param(t, g, "w"))
	feeds := map[string]*ir.Tensor{"x": tensor([]int{1}, 1)}

	// Predict and Loss are pure: they compute the new values but never
	// store them.
	for range 2 {
		out, err := it.Predict(feeds)
		require.NoError(t, err)
		require.Equal(t, []float64{1}, out[0].Data)
		require.Equal(t, []float64{9}, out[1].Data)
		l, err := it.Loss(feeds)
		require.NoError(t, err)
		require.InDelta(t, 4, l, 1e-12)
	}
	require.Equal(t, []float64{0}, it.State[steps].Data)

	wantLosses := []float64{4, 2.56, 1.6384}
	var sum float64
	for i, want := range wantLosses {
		l, err := it.TrainStep(feeds)
		require.NoError(t, err)
		require.InDelta(t, want, l, 1e-12, "step %d loss", i)
		sum += l
		require.InDelta(t, sum/float64(i+1), it.State[mean].Data[0], 1e-12, "running mean after step %d", i+1)
	}
	require.Equal(t, []float64{3}, it.State[steps].Data)
	require.Equal(t, []float64{7}, it.State[budget].Data)
	require.InDelta(t, 2.7328, it.State[mean].Data[0], 1e-12)
	require.InDelta(t, 2*0.8*0.8*0.8, it.State[param(t, g, "w")].Data[0], 1e-12)
}

// TestAssignReadsOldValues checks that every update of a step reads the
// values from before the step: assign(a, b) with assign(b, a) swaps, and
// a scalar broadcasts to the param's shape.
func TestAssignReadsOldValues(t *testing.T) {
	g, it := compileModel(t, `
model M {
    input x: f64[2]
    param w: f64[2] = ones
    param a: f64[2] = constant(1)
    param b: f64[2] = constant(2)
    param c: f64[2] = zeros
    loss = sum(w * x)
    s = assign(a, b)
    t = assign(b, a)
    r = assign(c, 5)
    train loss with sgd(lr = 0.5)
}`)
	feeds := map[string]*ir.Tensor{"x": tensor([]int{2}, 1, 3)}
	_, err := it.TrainStep(feeds)
	require.NoError(t, err)
	require.Equal(t, []float64{2, 2}, it.State[param(t, g, "a")].Data)
	require.Equal(t, []float64{1, 1}, it.State[param(t, g, "b")].Data)
	require.Equal(t, []float64{5, 5}, it.State[param(t, g, "c")].Data)
	require.Equal(t, []float64{0.5, -0.5}, it.State[param(t, g, "w")].Data)
}
