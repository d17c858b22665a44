package cli

import (
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flow-lang/flow/examples/gen/lenet"
	"github.com/flow-lang/flow/examples/gen/optimizers"
	"github.com/flow-lang/flow/runtime"
	"github.com/flow-lang/flow/runtime/checkpoint"
	"github.com/stretchr/testify/require"
)

// recorder wraps a model and records the loss of every training step.
type recorder struct {
	runtime.Model
	losses []float32
}

func (r *recorder) TrainFeed(n int, in [][]float32) float32 {
	l := r.Model.TrainFeed(n, in)
	r.losses = append(r.losses, l)
	return l
}

// trainJSON runs train with args plus --json --quiet and returns the
// summary.
func trainJSON(t *testing.T, m runtime.Model, args ...string) map[string]any {
	t.Helper()
	code, stdout, stderr := run(m, append([]string{"train", "--json", "--quiet"}, args...)...)
	require.Equal(t, ExitOK, code, stderr)
	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(lastLine(stdout)), &res), stdout)
	return res
}

// requireSameParams requires bit-identical parameters.
func requireSameParams(t *testing.T, want, got runtime.Model) {
	t.Helper()
	wp, gp := want.Params(), got.Params()
	require.Equal(t, len(wp), len(gp))
	for i := range wp {
		require.Equal(t, wp[i].Name, gp[i].Name)
		for j := range wp[i].Data {
			if math.Float32bits(wp[i].Data[j]) != math.Float32bits(gp[i].Data[j]) {
				t.Fatalf("param %s[%d]: %v after one run, %v after a resumed one", wp[i].Name, j, wp[i].Data[j], gp[i].Data[j])
			}
		}
	}
}

