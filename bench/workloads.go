package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// example is one example model the harness builds.
type example struct {
	name string // binary name
	file string // path under the repository
}

var examples = []example{
	{"mnist_softmax", "examples/mnist_softmax.flow"},
	{"mlp", "examples/mlp.flow"},
	{"lenet", "examples/lenet.flow"},
	{"lstm_mnist", "examples/lstm_mnist.flow"},
}

// workload is one row of the benchmark table.
type workload struct {
	key     string // the PyTorch reference's name for it
	title   string
	example string
	what    string // train or predict
	batch   int
	// goal is the largest flow/PyTorch time ratio the issue asks for.
	goal float64
	// quickIters is the number of timed calls in -quick mode.
	quickIters int
}

var workloads = []workload{
	{"softmax_train_b100", "softmax regression, train step, b100", "mnist_softmax", "train", 100, 0.31, 200},
	{"mlp_predict_b1", "MLP 784-512-512-10, predict b1", "mlp", "predict", 1, 0.12, 200},
	{"mlp_predict_b64", "MLP, predict b64", "mlp", "predict", 64, 0.92, 30},
	{"mlp_train_b64", "MLP, train step b64 (Adam)", "mlp", "train", 64, 0.72, 10},
	{"lenet_predict_b1", "LeNet CNN, predict b1", "lenet", "predict", 1, 0.9, 30},
	{"lenet_predict_b64", "LeNet CNN, predict b64", "lenet", "predict", 64, 0.95, 4},
	{"lenet_train_b64", "LeNet CNN, train step b64 (Adam)", "lenet", "train", 64, 0.95, 3},
	{"lstm_predict_b64", "LSTM T=28 128 units, predict b64", "lstm_mnist", "predict", 64, 0.8, 10},
	{"lstm_train_b64", "LSTM T=28 128 units, train step b64 (Adam)", "lstm_mnist", "train", 64, 0.8, 5},
}

// quickWarmup is the number of warm-up calls in -quick mode.
const quickWarmup = 1

// builtExample holds an example's binaries, optimized and not, or why they
// could not be built.
type builtExample struct {
	opt, noOpt       string
	optErr, noOptErr error
}

// errNoOptFlag reports that flowc has no --no-opt flag (yet).
var errNoOptFlag = errors.New("flowc build has no --no-opt flag")

// buildExample builds ex with flowc into dir and returns the binary's path.
func buildExample(root, flowc string, ex example, dir string, noOpt bool) (string, error) {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, ex.name)
	args := []string{"build", ex.file, "-o", bin}
	if noOpt {
		args = append(args, "--no-opt")
	}
	cmd := command(root, nil, flowc, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		var exit *exec.ExitError
		if noOpt && errors.As(err, &exit) && exit.ExitCode() == 2 && strings.Contains(msg, "no-opt") && strings.Contains(msg, "not defined") {
			return "", errNoOptFlag
		}
		return "", fmt.Errorf("flowc %s: %v: %s", strings.Join(args, " "), err, brief(msg))
	}
	return bin, nil
}

// firstLine returns the first line of s.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// brief condenses a command's diagnostics to its first few lines.
func brief(s string) string {
	const maxLines, maxLen = 4, 400
	var lines []string
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" && len(lines) < maxLines {
			lines = append(lines, line)
		}
	}
	out := strings.Join(lines, " / ")
	if len(out) > maxLen {
		out = out[:maxLen] + "…"
	}
	return out
}

// benchArgs returns the bench command line for w.
func benchArgs(w workload, threads int, quick bool) []string {
	args := []string{"bench", "--what", w.what, "--batch", strconv.Itoa(w.batch), "--threads", strconv.Itoa(threads), "--json"}
	if quick {
		args = append(args, "--iterations", strconv.Itoa(w.quickIters), "--warmup", strconv.Itoa(quickWarmup))
	}
	return args
}

// benchResult is the part of a binary's bench --json output the harness
// uses.
type benchResult struct {
	Model         string  `json:"model"`
	What          string  `json:"what"`
	Batch         int     `json:"batch"`
	Threads       int     `json:"threads"`
	Iterations    int     `json:"iterations"`
	MedianUS      float64 `json:"median_us"`
	P10US         float64 `json:"p10_us"`
	P90US         float64 `json:"p90_us"`
	ExamplesPerS  float64 `json:"examples_per_s"`
	AllocsPerCall float64 `json:"allocs_per_call"`
	PeakRSSKB     int64   `json:"peak_rss_kb"`
}

// runBenchBinary runs bin with args (a bench --json command line) and env
// added to the environment, and decodes its result. When the binary does
// not report its peak RSS, the child's rusage supplies it.
func runBenchBinary(bin string, args, env []string) (*benchResult, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %v: %s", filepath.Base(bin), strings.Join(args, " "), err, brief(stderr.String()))
	}
	return decodeBench(stdout.Bytes(), maxRSSKB(cmd.ProcessState))
}

// decodeBench decodes a bench --json line; rssKB, if positive, replaces a
// missing peak_rss_kb.
func decodeBench(out []byte, rssKB int64) (*benchResult, error) {
	var r benchResult
	if err := json.Unmarshal(bytes.TrimSpace(out), &r); err != nil {
		return nil, fmt.Errorf("bench output is not one JSON object: %v: %q", err, firstLine(string(out)))
	}
	if r.Iterations <= 0 || r.MedianUS <= 0 {
		return nil, fmt.Errorf("bench output has no timings: %q", firstLine(string(out)))
	}
	if r.PeakRSSKB <= 0 && rssKB > 0 {
		r.PeakRSSKB = rssKB
	}
	return &r, nil
}
