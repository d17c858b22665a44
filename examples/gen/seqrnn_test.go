package gen_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/examples/gen/seqrnn"
)

// seqFeeds draws random inputs of examples/seq_rnn.flow for a batch of n
// sequences of t steps: the interpreter's tensors and the generated
// code's slices, holding the same float32 values.
func seqFeeds(r *rand.Rand, g *ir.Module, n, t int) (map[string]*ir.Tensor, map[string][]float32) {
	tensors := map[string]*ir.Tensor{}
	slices := map[string][]float32{}
	b := ir.Binding{"N": n, "T": t}
	for _, in := range g.Inputs {
		x := ir.NewTensor(in.Type.DType, in.Type.Shape.Eval(b))
		s := make([]float32, len(x.Data))
		for i := range s {
			s[i] = float32(r.Float64() - 0.5)
			x.Data[i] = float64(s[i])
		}
		tensors[in.Name] = x
		slices[in.Name] = s
	}
	return tensors, slices
}

// seqShapes are the (N, T) pairs the sequence model is run at, in order,
// on one Model: T grows, shrinks and grows again, with N changing too.
var seqShapes = [][2]int{{1, 1}, {2, 3}, {3, 7}, {3, 2}, {1, 9}, {4, 5}, {2, 9}}

// TestSeqRnnMatchesInterpreter runs the generated code of a model with two
// symbolic dimensions, f32[N, T, 5], against the interpreter at several
// (N, T) pairs on one Model — sizes growing and shrinking between calls —
// through the typed API (Predict(n, t, x)) and the feeds (T derived from
// the feeds' lengths): outputs, loss, a training step's loss and the
// updated params.
func TestSeqRnnMatchesInterpreter(t *testing.T) {
	g, err := compiler.CompileFile("../seq_rnn.flow", compiler.Options{Verify: true})
	require.NoError(t, err)
	require.Equal(t, []string{"N", "T"}, g.Syms)
	it, err := compiler.NewInterpreter(g)
	require.NoError(t, err)
	m := seqrnn.New()
	params := m.Params()
	r := rand.New(rand.NewPCG(7, 11))
	for i, p := range g.Params {
		for j := range params[i].Data {
			v := float32(r.Float64() - 0.5)
			params[i].Data[j] = v
			it.State[p].Data[j] = float64(v)
		}
	}
	sig := m.Signature()
	for _, s := range seqShapes {
		n, steps := s[0], s[1]
		what := fmt.Sprintf("N=%d T=%d", n, steps)
		tens, sl := seqFeeds(r, g, n, steps)
		want, err := it.Predict(tens)
		require.NoError(t, err, what)
		requireClose(t, m.Predict(n, steps, sl["x"]), want[0], what+": Predict")
		requireClose(t, m.PredictFeed(n, pick(sl, sig.PredictInputs))[0], want[0], what+": PredictFeed")

		wantLoss, err := it.Loss(tens)
		require.NoError(t, err, what)
		requireClose(t, []float32{m.Loss(n, steps, sl["x"], sl["y_"])}, &ir.Tensor{Data: []float64{wantLoss}}, what+": Loss")
		requireClose(t, []float32{m.LossFeed(n, pick(sl, sig.TrainInputs))}, &ir.Tensor{Data: []float64{wantLoss}}, what+": LossFeed")

		wantLoss, err = it.TrainStep(tens)
		require.NoError(t, err, what)
		gotLoss := m.TrainFeed(n, pick(sl, sig.TrainInputs))
		requireClose(t, []float32{gotLoss}, &ir.Tensor{Data: []float64{wantLoss}}, what+": TrainFeed")
		for i, p := range g.Params {
			requireClose(t, params[i].Data, it.State[p], what+": updated "+p.Name)
			for j, v := range params[i].Data {
				it.State[p].Data[j] = float64(v)
			}
		}
		// The typed training step too, from the same params.
		wantLoss, err = it.TrainStep(tens)
		require.NoError(t, err, what)
		requireClose(t, []float32{m.TrainStep(n, steps, sl["x"], sl["y_"])}, &ir.Tensor{Data: []float64{wantLoss}}, what+": TrainStep")
		for i, p := range g.Params {
			requireClose(t, params[i].Data, it.State[p], what+": updated by TrainStep "+p.Name)
			for j, v := range params[i].Data {
				it.State[p].Data[j] = float64(v)
			}
		}
	}
}

// TestSeqRnnAllocatesOnlyToGrow checks that once the buffers have been laid
// out for the largest N and the largest T, calls at any smaller pair —
// however N and T change between calls — allocate nothing.
func TestSeqRnnAllocatesOnlyToGrow(t *testing.T) {
	g, err := compiler.CompileFile("../seq_rnn.flow", compiler.Options{})
	require.NoError(t, err)
	m := seqrnn.New()
	sig := m.Signature()
	r := rand.New(rand.NewPCG(1, 2))
	type feed struct{ x, pred, train [][]float32 }
	feeds := map[[2]int]feed{}
	for _, s := range seqShapes {
		_, sl := seqFeeds(r, g, s[0], s[1])
		feeds[s] = feed{[][]float32{sl["x"]}, pick(sl, sig.PredictInputs), pick(sl, sig.TrainInputs)}
	}
	_, big := seqFeeds(r, g, 4, 9)
	m.TrainFeed(4, pick(big, sig.TrainInputs)) // the largest N and T
	i := 0
	call := func() {
		s := seqShapes[i%len(seqShapes)]
		i++
		m.PredictFeed(s[0], feeds[s].pred)
		m.TrainFeed(s[0], feeds[s].train)
		m.Predict(s[0], s[1], feeds[s].x[0])
	}
	require.Zero(t, testing.AllocsPerRun(3*len(seqShapes), call), "calls that grow no dimension allocate")
	// Growing T allocates, once.
	_, sl := seqFeeds(r, g, 4, 12)
	longer := pick(sl, sig.TrainInputs)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m.TrainFeed(4, longer)
	runtime.ReadMemStats(&after)
	require.NotZero(t, after.Mallocs-before.Mallocs, "a longer T grows the arena")
	require.Zero(t, testing.AllocsPerRun(5, func() { m.TrainFeed(4, longer) }))
}

// TestSeqRnnFeedErrors checks that a feed whose length fits no T, or whose
// inputs disagree, is reported as other feed errors are: a panic with a
// message that names the input (runtime/cli turns it into an error).
func TestSeqRnnFeedErrors(t *testing.T) {
	m := seqrnn.New()
	require.PanicsWithValue(t, "seqrnn: PredictFeed: x has 12 elements, not a positive multiple of 10 (its elements per unit of T for a batch of 2)", func() {
		m.PredictFeed(2, [][]float32{make([]float32, 12)})
	})
	require.PanicsWithValue(t, "seqrnn: TrainStep: y_ has 3 elements, want 6 for a batch of 2", func() {
		m.TrainFeed(2, [][]float32{make([]float32, 20), make([]float32, 3)})
	})
	require.PanicsWithValue(t, "seqrnn: Predict: t must be positive, got 0", func() {
		m.Predict(2, 0, nil)
	})
	require.PanicsWithValue(t, "seqrnn: PredictFeed: batch size must be positive, got 0", func() {
		m.PredictFeed(0, [][]float32{nil})
	})
}
