package cli

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/flow-lang/flow/examples/gen/optimizers"
	"github.com/flow-lang/flow/runtime"
	"github.com/flow-lang/flow/runtime/checkpoint"
	"github.com/stretchr/testify/require"
)

// interrupter wraps a model and interrupts the training run, as a signal
// would, during its at-th training step in this run; it records the losses.
type interrupter struct {
	recorder
	at        int
	sig       os.Signal
	interrupt func(os.Signal)
}

func (m *interrupter) TrainFeed(n int, in [][]float32) float32 {
	l := m.recorder.TrainFeed(n, in)
	if len(m.losses) == m.at {
		m.interrupt(m.sig)
	}
	return l
}

// interruptible returns m wrapped to be interrupted during its at-th
// step with sig; the hook is removed when the test ends.
func interruptible(t *testing.T, m runtime.Model, at int, sig os.Signal) *interrupter {
	t.Helper()
	w := &interrupter{recorder: recorder{Model: m}, at: at, sig: sig}
	onTrainInterruptible = func(interrupt func(os.Signal)) { w.interrupt = interrupt }
	t.Cleanup(func() { onTrainInterruptible = nil })
	return w
}

// countRecords returns the number of TFRecord records in an event file,
// checking their framing (length, its CRC, data, its CRC).
func countRecords(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	n := 0
	for len(b) > 0 {
		require.GreaterOrEqual(t, len(b), 12, "a truncated record header in %s", path)
		size := binary.LittleEndian.Uint64(b)
		require.GreaterOrEqual(t, uint64(len(b)-12), size+4, "a truncated record in %s", path)
		b = b[12+size+4:]
		n++
	}
	return n
}

// TestTrainInterrupted interrupts a run of a generated model (Adam with a
// cosine schedule and a step counter) after step 17 of 46: it saves the
// checkpoint of step 17, closes the log with report.html and the events of
// the 17 steps, prints a JSON summary marked interrupted with the mean
// loss of the steps done, and exits with ExitInterrupted. Resuming from
// that checkpoint to step 46 ends bit-identical to an uninterrupted run.
func TestTrainInterrupted(t *testing.T) {
	data := writeData(t)
	common := []string{"--data", data, "--batch", "10", "--seed", "9"}
	one := &recorder{Model: optimizers.New()}
	want := trainJSON(t, one, append(common, "--steps", "46")...)

	dir := filepath.Join(t.TempDir(), "ckpt")
	logdir := filepath.Join(t.TempDir(), "logs")
	first := interruptible(t, optimizers.New(), 17, os.Interrupt)
	code, stdout, stderr := run(first, append([]string{"train", "--json", "--quiet", "--steps", "46", "--checkpoint", dir, "--logdir", logdir}, common...)...)
	require.Equal(t, ExitInterrupted, code, stderr)
	require.Len(t, first.losses, 17, "training stops after the step during which the signal came")
	require.Contains(t, stderr, "interrupted by SIGINT: stopped early at step 17 of 46; skipping the test-set evaluation")
	require.NotContains(t, stderr, "error:")

	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(lastLine(stdout)), &res), stdout)
	require.Equal(t, true, res["interrupted"])
	require.Equal(t, "SIGINT", res["signal"])
	require.EqualValues(t, 17, res["steps"])
	require.EqualValues(t, 46, res["planned_steps"])
	require.InDelta(t, 17.0*10/200, res["epochs"], 1e-12)
	require.Nil(t, res["test_accuracy"], "the evaluation is skipped")
	require.EqualValues(t, 0, res["test_examples"])
	var mean float64
	for _, l := range first.losses {
		mean += float64(l)
	}
	require.InDelta(t, mean/17, res["final_loss_per_example"], 1e-12, "final_loss is the mean loss of the steps done")
	ckpt := filepath.Join(dir, "ckpt-17.safetensors")
	require.Equal(t, ckpt, res["checkpoint"])

	list, err := checkpoint.List(dir)
	require.NoError(t, err)
	require.Len(t, list, 1)
	f, err := checkpoint.Load(ckpt)
	require.NoError(t, err)
	require.Equal(t, "17", f.Metadata[metaStep])
	require.Empty(t, f.Metadata[metaAccuracy], "no test accuracy was measured")

	report, err := os.ReadFile(filepath.Join(logdir, "report.html"))
	require.NoError(t, err)
	require.Contains(t, string(report), "<th>Steps</th><td>17</td>")
	require.Contains(t, string(report), "<th>Steps planned</th><td>46</td>")
	events, err := filepath.Glob(filepath.Join(logdir, "events.out.tfevents.*"))
	require.NoError(t, err)
	require.Len(t, events, 1)
	// The file version event, the graph and session start (if any), and
	// the scalars of every step: all flushed, all whole.
	require.GreaterOrEqual(t, countRecords(t, events[0]), 1+17)

	// Resume to the planned total: as if the run had not stopped.
	second := &recorder{Model: optimizers.New()}
	got := trainJSON(t, second, "--data", data, "--steps", "46", "--checkpoint", dir, "--resume", "--logdir", logdir)
	requireSameParams(t, one, second)
	require.Equal(t, one.losses, append(first.losses, second.losses...), "the loss curve")
	require.Equal(t, want["final_loss_per_example"], got["final_loss_per_example"])
	require.Equal(t, want["test_accuracy"], got["test_accuracy"])
	require.EqualValues(t, 17, got["resumed_from_step"])
	require.Nil(t, got["interrupted"])
	report, err = os.ReadFile(filepath.Join(logdir, "report.html"))
	require.NoError(t, err)
	require.Contains(t, string(report), "<th>Steps</th><td>46</td>")
}