// TestResumeIsExact trains generated models (Adam with a cosine schedule
// and a step counter; LeNet with dropout, whose mask derives from a step
// param, and Adam) once for S steps, and again stopping half way and
// resuming: the parameters (optimizer state included) are bit-identical,
// the loss curve and the summary's final_loss_per_example the same.
func TestResumeIsExact(t *testing.T) {
	data := writeData(t)
	for _, tt := range []struct {
		name         string
		new          func() runtime.Model
		steps, half  string
		batch, every string
	}{
		{"optimizers", func() runtime.Model { return optimizers.New() }, "46", "23", "10", "5"},
		{"lenet", func() runtime.Model { return lenet.New() }, "4", "2", "4", "1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "lenet" {
				if testing.Short() {
					t.Skip("LeNet is slow for -short")
				}
				// On every core: the convolutions' parallel partial sums
				// are formed in a fixed order (runtime/conv_parallel.go),
				// so training is exact with several goroutines too.
				if goruntime.GOMAXPROCS(0) < 2 {
					defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(2))
				}
			}
			common := []string{"--data", data, "--batch", tt.batch, "--seed", "9"}
			one := &recorder{Model: tt.new()}
			want := trainJSON(t, one, append(common, "--steps", tt.steps)...)

			dir := filepath.Join(t.TempDir(), "ckpt")
			first := &recorder{Model: tt.new()}
			got1 := trainJSON(t, first, append(common, "--steps", tt.half, "--checkpoint", dir, "--checkpoint-every", tt.every, "--keep", "2")...)
			require.Equal(t, filepath.Join(dir, "ckpt-"+tt.half+".safetensors"), got1["checkpoint"])
			list, err := checkpoint.List(dir)
			require.NoError(t, err)
			require.Len(t, list, 2, "--keep 2")

			second := &recorder{Model: tt.new()}
			// The batch and seed come from the checkpoint.
			got := trainJSON(t, second, "--data", data, "--steps", tt.steps, "--checkpoint", dir, "--resume")
			requireSameParams(t, one, second)
			require.Equal(t, one.losses, append(first.losses, second.losses...), "the loss curve")
			require.Equal(t, want["final_loss_per_example"], got["final_loss_per_example"])
			require.Equal(t, want["test_accuracy"], got["test_accuracy"])
			require.Equal(t, want["steps"], got["steps"])
			require.Equal(t, want["epochs"], got["epochs"])
			require.EqualValues(t, json.Number(tt.half), json.Number(jsonString(got["resumed_from_step"])))

			if tt.name == "lenet" {
				return // a fourth LeNet would only slow the test down
			}
			// Resuming a finished run trains no more and reports the same.
			third := &recorder{Model: tt.new()}
			again := trainJSON(t, third, "--data", data, "--steps", tt.steps, "--checkpoint", dir, "--resume")
			require.Empty(t, third.losses)
			requireSameParams(t, one, third)
			require.Equal(t, want["final_loss_per_example"], again["final_loss_per_example"])
		})
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestResumeErrors(t *testing.T) {
	data := writeData(t)
	dir := t.TempDir()
	code, _, stderr := run(newSoftmaxModel(), "train", "--data", data, "--steps", "10", "--batch", "10", "--seed", "2", "--quiet", "--checkpoint", dir)
	require.Equal(t, ExitOK, code, stderr)
	path := filepath.Join(dir, "ckpt-10.safetensors")
	other := t.TempDir()
	require.NoError(t, checkpoint.Save(filepath.Join(other, "ckpt-4.safetensors"), newSoftmaxModel().Params(), map[string]string{"model": "FakeSoftmax"}))

	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"past the steps", []string{"--steps", "5", "--checkpoint", dir, "--resume"}, ExitError,
			"error: cannot resume: " + path + " is at step 10, past --steps 5 (--steps counts all steps, the resumed ones included)\n"},
		{"other batch", []string{"--steps", "20", "--batch", "20", "--checkpoint", dir, "--resume"}, ExitUsage,
			"error: train: --batch differs from the resumed run's (10 in " + path + "); a resumed run keeps its data order\n"},
		{"other seed", []string{"--steps", "20", "--seed", "3", "--checkpoint", dir, "--resume"}, ExitUsage,
			"error: train: --seed differs from the resumed run's (2 in " + path + "); a resumed run keeps its data order\n"},
		{"no state", []string{"--steps", "20", "--checkpoint", other, "--resume"}, ExitError,
			"error: cannot resume: " + filepath.Join(other, "ckpt-4.safetensors") + ": metadata step: missing; the file was not written by train --checkpoint, or is damaged\n"},
		{"resume without dir", []string{"--resume"}, ExitUsage, "error: train: --resume, --checkpoint-every and --keep need --checkpoint DIR\n"},
		{"bad keep", []string{"--checkpoint", dir, "--keep", "0"}, ExitUsage, "error: train: --keep must be at least 1, got 0\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := newSoftmaxModel()
			code, stdout, stderr := run(m, append([]string{"train", "--data", data, "--quiet"}, tt.args...)...)
			require.Equal(t, tt.code, code)
			require.Empty(t, stdout)
			if tt.code == ExitUsage {
				require.Contains(t, stderr, tt.want)
			} else {
				require.Equal(t, tt.want, stderr)
			}
			require.Zero(t, m.steps, "nothing trained")
		})
	}

	// A damaged newest checkpoint stops eval, predict and a resume with a
	// message naming the file and tensor; nothing falls back to the older one.
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	raw[len(raw)-3] ^= 0x40 // in b, the last tensor
	damaged := filepath.Join(dir, "ckpt-11.safetensors")
	require.NoError(t, os.WriteFile(damaged, raw, 0o644))
	prefix := "error: " + damaged + ": tensor b: the data is corrupted (its CRC-32C is "
	for _, args := range [][]string{
		{"eval", "--data", data, "--checkpoint", dir},
		{"predict", "--checkpoint", dir, "--input", digitsJSON(t, 1)},
		{"train", "--data", data, "--steps", "20", "--checkpoint", dir, "--resume", "--quiet"},
	} {
		m := newSoftmaxModel()
		code, stdout, stderr := run(m, args...)
		require.Equal(t, ExitError, code, args)
		require.Empty(t, stdout)
		if args[0] == "train" {
			require.Contains(t, stderr, "error: cannot resume: "+damaged+": tensor b: the data is corrupted")
		} else {
			require.Contains(t, stderr, prefix, args)
		}
		requireZeroParams(t, m)
	}
	// Truncated.
	require.NoError(t, os.WriteFile(damaged, raw[:len(raw)/2], 0o644))
	code, _, stderr = run(newSoftmaxModel(), "eval", "--data", data, "--checkpoint", dir)
	require.Equal(t, ExitError, code)
	require.Contains(t, stderr, "error: "+damaged+": ")
	require.Contains(t, stderr, "truncated")
}

