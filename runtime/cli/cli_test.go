package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flow-lang/flow/runtime"
	"github.com/flow-lang/flow/runtime/mnist"
	"github.com/stretchr/testify/require"
)

// syntheticDigits returns n 28x28 images whose label c is drawn as a bright
// horizontal band at rows 2c+2..2c+4 over a noisy background.
func syntheticDigits(r *rand.Rand, n int) (*mnist.Images, []uint8) {
	im := &mnist.Images{N: n, Rows: 28, Cols: 28, Pixels: make([]uint8, n*784)}
	labels := make([]uint8, n)
	for i := range labels {
		c := r.IntN(10)
		labels[i] = uint8(c)
		px := im.Image(i)
		for j := range px {
			px[j] = uint8(r.IntN(40))
		}
		for row := 2*c + 2; row < 2*c+4; row++ {
			for col := 4; col < 24; col++ {
				px[row*28+col] = uint8(180 + r.IntN(76))
			}
		}
	}
	return im, labels
}

// writeData writes a small synthetic MNIST directory (200 train, 50 test).
func writeData(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	trainIm, trainLbl := syntheticDigits(r, 200)
	testIm, testLbl := syntheticDigits(r, 50)
	require.NoError(t, mnist.WriteImages(filepath.Join(dir, mnist.TrainImagesFile), trainIm))
	require.NoError(t, mnist.WriteLabels(filepath.Join(dir, mnist.TrainLabelsFile), trainLbl))
	require.NoError(t, mnist.WriteImages(filepath.Join(dir, mnist.TestImagesFile), testIm))
	require.NoError(t, mnist.WriteLabels(filepath.Join(dir, mnist.TestLabelsFile), testLbl))
	return dir
}

// untrainedWarning matches the warning eval and predict print without a
// checkpoint; run drops it so tests compare the rest of stderr exactly,
// and TestUntrainedWarning checks it.
var untrainedWarning = regexp.MustCompile(`(?m)^warning: no --checkpoint given: .*\n`)

// run calls Main and returns its exit code, stdout and stderr (without the
// untrained-parameters warning).
func run(m runtime.Model, args ...string) (int, string, string) {
	code, stdout, stderr := runRaw(m, args...)
	return code, stdout, untrainedWarning.ReplaceAllString(stderr, "")
}

