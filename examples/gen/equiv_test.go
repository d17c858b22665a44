package gen_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler"
	"github.com/flow-lang/flow/compiler/ir"
	"github.com/flow-lang/flow/examples/gen/arraymore"
	"github.com/flow-lang/flow/examples/gen/arrayops"
	"github.com/flow-lang/flow/examples/gen/compare"
	"github.com/flow-lang/flow/examples/gen/control"
	"github.com/flow-lang/flow/examples/gen/controlnested"
	"github.com/flow-lang/flow/examples/gen/convtiny"
	"github.com/flow-lang/flow/examples/gen/counter"
	"github.com/flow-lang/flow/examples/gen/dropoutbn"
	"github.com/flow-lang/flow/examples/gen/elementwise"
	"github.com/flow-lang/flow/examples/gen/initializers"
	"github.com/flow-lang/flow/examples/gen/layers"
	"github.com/flow-lang/flow/examples/gen/lenet"
	"github.com/flow-lang/flow/examples/gen/linalg"
	"github.com/flow-lang/flow/examples/gen/lstmmnist"
	"github.com/flow-lang/flow/examples/gen/mlp"
	"github.com/flow-lang/flow/examples/gen/mnistsoftmax"
	"github.com/flow-lang/flow/examples/gen/opstour"
	"github.com/flow-lang/flow/examples/gen/optimizers"
	"github.com/flow-lang/flow/examples/gen/seqrnn"
	"github.com/flow-lang/flow/examples/gen/tfattrs"
	"github.com/flow-lang/flow/runtime"
)

// example pairs a .flow file with its generated package.
type example struct {
	path string
	new  func() runtime.Model
	// batches are the batch sizes compared; nil means 1, 3 and 17. The
	// full-size models use small batches: the interpreter is the slow,
	// obviously correct oracle.
	batches []int
}

var examples = []example{
	{"../mnist_softmax.flow", func() runtime.Model { return mnistsoftmax.New() }, nil},
	{"../ops_tour.flow", func() runtime.Model { return opstour.New() }, nil},
	{"../array_ops.flow", func() runtime.Model { return arrayops.New() }, nil},
	{"../array_more.flow", func() runtime.Model { return arraymore.New() }, nil},
	{"../conv_tiny.flow", func() runtime.Model { return convtiny.New() }, nil},
	{"../elementwise.flow", func() runtime.Model { return elementwise.New() }, nil},
	{"../compare.flow", func() runtime.Model { return compare.New() }, nil},
	{"../optimizers.flow", func() runtime.Model { return optimizers.New() }, nil},
	{"../initializers.flow", func() runtime.Model { return initializers.New() }, nil},
	{"../layers.flow", func() runtime.Model { return layers.New() }, nil},
	{"../linalg.flow", func() runtime.Model { return linalg.New() }, nil},
	{"../mlp.flow", func() runtime.Model { return mlp.New() }, []int{1, 5}},
	{"../lenet.flow", func() runtime.Model { return lenet.New() }, []int{2}},
	{"../dropout_bn.flow", func() runtime.Model { return dropoutbn.New() }, nil},
	{"../counter.flow", func() runtime.Model { return counter.New() }, nil},
	{"../tf_attrs.flow", func() runtime.Model { return tfattrs.New() }, nil},
	{"../control.flow", func() runtime.Model { return control.New() }, nil},
	{"../control_nested.flow", func() runtime.Model { return controlnested.New() }, nil},
	{"../lstm_mnist.flow", func() runtime.Model { return lstmmnist.New() }, []int{2}},
	// Two symbolic dimensions, N and T, both bound to n here;
	// seqrnn_test.go runs other pairs.
	{"../seq_rnn.flow", func() runtime.Model { return seqrnn.New() }, nil},
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

// adaptiveStep is the learning rate of an adaptive optimizer (adam,
// rmsprop), or 0 for the others.
func adaptiveStep(g *ir.Module) float64 {
	if g.Optimizer == nil || (g.Optimizer.Name != "adam" && g.Optimizer.Name != "rmsprop") {
		return 0
	}
	return g.Optimizer.Attrs.Float("lr", 0)
}

// requireAdaptiveUpdateClose compares params after a step of an adaptive
// optimizer. Adam and RMSprop divide each gradient element by its own
// running magnitude, so an element whose gradient is at the level of
// float32 accumulation noise (generated code sums in float32, the
// interpreter in float64) gets an update anywhere in ±lr·g/(|g|+ε): that
// is the optimizer's conditioning, not a code error. The check allows a
// quarter of a step on top of maxRelErr; a wrong update rule (a missing
// bias correction scales the first step by 3.16, a sign error by 2) is
// still far outside it. The optimizers' exact arithmetic is checked in
// float64 against closed forms in compiler/optimizers_test.go.
func requireAdaptiveUpdateClose(t *testing.T, got []float32, want *ir.Tensor, lr float64, what string) {
	t.Helper()
	require.Len(t, got, len(want.Data), what)
	var scale, worst float64
	for _, w := range want.Data {
		scale = math.Max(scale, math.Abs(w))
	}
	for i, v := range got {
		require.False(t, math.IsNaN(float64(v)), "%s[%d] is NaN", what, i)
		worst = math.Max(worst, math.Abs(float64(v)-want.Data[i]))
	}
	require.LessOrEqual(t, worst, maxRelErr*scale+lr/4, "%s: max error %.3g with lr %g", what, worst, lr)
}

// feeds draws random inputs for a batch of n: both the interpreter's
// tensors and the generated code's slices, holding the same float32
// values.
func feeds(r *rand.Rand, g *ir.Module, n int) (map[string]*ir.Tensor, map[string][]float32) {
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
			switch {
			case in.Type.DType == ir.Bool:
				s[i] = float32(r.IntN(2))
			case in.Type.DType.IsInt():
				s[i] = float32(r.IntN(3)) // class labels: examples have at least 3 classes
			}
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
		batches := ex.batches
		if batches == nil {
			batches = []int{1, 3, 17}
		}
		for _, n := range batches {
			t.Run(fmt.Sprintf("%s/n=%d", ex.path, n), func(t *testing.T) {
				g, err := compiler.CompileFile(ex.path, compiler.Options{Verify: true})
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
					if len(g.Outputs()) > 0 {
						want, err := it.Predict(tens)
						require.NoError(t, err)
						got := m.PredictFeed(n, pick(sl, sig.PredictInputs))
						for i, o := range g.Outputs() {
							requireClose(t, got[i], want[i], fmt.Sprintf("step %d output %s", step, o.Name))
						}
					}
					if g.Loss() == nil {
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
						what := fmt.Sprintf("step %d updated %s", step, p.Name)
						if adaptiveStep(g) > 0 && ir.Trainable(p) {
							requireAdaptiveUpdateClose(t, params[i].Data, it.State[p], adaptiveStep(g), what)
						} else {
							requireClose(t, params[i].Data, it.State[p], what)
						}
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
		g, err := compiler.CompileFile(ex.path, compiler.Options{Verify: true})
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