func TestCheckpointEveryAndKeep(t *testing.T) {
	data := writeData(t)
	dir := t.TempDir()
	// A temporary file an interrupted save left behind is removed; other
	// files are not touched.
	stale := filepath.Join(dir, ".ckpt-3.safetensors.tmp-0123456789abcdef")
	require.NoError(t, os.WriteFile(stale, []byte("partial"), 0o644))
	mine := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(mine, []byte("keep me"), 0o644))
	code, _, stderr := run(newSoftmaxModel(), "train", "--data", data, "--steps", "17", "--batch", "10", "--quiet",
		"--checkpoint", dir, "--checkpoint-every", "3", "--keep", "3")
	require.Equal(t, ExitOK, code, stderr)
	list, err := checkpoint.List(dir)
	require.NoError(t, err)
	var steps []int
	for _, e := range list {
		steps = append(steps, e.Step)
	}
	require.Equal(t, []int{12, 15, 17}, steps, "every 3 steps and at the end, the newest 3 kept")
	_, err = os.Stat(stale)
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = os.Stat(mine)
	require.NoError(t, err)
	f, err := checkpoint.Load(list[0].Path)
	require.NoError(t, err)
	require.Equal(t, "12", f.Metadata["step"])
	require.Empty(t, f.Metadata["test_accuracy"], "only the final checkpoint has the final figures")
	f, err = checkpoint.Load(list[2].Path)
	require.NoError(t, err)
	require.NotEmpty(t, f.Metadata["test_accuracy"])
}

func TestLearningRate(t *testing.T) {
	cosine := "adam(alpha=0.05, beta1=0.9, beta2=0.999, clip_norm=5, decay_steps=2000, epsilon=1e-07, lr=0.003, schedule=cosine, weight_decay=0.004)"
	for _, tt := range []struct {
		opt  string
		done int
		want float64
	}{
		{"sgd(lr=0.5)", 7, 0.5},
		{"adam(beta1=0.9, beta2=0.999, epsilon=1e-07, lr=0.001)", 0, 0.001},
		{cosine, 0, 0.003},
		{cosine, 1000, 0.003 * (0.95*0.5 + 0.05)}, // cos(pi/2) = 0
		{cosine, 2000, 0.003 * 0.05},
		{cosine, 5000, 0.003 * 0.05},
		{"sgd(lr=1, schedule=step, decay_steps=10, decay_rate=0.5)", 25, 0.25},
		{"sgd(lr=1, schedule=exponential, decay_steps=10, decay_rate=0.5)", 5, math.Sqrt(0.5)},
	} {
		require.InDelta(t, tt.want, learningRate(tt.opt, tt.done), 1e-15, "%s at %d", tt.opt, tt.done)
	}
	for _, opt := range []string{"", "sgd", "sgd()", "sgd(lr=x)", "sgd(lr=1, schedule=zigzag)"} {
		require.True(t, math.IsNaN(learningRate(opt, 3)), opt)
	}
}

// TestTrainProgress checks train's progress output: a live line rewritten
// with '\r' on a terminal, plain lines otherwise, nothing with --quiet.
func TestTrainProgress(t *testing.T) {
	data := writeData(t)
	args := []string{"train", "--data", data, "--steps", "12", "--batch", "10"}
	defer func(f func(io.Writer) bool) { isTerminal = f }(isTerminal)
	for _, term := range []bool{false, true} {
		isTerminal = func(io.Writer) bool { return term }
		code, stdout, stderr := run(newSoftmaxModel(), args...)
		require.Equal(t, ExitOK, code, stderr)
		lines := strings.Split(stdout, "\n")
		require.Equal(t, "training FakeSoftmax on 200 examples: 12 steps of batch 10 (0.60 epochs); loss per example", lines[0])
		if term {
			require.Regexp(t, `^\rstep 1/12 \[=*>\s+\]   8%  loss \d+\.\d{4}( .*)?\rstep 12/12 \[=+\] 100%  loss \d+\.\d{4}  \d+ ex/s *$`, lines[1])
		} else {
			require.Regexp(t, `^step 1/12  loss \d+\.\d{4}`, lines[1])
			require.Regexp(t, `^step 12/12  loss \d+\.\d{4}  \d+ ex/s$`, lines[len(lines)-4])
		}
		require.Regexp(t, `^trained 12 steps in `, lines[len(lines)-3])
		// With --json the progress goes to stderr; --quiet silences it.
		code, stdout, stderr = run(newSoftmaxModel(), append(args, "--json")...)
		require.Equal(t, ExitOK, code)
		require.Contains(t, stderr, "step 12/12")
		require.Equal(t, 1, strings.Count(stdout, "\n"))
		code, stdout, stderr = run(newSoftmaxModel(), append(args, "--json", "--quiet")...)
		require.Equal(t, ExitOK, code)
		require.Empty(t, stderr)
		require.Equal(t, 1, strings.Count(stdout, "\n"))
	}
}