// runRaw calls Main and returns its exit code, stdout and stderr.
func runRaw(m runtime.Model, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := Main(args, m, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestUntrainedWarning checks eval and predict say when they use the
// initial parameters, and stay quiet with a checkpoint.
func TestUntrainedWarning(t *testing.T) {
	dir := writeData(t)
	_, _, stderr := runRaw(newSoftmaxModel(), "eval", "--data", dir)
	require.Contains(t, stderr, "warning: no --checkpoint given: evaluating the initial, untrained parameters")
	ckpt := t.TempDir()
	code, _, errs := runRaw(newSoftmaxModel(), "train", "--data", dir, "--steps", "2", "--batch", "10", "--quiet", "--checkpoint", ckpt)
	require.Equal(t, 0, code, errs)
	_, _, stderr = runRaw(newSoftmaxModel(), "eval", "--data", dir, "--checkpoint", ckpt)
	require.NotContains(t, stderr, "warning")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestTrainJSON(t *testing.T) {
	dir := writeData(t)
	code, stdout, stderr := run(newSoftmaxModel(), "train", "--data", dir, "--steps", "60", "--batch", "20", "--json", "--seed", "3")
	require.Equal(t, ExitOK, code, stderr)
	require.Contains(t, stderr, "step 1/60", "progress goes to stderr with --json")
	require.Contains(t, stderr, "step 60/60")

	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(lastLine(stdout)), &res), stdout)
	for _, field := range []string{"steps", "final_loss_per_example", "test_accuracy", "examples_per_sec", "seconds", "batch", "epochs", "model"} {
		require.Contains(t, res, field)
	}
	require.Equal(t, 60.0, res["steps"])
	require.Equal(t, 20.0, res["batch"])
	require.Equal(t, 6.0, res["epochs"])
	require.Equal(t, "FakeSoftmax", res["model"])
	// Zero weights start at loss ln(10) = 2.30.
	require.Less(t, res["final_loss_per_example"].(float64), 1.0)
	require.Greater(t, res["test_accuracy"].(float64), 0.8)
	require.Greater(t, res["examples_per_sec"].(float64), 0.0)
}

func TestTrainDecreasesLoss(t *testing.T) {
	dir := writeData(t)
	m := newSoftmaxModel()
	code, stdout, _ := run(m, "eval", "--data", dir, "--json")
	require.Equal(t, ExitOK, code)
	var before map[string]any
	require.NoError(t, json.Unmarshal([]byte(lastLine(stdout)), &before))
	require.InDelta(t, math.Log(10), before["test_loss_per_example"].(float64), 1e-5)

	code, _, stderr := run(m, "train", "--data", dir, "--steps", "30", "--batch", "10", "--quiet")
	require.Equal(t, ExitOK, code, stderr)

	code, stdout, _ = run(m, "eval", "--data", dir, "--json")
	require.Equal(t, ExitOK, code)
	var after map[string]any
	require.NoError(t, json.Unmarshal([]byte(lastLine(stdout)), &after))
	require.Less(t, after["test_loss_per_example"].(float64), before["test_loss_per_example"].(float64)/2)
	require.Greater(t, after["test_accuracy"].(float64), before["test_accuracy"].(float64))
}

func TestTrainText(t *testing.T) {
	dir := writeData(t)
	code, stdout, stderr := run(newSoftmaxModel(), "train", "--data", dir, "--epochs", "2", "--batch", "40")
	require.Equal(t, ExitOK, code, stderr)
	require.Empty(t, stderr)
	require.Contains(t, stdout, "training FakeSoftmax on 200 examples: 10 steps of batch 40 (2.00 epochs); loss per example\n")
	require.Contains(t, stdout, "step 1/10  loss 2.3026")
	require.Contains(t, stdout, "step 10/10  loss ")
	require.Regexp(t, `\ntest accuracy: \d\.\d{4}\n$`, stdout)
}

func TestTrainDeterministic(t *testing.T) {
	dir := writeData(t)
	finalLoss := func(seed string) any {
		code, stdout, stderr := run(newSoftmaxModel(), "train", "--data", dir, "--steps", "15", "--batch", "16", "--seed", seed, "--json", "--quiet")
		require.Equal(t, ExitOK, code, stderr)
		require.Empty(t, stderr)
		var res map[string]any
		require.NoError(t, json.Unmarshal([]byte(lastLine(stdout)), &res))
		return res["final_loss_per_example"]
	}
	require.Equal(t, finalLoss("5"), finalLoss("5"))
	require.NotEqual(t, finalLoss("5"), finalLoss("6"))
}

func TestTrainDiverges(t *testing.T) {
	dir := writeData(t)
	m := newSoftmaxModel()
	m.nanAt = 5
	code, _, stderr := run(m, "train", "--data", dir, "--steps", "20", "--batch", "10", "--quiet")
	require.Equal(t, ExitError, code)
	require.Equal(t, "error: training diverged at step 5: loss is NaN\n", stderr)
}

func TestTrainErrors(t *testing.T) {
	dir := writeData(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"zero steps", []string{"train", "--steps", "0"}, ExitUsage, "error: train: --steps must be positive, got 0\n"},
		{"negative batch", []string{"train", "--batch", "-5"}, ExitUsage, "error: train: --batch must be positive, got -5\n"},
		{"steps and epochs", []string{"train", "--steps", "5", "--epochs", "1"}, ExitUsage, "error: train: give --steps or --epochs, not both\n"},
		{"unknown flag", []string{"train", "--nope"}, ExitUsage, "flag provided but not defined: -nope\n"},
		{"positional", []string{"train", "extra"}, ExitUsage, "error: train: unexpected argument \"extra\"\n"},
		{"batch above max", []string{"train", "--data", dir, "--batch", "5000"}, ExitError, "error: batch size 5000 exceeds the model's maximum batch of 1000\n"},
		{"missing data", []string{"train", "--data", filepath.Join(dir, "absent")}, ExitError, "error: MNIST data directory " + filepath.Join(dir, "absent") + " (from --data):"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(newSoftmaxModel(), tc.args...)
			require.Equal(t, tc.code, code)
			require.Empty(t, stdout)
			require.True(t, strings.HasPrefix(stderr, tc.want), "stderr: %s", stderr)
			if tc.code == ExitError {
				require.Equal(t, 1, strings.Count(stderr, "\n"), "errors are one line: %q", stderr)
			}
		})
	}
}

