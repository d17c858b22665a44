package cli

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flow-lang/flow/examples/gen/mnistsoftmax"
	"github.com/flow-lang/flow/runtime"
	"github.com/stretchr/testify/require"
)

// summedModel is softmaxModel with its loss summed over the batch rather
// than averaged, as examples/mnist_softmax.flow's -sum(y_ * log(y)) is:
// it trains exactly as softmaxModel does, and its signature says its
// loss is a sum (reduction LossSum) or, with reduction "", says nothing.
type summedModel struct {
	*softmaxModel
	sig runtime.Signature
}

func newSummedModel(reduction runtime.LossReduction) *summedModel {
	m := &summedModel{softmaxModel: newSoftmaxModel()}
	m.sig = m.softmaxModel.sig
	m.sig.LossReduction = reduction
	return m
}

func (m *summedModel) Signature() *runtime.Signature { return &m.sig }

func (m *summedModel) TrainFeed(n int, in [][]float32) float32 {
	return m.softmaxModel.TrainFeed(n, in) * float32(n)
}

func (m *summedModel) LossFeed(n int, in [][]float32) float32 {
	return m.softmaxModel.LossFeed(n, in) * float32(n)
}

// evalJSON runs eval --json with args and returns its object.
func evalJSON(t *testing.T, m runtime.Model, args ...string) map[string]any {
	t.Helper()
	code, stdout, stderr := run(m, append([]string{"eval", "--json"}, args...)...)
	require.Equal(t, ExitOK, code, stderr)
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(lastLine(stdout)), &res), stdout)
	return res
}

// TestEvalLossPerExample checks that eval's test loss is per example and
// the same for any --batch, for the seed's model as flowc generates it
// (its loss a sum over the batch: it printed 2302.59 at the default batch
// and 230.26 with --batch 100) and for a summed and an averaged loss.
func TestEvalLossPerExample(t *testing.T) {
	data := writeData(t) // 50 test examples
	for _, tt := range []struct {
		name string
		new  func() runtime.Model
	}{
		{"generated mnist_softmax", func() runtime.Model { return mnistsoftmax.New() }},
		{"summed", func() runtime.Model { return newSummedModel(runtime.LossSum) }},
		{"averaged", func() runtime.Model { return newSoftmaxModel() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, batch := range []string{"1000", "50", "7", "1"} {
				res := evalJSON(t, tt.new(), "--data", data, "--batch", batch)
				require.NotContains(t, res, "test_loss_per_batch")
				// Zero weights predict 1/10 for every class: ln 10 per example.
				require.InDelta(t, math.Log(10), res["test_loss_per_example"], 1e-5, "--batch %s", batch)
			}
			code, stdout, stderr := run(tt.new(), "eval", "--data", data, "--batch", "7")
			require.Equal(t, ExitOK, code, stderr)
			require.Contains(t, stdout, "\ntest loss per example: 2.3026\n")
		})
	}
}

// TestEvalLossPerBatch checks a model whose signature does not say how
// its loss combines a batch's examples: eval reports the loss per batch,
// says so and for which batch size, and leaves out a short last batch.
func TestEvalLossPerBatch(t *testing.T) {
	data := writeData(t) // 50 test examples
	ln10 := math.Log(10)
	for _, tt := range []struct {
		batch string
		size  int
	}{{"7", 7}, {"25", 25}, {"1000", 50}} {
		res := evalJSON(t, newSummedModel(""), "--data", data, "--batch", tt.batch)
		require.NotContains(t, res, "test_loss_per_example")
		require.InDelta(t, float64(tt.size)*ln10, res["test_loss_per_batch"], 1e-4, "--batch %s", tt.batch)
		require.EqualValues(t, tt.size, res["loss_batch"])
	}
	code, stdout, stderr := run(newSummedModel(""), "eval", "--data", data, "--batch", "7")
	require.Equal(t, ExitOK, code, stderr)
	require.Contains(t, stdout, "\ntest loss per batch of 7: 16.1181 (the compiler could not tell how the loss xent combines a batch's examples, so it cannot be put per example)\n")
}