// TestTrainLogdir checks that train --logdir leaves TensorBoard event
// files and the report, also across a resumed run. (runtime/trainlog's
// own tests read the files back.)
func TestTrainLogdir(t *testing.T) {
	data := writeData(t)
	logs := filepath.Join(t.TempDir(), "logs")
	ckpt := filepath.Join(t.TempDir(), "ckpt")
	m := newSoftmaxModel()
	code, _, stderr := run(m, "train", "--data", data, "--steps", "25", "--batch", "10", "--quiet",
		"--logdir", logs, "--eval-every", "10", "--checkpoint", ckpt)
	require.Equal(t, ExitOK, code, stderr)
	events, err := filepath.Glob(filepath.Join(logs, "events.out.tfevents.*"))
	require.NoError(t, err)
	require.Len(t, events, 1)
	report, err := os.ReadFile(filepath.Join(logs, "report.html"))
	require.NoError(t, err)
	require.Contains(t, string(report), "FakeSoftmax")
	require.Contains(t, string(report), "<svg")

	code, _, stderr = run(newSoftmaxModel(), "train", "--data", data, "--steps", "40", "--quiet",
		"--logdir", logs, "--checkpoint", ckpt, "--resume")
	require.Equal(t, ExitOK, code, stderr)
	events, err = filepath.Glob(filepath.Join(logs, "events.out.tfevents.*"))
	require.NoError(t, err)
	require.NotEmpty(t, events)

	// A log directory that cannot be created fails before training.
	notDir := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(notDir, nil, 0o644))
	m = newSoftmaxModel()
	code, _, stderr = run(m, "train", "--data", data, "--steps", "5", "--batch", "10", "--quiet", "--logdir", notDir)
	require.Equal(t, ExitError, code)
	require.Contains(t, stderr, "error: --logdir: ")
	require.Zero(t, m.steps)
}

// TestLegacyCheckpointFile checks that a directory holding only the
// single file earlier versions wrote still restores, and that ckpt-<step>
// files take precedence over it.
func TestLegacyCheckpointFile(t *testing.T) {
	dir := t.TempDir()
	legacy := newSoftmaxModel()
	legacy.b[3] = 1.5
	require.NoError(t, checkpoint.Save(filepath.Join(dir, "model.safetensors"), legacy.Params(), map[string]string{"model": "FakeSoftmax"}))
	m := newSoftmaxModel()
	path, err := restoreCheckpoint(m, dir)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "model.safetensors"), path)
	require.Equal(t, float32(1.5), m.b[3])

	legacy.b[3] = 2.5
	require.NoError(t, checkpoint.Save(filepath.Join(dir, "ckpt-7.safetensors"), legacy.Params(), nil))
	path, err = restoreCheckpoint(m, dir)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "ckpt-7.safetensors"), path)
	require.Equal(t, float32(2.5), m.b[3])
}