// TestBatchMemory checks that a batch whose working buffers exceed the
// memory limit is refused before anything is allocated, saying which
// batch fits, in train, bench and serve; eval, whose batch is only how many
// examples it feeds at once, feeds as many as fit.
func TestBatchMemory(t *testing.T) {
	dir := writeData(t)
	m := newSoftmaxModel()
	// 40 kB of params and 4,000 + 2,000 bytes per example of buffers:
	// a limit of 100,000 bytes fits batches up to 28.
	m.sig.Memory = runtime.Memory{ParamBytes: 40000, ArenaBytes: []int64{4000, 2000}}
	t.Setenv(runtime.MemoryLimitEnv, "100000")
	msg := func(batch int, total, arena string) string {
		return fmt.Sprintf("error: model FakeSoftmax at batch size %d needs %s (parameters 39.1 KiB, working buffers %s), more than the 97.7 KiB of $FLOW_MAX_MEMORY; the largest batch that fits is 28\n", batch, total, arena)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--data", dir, "--batch", "100", "--steps", "1"}, msg(100, "238.3 KiB", "199.2 KiB")},
		{[]string{"bench", "--what", "train", "--batch", "100"}, msg(100, "238.3 KiB", "199.2 KiB")},
		{[]string{"serve", "--max-batch", "100"}, "error: serve --max-batch 100: " + strings.TrimPrefix(msg(100, "238.3 KiB", "199.2 KiB"), "error: ")},
	} {
		code, _, stderr := run(m, tc.args...)
		require.Equal(t, ExitError, code, "%v: %s", tc.args, stderr)
		require.Equal(t, tc.want, stderr, tc.args)
	}
	code, _, stderr := run(m, "train", "--data", dir, "--batch", "28", "--steps", "1", "--quiet")
	require.Equal(t, 0, code, stderr)
	code, _, stderr = run(m, "eval", "--data", dir, "--batch", "100")
	require.Equal(t, 0, code, stderr)
	t.Setenv(runtime.MemoryLimitEnv, "45000") // not even one example fits
	code, _, stderr = run(m, "eval", "--data", dir)
	require.Equal(t, ExitError, code)
	require.Equal(t, "error: model FakeSoftmax needs 44.9 KiB (parameters 39.1 KiB, working buffers 5.9 KiB), more than the 43.9 KiB of $FLOW_MAX_MEMORY; set $FLOW_MAX_MEMORY to change the limit\n", stderr)
}

func TestSignatureMismatch(t *testing.T) {
	m := newSoftmaxModel()
	m.sig.Inputs[1].Shape = []int{-1, 5}
	code, _, stderr := run(m, "train", "--steps", "1")
	require.Equal(t, ExitError, code)
	require.Contains(t, stderr, "error: model FakeSoftmax does not fit MNIST training: train input y_ is f32[N,5]; want exactly 2 f32 train inputs")
	require.Contains(t, stderr, "(train inputs: x f32[N,784], y_ f32[N,5])")

	m = newSoftmaxModel()
	m.sig.TrainInputs = []string{"x"}
	code, _, stderr = run(m, "train")
	require.Equal(t, ExitError, code)
	require.Contains(t, stderr, "it has 1 train inputs")

	m = newSoftmaxModel()
	m.sig.Outputs[0].Shape = []int{-1, 3}
	code, _, stderr = run(m, "train")
	require.Equal(t, ExitError, code)
	require.Contains(t, stderr, "error: model FakeSoftmax does not fit MNIST classification: no output has 10 class scores per example")
}

