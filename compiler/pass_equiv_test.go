package compiler

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler/ir"
)

// passEquivTol is the relative tolerance between the optimized and the
// unoptimized graph: the passes reorder float32 roundings (a fused loss,
// a reassociated matmul chain), never the math.
const passEquivTol = 1e-4

// relDiff is max|got-want| / max(max|want|, 1e-6).
func relDiff(got, want []float64) float64 {
	var diff, scale float64
	for i := range want {
		diff = math.Max(diff, math.Abs(got[i]-want[i]))
		scale = math.Max(scale, math.Abs(want[i]))
	}
	return diff / math.Max(scale, 1e-6)
}

// randomFeeds draws every input of g for a batch of n: floats in [0, 1),
// integers (class labels) in {0, 1, 2}, booleans.
func randomFeeds(r *rand.Rand, g *ir.Module, n int) map[string]*ir.Tensor {
	b := ir.Binding{}
	for _, s := range g.Syms {
		b[s] = n
	}
	feeds := map[string]*ir.Tensor{}
	for _, in := range g.Inputs {
		t := ir.NewTensor(in.Type.DType, in.Type.Shape.Eval(b))
		for i := range t.Data {
			switch {
			case in.Type.DType == ir.Bool:
				t.Data[i] = float64(r.IntN(2))
			case in.Type.DType.IsInt():
				t.Data[i] = float64(r.IntN(3))
			default:
				t.Data[i] = float64(float32(r.Float64()))
			}
		}
		feeds[in.Name] = t
	}
	return feeds
}

// requireEquivalent compiles path with and without the optimization
// passes and checks, in the interpreter, that Predict, Loss and two
// training steps (their losses and the params after them) agree, from
// the same random params and inputs.
func requireEquivalent(t *testing.T, path string, batch int) {
	t.Helper()
	plain, err := CompileFile(path, Options{NoOptimize: true})
	require.NoError(t, err)
	opt, err := CompileFile(path, Options{})
	require.NoError(t, err)
	require.Equal(t, len(plain.Params), len(opt.Params), "the passes keep the params")
	require.Equal(t, len(plain.Inputs), len(opt.Inputs), "the passes keep the inputs")
	ip, err := NewInterpreter(plain)
	require.NoError(t, err)
	io, err := NewInterpreter(opt)
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(uint64(batch), 7))
	for i, p := range plain.Params {
		require.Equal(t, p.Name, opt.Params[i].Name)
		if !ir.Trainable(p) {
			continue
		}
		for j := range ip.State[p].Data {
			v := float64(float32(r.Float64() - 0.5))
			ip.State[p].Data[j] = v
			io.State[opt.Params[i]].Data[j] = v
		}
	}
	lr := 0.0
	if plain.Optimizer != nil {
		lr = plain.Optimizer.Attrs.Float("lr", 0)
	}
	for step := 0; step < 2; step++ {
		feeds := randomFeeds(r, plain, batch)
		if len(plain.Outputs()) > 0 {
			want, err := ip.Predict(feeds)
			require.NoError(t, err)
			got, err := io.Predict(feeds)
			require.NoError(t, err)
			for i := range want {
				d := relDiff(got[i].Data, want[i].Data)
				require.LessOrEqual(t, d, passEquivTol, "step %d output %s: relative difference %.3g", step, plain.OutputNames()[i], d)
			}
		}
		if plain.Loss() == nil {
			continue
		}
		want, err := ip.Loss(feeds)
		require.NoError(t, err)
		got, err := io.Loss(feeds)
		require.NoError(t, err)
		require.LessOrEqual(t, relDiff([]float64{got}, []float64{want}), passEquivTol, "step %d loss %v, optimized %v", step, want, got)
		want, err = ip.TrainStep(feeds)
		require.NoError(t, err)
		got, err = io.TrainStep(feeds)
		require.NoError(t, err)
		require.LessOrEqual(t, relDiff([]float64{got}, []float64{want}), passEquivTol, "step %d train loss %v, optimized %v", step, want, got)
		for i, p := range plain.Params {
			w, gv := ip.State[p].Data, io.State[opt.Params[i]].Data
			what := fmt.Sprintf("step %d param %s", step, p.Name)
			if a := plain.Optimizer.Name; (a == "adam" || a == "rmsprop") && ir.Trainable(p) {
				// Adaptive optimizers divide each gradient element by its
				// own magnitude: an element at the level of rounding noise
				// moves by up to lr either way (see examples/gen's
				// equivalence test); a wrong gradient is far outside this.
				var scale, worst float64
				for j := range w {
					scale = math.Max(scale, math.Abs(w[j]))
					worst = math.Max(worst, math.Abs(gv[j]-w[j]))
				}
				require.LessOrEqual(t, worst, passEquivTol*scale+lr/4, what)
			} else {
				d := relDiff(gv, w)
				require.LessOrEqual(t, d, passEquivTol, "%s: relative difference %.3g", what, d)
			}
			// Keep both on the same values so differences do not compound.
			copy(gv, w)
		}
	}
}

// TestPassesPreserveSemantics checks every example and every pass test
// model: the optimized graph computes what the unoptimized one does.
func TestPassesPreserveSemantics(t *testing.T) {
	examples, err := filepath.Glob("../examples/*.flow")
	require.NoError(t, err)
	models, err := filepath.Glob("testdata/passes/*.flow")
	require.NoError(t, err)
	for _, path := range append(examples, models...) {
		batch := 3
		if b := filepath.Base(path); b == "lenet.flow" || b == "mlp.flow" {
			batch = 2
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			requireEquivalent(t, path, batch)
		})
	}
}