// TestTrainTerminatedText interrupts a run with SIGTERM without --json:
// the text summary leaves out the test accuracy and says how to continue.
func TestTrainTerminatedText(t *testing.T) {
	data := writeData(t)
	dir := t.TempDir()
	m := interruptible(t, newSoftmaxModel(), 5, syscall.SIGTERM)
	code, stdout, stderr := run(m, "train", "--data", data, "--steps", "20", "--batch", "10", "--quiet", "--checkpoint", dir, "--checkpoint-every", "5")
	require.Equal(t, ExitTerminated, code, stderr)
	require.Equal(t, "interrupted by SIGTERM: stopped early at step 5 of 20; skipping the test-set evaluation\n", stderr)
	require.Contains(t, stdout, "trained 5 steps in ")
	require.Contains(t, stdout, "mean loss per example over the last 5 steps")
	require.NotContains(t, stdout, "test accuracy")
	require.Contains(t, stdout, "saved the checkpoint "+filepath.Join(dir, "ckpt-5.safetensors")+"\n")
	require.Contains(t, stdout, "repeat the command with --resume")
	list, err := checkpoint.List(dir)
	require.NoError(t, err)
	require.Len(t, list, 1, "the step-5 checkpoint is saved once")
	require.Equal(t, 5, list[0].Step)

	// Without --checkpoint nothing is saved, and the run still stops.
	m = interruptible(t, newSoftmaxModel(), 3, os.Interrupt)
	code, stdout, stderr = run(m, "train", "--data", data, "--steps", "20", "--batch", "10", "--quiet")
	require.Equal(t, ExitInterrupted, code, stderr)
	require.Len(t, m.losses, 3)
	require.NotContains(t, stdout, "checkpoint")
}

// TestTrainInterruptedAtTheEnd checks a signal during the last step
// changes nothing: the run is complete, evaluated and successful.
func TestTrainInterruptedAtTheEnd(t *testing.T) {
	data := writeData(t)
	m := interruptible(t, newSoftmaxModel(), 8, os.Interrupt)
	res := trainJSON(t, m, "--data", data, "--steps", "8", "--batch", "10")
	require.Nil(t, res["interrupted"])
	require.EqualValues(t, 8, res["steps"])
	require.NotNil(t, res["test_accuracy"])
	require.EqualValues(t, 50, res["test_examples"])
	require.False(t, strings.Contains(jsonString(res), "planned_steps"))
}
