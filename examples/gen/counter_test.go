package gen_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/examples/gen/counter"
	"github.com/flow-lang/flow/runtime"
)

// TestCounterState checks the generated Counter's own state against its
// closed form: after k training steps steps = k and mean_loss is the mean
// of the k losses TrainFeed returned; Predict and Loss change nothing.
func TestCounterState(t *testing.T) {
	m := counter.New()
	byName := map[string]runtime.Param{}
	for _, p := range m.Params() {
		byName[p.Name] = p
	}
	steps, mean := byName["steps"].Data, byName["mean_loss"].Data
	require.Len(t, steps, 1)
	require.Len(t, mean, 1)
	x := []float32{1, 2, 3, -1, 0.5, 2}
	y := []float32{1, -2}
	in := [][]float32{x, y}
	m.PredictFeed(2, [][]float32{x})
	m.LossFeed(2, in)
	require.Equal(t, float32(0), steps[0], "Predict and Loss do not update")
	require.Equal(t, float32(0), mean[0])
	var sum float64
	for k := 1; k <= 3; k++ {
		sum += float64(m.TrainFeed(2, in))
		require.Equal(t, float32(k), steps[0])
		require.InDelta(t, sum/float64(k), float64(mean[0]), 1e-5*sum)
	}
}
