package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flow-lang/flow/compiler/cost"
)

// costJSON is the contract of `flowc cost --json`.
type costJSON struct {
	Nodes []struct {
		Program string  `json:"program"`
		ID      int     `json:"id"`
		Op      string  `json:"op"`
		FLOPs   float64 `json:"flops"`
		Micros  float64 `json:"us"`
		Kernel  string  `json:"kernel"`
		Threads int     `json:"threads"`
		Reason  string  `json:"reason"`
	} `json:"nodes"`
	PredictUs *float64      `json:"predict_us_est"`
	TrainUs   *float64      `json:"train_step_us_est"`
	Batch     int           `json:"batch"`
	Profile   *cost.Profile `json:"profile"`
}

func TestCostJSONOnExamples(t *testing.T) {
	t.Setenv(cost.ProfileEnv, "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // no calibration: the built-in profile
	t.Setenv("HOME", t.TempDir())
	for _, ex := range []string{"mnist_softmax", "mlp", "lenet"} {
		t.Run(ex, func(t *testing.T) {
			code, out, errs := flowc("cost", "../../examples/"+ex+".flow", "--json", "--batch", "32")
			require.Equal(t, 0, code, errs)
			var got costJSON
			require.NoError(t, json.Unmarshal([]byte(out), &got), out)
			require.NotNil(t, got.PredictUs)
			require.NotNil(t, got.TrainUs)
			require.Greater(t, *got.PredictUs, 0.0)
			require.Greater(t, *got.TrainUs, *got.PredictUs)
			require.Equal(t, 32, got.Batch)
			require.NotNil(t, got.Profile)
			var sum [2]float64
			for _, n := range got.Nodes {
				require.NotEmpty(t, n.Kernel)
				require.NotEmpty(t, n.Reason)
				require.GreaterOrEqual(t, n.Threads, 1)
				require.GreaterOrEqual(t, n.Micros, 0.0)
				switch n.Program {
				case "predict":
					sum[0] += n.Micros
				case "train":
					sum[1] += n.Micros
				default:
					t.Fatalf("node in program %q", n.Program)
				}
			}
			require.InDelta(t, *got.PredictUs, sum[0], 1e-6**got.PredictUs)
			require.InDelta(t, *got.TrainUs, sum[1], 1e-6**got.TrainUs)
		})
	}
}

func TestCostTable(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "p.json")
	require.NoError(t, cost.Default().Save(prof))
	code, out, errs := flowc("cost", "../../examples/mnist_softmax.flow", "--profile", prof, "--batch", "100")
	require.Equal(t, 0, code, errs)
	// The forward product's kernel is the cost model's choice.
	fwd := cost.Gemm(cost.Default(), 100, 10, 784, false, false).Kernel
	for _, want := range []string{"predict, batch 100", "train step, batch 100", "matmul", fwd, "predict:", "train step:"} {
		require.Contains(t, out, want)
	}
	// The matmul at batch 1 takes the few-rows kernel.
	code, out, errs = flowc("cost", "../../examples/mnist_softmax.flow", "--profile", prof, "--batch", "1")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "rows")
}

func TestCostBadProfile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte("{not json"), 0o644))
	code, _, errs := flowc("cost", "../../examples/mnist_softmax.flow", "--profile", bad)
	require.Equal(t, 1, code)
	require.Contains(t, errs, bad)
	missing := filepath.Join(dir, "missing.json")
	code, _, errs = flowc("cost", "../../examples/mnist_softmax.flow", "--profile", missing)
	require.Equal(t, 1, code)
	require.Contains(t, errs, missing)
	// FLOW_PROFILE pointing at a corrupt file fails builds' profile
	// loading with the file's name.
	t.Setenv(cost.ProfileEnv, bad)
	code, _, errs = flowc("cost", "../../examples/mnist_softmax.flow")
	require.Equal(t, 1, code)
	require.Contains(t, errs, bad)
	code, _, _ = flowc("cost", "../../examples/mnist_softmax.flow", "--batch", "0")
	require.Equal(t, 2, code)
}

func TestCalibrateWritesAProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("calibration runs benchmarks")
	}
	path := filepath.Join(t.TempDir(), "cfg", "profile.json")
	code, out, errs := flowc("calibrate", "--quick", "-o", path)
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, path)
	p, err := cost.Load(path)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(p.Source, "flowc calibrate"), p.Source)
	require.GreaterOrEqual(t, p.Cores, 1)
	// The calibrated profile drives `flowc cost`, through the flag and
	// through FLOW_PROFILE.
	code, out, errs = flowc("cost", "../../examples/mlp.flow", "--json", "--profile", path)
	require.Equal(t, 0, code, errs)
	var got costJSON
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Equal(t, p.Source, got.Profile.Source)
	require.Greater(t, *got.TrainUs, 0.0)
	t.Setenv(cost.ProfileEnv, path)
	code, out, errs = flowc("cost", "../../examples/mlp.flow", "--json")
	require.Equal(t, 0, code, errs)
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Equal(t, p.Source, got.Profile.Source)
}
