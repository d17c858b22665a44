package compiler

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler/ir"
)

// TestMain runs the package's tests with ir.Verify after every pass of
// every compilation: a pass that leaves invalid IR fails the test that
// compiled with it, naming the pass.
func TestMain(m *testing.M) {
	verifyAll = true
	os.Exit(m.Run())
}

// TestStageNamesArePipeline checks that the stages DumpAfter and Timing
// report are the pipeline's passes that ran, in order, and that
// StageNames lists each once, from the pipeline.
func TestStageNamesArePipeline(t *testing.T) {
	for _, noOpt := range []bool{false, true} {
		for _, path := range []string{"../examples/mnist_softmax.flow", "../examples/dropout_bn.flow"} {
			var dumped, timed []string
			_, err := CompileFile(path, Options{NoOptimize: noOpt,
				DumpAfter: func(s string, _ *ir.Module) { dumped = append(dumped, s) },
				Timing:    func(s string, _ time.Duration) { timed = append(timed, s) },
			})
			require.NoError(t, err)
			cx := &PassContext{NoOptimize: noOpt}
			want := []string{"check"}
			for _, p := range cx.Pipeline() {
				// train-mode runs for dropout and batch_norm, the loop
				// passes for models with loops (neither has one).
				if (p.Name != TrainMode.Name || path == "../examples/dropout_bn.flow") && p.Name != HoistLoopTransposes.Name {
					want = append(want, p.Name)
				}
			}
			require.Equal(t, want, dumped, "%s, NoOptimize %v", path, noOpt)
			require.Equal(t, append([]string{"parse"}, want...), timed)
		}
	}
	var names []string
	for _, p := range (&PassContext{}).Pipeline() {
		if !slices.Contains(names, p.Name) {
			names = append(names, p.Name)
		}
	}
	require.Equal(t, append([]string{"check"}, names...), StageNames())
	require.Equal(t, []string{"check", "stable-log-softmax", "fold-constants", "simplify", "transpose-matmul", "matmul-chain", "cse", "dce", "train-mode", "train", "hoist-loop-transposes"}, StageNames(), "the stages docs and goldens name")
	require.Equal(t, []string{"check", "stable-log-softmax", "train-mode", "train"}, LoweringStageNames())
	require.Equal(t, []string{"training", "prune", "order-updates"}, []string{Train.Steps[0].Name, Train.Steps[1].Name, Train.Steps[2].Name})
}

// TestVerifyNamesThePass checks that with Verify a pass leaving invalid
// IR is an internal error naming it.
func TestVerifyNamesThePass(t *testing.T) {
	g, err := Compile("m.flow", []byte(seedModel), Options{})
	require.NoError(t, err)
	cx := &PassContext{Verify: true}
	breaks := Pass{Name: "breaks-order", Run: func(g *ir.Module) error {
		slices.Reverse(g.Body.Nodes)
		return nil
	}}
	err = cx.runPass(g, breaks)
	require.ErrorContains(t, err, "internal error: the IR after pass breaks-order is invalid")
	require.ErrorContains(t, err, "not in a topological order")
	require.NoError(t, (&PassContext{}).runPass(g, breaks), "without Verify nothing checks")
}

// TestOrderUpdates checks the control edges of a training module: every
// update comes after the readers of its param, and a user's update written before a reader moves after it.
func TestOrderUpdates(t *testing.T) {
	g, err := Compile("m.flow", []byte(`model M {
    input x: f32[N, 4]
    input y: f32[N, 4]
    param W: f32[4, 4] = ones
    param s: f32[] = zeros
    param r: f32[] = zeros
    p = x @ W
    loss = mean(square(p - y))
    k = assign_add(s, 1)
    q = assign(r, s * 2)
    output p
    train loss with sgd(lr = 0.1)
}
`), Options{})
	require.NoError(t, err)
	require.True(t, g.UpdatesOrdered)
	var k *ir.Node
	for _, u := range g.Updates() {
		if u.Inputs[0].Name == "s" {
			k = u
		}
	}
	require.Len(t, k.Deps, 1)
	require.Equal(t, ir.Mul, k.Deps[0].Op, "k after s * 2")
	require.Greater(t, slices.Index(g.Body.Nodes, k), slices.Index(g.Body.Nodes, k.Deps[0]))
	// sgd's update of W comes after the forward product, which reads W
	// (though the gradient its value needs depends on it): the edges do
	// not prune what data orders already.
	w := g.Updates()[len(g.Updates())-1]
	require.Equal(t, "W", w.Inputs[0].Name)
	require.Len(t, w.Deps, 1)
	require.Equal(t, ir.Matmul, w.Deps[0].Op)
	require.NoError(t, ir.Verify(g))
}
