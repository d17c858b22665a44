package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDumpIR checks --dump-ir: one stage, all stages, and the list of
// valid names on a bad one.
func TestDumpIR(t *testing.T) {
	dir := t.TempDir()
	model := "../../examples/mnist_softmax.flow"
	code, _, errs := flowc("gen", model, "-o", dir, "--dump-ir=after:simplify")
	require.Equal(t, 0, code, errs)
	require.Equal(t, 2, strings.Count(errs, "== after "), "simplify runs on the forward and the training graph:\n%s", errs)
	require.Contains(t, errs, "== after simplify\ngraph MnistSoftmax\n")
	require.Contains(t, errs, "softmax_cross_entropy", "the loss is fused")

	code, _, errs = flowc("gen", model, "-o", dir, "--dump-ir=all")
	require.Equal(t, 0, code, errs)
	for _, stage := range []string{"check", "stable-log-softmax", "fold-constants", "cse", "dce", "train"} {
		require.Contains(t, errs, "== after "+stage+"\n")
	}

	code, _, errs = flowc("gen", model, "-o", dir, "--dump-ir=after:nope")
	require.Equal(t, 2, code)
	require.Contains(t, errs, "where a stage is one of check, stable-log-softmax, fold-constants")

	code, _, errs = flowc("build", model, "-o", filepath.Join(dir, "bin"), "--no-opt", "--dump-ir=after:cse")
	require.Equal(t, 2, code)
	require.Contains(t, errs, "pass cse does not run with --no-opt")
}

// TestNoOpt checks --no-opt: the generated package computes the loss as
// written instead of the fused cross entropy.
func TestNoOpt(t *testing.T) {
	dir := t.TempDir()
	model := "../../examples/mnist_softmax.flow"
	code, _, errs := flowc("gen", model, "-o", filepath.Join(dir, "opt"), "--package", "m")
	require.Equal(t, 0, code, errs)
	code, _, errs = flowc("gen", model, "-o", filepath.Join(dir, "plain"), "--package", "m", "--no-opt", "--dump-ir=after:train")
	require.Equal(t, 0, code, errs)
	require.NotContains(t, errs, "softmax_cross_entropy")
	opt, err := os.ReadFile(filepath.Join(dir, "opt", "m.go"))
	require.NoError(t, err)
	plain, err := os.ReadFile(filepath.Join(dir, "plain", "m.go"))
	require.NoError(t, err)
	require.NotEqual(t, string(opt), string(plain))
}

// TestDumpPlan checks --dump-plan: gen prints the plan, the same text as
// the example's golden plan, and writes no package.
func TestDumpPlan(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	code, out, errs := flowc("gen", "../../examples/mnist_softmax.flow", "-o", dir, "--dump-plan")
	require.Equal(t, 0, code, errs)
	want, err := os.ReadFile("../../examples/gen/mnistsoftmax/plan.txt")
	require.NoError(t, err)
	require.Equal(t, string(want), out)
	_, err = os.Stat(dir)
	require.True(t, os.IsNotExist(err), "--dump-plan writes no package")
}