// TestTrainLossPerExample checks that train reports a summed loss per
// example everywhere: the progress, the summary, --json, the checkpoint's
// metadata, the TensorBoard tag and report.html. A summed loss trains as
// the averaged one and reports the same figures.
func TestTrainLossPerExample(t *testing.T) {
	data := writeData(t)
	args := []string{"--data", data, "--steps", "12", "--batch", "20", "--seed", "5"}
	want := trainJSON(t, newSoftmaxModel(), args...)
	logs, ckpt := t.TempDir(), t.TempDir()
	got := trainJSON(t, newSummedModel(runtime.LossSum), append(args, "--logdir", logs, "--checkpoint", ckpt)...)
	require.NotContains(t, got, "final_loss_per_batch")
	require.InDelta(t, want["final_loss_per_example"], got["final_loss_per_example"], 1e-6)
	require.Less(t, got["final_loss_per_example"], math.Log(10))

	f, err := os.ReadFile(filepath.Join(ckpt, "ckpt-12.safetensors"))
	require.NoError(t, err)
	require.Contains(t, string(f), `"final_loss_per_example":"`)
	events, err := filepath.Glob(filepath.Join(logs, "events.out.tfevents.*"))
	require.NoError(t, err)
	require.Len(t, events, 1)
	ev, err := os.ReadFile(events[0])
	require.NoError(t, err)
	require.True(t, bytes.Contains(ev, []byte("loss_per_example")), "the TensorBoard tag says per example")
	require.False(t, bytes.Contains(ev, []byte("loss_per_batch")))
	report, err := os.ReadFile(filepath.Join(logs, "report.html"))
	require.NoError(t, err)
	require.Contains(t, string(report), "<th>Final loss per example</th>")

	code, stdout, stderr := run(newSummedModel(runtime.LossSum), "train", "--data", data, "--steps", "3", "--batch", "20")
	require.Equal(t, ExitOK, code, stderr)
	require.Contains(t, stdout, "(0.30 epochs); loss per example\n")
	require.Contains(t, stdout, "step 1/3  loss 2.3026", "the progress is per example")
	require.Regexp(t, `mean loss per example over the last 3 steps: \d\.\d{4}\n`, stdout)
}

// TestTrainLossPerBatch checks that train labels the loss of a model
// whose signature does not say how it combines a batch's examples as per
// batch, in each place it reports it.
func TestTrainLossPerBatch(t *testing.T) {
	data := writeData(t)
	logs, ckpt := t.TempDir(), t.TempDir()
	got := trainJSON(t, newSummedModel(""), "--data", data, "--steps", "3", "--batch", "20", "--logdir", logs, "--checkpoint", ckpt)
	require.NotContains(t, got, "final_loss_per_example")
	require.Greater(t, got["final_loss_per_batch"], 10.0, "summed over 20 examples")
	f, err := os.ReadFile(filepath.Join(ckpt, "ckpt-3.safetensors"))
	require.NoError(t, err)
	require.Contains(t, string(f), `"final_loss_per_batch":"`)
	report, err := os.ReadFile(filepath.Join(logs, "report.html"))
	require.NoError(t, err)
	require.Contains(t, string(report), "<th>Final loss per batch of 20</th>")

	code, stdout, stderr := run(newSummedModel(""), "train", "--data", data, "--steps", "3", "--batch", "20")
	require.Equal(t, ExitOK, code, stderr)
	require.Contains(t, stdout, "(0.30 epochs); loss per batch of 20 (the compiler could not tell how the loss xent combines a batch's examples, so it cannot be put per example)\n")
	require.Contains(t, stdout, "step 1/3  loss 46.0517")
	require.True(t, strings.Contains(stdout, "mean loss per batch of 20 over the last 3 steps: "), stdout)
}

// TestInfoSaysHowTheLossReduces checks info's loss line for each
// reduction.
func TestInfoSaysHowTheLossReduces(t *testing.T) {
	for _, tt := range []struct {
		r    runtime.LossReduction
		want string
	}{
		{runtime.LossSum, "xent, a sum over the batch (reported per example: divided by the batch size)"},
		{runtime.LossMean, "xent, a mean over the batch (reported per example as it is)"},
		{"", "xent (reported per batch: the compiler could not tell how it combines a batch's examples)"},
	} {
		code, stdout, stderr := run(newSummedModel(tt.r), "info")
		require.Equal(t, ExitOK, code, stderr)
		require.Contains(t, stdout, "\nloss:       "+tt.want+"\n")
	}
	code, stdout, _ := run(newSummedModel(runtime.LossSum), "info", "--json")
	require.Equal(t, ExitOK, code)
	require.Contains(t, stdout, `"loss_reduction": "sum"`)
}
