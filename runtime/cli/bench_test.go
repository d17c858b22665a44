package cli

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/flow-lang/flow/runtime"
	"github.com/stretchr/testify/require"
)

// benchJSON runs bench --json with args and decodes its output.
func benchJSON(t *testing.T, m runtime.Model, args ...string) map[string]any {
	t.Helper()
	code, stdout, stderr := run(m, append([]string{"bench", "--json"}, args...)...)
	require.Equal(t, ExitOK, code, stderr)
	require.Empty(t, stderr)
	require.Equal(t, 1, strings.Count(stdout, "\n"), "one JSON line: %q", stdout)
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	return res
}

func TestBenchJSON(t *testing.T) {
	procs := goruntime.GOMAXPROCS(0)
	for _, what := range []string{"train", "predict"} {
		t.Run(what, func(t *testing.T) {
			m := newSoftmaxModel()
			res := benchJSON(t, m, "--what", what, "--batch", "7", "--threads", "1", "--iterations", "12", "--warmup", "2")
			for _, key := range []string{"median_us", "p10_us", "p90_us", "iterations", "threads", "batch", "what", "model", "examples_per_s", "allocs_per_call"} {
				require.Contains(t, res, key)
			}
			require.Equal(t, what, res["what"])
			require.Equal(t, "FakeSoftmax", res["model"])
			require.EqualValues(t, 12, res["iterations"])
			require.EqualValues(t, 1, res["threads"])
			require.EqualValues(t, 7, res["batch"])
			require.EqualValues(t, 2, res["warmup"])
			p10, med, p90 := res["p10_us"].(float64), res["median_us"].(float64), res["p90_us"].(float64)
			require.Greater(t, p10, 0.0)
			require.LessOrEqual(t, res["min_us"].(float64), p10)
			require.LessOrEqual(t, p10, med)
			require.LessOrEqual(t, med, p90)
			require.InDelta(t, 7/(med/1e6), res["examples_per_s"].(float64), 0.05+1e-9*res["examples_per_s"].(float64))
			require.GreaterOrEqual(t, res["allocs_per_call"].(float64), 0.0)
			if rss, ok := res["peak_rss_kb"]; ok {
				require.Greater(t, rss.(float64), 0.0)
			}
			// Warm-up and timed calls: train steps are counted by the model.
			if what == "train" {
				require.Equal(t, 14, m.steps)
			} else {
				require.Equal(t, 0, m.steps)
			}
		})
	}
	require.Equal(t, procs, goruntime.GOMAXPROCS(0), "bench restores GOMAXPROCS")
}

func TestBenchDefaults(t *testing.T) {
	// The default iterations time for about two seconds; the fake model's
	// calls are fast, so expect well over the minimum.
	m := newSoftmaxModel()
	res := benchJSON(t, m, "--what", "predict", "--batch", "1")
	require.GreaterOrEqual(t, res["iterations"].(float64), float64(minBenchIterations))
	require.EqualValues(t, goruntime.NumCPU(), res["threads"])
	require.EqualValues(t, defaultBenchWarmup, res["warmup"])
}

func TestBenchHuman(t *testing.T) {
	code, stdout, stderr := run(newSoftmaxModel(), "bench", "--what", "train", "--batch", "10", "--iterations", "3", "--threads", "2")
	require.Equal(t, ExitOK, code, stderr)
	require.Regexp(t, `^FakeSoftmax train batch 10, 2 threads: median [0-9.e+]+ (µs|ms|s) \(p10 .*, p90 .*\) over 3 calls, [0-9]+ examples/s, [0-9.]+ allocs/call\n$`, stdout)
}

func TestBenchUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no what", []string{"--batch", "1"}, "error: bench: --what is required (train or predict)"},
		{"bad what", []string{"--what", "eval", "--batch", "1"}, `error: bench: --what must be train or predict, not "eval"`},
		{"no batch", []string{"--what", "train"}, "error: bench: --batch is required"},
		{"zero batch", []string{"--what", "train", "--batch", "0"}, "error: bench: --batch must be positive, got 0"},
		{"negative threads", []string{"--what", "train", "--batch", "1", "--threads", "-1"}, "error: bench: --threads must not be negative, got -1"},
		{"negative iterations", []string{"--what", "train", "--batch", "1", "--iterations", "-3"}, "error: bench: --iterations must not be negative, got -3"},
		{"negative warmup", []string{"--what", "train", "--batch", "1", "--warmup", "-1"}, "error: bench: --warmup must not be negative, got -1"},
		{"unknown flag", []string{"--what", "train", "--batch", "1", "--fast"}, "flag provided but not defined: -fast"},
		{"not a number", []string{"--what", "train", "--batch", "x"}, `invalid value "x" for flag -batch`},
		{"extra argument", []string{"--what", "train", "--batch", "1", "now"}, `error: bench: unexpected argument "now"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(newSoftmaxModel(), append([]string{"bench"}, tc.args...)...)
			require.Equal(t, ExitUsage, code)
			require.Empty(t, stdout)
			require.Contains(t, stderr, tc.want)
			require.Contains(t, stderr, "usage: ")
		})
	}
}

func TestBenchModelErrors(t *testing.T) {
	m := newSoftmaxModel()
	code, _, stderr := run(m, "bench", "--what", "predict", "--batch", "1001", "--iterations", "1")
	require.Equal(t, ExitError, code)
	require.Equal(t, "error: batch size 1001 exceeds the model's maximum batch of 1000\n", stderr)

	m = newSoftmaxModel()
	for i := range m.sig.Inputs {
		m.sig.Inputs[i].Shape[0], m.sig.Inputs[i].Dims = 20, nil
	}
	code, _, stderr = run(m, "bench", "--what", "train", "--batch", "10", "--iterations", "1")
	require.Equal(t, ExitError, code)
	require.Equal(t, "error: input x is f32[20,784], so the batch size must be 20, not 10\n", stderr)
	code, _, stderr = run(m, "bench", "--what", "train", "--batch", "20", "--iterations", "1")
	require.Equal(t, ExitOK, code, stderr)

	m = newSoftmaxModel()
	m.sig.Loss = ""
	code, _, stderr = run(m, "bench", "--what", "train", "--batch", "1", "--iterations", "1")
	require.Equal(t, ExitError, code)
	require.Equal(t, "error: model FakeSoftmax has no training step\n", stderr)
}

// recordingModel records the feeds it is given.
type recordingModel struct {
	sig  runtime.Signature
	n    []int
	feed [][]float32
}

func (m *recordingModel) Signature() *runtime.Signature { return &m.sig }
func (m *recordingModel) Params() []runtime.Param       { return nil }
func (m *recordingModel) PredictFeed(n int, in [][]float32) [][]float32 {
	m.n, m.feed = append(m.n, n), in
	return nil
}
func (m *recordingModel) TrainFeed(n int, in [][]float32) float32 {
	m.n, m.feed = append(m.n, n), in
	return 0
}
func (m *recordingModel) LossFeed(n int, in [][]float32) float32 { return 0 }

func TestBenchSyntheticInputs(t *testing.T) {
	m := &recordingModel{sig: runtime.Signature{
		Model: "Shapes",
		Inputs: []runtime.TensorSpec{
			{Name: "img", DType: "f32", Shape: []int{-1, 4, 4, 3}, Dims: []string{"N", "", "", ""}},
			{Name: "label", DType: "i32", Shape: []int{-1}, Dims: []string{"N"}},
			{Name: "onehot", DType: "f32", Shape: []int{-1, 5}, Dims: []string{"N", ""}},
			{Name: "mask", DType: "bool", Shape: []int{6}},
			{Name: "scale", DType: "f32", Shape: []int{}},
		},
		Outputs: []runtime.TensorSpec{
			{Name: "logits", DType: "f32", Shape: []int{-1, 7}, Dims: []string{"N", ""}},
			{Name: "probs", DType: "f32", Shape: []int{-1, 5}, Dims: []string{"N", ""}},
		},
		PredictInputs: []string{"img", "mask", "scale"},
		TrainInputs:   []string{"img", "label", "onehot", "mask", "scale"},
		Loss:          "loss",
	}}
	code, _, stderr := run(m, "bench", "--what", "train", "--batch", "3", "--iterations", "2", "--warmup", "1")
	require.Equal(t, ExitOK, code, stderr)
	require.Equal(t, []int{3, 3, 3}, m.n)
	img, label, onehot, mask, scale := m.feed[0], m.feed[1], m.feed[2], m.feed[3], m.feed[4]
	require.Len(t, img, 3*4*4*3)
	distinct := map[float32]bool{}
	for _, v := range img {
		require.True(t, v >= 0 && v < 1, "%v", v)
		distinct[v] = true
	}
	require.Greater(t, len(distinct), 10, "pseudo-random values")
	require.Len(t, label, 3)
	for _, v := range label {
		// Class labels are valid for the narrowest class output (5).
		require.True(t, v >= 0 && v < 5 && v == float32(math.Trunc(float64(v))), "%v", v)
	}
	require.Len(t, onehot, 15)
	for row := 0; row < 3; row++ {
		var sum float32
		for _, v := range onehot[row*5 : row*5+5] {
			require.True(t, v == 0 || v == 1)
			sum += v
		}
		require.Equal(t, float32(1), sum)
	}
	require.Len(t, mask, 6)
	for _, v := range mask {
		require.True(t, v == 0 || v == 1)
	}
	require.Len(t, scale, 1)

	// The inputs are deterministic.
	first := append([]float32(nil), img...)
	m.n = nil
	code, _, stderr = run(m, "bench", "--what", "predict", "--batch", "3", "--iterations", "1", "--warmup", "0")
	require.Equal(t, ExitOK, code, stderr)
	require.Equal(t, []int{3}, m.n)
	require.Equal(t, first, m.feed[0])
	require.Len(t, m.feed, 3)
}

// callCounter counts the calls that run a model.
type callCounter struct {
	runtime.Model
	calls int
}

func (m *callCounter) PredictFeed(n int, in [][]float32) [][]float32 {
	m.calls++
	return m.Model.PredictFeed(n, in)
}

func (m *callCounter) TrainFeed(n int, in [][]float32) float32 {
	m.calls++
	return m.Model.TrainFeed(n, in)
}

func (m *callCounter) LossFeed(n int, in [][]float32) float32 {
	m.calls++
	return m.Model.LossFeed(n, in)
}

// TestInfoDoesNotRunTheModel checks that info prints the signature's
// static facts, estimates included, without calling the model (which
// takes seconds under emulation and may not fit in memory), unless
// --measure asks it to time the calls.
func TestInfoDoesNotRunTheModel(t *testing.T) {
	newModel := func() *callCounter {
		m := newSoftmaxModel()
		m.sig.Estimates = []runtime.Estimate{{Program: "predict", Batch: 1, Micros: 5}, {Program: "train", Batch: 100, Micros: 120}}
		return &callCounter{Model: m}
	}
	for _, args := range [][]string{{"info"}, {"info", "--json"}, {"info", "--no-measure"}, {"info", "--json", "--no-measure"}} {
		m := newModel()
		code, stdout, stderr := run(m, args...)
		require.Equal(t, ExitOK, code, stderr)
		require.Contains(t, stdout, "120", "%v shows the estimates", args)
		require.Zero(t, m.calls, "%v ran the model", args)
	}
	m := newModel()
	code, _, stderr := run(m, "info", "--measure")
	require.Equal(t, ExitOK, code, stderr)
	require.NotZero(t, m.calls, "--measure times calls")

	code, _, stderr = run(newModel(), "info", "--measure", "--no-measure")
	require.Equal(t, ExitUsage, code)
	require.Contains(t, stderr, "error: info: give --measure or --no-measure, not both")
}

func TestQuantile(t *testing.T) {
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	require.Equal(t, 6.0, quantile(v, 0.5))
	require.Equal(t, 2.0, quantile(v, 0.1))
	require.Equal(t, 10.0, quantile(v, 0.9))
	require.Equal(t, 2.5, quantile([]float64{2, 3}, 0.5))
	require.Equal(t, 4.0, quantile([]float64{4}, 0.9))
}

func TestInfoEstimates(t *testing.T) {
	withEstimates := func() *softmaxModel {
		m := newSoftmaxModel()
		m.sig.Estimates = []runtime.Estimate{{Program: "predict", Batch: 1, Micros: 5}, {Program: "train", Batch: 100, Micros: 120}}
		return m
	}

	// Without estimates info prints nothing extra.
	_, stdout, _ := run(newSoftmaxModel(), "info")
	require.NotContains(t, stdout, "estimates")

	m := withEstimates()
	code, stdout, stderr := run(m, "info", "--measure")
	require.Equal(t, ExitOK, code, stderr)
	require.Regexp(t, `(?m)^estimates:\n  program  batch  estimate +measured +est/measured\n  predict      1  +5 µs +[0-9.e+]+ (µs|ms|s) +[0-9.]+\n  train      100  +120 µs +[0-9.e+]+ (µs|ms|s) +[0-9.]+\n`, stdout)
	require.GreaterOrEqual(t, m.steps, infoWarmup+infoIterations, "info timed training steps")

	m = withEstimates()
	code, stdout, stderr = run(m, "info")
	require.Equal(t, ExitOK, code, stderr)
	require.Contains(t, stdout, "estimates (the cost model's; info --measure times them):\n  program  batch  estimate\n  predict      1      5 µs\n  train      100    120 µs\n")
	require.Equal(t, 0, m.steps)

	code, stdout, stderr = run(withEstimates(), "info", "--json", "--measure")
	require.Equal(t, ExitOK, code, stderr)
	var got struct {
		Model     string `json:"model"`
		Estimates []struct {
			Program    string   `json:"program"`
			Batch      int      `json:"batch"`
			US         float64  `json:"us"`
			MeasuredUS *float64 `json:"measured_us"`
			Ratio      *float64 `json:"ratio"`
		} `json:"estimates"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &got))
	require.Equal(t, "FakeSoftmax", got.Model)
	require.Len(t, got.Estimates, 2)
	require.Equal(t, "train", got.Estimates[1].Program)
	require.Equal(t, 100, got.Estimates[1].Batch)
	require.Equal(t, 120.0, got.Estimates[1].US)
	require.NotNil(t, got.Estimates[1].MeasuredUS)
	require.Greater(t, *got.Estimates[1].MeasuredUS, 0.0)
	require.InDelta(t, 120 / *got.Estimates[1].MeasuredUS, *got.Estimates[1].Ratio, 1e-9)
	// The signature still decodes, estimates included.
	var sig runtime.Signature
	require.NoError(t, json.Unmarshal([]byte(stdout), &sig))
	require.Equal(t, withEstimates().sig, sig)

	code, stdout, _ = run(withEstimates(), "info", "--json")
	require.Equal(t, ExitOK, code)
	require.NotContains(t, stdout, "measured_us")

	// A call that cannot be timed says why.
	m = withEstimates()
	m.sig.Estimates = append(m.sig.Estimates, runtime.Estimate{Program: "predict", Batch: 5000, Micros: 9})
	code, stdout, stderr = run(m, "info", "--measure")
	require.Equal(t, ExitOK, code, stderr)
	require.Regexp(t, `(?m)^  predict   5000      9 µs +n/a +-  \(batch size 5000 exceeds the model's maximum batch of 1000\)$`, stdout)
}

func TestBenchCPUProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	benchJSON(t, newSoftmaxModel(), "--what", "train", "--batch", "7", "--iterations", "20", "--cpuprofile", path)
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	// A pprof profile is a gzipped protobuf; its sample types name the
	// CPU profile's units.
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	raw, err := io.ReadAll(zr)
	require.NoError(t, err)
	require.Contains(t, string(raw), "nanoseconds")

	code, _, stderr := run(newSoftmaxModel(), "bench", "--what", "train", "--batch", "7", "--iterations", "1", "--cpuprofile", filepath.Join(t.TempDir(), "no", "such", "dir", "p"))
	require.NotEqual(t, ExitOK, code)
	require.Contains(t, stderr, "no such file or directory")
}
