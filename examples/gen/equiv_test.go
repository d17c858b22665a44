package gen_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/examples/gen/arrayops"
	"github.com/flow-lang/flow/examples/gen/convtiny"
	"github.com/flow-lang/flow/examples/gen/elementwise"
	"github.com/flow-lang/flow/examples/gen/initializers"
	"github.com/flow-lang/flow/examples/gen/layers"
	"github.com/flow-lang/flow/examples/gen/mnistsoftmax"
	"github.com/flow-lang/flow/examples/gen/opstour"
	"github.com/flow-lang/flow/examples/gen/optimizers"
	"github.com/flow-lang/flow/runtime"
)

// example pairs a .flow file with its generated package.
type example struct {
	path string
	new  func() runtime.Model
}

var examples = []example{
	{"../mnist_softmax.flow", func() runtime.Model { return mnistsoftmax.New() }},
	{"../ops_tour.flow", func() runtime.Model { return opstour.New() }},
	{"../array_ops.flow", func() runtime.Model { return arrayops.New() }},
	{"../conv_tiny.flow", func() runtime.Model { return convtiny.New() }},
	{"../elementwise.flow", func() runtime.Model { return elementwise.New() }},
	{"../optimizers.flow", func() runtime.Model { return optimizers.New() }},
	{"../initializers.flow", func() runtime.Model { return initializers.New() }},
	{"../layers.flow", func() runtime.Model { return layers.New() }},
}

// maxRelErr is the largest relative error allowed between generated code
// (float32 arithmetic, runtime kernels) and the interpreter (float64
// arithmetic rounded to float32 after every op), measured per tensor as
// max|got-want| / max(max|want|, 1e-6).
const maxRelErr = 1e-4

func relErr(got []float32, want []float64) float64 {
	var diff, scale float64
	for i := range want {
		diff = math.Max(diff, math.Abs(float64(got[i])-want[i]))
		scale = math.Max(scale, math.Abs(want[i]))
	}
	return diff / math.Max(scale, 1e-6)
}

func requireClose(t *testing.T, got []float32, want *ir.Tensor, what string) {
	t.Helper()
	require.Len(t, got, len(want.Data), what)
	for i, v := range got {
		require.False(t, math.IsNaN(float64(v)), "%s[%d] is NaN", what, i)
	}
	e := relErr(got, want.Data)
	require.LessOrEqual(t, e, maxRelErr, "%s: relative error %.3g", what, e)
}

// feeds draws random inputs for a batch of n: both the interpreter's
// tensors and the generated code's slices, holding the same float32
// values.
func feeds(r *rand.Rand, g *ir.Graph, n int) (map[string]*ir.Tensor, map[string][]float32) {
	tensors := map[string]*ir.Tensor{}
	slices := map[string][]float32{}
	for _, in := range g.Inputs {
		b := ir.Binding{}
		for _, s := range g.Syms {
			b[s] = n
		}
		t := ir.NewTensor(in.Type.DType, in.Type.Shape.Eval(b))
		s := make([]float32, len(t.Data))
		for i := range s {
			s[i] = float32(r.Float64())
			t.Data[i] = float64(s[i])
		}
		tensors[in.Name] = t
		slices[in.Name] = s
	}
	return tensors, slices
}

func pick(slices map[string][]float32, names []string) [][]float32 {
	out := make([][]float32, len(names))
	for i, name := range names {
		out[i] = slices[name]
	}
	return out
}

// TestGeneratedMatchesInterpreter runs every example's generated code and
// the reference interpreter on the same random parameters and inputs and
// compares initial parameters, outputs, the loss, and the parameters after
// several training steps, at several batch sizes.
func TestGeneratedMatchesInterpreter(t *testing.T) {
	for _, ex := range examples {
		for _, n := range []int{1, 3, 17} {
			t.Run(fmt.Sprintf("%s/n=%d", ex.path, n), func(t *testing.T) {
				g, err := compiler.CompileFile(ex.path, compiler.Options{})
				require.NoError(t, err)
				it, err := compiler.NewInterpreter(g)
				require.NoError(t, err)
				m := ex.new()
				params := m.Params()
				require.Len(t, params, len(g.Params))

				// Initializers agree exactly (same definition, separate code).
				for i, p := range g.Params {
					require.Equal(t, p.Name, params[i].Name)
					requireClose(t, params[i].Data, it.State[p], "initial "+p.Name)
				}
				// Random parameters, identical on both sides. Optimizer
				// state (slot params) keeps its initial zeros: Adam's
				// second moments must not be negative.
				r := rand.New(rand.NewPCG(uint64(n), 99))
				for i, p := range g.Params {
					if !ir.Trainable(p) {
						continue
					}
					for j := range params[i].Data {
						v := float32(r.Float64() - 0.5)
						params[i].Data[j] = v
						it.State[p].Data[j] = float64(v)
					}
				}
				sig := m.Signature()
				for step := 0; step < 3; step++ {
					tens, sl := feeds(r, g, n)
					if len(g.Outputs) > 0 {
						want, err := it.Predict(tens)
						require.NoError(t, err)
						got := m.PredictFeed(n, pick(sl, sig.PredictInputs))
						for i, o := range g.Outputs {
							requireClose(t, got[i], want[i], fmt.Sprintf("step %d output %s", step, o.Name))
						}
					}
					if g.Loss == nil {
						continue
					}
					wantLoss, err := it.Loss(tens)
					require.NoError(t, err)
					gotLoss := m.LossFeed(n, pick(sl, sig.TrainInputs))
					requireClose(t, []float32{gotLoss}, &ir.Tensor{Data: []float64{wantLoss}}, fmt.Sprintf("step %d loss", step))

					wantLoss, err = it.TrainStep(tens)
					require.NoError(t, err)
					gotLoss = m.TrainFeed(n, pick(sl, sig.TrainInputs))
					requireClose(t, []float32{gotLoss}, &ir.Tensor{Data: []float64{wantLoss}}, fmt.Sprintf("step %d train loss", step))
					for i, p := range g.Params {
						requireClose(t, params[i].Data, it.State[p], fmt.Sprintf("step %d updated %s", step, p.Name))
						// Keep both sides on identical values so errors do
						// not compound across steps.
						for j, v := range params[i].Data {
							it.State[p].Data[j] = float64(v)
						}
					}
				}
			})
		}
	}
}

// TestNoAllocationsAfterFirstCall checks the generated code's promise:
// after a call at some batch size, calls at that size allocate nothing.
func TestNoAllocationsAfterFirstCall(t *testing.T) {
	for _, ex := range examples {
		g, err := compiler.CompileFile(ex.path, compiler.Options{})
		require.NoError(t, err)
		m := ex.new()
		sig := m.Signature()
		_, sl := feeds(rand.New(rand.NewPCG(1, 2)), g, 32)
		pin, tin := pick(sl, sig.PredictInputs), pick(sl, sig.TrainInputs)
		m.PredictFeed(32, pin)
		m.TrainFeed(32, tin)
		require.Zero(t, testing.AllocsPerRun(20, func() { m.PredictFeed(32, pin) }), "%s: Predict allocates", ex.path)
		require.Zero(t, testing.AllocsPerRun(20, func() { m.TrainFeed(32, tin) }), "%s: TrainStep allocates", ex.path)
		require.Zero(t, testing.AllocsPerRun(20, func() { m.LossFeed(32, tin) }), "%s: Loss allocates", ex.path)
	}
}