func TestEvalText(t *testing.T) {
	dir := writeData(t)
	code, stdout, stderr := run(newSoftmaxModel(), "eval", "--data", dir, "--batch", "7")
	require.Equal(t, ExitOK, code, stderr)
	// Zero weights: every score ties, argmax picks class 0.
	require.Regexp(t, `^test accuracy: 0\.\d{4}\ntest loss per example: 2\.3026\n$`, stdout)
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.json")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

func numbers(n int, v float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func TestPredict(t *testing.T) {
	m := newSoftmaxModel()
	// Make class 3 win for any non-negative input and class 7 win for an
	// input of all zeros' complement: b favours 3, W pushes bright pixels to 7.
	m.b[3] = 1
	for i := 0; i < 784; i++ {
		m.w[i*10+7] = 0.01
	}
	flat, _ := json.Marshal([][]float64{numbers(784, 0), numbers(784, 1)})
	nested := make([][]float64, 28)
	for i := range nested {
		nested[i] = numbers(28, 1)
	}
	nestedJSON, _ := json.Marshal(map[string]any{"instances": []any{nested, map[string]any{"x": numbers(784, 0)}}})

	tests := []struct {
		name   string
		input  string
		labels []int
	}{
		{"flat array", string(flat), []int{3, 7}},
		{"instances nested and by name", string(nestedJSON), []int{7, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(m, "predict", "--input", writeFile(t, tc.input))
			require.Equal(t, ExitOK, code, stderr)
			var out []struct {
				Y     []float64 `json:"y"`
				Label int       `json:"label"`
			}
			require.NoError(t, json.Unmarshal([]byte(stdout), &out), stdout)
			require.Len(t, out, len(tc.labels))
			for i, o := range out {
				require.Len(t, o.Y, 10)
				require.Equal(t, tc.labels[i], o.Label)
				var sum float64
				for _, p := range o.Y {
					sum += p
				}
				require.InDelta(t, 1, sum, 1e-5)
			}
		})
	}
}

func TestPredictStdinAndBatching(t *testing.T) {
	m := newSoftmaxModel()
	m.sig.MaxBatch = 2 // force several PredictFeed calls
	examples := make([][]float64, 5)
	for i := range examples {
		examples[i] = numbers(784, float64(i))
	}
	in, _ := json.Marshal(examples)
	old := stdin
	stdin = bytes.NewReader(in)
	defer func() { stdin = old }()
	code, stdout, stderr := run(m, "predict")
	require.Equal(t, ExitOK, code, stderr)
	var out []map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &out))
	require.Len(t, out, 5)
}

func TestPredictRejectsBadInput(t *testing.T) {
	good := numbers(784, 0.5)
	short, _ := json.Marshal([][]float64{good, numbers(780, 0)})
	withString := strings.Replace(string(mustJSON([][]float64{good})), "0.5", `"a"`, 1)
	tests := []struct {
		name, input, want string
	}{
		{"count", string(short), "example 1: input x has 780 numbers, want 784 (f32[N,784])"},
		{"string", withString, "example 0: input x: element 0 is a string, want a number"},
		{"not json", "[1, 2", "invalid JSON"},
		{"empty", "", "no input"},
		{"no examples", "[]", "no examples"},
		{"scalar", "42", "want a JSON array of examples"},
		{"object without instances", `{"x": []}`, `the JSON object has no "instances" array`},
		{"trailing", "[] []", "unexpected data after the JSON value"},
		{"number example", "[1]", "example 0: is a number, want an array of numbers"},
		{"unknown input", `[{"x": ` + string(mustJSON(good)) + `, "z": [1]}]`, `example 0: unknown input "z"`},
		{"missing input", `[{"z": [1]}]`, `example 0: missing input "x"`},
		{"overflow", `[[1e50]]`, "example 0: input x: element 0 (1e50) is out of the float32 range"},
		{"null", `[[null]]`, "example 0: input x: element 0 is null, want a number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(newSoftmaxModel(), "predict", "--input", writeFile(t, tc.input))
			require.Equal(t, ExitError, code)
			require.Empty(t, stdout)
			require.True(t, strings.HasPrefix(stderr, "error: "), stderr)
			require.Contains(t, stderr, tc.want)
			require.Equal(t, 1, strings.Count(stderr, "\n"))
		})
	}
	code, _, stderr := run(newSoftmaxModel(), "predict", "--input", "/nonexistent/in.json")
	require.Equal(t, ExitError, code)
	require.Contains(t, stderr, "/nonexistent/in.json")
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func TestPredictNonFiniteOutputIsNull(t *testing.T) {
	m := newSoftmaxModel()
	m.b[0] = float32(math.Inf(1))
	code, stdout, stderr := run(m, "predict", "--input", writeFile(t, string(mustJSON([][]float64{numbers(784, 0)}))))
	require.Equal(t, ExitOK, code, stderr)
	require.Contains(t, stdout, `"y":[null,`)
	var out []map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &out))
}