// TestResumeFollowsLinksAndNeverRestartsSilently checks what --resume does
// with each kind of checkpoint directory: it follows a symbolic link to a
// checkpoint (as eval does); a dangling link, a link loop, or .safetensors
// files that are not checkpoints are errors naming them, with nothing
// trained; only a directory without any .safetensors file (or none at
// all) starts a fresh run, and says so. --json states the step a run
// started from.
func TestResumeFollowsLinksAndNeverRestartsSilently(t *testing.T) {
	data := writeData(t)
	first := t.TempDir()
	got := trainJSON(t, newSoftmaxModel(), "--data", data, "--steps", "4", "--batch", "10", "--checkpoint", first)
	require.Equal(t, 0.0, got["resumed_from_step"], "a fresh run states it started at step 0")
	saved := filepath.Join(first, checkpoint.FileName(4))

	t.Run("symbolic link", func(t *testing.T) {
		dir := t.TempDir()
		link := filepath.Join(dir, checkpoint.FileName(4))
		require.NoError(t, os.Symlink(saved, link))
		code, stdout, stderr := run(newSoftmaxModel(), "eval", "--data", data, "--checkpoint", dir, "--json")
		require.Equal(t, ExitOK, code, stderr)
		require.Contains(t, stdout, `"checkpoint":"`+link+`"`)
		m := newSoftmaxModel()
		got := trainJSON(t, m, "--data", data, "--steps", "6", "--checkpoint", dir, "--resume")
		require.Equal(t, 4.0, got["resumed_from_step"])
		require.Equal(t, 2, m.steps, "only the remaining steps are trained")
		require.Equal(t, filepath.Join(dir, checkpoint.FileName(6)), got["checkpoint"])
	})

	for _, tt := range []struct {
		name  string
		make  func(dir string) string // returns the path the error names
		wants []string
	}{
		{"dangling link", func(dir string) string {
			path := filepath.Join(dir, checkpoint.FileName(4))
			require.NoError(t, os.Symlink(filepath.Join(first, "gone.safetensors"), path))
			return path
		}, []string{" is a symbolic link to " + filepath.Join(first, "gone.safetensors") + ", which does not exist\n"}},
		{"link loop", func(dir string) string {
			path := filepath.Join(dir, checkpoint.FileName(4))
			require.NoError(t, os.Symlink(path, path))
			return path
		}, []string{" is a symbolic link that cannot be followed: "}},
		{"not checkpoints", func(dir string) string {
			require.NoError(t, checkpoint.Save(filepath.Join(dir, "model.safetensors"), newSoftmaxModel().Params(), nil))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "ckpt-0004.safetensors"), nil, 0o644))
			return filepath.Join(dir, "ckpt-0004.safetensors")
		}, []string{" holds no ckpt-<step>.safetensors checkpoint, only ", "model.safetensors, which train does not resume from; move them away"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.make(dir)
			m := newSoftmaxModel()
			code, stdout, stderr := run(m, "train", "--data", data, "--steps", "6", "--quiet", "--checkpoint", dir, "--resume", "--json")
			require.Equal(t, ExitError, code)
			require.Empty(t, stdout)
			require.True(t, strings.HasPrefix(stderr, "error: cannot resume: "), stderr)
			require.Contains(t, stderr, path)
			for _, want := range tt.wants {
				require.Contains(t, stderr, want)
			}
			require.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
			require.Zero(t, m.steps, "nothing trained")
			if tt.name != "not checkpoints" {
				// eval refuses it too, rather than reading no checkpoint.
				code, _, stderr = run(newSoftmaxModel(), "eval", "--data", data, "--checkpoint", dir)
				require.Equal(t, ExitError, code)
				require.Contains(t, stderr, "error: "+path+tt.wants[0])
			}
		})
	}

	// The first launch of a job: the directory is missing, or holds no
	// .safetensors file.
	for _, tt := range []struct {
		name string
		dir  func() string
	}{
		{"missing directory", func() string { return filepath.Join(t.TempDir(), "new") }},
		{"other files only", func() string {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644))
			return dir
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir()
			m := newSoftmaxModel()
			code, stdout, stderr := run(m, "train", "--data", data, "--steps", "3", "--batch", "10", "--quiet", "--checkpoint", dir, "--resume", "--json")
			require.Equal(t, ExitOK, code, stderr)
			require.Equal(t, "--resume: "+dir+" holds no checkpoint: starting a fresh run from step 0\n", stderr, "said even with --quiet")
			var res map[string]any
			require.NoError(t, json.Unmarshal([]byte(lastLine(stdout)), &res))
			require.Equal(t, 0.0, res["resumed_from_step"])
			require.Equal(t, 3, m.steps)
		})
	}
}

// TestReportAgreesWithSummary checks that report.html shows the training
// time and throughput that train's summary reports, also when --eval-every
// and --checkpoint-every pause the run between steps. A fake clock that
// advances a quarter second per reading makes the pauses long and the
// figures exact.
func TestReportAgreesWithSummary(t *testing.T) {
	data := writeData(t)
	defer func(c func() time.Time) { clock = c }(clock)
	var ticks int
	clock = func() time.Time {
		ticks++
		return time.Unix(1e9, 0).Add(time.Duration(ticks) * 250 * time.Millisecond)
	}
	logs := t.TempDir()
	res := trainJSON(t, newSoftmaxModel(), "--data", data, "--steps", "12", "--batch", "10",
		"--logdir", logs, "--eval-every", "2", "--checkpoint", t.TempDir(), "--checkpoint-every", "3")
	report, err := os.ReadFile(filepath.Join(logs, "report.html"))
	require.NoError(t, err)

	seconds := res["seconds"].(float64)
	m := regexp.MustCompile(`<th>Training time</th><td>([^<]*)</td>`).FindStringSubmatch(string(report))
	require.NotNil(t, m, "the report shows the training time")
	require.Equal(t, time.Duration(seconds*float64(time.Second)).Round(time.Millisecond).String(), m[1])

	rate := res["examples_per_sec"].(float64)
	m = regexp.MustCompile(`<th>Throughput</th><td>([0-9.,]+) examples/s overall \(12 steps × 10 examples in ([^)]*)\)`).FindStringSubmatch(string(report))
	require.NotNil(t, m, "the report shows the throughput")
	shown, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
	require.NoError(t, err)
	require.InEpsilon(t, rate, shown, 5e-4, "the report rounds to 4 digits")
	require.InEpsilon(t, 120/seconds, rate, 1e-12)
}
