package compiler_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/compiler/ir"
)

func compileModel(t *testing.T, src string) (*ir.Module, *compiler.Interpreter) {
	t.Helper()
	g, err := compiler.Compile("m.flow", []byte(src), compiler.Options{})
	require.NoError(t, err)
	it, err := compiler.NewInterpreter(g)
	require.NoError(t, err)
	return g, it
}

func tensor(shape []int, data ...float64) *ir.Tensor {
	t := ir.NewTensor(ir.F64, shape)
	copy(t.Data, data)
	return t
}

func param(t *testing.T, g *ir.Module, name string) *ir.Node {
	t.Helper()
	p := g.Param(name)
	require.NotNil(t, p, "param %s", name)
	return p
}

// TestBatchNormModes checks batch_norm against hand-computed values: the
// training step's batch statistics and moving-average updates, and the
// moving averages in Predict and Loss.
func TestBatchNormModes(t *testing.T) {
	g, it := compileModel(t, `
fn bn(x: f64[N, C]) -> f64[N, C] {
    param gamma: f64[C] = constant(2)
    param beta:  f64[C] = ones
    return batch_norm(x, gamma, beta, epsilon = 0.5, momentum = 0.75)
}
model BN {
    input x: f64[N, 2]
    input w: f64[N, 2]
    y = bn(x)
    loss = sum(y * w)
    output y
    train loss with sgd(lr = 0.1)
}`)
	require.NotSame(t, g.Loss(), g.TrainingLoss(), "the training loss has its own nodes")
	mm, mv := param(t, g, "y/moving_mean"), param(t, g, "y/moving_variance")
	require.False(t, ir.Trainable(mm))
	require.False(t, ir.Trainable(mv))
	require.NotContains(t, g.Grads, mm)

	feeds := map[string]*ir.Tensor{
		"x": tensor([]int{2, 2}, 1, 2, 3, 6),
		"w": tensor([]int{2, 2}, 1, 2, 3, 4),
	}
	// Inference before any step: moving mean 0, moving variance 1.
	inf := func(x, m, v float64) float64 { return 2*(x-m)/math.Sqrt(v+0.5) + 1 }
	y, err := it.Predict(feeds)
	require.NoError(t, err)
	want := []float64{inf(1, 0, 1), inf(2, 0, 1), inf(3, 0, 1), inf(6, 0, 1)}
	require.InDeltaSlice(t, want, y[0].Data, 1e-12)
	loss, err := it.Loss(feeds)
	require.NoError(t, err)
	require.InDelta(t, want[0]+2*want[1]+3*want[2]+4*want[3], loss, 1e-12)

	// Training: channel 0 has mean 2 and variance 1, channel 1 mean 4
	// and variance 4 (biased).
	a, b := 2/math.Sqrt(1.5), 4/math.Sqrt(4.5)
	train := []float64{-a + 1, -b + 1, a + 1, b + 1}
	loss, err = it.TrainStep(feeds)
	require.NoError(t, err)
	require.InDelta(t, train[0]+2*train[1]+3*train[2]+4*train[3], loss, 1e-12)
	// moving = 0.75 moving + 0.25 batch.
	require.InDeltaSlice(t, []float64{0.5, 1}, it.State[mm].Data, 1e-12)
	require.InDeltaSlice(t, []float64{1, 1.75}, it.State[mv].Data, 1e-12)

	// Predict now uses the updated averages (and the updated gamma, beta:
	// check them through the formula with the new state).
	gamma, beta := it.State[param(t, g, "y/gamma")].Data, it.State[param(t, g, "y/beta")].Data
	y, err = it.Predict(feeds)
	require.NoError(t, err)
	for i, x := range []float64{1, 2, 3, 6} {
		c := i % 2
		m, v := it.State[mm].Data[c], it.State[mv].Data[c]
		require.InDelta(t, gamma[c]*(x-m)/math.Sqrt(v+0.5)+beta[c], y[0].Data[i], 1e-12)
	}
}