func TestInfo(t *testing.T) {
	code, stdout, stderr := run(newSoftmaxModel(), "info")
	require.Equal(t, ExitOK, code, stderr)
	for _, want := range []string{"FakeSoftmax", "fake_softmax.flow", "f32[N,784]", "f32[784,10]", "7840", "7850", "xent", "sgd(lr=0.5)", "x, y_"} {
		require.Contains(t, stdout, want)
	}

	code, stdout, _ = run(newSoftmaxModel(), "info", "--json")
	require.Equal(t, ExitOK, code)
	var sig runtime.Signature
	require.NoError(t, json.Unmarshal([]byte(stdout), &sig))
	require.Equal(t, 7850, sig.ParamCount)
	require.Equal(t, newSoftmaxModel().sig, sig)
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"no command", nil, ExitUsage, "", "usage: "},
		{"unknown command", []string{"fly"}, ExitUsage, "", "error: unknown command \"fly\"\n"},
		{"help", []string{"help"}, ExitOK, "commands:", ""},
		{"train -h", []string{"train", "-h"}, ExitOK, "", "usage: "},
		{"predict --help", []string{"predict", "--help"}, ExitOK, "", "--input"},
		{"info extra", []string{"info", "x"}, ExitUsage, "", "error: info: unexpected argument \"x\""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(newSoftmaxModel(), tc.args...)
			require.Equal(t, tc.code, code)
			if tc.stdout == "" {
				require.Empty(t, stdout)
			} else {
				require.Contains(t, stdout, tc.stdout)
			}
			require.Contains(t, stderr, tc.stderr)
		})
	}
}

func TestFixedBatchAndImageShapes(t *testing.T) {
	dir := writeData(t)

	t.Run("f32[N,28,28,1] input", func(t *testing.T) {
		m := newSoftmaxModel()
		m.sig.Inputs[0].Shape = []int{-1, 28, 28, 1}
		m.sig.Inputs[0].Dims = []string{"N", "", "", ""}
		code, stdout, stderr := run(m, "train", "--data", dir, "--steps", "5", "--batch", "10", "--quiet")
		require.Equal(t, ExitOK, code, stderr)
		require.Contains(t, stdout, "test accuracy: ")
	})

	fixed := func() *softmaxModel {
		m := newSoftmaxModel()
		for i := range m.sig.Inputs {
			m.sig.Inputs[i].Shape[0], m.sig.Inputs[i].Dims = 20, nil
		}
		m.sig.Outputs[0].Shape[0], m.sig.Outputs[0].Dims = 20, nil
		return m
	}
	t.Run("fixed batch trains at its size", func(t *testing.T) {
		code, _, stderr := run(fixed(), "train", "--data", dir, "--steps", "5", "--batch", "20", "--quiet", "--json")
		require.Equal(t, ExitOK, code, stderr)
	})
	t.Run("fixed batch rejects other sizes", func(t *testing.T) {
		code, _, stderr := run(fixed(), "train", "--data", dir, "--steps", "5", "--batch", "10")
		require.Equal(t, ExitError, code)
		require.Equal(t, "error: input x is f32[20,784], so the batch size must be 20, not 10\n", stderr)
	})
	t.Run("fixed batch eval pads the last batch", func(t *testing.T) {
		// 50 test examples: accuracy covers all 50 (padding 10), loss the first 40.
		code, stdout, stderr := run(fixed(), "eval", "--data", dir)
		require.Equal(t, ExitOK, code, stderr)
		require.Contains(t, stdout, "test loss per example: 2.3026")
	})
	t.Run("fixed batch predict pads", func(t *testing.T) {
		code, stdout, stderr := run(fixed(), "predict", "--input", writeFile(t, string(mustJSON([][]float64{numbers(784, 0), numbers(784, 1), numbers(784, 2)}))))
		require.Equal(t, ExitOK, code, stderr)
		var out []map[string]any
		require.NoError(t, json.Unmarshal([]byte(stdout), &out))
		require.Len(t, out, 3)
	})
}

// shortOutputModel returns fewer values than its signature promises.
type shortOutputModel struct{ *softmaxModel }

func (m shortOutputModel) PredictFeed(n int, in [][]float32) [][]float32 {
	return [][]float32{m.softmaxModel.PredictFeed(n, in)[0][:n*10-1]}
}

func TestModelBreakingItsSignature(t *testing.T) {
	dir := writeData(t)
	code, _, stderr := run(shortOutputModel{newSoftmaxModel()}, "eval", "--data", dir)
	require.Equal(t, ExitError, code)
	require.Equal(t, "error: model returned 499 values for output y (f32[N,10]), want 500 for 50 examples\n", stderr)
}

func TestNilModel(t *testing.T) {
	code, _, stderr := run(nil, "info")
	require.Equal(t, ExitError, code)
	require.Equal(t, "error: the model has no signature\n", stderr)
	code, _, _ = run(nil)
	require.Equal(t, ExitUsage, code)
}