// TestDropoutModes checks dropout: the identity in Predict and Loss, the
// seeded mask of the step counter in training, a new mask every step.
func TestDropoutModes(t *testing.T) {
	g, it := compileModel(t, `
model D {
    input x: f64[N, 4]
    param s: f64[4] = ones
    y = dropout(x * s, rate = 0.5, seed = 42)
    loss = sum(y)
    output y
    train loss with sgd(lr = 0.1)
}`)
	step, scale := param(t, g, "dropout/step"), param(t, g, "s")
	require.False(t, ir.Trainable(step))
	x := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	feeds := map[string]*ir.Tensor{"x": tensor([]int{4, 4}, x...)}
	y, err := it.Predict(feeds)
	require.NoError(t, err)
	require.Equal(t, x, y[0].Data)
	loss, err := it.Loss(feeds)
	require.NoError(t, err)
	require.Equal(t, 136.0, loss)

	// masked is the training loss at a step, with the kept elements.
	masked := func(step uint64) (float64, []int) {
		sum, kept := 0.0, []int(nil)
		for i, v := range x {
			if ir.DropoutUniform(42, step, uint64(i)) < 0.5 {
				sum += 2 * v * it.State[scale].Data[i%4]
				kept = append(kept, i)
			}
		}
		return sum, kept
	}
	var masks [][]int
	for k := range 3 {
		require.Equal(t, float64(k), it.State[step].Data[0])
		want, kept := masked(uint64(k))
		require.NotEmpty(t, kept)
		require.Less(t, len(kept), len(x))
		masks = append(masks, kept)
		loss, err := it.TrainStep(feeds)
		require.NoError(t, err)
		require.InDelta(t, want, loss, 1e-12, "step %d", k)
	}
	require.NotEqual(t, masks[0], masks[1], "the mask changes between steps")
	require.NotEqual(t, masks[1], masks[2], "the mask changes between steps")
	require.Equal(t, 3.0, it.State[step].Data[0])
}

// TestTrainModeGradients checks the training-mode gradients (through
// the batch statistics and the dropout mask, held fixed because Run does
// not advance the step) against central differences of the training
// loss.
func TestTrainModeGradients(t *testing.T) {
	g, it := compileModel(t, `
fn bn(x: f64[N, H, C]) -> f64[N, H, C] {
    param gamma: f64[C] = uniform(low = 0.5, high = 1.5, seed = 1)
    param beta:  f64[C] = uniform(low = -0.5, high = 0.5, seed = 2)
    return batch_norm(x, gamma, beta, epsilon = 0.01)
}
model G {
    input x: f64[N, 3, 2]
    input w: f64[N, 3, 4]
    param K: f64[2, 4] = normal(stddev = 1, seed = 3)
    h = bn(x @ K)
    d = dropout(h * h + h, rate = 0.3, seed = 5)
    loss = sum(bn(d) * w)
    train loss with sgd(lr = 0.1)
}`)
	require.NotSame(t, g.Loss(), g.TrainingLoss())
	feeds := map[string]*ir.Tensor{
		"x": ir.NewTensor(ir.F64, []int{3, 3, 2}),
		"w": ir.NewTensor(ir.F64, []int{3, 3, 4}),
	}
	for i := range feeds["x"].Data {
		feeds["x"].Data[i] = math.Sin(float64(3*i + 1))
	}
	for i := range feeds["w"].Data {
		feeds["w"].Data[i] = math.Cos(float64(5*i + 2))
	}
	lossAt := func() float64 {
		out, err := it.Run(feeds, g.TrainingLoss())
		require.NoError(t, err)
		return out[0].Data[0]
	}
	checked := 0
	for _, p := range g.Params {
		if !ir.Trainable(p) {
			continue
		}
		grad, ok := g.Grads[p]
		require.True(t, ok, "param %s has a gradient", p.Name)
		out, err := it.Run(feeds, grad)
		require.NoError(t, err)
		v := it.State[p].Data
		for j := range v {
			const h = 1e-6
			old := v[j]
			v[j] = old + h
			up := lossAt()
			v[j] = old - h
			down := lossAt()
			v[j] = old
			fd := (up - down) / (2 * h)
			require.InDelta(t, fd, out[0].Data[j], 1e-6*math.Max(1, math.Abs(fd)), "d loss / d %s[%d]", p.Name, j)
			checked++
		}
	}
	require.Equal(t, 8+4+4+4+4, checked)
}
